#!/usr/bin/env bash
# `make soak`: the soak test (scripts/soak.py) against the real server and model on loopback.
# SOAK_SECONDS (default 1800), SOAK_STREAMS (64), SOAK_OUT (soak/<UTC timestamp>), HAMBURGER_BIN
# (default .build/release/hamburger if built, else .build/debug/hamburger), SOAK_SERVER_ARGS (extra
# `serve` flags). Uses the virtualenv .venv-soak (httpx + matplotlib).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${SOAK_VENV:-$ROOT/.venv-soak}"
REQUIREMENTS=(httpx==0.28.1 matplotlib==3.10.7)
BIN="${HAMBURGER_BIN:-}"
if [[ -z "$BIN" ]]; then
    BIN="$ROOT/.build/release/hamburger"
    [[ -x "$BIN" ]] || BIN="$ROOT/.build/debug/hamburger"
fi
[[ -x "$BIN" ]] || { echo "soak: $BIN not found; run 'swift build' first (or set HAMBURGER_BIN)" >&2; exit 2; }
MODEL="${HAMBURGER_MODEL:-$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" "$ROOT/scripts/pins_satisfied.py" "${REQUIREMENTS[@]}"; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}"
fi
OUT="${SOAK_OUT:-$ROOT/soak/$(date -u +%Y%m%dT%H%M%SZ)}"
echo "soak: $BIN for ${SOAK_SECONDS:-1800}s, ${SOAK_STREAMS:-64} streams; results in $OUT"
# shellcheck disable=SC2086
exec "$VENV/bin/python" "$ROOT/scripts/soak.py" --binary "$BIN" --model "$MODEL" --seconds "${SOAK_SECONDS:-1800}" \
    --streams "${SOAK_STREAMS:-64}" --out "$OUT" -- ${SOAK_SERVER_ARGS:-}
