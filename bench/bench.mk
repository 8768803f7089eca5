# `make bench`: the side-by-side benchmark against llama.cpp (see bench/README.md).
# Included from the Makefile. BENCH_ARGS go to the harness, e.g. `make bench BENCH_ARGS=--quick`.
BENCH_ARGS ?=

.PHONY: bench bench-quick

## Benchmark hamburger against llama.cpp's llama-server --parallel N and llama-bench; writes bench/RESULTS.md and PNG plots.
bench: setup
	@bash scripts/bench.sh $(BENCH_ARGS)

## Smoke run of the benchmark (concurrency 1,4; 32 tokens; one repetition).
bench-quick: setup
	@bash scripts/bench.sh --quick $(BENCH_ARGS)
