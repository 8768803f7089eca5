#!/usr/bin/env bash
# Side-by-side benchmark: `hamburger serve` against llama.cpp's OpenAI-compatible server
# (llama-cpp-python) on the same GGUF with the same thread count. Writes bench/RESULTS.md,
# bench/results.json, bench/throughput.png and bench/ttft.png. See bench/README.md.
#
# Idempotent set-up: creates the virtualenv .venv-bench (override with $BENCH_VENV; it is gitignored),
# installs bench/requirements.txt there when the pins are not satisfied (llama-cpp-python compiles
# llama.cpp from source for this CPU: several minutes the first time), and brings the release build of
# `hamburger` up to date (`swift build -c release`; set BENCH_NO_BUILD=1 to use the binary as it is).
# Arguments go to the harness: `scripts/bench.sh --quick`, `scripts/bench.sh --help`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="${BENCH_VENV:-$ROOT/.venv-bench}"
PYTHON="${PYTHON:-python3}"
REQUIREMENTS="$ROOT/bench/requirements.txt"
MODEL="$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf"

if [[ ! -f "$MODEL" ]]; then
    echo "bench: $MODEL not found; run 'make setup' first" >&2
    exit 2
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
# Install only when a pin is not satisfied (keeps reruns fast and offline).
if ! "$VENV/bin/python" "$ROOT/scripts/pins_satisfied.py" "$REQUIREMENTS"; then
    # A plain CPU build of llama.cpp tuned for this machine; no multimodal library, tools or tests.
    export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=ON -DGGML_BLAS=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"
    export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
    echo "bench: installing bench/requirements.txt into $VENV (compiles llama.cpp; several minutes)" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
fi

if [[ "${BENCH_NO_BUILD:-0}" != 1 ]]; then
    swift build -c release --product hamburger
fi

HBENCH_INVOCATION="scripts/bench.sh"
[[ $# -gt 0 ]] && HBENCH_INVOCATION+=" ${*@Q}"
export HBENCH_INVOCATION
export PYTHONPATH="$ROOT/bench${PYTHONPATH:+:$PYTHONPATH}"
exec "$VENV/bin/python" -m hbench --peer-python "$VENV/bin/python" "$@"
