"""Side-by-side benchmark: our `hamburger serve` against llama.cpp's own `llama-server --parallel N`
(continuous batching), and `hamburger bench` against `llama-bench`, on the same GGUF with the same
thread count.

Run it with `python -m hbench` from `bench/` (or `make bench` / `scripts/bench.sh` from the repo root).
`python -m hbench.capacity_peer` is llama-server's side of the capacity comparison (bench/CAPACITY.md).
"""
