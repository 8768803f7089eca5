"""Cross-file checks of docker/kubernetes/ that no schema can express: the names and labels that tie the
Deployment, Service, HPA, InferencePool, Endpoint Picker and its configuration together."""
import sys
from pathlib import Path

import yaml

root = Path(sys.argv[1] if len(sys.argv) > 1 else "docker/kubernetes")
objects = {}
for path in sorted(root.glob("*.yaml")):
    for doc in yaml.safe_load_all(path.read_text()):
        if doc:
            objects[(doc["kind"], doc.get("metadata", {}).get("name"))] = doc

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


server = objects[("Deployment", "hamburger")]
pod = server["spec"]["template"]
pod_labels = pod["metadata"]["labels"]
container = pod["spec"]["containers"][0]
env = {e["name"]: e.get("value") for e in container.get("env", [])}
pool = objects[("InferencePool", "hamburger")]
picker = objects[("EndpointPickerConfig", None)]
epp = objects[("Deployment", "hamburger-epp")]
epp_service = objects[("Service", "hamburger-epp")]
kustomization = objects[("Kustomization", None)]

# The pool selects the server pods, on the port they listen on.
check(all(pod_labels.get(k) == v for k, v in pool["spec"]["selector"]["matchLabels"].items()),
      "InferencePool selector does not match the hamburger pod labels")
check(pool["spec"]["targetPorts"][0]["number"] == container["ports"][0]["containerPort"],
      "InferencePool targetPorts is not the container port")
# The pool's picker reference is the EPP Service, on its ext-proc port.
ref = pool["spec"]["endpointPickerRef"]
check(ref["name"] == epp_service["metadata"]["name"], "endpointPickerRef.name is not the EPP Service")
check(ref["port"]["number"] in [p["port"] for p in epp_service["spec"]["ports"]], "endpointPickerRef.port is not an EPP Service port")
check(f"--pool-name={pool['metadata']['name']}" in epp["spec"]["template"]["spec"]["containers"][0]["args"],
      "the EPP's --pool-name is not the InferencePool")
# The EPP reads the picker configuration that kustomize puts in its ConfigMap.
generated = {g["name"]: g["files"] for g in kustomization["configMapGenerator"]}
volume = next(v for v in epp["spec"]["template"]["spec"]["volumes"] if "configMap" in v)
check("endpoint-picker-config.yaml" in generated.get(volume["configMap"]["name"], []),
      "the EPP's ConfigMap is not generated from endpoint-picker-config.yaml")
check(sorted(kustomization["resources"]) == sorted(p.name for p in root.glob("*.yaml")
                                                   if p.name not in ("kustomization.yaml", "endpoint-picker-config.yaml")),
      "kustomization.yaml does not list every manifest")
# Every pluginRef names a declared plugin; the engine of our pods has our metric names.
declared = {p.get("name", p["type"]) for p in picker["plugins"]}
refs = [r["pluginRef"] for profile in picker["schedulingProfiles"] for r in profile["plugins"]]
refs += [s["pluginRef"] for s in picker.get("data", {}).get("sources", [])]
refs += [e["pluginRef"] for s in picker.get("data", {}).get("sources", []) for e in s.get("extractors", [])]
check(set(refs) <= declared, f"undeclared pluginRef(s): {sorted(set(refs) - declared)}")
extractor = next(p for p in picker["plugins"] if p["type"] == "model-server-protocol-metrics")["parameters"]
engines = {e["name"]: e for e in extractor["engineConfigs"]}
engine = pod_labels.get(extractor["engineLabelKey"], extractor["defaultEngine"])
check(engine in engines, f"no engineConfig for the pods' engine type {engine!r}")
want = {"queuedRequestsSpec": "hamburger:num_requests_waiting", "runningRequestsSpec": "hamburger:num_requests_running",
        "kvUsageSpec": "hamburger:kv_cache_usage_perc", "cacheInfoSpec": "hamburger:cache_config_info"}
for key, metric in want.items():
    check(engines.get(engine, {}).get(key) == metric, f"{key} is not {metric}")
# The HPA scales the server on the metric the adapter serves.
hpa = objects[("HorizontalPodAutoscaler", "hamburger")]
check(hpa["spec"]["scaleTargetRef"]["name"] == "hamburger", "the HPA does not target the hamburger Deployment")
adapter = yaml.safe_load(objects[("ConfigMap", "hamburger-prometheus-adapter")]["data"]["config.yaml"])
served = {rule["name"]["as"] for rule in adapter["rules"]}
check(hpa["spec"]["metrics"][0]["pods"]["metric"]["name"] in served, "the HPA's metric is not served by the adapter rule")
# Termination: the grace period covers the preStop sleep and the drain.
shutdown = int(env.get("HAMBURGER_SHUTDOWN_TIMEOUT_SECONDS", 30))
sleep = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
check(pod["spec"]["terminationGracePeriodSeconds"] > shutdown + sleep,
      "terminationGracePeriodSeconds is not above preStop + shutdown_timeout_seconds")
check(container["readinessProbe"]["httpGet"]["path"] == "/health", "readiness is not on /health")

for failure in failures:
    print(f"manifest-test: FAIL {failure}")
print(f"manifest-test: cross-file checks {'failed' if failures else 'passed'} ({len(objects)} objects)")
sys.exit(1 if failures else 0)
