# The two commands that matter: `make serve` and `make test`. See README.md.
SWIFT ?= swift
CONFIG ?= config/hamburger.yaml
PYTHON ?= python3

.PHONY: setup build test serve swift-test python-test clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build -c release

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	@$(MAKE) --no-print-directory python-test

python-test:
	@if [ -d training/tests ]; then bash scripts/python-test.sh; fi

serve: build
	$(SWIFT) run -c release hamburger serve --config $(CONFIG)

clean:
	rm -rf .build
