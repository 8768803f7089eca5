#!/usr/bin/env bash
# Side-by-side benchmark: `hamburger serve` against llama.cpp's `llama-server --parallel N`, and
# `hamburger bench` against `llama-bench`, on the same GGUF with the same thread count. Writes
# bench/RESULTS.md, bench/results.json, bench/throughput.png and bench/ttft.png. See bench/README.md.
#
# Idempotent set-up: creates the virtualenv .venv-bench (override with $BENCH_VENV; it is gitignored),
# installs bench/requirements.txt there when the pins are not satisfied, builds llama-server and
# llama-bench from the llama-cpp-python 0.3.36 sdist's vendored llama.cpp into a cache outside the
# repository (scripts/build-llama-peer.sh; ${HAMBURGER_PEER_CACHE:-~/.cache/hamburger-peer}; long the
# first time, reused after), and brings the release build of `hamburger` up to date
# (`swift build -c release`; set BENCH_NO_BUILD=1 to use the binary as it is).
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
    echo "bench: installing bench/requirements.txt into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
fi

# The peer: llama-server and llama-bench (cmake and ninja come from pip into the same virtualenv).
PEER_BIN="$(PEER_PYTHON="$VENV/bin/python" bash "$ROOT/scripts/build-llama-peer.sh" | tail -n 1)"
export PEER_BIN
echo "bench: peer binaries in $PEER_BIN" >&2

if [[ "${BENCH_NO_BUILD:-0}" != 1 ]]; then
    swift build -c release --product hamburger
fi

HBENCH_INVOCATION="scripts/bench.sh"
[[ $# -gt 0 ]] && HBENCH_INVOCATION+=" ${*@Q}"
export HBENCH_INVOCATION
export PYTHONPATH="$ROOT/bench${PYTHONPATH:+:$PYTHONPATH}"
exec "$VENV/bin/python" -m hbench --peer-bin-dir "$PEER_BIN" "$@"
