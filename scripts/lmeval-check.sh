#!/usr/bin/env bash
# lm-evaluation-harness against the real server, beside the same task scored in-process.
#
# Runs the local multiple-choice task bench/lmeval/mc_basics (24 questions, no hub access) twice:
# over HTTP with lm-evaluation-harness's `local-completions` model (loglikelihood through `echo` +
# `logprobs` + `max_tokens: 1`, as it asks vLLM), and in-process with `hamburger score`. The two
# accuracies must agree. Own virtualenv (.venv-lmeval); not part of `make test` (heavy install).
# Uses .build/debug/hamburger unless $HAMBURGER_BIN names another binary.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${HAMBURGER_BIN:-$ROOT/.build/debug/hamburger}"
MODEL="${HAMBURGER_MODEL:-models/SmolLM2-135M-Instruct.Q4_1.gguf}"
VENV="$ROOT/.venv-lmeval"
PORT="${LMEVAL_PORT:-18780}"
REQUIREMENTS=("lm_eval[api]==0.4.13" transformers==5.25.0 gguf==0.19.0)

[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" "$ROOT/scripts/pins_satisfied.py" "${REQUIREMENTS[@]}" 2>/dev/null; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}"
fi
WORK="$(mktemp -d)"
"$VENV/bin/python" bench/lmeval/export_tokenizer.py "$MODEL" "$WORK/tokenizer" 2>/dev/null

"$BIN" serve --config config/hamburger.yaml --host 127.0.0.1 --port "$PORT" --model "$MODEL" \
    --served-model-name SmolLM2-135M-Instruct --log-level warning > "$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break
    sleep 1
done

export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1
"$VENV/bin/lm_eval" --model local-completions \
    --model_args "model=SmolLM2-135M-Instruct,base_url=http://127.0.0.1:$PORT/v1/completions,tokenizer=$WORK/tokenizer,tokenizer_backend=huggingface,tokenized_requests=True,num_concurrent=1,max_retries=1" \
    --tasks mc_basics --include_path bench/lmeval --output_path "$WORK/out" 2>/dev/null | tee "$WORK/lmeval.txt" | grep -E "^\|" || true
HTTP_ACC="$(grep -E "^\|mc_basics" "$WORK/lmeval.txt" | awk -F'|' '{gsub(/ /, "", $8); print $8}')"
LOCAL_ACC="$("$BIN" score --model "$MODEL" --tasks bench/lmeval/mc_basics.jsonl 2>/dev/null | tail -1 | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["acc"])')"
echo "lm-evaluation-harness (HTTP, local-completions): acc $HTTP_ACC"
echo "hamburger score (in-process):                    acc $LOCAL_ACC"
"$VENV/bin/python" -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if abs(a - b) < 1e-9 else 1)" "$HTTP_ACC" "$LOCAL_ACC" \
    && echo "the two agree" || { echo "the two DISAGREE" >&2; exit 1; }
