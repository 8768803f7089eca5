#!/usr/bin/env bash
# Validates docker/kubernetes/ offline (part of `make test`):
#   - the core kinds (Deployment, Service, HPA, ConfigMap, RBAC) with kubernetes-validate --strict
#     against Kubernetes $K8S_VERSION (its schemas ship inside the wheel);
#   - the InferencePool and the Endpoint Picker configuration with check-jsonschema against the
#     schemas committed in docker/kubernetes/schemas/ (Gateway API Inference Extension v1.4.0);
#   - the names and labels that tie them together (scripts/manifest_consistency.py).
# Creates or reuses the virtualenv .venv-manifests (override with $MANIFEST_TEST_VENV); installs the pins
# of scripts/requirements-manifests.txt only when they change (a stamp file), so reruns need no network.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${MANIFEST_TEST_VENV:-.venv-manifests}"
PY="${PYTHON:-python3}"
REQ=scripts/requirements-manifests.txt
K8S_VERSION="${K8S_VERSION:-1.33.0}"
DIR=docker/kubernetes

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
stamp="$VENV/.requirements.sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "manifest-test: installing $REQ into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
    echo "$want" > "$stamp"
fi

core=()
for f in "$DIR"/*.yaml; do
    case "$(basename "$f")" in
        kustomization.yaml|inferencepool.yaml|endpoint-picker-config.yaml) ;;
        *) core+=("$f") ;;
    esac
done
"$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "${core[@]}"
echo "manifest-test: ${#core[@]} files of core kinds valid for Kubernetes $K8S_VERSION (strict)"
"$VENV/bin/check-jsonschema" --schemafile "$DIR/schemas/inferencepool-v1.schema.json" "$DIR/inferencepool.yaml"
"$VENV/bin/check-jsonschema" --schemafile "$DIR/schemas/endpoint-picker-config-v1alpha1.schema.json" "$DIR/endpoint-picker-config.yaml"
"$VENV/bin/python" scripts/manifest_consistency.py "$DIR"
