"""Side-by-side serving benchmark: our `hamburger serve` against llama.cpp's OpenAI-compatible server
(llama-cpp-python) on the same GGUF, same thread count and same context length.

Run it with `python -m hbench` from `bench/` (or `make bench` / `scripts/bench.sh` from the repo root).
"""
