#!/usr/bin/env bash
# Creates/refreshes the training virtualenv (.venv-train) with the pinned requirements and runs the
# Python tests of training/. Idempotent: the install step is skipped while the requirements are unchanged.
#   scripts/python-test.sh                 # install if needed, then pytest training/tests
#   scripts/python-test.sh --install-only  # only make sure the venv is ready (used by make train)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${HAMBURGER_TRAIN_VENV:-.venv-train}"
PY="${PYTHON:-python3}"
REQ=training/requirements.txt

if [ ! -x "$VENV/bin/python" ]; then
    echo "python-test: creating $VENV"
    "$PY" -m venv "$VENV"
fi
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
stamp="$VENV/.requirements.sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "python-test: installing $REQ into $VENV"
    links=()
    [ -d /opt/wheels ] && links=(--find-links /opt/wheels)
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${links[@]}" -r "$REQ"
    echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--install-only" ]; then
    exit 0
fi
"$VENV/bin/python" -m pytest training/tests -q -p no:cacheprovider
