#!/usr/bin/env bash
# API integration tests: the real `hamburger serve` binary and model, driven over loopback by the
# official `openai` Python client, httpx, curl and openssl (api-tests).
#
# Builds nothing: it expects .build/debug/hamburger (or the binary named by $HAMBURGER_BIN) and the
# model at models/SmolLM2-135M-Instruct.Q4_1.gguf (or $HAMBURGER_MODEL). Creates or reuses the
# virtualenv .venv-api (override with $API_TEST_VENV). Extra arguments go to pytest (e.g. -x, -k NAME,
# or api-tests/test_chat.py to run one file).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="${API_TEST_VENV:-$ROOT/.venv-api}"
PYTHON="${PYTHON:-python3}"
REQUIREMENTS=(openai==3.57.0 pytest==9.2.0 httpx==0.28.1 jsonschema==4.26.0)

export HAMBURGER_BIN="${HAMBURGER_BIN:-$ROOT/.build/debug/hamburger}"
if [[ ! -x "$HAMBURGER_BIN" ]]; then
    echo "api-test: $HAMBURGER_BIN not found; run 'swift build' first (or set HAMBURGER_BIN)" >&2
    exit 2
fi
for tool in curl openssl; do
    command -v "$tool" >/dev/null || { echo "api-test: '$tool' is required (apt-get install $tool)" >&2; exit 2; }
done

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
# Install only when the pins are not already satisfied (keeps reruns fast and offline-friendly).
if ! "$VENV/bin/python" "$ROOT/scripts/pins_satisfied.py" "${REQUIREMENTS[@]}"; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}"
fi

# Run the whole suite unless the arguments name test files or directories themselves.
args=("$@")
names_tests=false
for arg in "${args[@]}"; do [[ "$arg" == api-tests* ]] && names_tests=true; done
$names_tests || args+=(api-tests)
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "${args[@]}"
