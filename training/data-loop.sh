#!/usr/bin/env bash
# Grows a run's data while self-instruct generation runs beside it (training/README.md, "Run 4"):
# every round rebuilds the prompt set from the self-instruct outputs so far (selfinstruct build, sources) and
# answers prompts for ROUND_S seconds (datagen, resumable: nothing is answered twice). Stops when a round
# answers nothing new and no self-instruct generator is running. Usage:
#   training/data-loop.sh RUN SHARD [MAX_NEW_TOKENS] [TOTAL] [ROUND_S]
# e.g. nohup setsid nice -n 19 training/data-loop.sh /root/hamburger-runs/run4 0/1 64 21000 1800 &
set -u
RUN=$1; SHARD=$2; TOK=${3:-64}; TOTAL=${4:-21000}; ROUND=${5:-1800}
PY=${TRAIN_PY:-/work/main/.venv-train/bin/python}
cd "$(dirname "$0")/.."
export PYTHONPATH=training OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OMP_WAIT_POLICY=PASSIVE
i=${SHARD%/*}
while true; do
    if ls "$RUN"/selfinstruct-raw*.jsonl >/dev/null 2>&1; then
        $PY -m hamburger_train.selfinstruct build --raw "$RUN"/selfinstruct-raw*.jsonl --out "$RUN/selfinstruct.jsonl" || exit 1
    fi
    $PY -m hamburger_train.sources --selfinstruct "$RUN/selfinstruct.jsonl" --total "$TOTAL" \
        --out "$RUN/prompts.jsonl" --heldout "$RUN/heldout.jsonl" || exit 1
    before=$(cat "$RUN"/data*.jsonl 2>/dev/null | wc -l)
    $PY -m hamburger_train.datagen --out "$RUN/data-$i.jsonl" --prompts-file "$RUN/prompts.jsonl" --shard "$SHARD" \
        --max-new-tokens "$TOK" --batch-size 32 --time-budget "$ROUND" || exit 1
    after=$(cat "$RUN"/data*.jsonl 2>/dev/null | wc -l)
    echo "data-loop: $(date -u +%FT%TZ) $before -> $after responses"
    if [ "$after" -eq "$before" ] && ! pgrep -f "hamburger_train.selfinstruct generate" >/dev/null; then
        echo "data-loop: done"; exit 0
    fi
    [ "$after" -eq "$before" ] && sleep 300
done
