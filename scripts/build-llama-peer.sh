#!/usr/bin/env bash
# Builds the benchmark's peer: llama.cpp's `llama-server` and `llama-bench` from the llama.cpp tree vendored
# in the llama-cpp-python sdist (vendor/llama.cpp), pinned by $PEER_VERSION. Called by scripts/bench.sh;
# runnable on its own. Idempotent: a finished build is reused, and nothing lands in the repository.
#
#   cache   ${HAMBURGER_PEER_CACHE:-$HOME/.cache/hamburger-peer}
#           sdist/llama_cpp_python-<version>.tar.gz     the download (pip download --no-binary)
#           <version>-<key>/src                         the unpacked sdist
#           <version>-<key>/build/bin/llama-{server,bench}
#   key     a hash of the CPU's flags line in /proc/cpuinfo and the C++ compiler's version, so a machine with
#           another CPU (or compiler) gets its own native build instead of one that may fault.
#
# The build: Release, -DGGML_NATIVE=ON, static, no BLAS, no OpenSSL/curl (this llama.cpp dropped
# LLAMA_CURL for LLAMA_OPENSSL), no tests/examples, no web UI (its prebuilt UI would be downloaded), and
# AMX disabled: the Intel machines of this project list AMX in /proc/cpuinfo but its tile instructions
# raise SIGILL, and -march=native would use them (the flags are harmless on CPUs without AMX).
# cmake and ninja come from pip into the Python environment given by $PEER_PYTHON (scripts/bench.sh
# passes its .venv-bench); a cmake already on PATH is used when that environment has none.
#
# Prints the directory holding the two binaries as its last line of stdout (progress goes to stderr).
# Environment: PEER_VERSION (0.3.36), PEER_PYTHON (python3), PEER_JOBS (nproc), HAMBURGER_PEER_CACHE.
set -euo pipefail

VERSION="${PEER_VERSION:-0.3.36}"
PY="${PEER_PYTHON:-python3}"
JOBS="${PEER_JOBS:-$(nproc)}"
CACHE="${HAMBURGER_PEER_CACHE:-$HOME/.cache/hamburger-peer}"
AMX_OFF="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"

log() { echo "build-llama-peer: $*" >&2; }

cpu_flags="$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo || true)"
cxx_version="$(c++ --version 2>/dev/null | head -n1 || true)"
key="$(printf '%s\n%s\n%s\n' "$cpu_flags" "$cxx_version" "$AMX_OFF" | sha256sum | cut -c1-12)"
WORK="$CACHE/$VERSION-$key"
BIN="$WORK/build/bin"
STAMP="$WORK/build/.hamburger-peer-built"

if [[ -f "$STAMP" && -x "$BIN/llama-server" && -x "$BIN/llama-bench" ]]; then
    log "up to date: $BIN (cache key $key)"
    echo "$BIN"
    exit 0
fi

mkdir -p "$CACHE/sdist" "$WORK"

# Build tools: from the given Python environment (pip wheels), else whatever is on PATH.
pybin="$(dirname "$("$PY" -c 'import sys; print(sys.executable)')")"
if [[ ! -x "$pybin/cmake" ]] && ! command -v cmake >/dev/null; then
    log "installing cmake and ninja into $("$PY" -c 'import sys; print(sys.prefix)')"
    "$PY" -m pip install --quiet --disable-pip-version-check cmake ninja
fi
CMAKE="$pybin/cmake"; [[ -x "$CMAKE" ]] || CMAKE="$(command -v cmake)"
generator=()
if [[ -x "$pybin/ninja" ]]; then generator=(-G Ninja -DCMAKE_MAKE_PROGRAM="$pybin/ninja")
elif command -v ninja >/dev/null; then generator=(-G Ninja); fi

# The sdist. --no-binary only for this package: with :all: pip would also compile the build backend's own
# requirements (cmake itself) from source just to prepare metadata.
sdist="$CACHE/sdist/llama_cpp_python-$VERSION.tar.gz"
if [[ ! -f "$sdist" ]]; then
    log "downloading the llama-cpp-python $VERSION sdist into $CACHE/sdist"
    "$PY" -m pip download --quiet --disable-pip-version-check --no-deps \
        --no-binary llama-cpp-python "llama-cpp-python==$VERSION" -d "$CACHE/sdist"
fi
SRC="$WORK/src/llama_cpp_python-$VERSION/vendor/llama.cpp"
if [[ ! -f "$SRC/CMakeLists.txt" ]]; then
    rm -rf "$WORK/src"; mkdir -p "$WORK/src"
    tar -xzf "$sdist" -C "$WORK/src"
fi

log "configuring $SRC (cache key $key)"
"$CMAKE" -S "$SRC" -B "$WORK/build" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS="$AMX_OFF" -DCMAKE_CXX_FLAGS="$AMX_OFF" \
    -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE=ON -DGGML_BLAS=OFF \
    -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
    >"$WORK/configure.log" 2>&1 || { tail -n 40 "$WORK/configure.log" >&2; exit 1; }

log "building llama-server and llama-bench with $JOBS jobs (log: $WORK/build.log)"
start=$SECONDS
"$CMAKE" --build "$WORK/build" --config Release -j "$JOBS" --target llama-server llama-bench \
    >"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log" >&2; exit 1; }
log "built in $((SECONDS - start)) s"

"$BIN/llama-server" --version >/dev/null 2>&1 || { log "$BIN/llama-server does not run"; exit 1; }
printf 'version %s\nkey %s\n%s\n%s\nbuilt %s in %s s\n' "$VERSION" "$key" "$cpu_flags" "$cxx_version" \
    "$(date -u +%FT%TZ)" "$((SECONDS - start))" >"$STAMP"
log "binaries: $BIN"
echo "$BIN"
