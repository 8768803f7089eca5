# The two commands that matter: `make serve` and `make test`. See README.md.
SWIFT ?= swift
CONFIG ?= config/hamburger.yaml

.PHONY: setup build build-debug test swift-test python-test api-test manifest-test cluster-test image-test serve clean

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

## Set up, build, and serve the default configuration.
serve: build
	.build/release/hamburger serve --config $(CONFIG)

clean:
	rm -rf .build

include training/train.mk
include bench/bench.mk
