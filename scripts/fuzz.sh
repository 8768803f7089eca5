#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (Swift's -sanitize=fuzzer) plus AddressSanitizer, one target
# after another, FUZZ_SECONDS each (default 60). Builds in .build-fuzz (a normal `swift build` is not
# touched and needs no fuzzer runtime). New corpus entries go to .build-fuzz/corpus/<Target>; the
# committed seeds in Fuzz/corpus/<Target> are read, never written. A crash leaves its input in
# Fuzz/crashes/<Target>-crash-* and fails the run; replay it with the plain build's replay tool
# (`.build/debug/<Target> FILE`) and turn it into a regression test.
#
#   make fuzz FUZZ_SECONDS=120 [FUZZ_RUNS=1000000] [FUZZ_TARGETS="FuzzHTTPParser FuzzGGUF"]
# FUZZ_RUNS stops a target after that many executions (FUZZ_SECONDS still caps it). Each run appends
# its figures to .build-fuzz/fuzz-summary.txt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
TARGETS=(${FUZZ_TARGETS:-FuzzHTTPParser FuzzChunkedBody FuzzRequestJSON FuzzGGUF FuzzSafetensors})
RUNS="${FUZZ_RUNS:--1}"
SCRATCH="$ROOT/.build-fuzz"
# Optimised (release) by default: several times the executions per second of a debug build, which
# matters more than the longer first build. FUZZ_CONFIG=debug for quicker builds.
CONFIG="${FUZZ_CONFIG:-release}"
FLAGS=(-c "$CONFIG" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING)

for target in "${TARGETS[@]}"; do
    echo "fuzz: building $target"
    swift build --scratch-path "$SCRATCH" "${FLAGS[@]}" --product "$target"
done

mkdir -p Fuzz/crashes
summary="$SCRATCH/fuzz-summary.txt"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) FUZZ_SECONDS=$SECONDS_PER_TARGET FUZZ_RUNS=$RUNS" >> "$summary"
status=0
for target in "${TARGETS[@]}"; do
    corpus="$SCRATCH/corpus/$target"
    mkdir -p "$corpus"
    log="$SCRATCH/$target.log"
    echo "fuzz: $target for ${SECONDS_PER_TARGET}s (log: $log)"
    set +e
    "$SCRATCH/$CONFIG/$target" "$corpus" "Fuzz/corpus/$target" \
        -max_total_time="$SECONDS_PER_TARGET" -runs="$RUNS" -print_final_stats=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="Fuzz/crashes/$target-" > "$log" 2>&1
    rc=$?
    set -e
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
    speed=$(grep 'stat::average_exec_per_sec:' "$log" | awk '{print $2}' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    line="$target ($CONFIG): rc=$rc executions=${runs:-?} exec/s=${speed:-?} coverage_edges=${cov:-?} corpus=$(ls "$corpus" | wc -l) seconds=$SECONDS_PER_TARGET"
    echo "$line" | tee -a "$summary"
    if [[ $rc -ne 0 ]]; then
        status=1
        grep -m5 -E 'ERROR|fuzz property|Fatal error|SUMMARY|Test unit written' "$log" || true
    fi
done
echo "fuzz: summary in $summary"
exit $status
