#!/usr/bin/env bash
# Multi-replica test on loopback: 3 `hamburger serve` replicas (release build, 1 thread each) behind
# vllm-router, driven by the official openai client (scripts/cluster_test.py says what it checks).
# Heavy (a few minutes); not part of `make test`.
#
# Creates or reuses the virtualenv .venv-cluster (override with $CLUSTER_TEST_VENV) with the pins below.
# Expects .build/release/hamburger (`swift build -c release`; or $HAMBURGER_BIN) and the model.
# Ports: 127.0.0.1:$CLUSTER_TEST_PORT (router) and the next three (replicas); default 18300.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="${CLUSTER_TEST_VENV:-$ROOT/.venv-cluster}"
PYTHON="${PYTHON:-python3}"
REQUIREMENTS=(vllm-router==0.1.17 openai==3.57.0)
BIN="${HAMBURGER_BIN:-$ROOT/.build/release/hamburger}"
MODEL="${HAMBURGER_MODEL:-$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf}"

[[ -x "$BIN" ]] || { echo "cluster-test: $BIN not found; run 'swift build -c release' first" >&2; exit 2; }
[[ -f "$MODEL" ]] || { echo "cluster-test: $MODEL not found; run 'make setup'" >&2; exit 2; }
[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
if ! "$VENV/bin/python" "$ROOT/scripts/pins_satisfied.py" "${REQUIREMENTS[@]}"; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}"
fi

# The whole run is bounded: each phase has its own limits, and this is the backstop.
exec timeout --signal=INT --kill-after=30 900 "$VENV/bin/python" scripts/cluster_test.py \
    --binary "$BIN" --model "$MODEL" --router "$VENV/bin/vllm-router" \
    --base-port "${CLUSTER_TEST_PORT:-18300}" --work "${CLUSTER_TEST_WORK:-$ROOT/.cache/cluster-test}"
