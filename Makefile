# The two commands that matter: `make serve` and `make test`. See README.md.
SWIFT ?= swift
CONFIG ?= config/hamburger.yaml

.PHONY: setup build build-debug test swift-test python-test api-test manifest-test cluster-test image-test serve clean \
	sanitize fuzz fuzz-replay soak reliability-ci

## Install missing Debian packages and download + verify the model (idempotent).
setup:
	@bash scripts/setup.sh

## Release build of the `hamburger` executable.
build: setup
	$(SWIFT) build -c release

## Every test: Swift unit + real-model tests, the HTTP API suite, the Python training package.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	@$(MAKE) --no-print-directory api-test
	@$(MAKE) --no-print-directory python-test
	@$(MAKE) --no-print-directory manifest-test
	@$(MAKE) --no-print-directory reliability-ci

## The OpenAI-client integration suite against the real server (debug build from `make test`).
api-test:
	bash scripts/api-test.sh

## The training package's pytest suite (tiny random model; no GPU needed).
python-test:
	bash scripts/python-test.sh

## Offline validation of docker/kubernetes/ (kubernetes-validate + check-jsonschema; own venv).
manifest-test:
	@bash scripts/manifest-test.sh

## 3 replicas behind vllm-router on loopback: routing, power_of_two, drain, kill, rejoin (heavy; not in `test`).
cluster-test:
	@bash scripts/cluster-test.sh

## Build the container image here (podman; swift image or local static binary), run it, one completion + stream.
image-test:
	@bash scripts/image-test.sh

## Swift suites under ThreadSanitizer and AddressSanitizer (real-model suites skipped; scripts/sanitize.sh).
sanitize: setup
	bash scripts/sanitize.sh

## libFuzzer + ASan on each fuzz target for FUZZ_SECONDS (FUZZ_RUNS, FUZZ_TARGETS; scripts/fuzz.sh).
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

## Every committed fuzz input (seeds and crash regressions) through the plain build's replay tools.
fuzz-replay:
	@for t in FuzzHTTPParser FuzzChunkedBody FuzzRequestJSON FuzzGGUF FuzzSafetensors; do \
		.build/debug/$$t Fuzz/corpus/$$t || exit 1; done

## 64 streams with random lengths/sampling and 20% client drops for SOAK_SECONDS; CSV + plot (scripts/soak.py).
SOAK_SECONDS ?= 1800
soak: setup
	SOAK_SECONDS=$(SOAK_SECONDS) bash scripts/soak.sh

## The reliability checks `make test` runs: corpus replay, 15 s of ASan fuzzing of the HTTP parser and
## chunked decoder, and a 2-minute soak on the debug build with a 32 MiB KV cache (its pages are all touched early, so RSS is flat sooner).
reliability-ci:
	@$(MAKE) --no-print-directory fuzz-replay
	FUZZ_SECONDS=15 FUZZ_TARGETS="FuzzHTTPParser FuzzChunkedBody" bash scripts/fuzz.sh
	HAMBURGER_BIN=.build/debug/hamburger SOAK_SECONDS=120 SOAK_OUT=.build/soak-ci SOAK_SERVER_ARGS="--kv-cache-bytes 33554432" bash scripts/soak.sh

## Set up, build, and serve the default configuration.
serve: build
	.build/release/hamburger serve --config $(CONFIG)

clean:
	rm -rf .build

include training/train.mk
include bench/bench.mk
