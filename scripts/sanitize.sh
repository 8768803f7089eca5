#!/usr/bin/env bash
# `make sanitize`: the Swift test suites under ThreadSanitizer and AddressSanitizer.
#
# Each sanitizer has its own scratch path (.build-tsan, .build-asan); a build of every test target takes
# about as long as a plain debug build, and the tests run several times slower. The real-model suites
# (forward passes of the 135M model, HAMburger parity) are skipped by default: under TSan one forward
# pass takes seconds and they add no threading the other suites lack. Override with
#   SANITIZERS="thread"        which sanitizers (thread, address)
#   SANITIZE_SKIP='regex'      test names to skip ('' = run everything)
#   SANITIZE_FILTER='regex'    run only these tests
# Exits non-zero when a build fails, a test fails, or a sanitizer reports (reports fail the test run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SANITIZERS=(${SANITIZERS:-thread address})
DEFAULT_SKIP='LlamaEngineTests|GGUFModelFileTests|AdapterLoadingTests|HamburgerParityTests|HamburgerEngineTests|HamburgerComponentTests|HamburgerMetricsTests|LlamaModelTests|LlamaModelKVElementTests|ModelTokenizerTests'
SKIP="${SANITIZE_SKIP-$DEFAULT_SKIP}"
args=()
[[ -n "$SKIP" ]] && args+=(--skip "$SKIP")
[[ -n "${SANITIZE_FILTER:-}" ]] && args+=(--filter "$SANITIZE_FILTER")

# TSan: fail on the first report, with both stacks; ASan: leaks are not checked (the test runner and
# Foundation keep process-lifetime caches), every other error fails.
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0 halt_on_error=1}"

for sanitizer in "${SANITIZERS[@]}"; do
    scratch="$ROOT/.build-${sanitizer:0:1}san"
    echo "sanitize: building the tests with --sanitize=$sanitizer in $scratch"
    start=$(date +%s)
    swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch"
    built=$(date +%s)
    echo "sanitize: running the tests under $sanitizer (${args[*]:-all})"
    swift test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" "${args[@]}"
    echo "sanitize: $sanitizer passed (build $((built - start)) s, tests $(( $(date +%s) - built )) s)"
done
