#!/usr/bin/env bash
# Builds the container image on this machine with podman and runs it: waits for /health, then one
# completion and one stream through it, then `podman stop` (SIGTERM drain) and checks the exit status.
# Heavy (a static release build, a Debian base); not part of `make test`.
#
#   scripts/image-test.sh            # BINARY_FROM=local: no registry needed (the default here)
#   IMAGE_FROM=swift scripts/image-test.sh   # the swift image path, where a registry is reachable
#
# local mode, offline but for Debian's mirror on first use:
#   1. base image localhost/hamburger-base:bookworm, made once: debootstrap --variant=minbase bookworm
#      with the runtime packages, then `podman import` (kept; delete the image to rebuild it);
#   2. the binary: swift build -c release --static-swift-stdlib (scratch path .build-static);
#   3. docker/.local-build/ gets the binary and a real copy of the model (the build context
#      cannot follow the models/ symlink);
#   4. podman build --format docker (keeps HEALTHCHECK) -f docker/Dockerfile --build-arg BINARY_FROM=local ...
# podman runs with --runtime runc and explicit ulimits (what works on this machine); the container
# uses the host network and listens on 127.0.0.1:$IMAGE_TEST_PORT only.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MODE="${IMAGE_FROM:-local}"
IMAGE="${IMAGE_TAG:-localhost/hamburger:test}"
BASE="${IMAGE_BASE:-localhost/hamburger-base:bookworm}"
PORT="${IMAGE_TEST_PORT:-18400}"
WORK="${IMAGE_TEST_WORK:-/var/tmp/hamburger-image}"
MODEL="models/SmolLM2-135M-Instruct.Q4_1.gguf"
PODMAN=(podman --runtime runc)
LIMITS=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
NAME="hamburger-image-test-$$"

for tool in podman runc curl; do
    command -v "$tool" >/dev/null || { echo "image-test: '$tool' is required (apt-get install podman runc curl)" >&2; exit 2; }
done
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

build_args=()
if [[ "$MODE" == local ]]; then
    # 1. The Debian base, with the runtime packages already in it (the Dockerfile then skips apt-get).
    if ! "${PODMAN[@]}" image exists "$BASE"; then
        command -v debootstrap >/dev/null || { echo "image-test: 'debootstrap' is required" >&2; exit 2; }
        mkdir -p "$WORK"
        if [[ ! -x "$WORK/rootfs/usr/bin/curl" ]]; then
            rm -rf "$WORK/rootfs"
            echo "image-test: debootstrap bookworm into $WORK/rootfs"
            timeout 1200 debootstrap --variant=minbase \
                --include=libopenblas0-pthread,libssl3,zlib1g,libstdc++6,ca-certificates,curl \
                bookworm "$WORK/rootfs" http://deb.debian.org/debian
            rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
        fi
        echo "image-test: podman import $BASE"
        tar -C "$WORK/rootfs" -c . | "${PODMAN[@]}" import - "$BASE" >/dev/null
    fi
    # 2. The static binary (the Swift runtime and Foundation linked in; C libraries from the base).
    timeout 1800 swift build -c release --static-swift-stdlib --product hamburger --scratch-path .build-static
    # 3. Stage it with a real copy of the model.
    [[ -f "$MODEL" ]] || { echo "image-test: $MODEL not found; run 'make setup'" >&2; exit 2; }
    rm -rf docker/.local-build && mkdir -p docker/.local-build/models
    cp .build-static/release/hamburger docker/.local-build/
    cp -L "$MODEL" docker/.local-build/models/
    build_args=(--build-arg BINARY_FROM=local --build-arg RUNTIME_IMAGE="$BASE")
fi

# 4. The image.
start=$(now)
"${PODMAN[@]}" build --format docker "${LIMITS[@]}" -f docker/Dockerfile "${build_args[@]}" -t "$IMAGE" .
build_seconds=$(since "$start")
size_bytes=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")

cleanup() { "${PODMAN[@]}" rm -f -t 5 "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# 5. Run it; time to healthy.
start=$(now)
# --no-healthcheck: podman would time the HEALTHCHECK with systemd, absent here; curl runs by hand below.
"${PODMAN[@]}" run -d --name "$NAME" --network host --no-healthcheck "${LIMITS[@]}" "$IMAGE" \
    hamburger serve --config /app/config/hamburger.yaml --host 127.0.0.1 --port "$PORT" >/dev/null
healthy=""
for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then healthy=yes; break; fi
    sleep 0.25
done
healthy_seconds=$(since "$start")
if [[ -z "$healthy" ]]; then
    echo "image-test: FAIL not healthy after 60 s" >&2
    "${PODMAN[@]}" logs "$NAME" | tail -20 >&2
    exit 1
fi
user=$("${PODMAN[@]}" exec "$NAME" id -u)
# The image's own HEALTHCHECK (curl inside the container) asks port 8000; this run listens on $PORT, so
# check the command's shape with the port swapped in.
"${PODMAN[@]}" exec "$NAME" curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null
healthcheck=$("${PODMAN[@]}" image inspect --format '{{.HealthCheck.Test}}' "$IMAGE")

# 6. One completion, one stream.
completion=$(curl -fsS --max-time 60 "http://127.0.0.1:$PORT/v1/completions" -H 'Content-Type: application/json' \
    -d '{"model":"SmolLM2-135M-Instruct","prompt":"The capital of France is","max_tokens":12}')
python3 -c "import json,sys; r=json.loads(sys.argv[1]); assert r['choices'][0]['finish_reason'] in ('stop','length'), r" "$completion"
stream=$(curl -fsS -N --max-time 60 "http://127.0.0.1:$PORT/v1/chat/completions" -H 'Content-Type: application/json' \
    -d '{"model":"SmolLM2-135M-Instruct","messages":[{"role":"user","content":"Say hello."}],"max_tokens":12,"stream":true}')
chunks=$(grep -c '^data: {' <<<"$stream")
grep -q '^data: \[DONE\]' <<<"$stream" || { echo "image-test: FAIL stream did not end with [DONE]" >&2; exit 1; }
grep -q '"finish_reason":"\(stop\|length\)"' <<<"$stream" || { echo "image-test: FAIL stream without a finish_reason" >&2; exit 1; }

# 7. podman stop sends SIGTERM: the server drains and exits 0.
start=$(now)
"${PODMAN[@]}" stop -t 40 "$NAME" >/dev/null
stop_seconds=$(since "$start")
exit_code=$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$NAME")
[[ "$exit_code" == 0 ]] || { echo "image-test: FAIL exit status $exit_code after SIGTERM" >&2; exit 1; }

cat <<REPORT
image-test: PASS ($MODE)
  image:                $IMAGE, $(python3 -c "print(f'{$size_bytes/1e6:.1f}')") MB ($size_bytes bytes)
  build:                $build_seconds s
  run -> /health 200:   $healthy_seconds s
  user in container:    uid $user
  HEALTHCHECK kept:     $healthcheck
  completion:           $(python3 -c "import json,sys; print(json.dumps(json.loads(sys.argv[1])['choices'][0]['text']))" "$completion")
  chat stream:          $chunks chunks, [DONE]
  stop (SIGTERM):       exit $exit_code in $stop_seconds s
REPORT
