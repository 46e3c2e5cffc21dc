"""test_manifests.py - deploy/k8s renders, passes strict schemas and says what the seed says.

The values asserted here are the ones of the seed document (kokoro-api-data-model.md) and of
issue 5; a wrong edit of a manifest fails one of these tests before it reaches a cluster.
"""
import copy
import json
import os
import re
import shutil
import subprocess

import kubernetes_validate
import pytest

from k8s_render import K8S, ROOT, load_yaml_docs, render_with_kubectl, render_without_kubectl

# The oldest Kubernetes the manifests support (the preStop sleep action is beta, on by default,
# from 1.30) and the newest whose schemas kubernetes-validate ships.
K8S_VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]
ISTIO_VALIDATOR = os.path.join(ROOT, "tests", "deploy", "validate-istio.mjs")
NAMESPACE = "ai-services"
POD_LABELS = {"app": "kokoro-api"}


def is_istio(obj):
    return obj["apiVersion"].split("/")[0].endswith("istio.io")


def kube_validate(obj, version):
    """Returns None when obj passes the strict schema of that version, else the error text."""
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        return str(e)
    return None


def istio_validate(objects):
    """Runs the Istio validator on objects; returns (exit code, output)."""
    out = subprocess.run(["node", ISTIO_VALIDATOR], input=json.dumps(objects),
                         capture_output=True, text=True, timeout=120)
    return out.returncode, out.stdout + out.stderr


def seconds(duration):
    m = re.fullmatch(r"(\d+)(ms|s|m)", duration)
    assert m, f"unexpected duration {duration!r}"
    return int(m[1]) * {"ms": 0.001, "s": 1, "m": 60}[m[2]]


def container(by_kind):
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    assert len(pod["containers"]) == 1
    return pod["containers"][0]


# ------------------------------------------------------------------ rendering and schemas

def test_kustomize_renders_every_object_into_the_namespace(rendered):
    kinds = sorted(o["kind"] for o in rendered)
    assert kinds == sorted(["Namespace", "Deployment", "Service", "VirtualService",
                            "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"])
    for obj in rendered:
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["name"] == NAMESPACE
        else:
            assert obj["metadata"]["name"] == "kokoro-api", obj["kind"]
            assert obj["metadata"]["namespace"] == NAMESPACE, obj["kind"]


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed")
def test_kubectl_kustomize_agrees_with_the_fallback_rendering():
    key = lambda o: (o["kind"], o["metadata"]["name"])  # noqa: E731
    assert sorted(render_with_kubectl(), key=key) == sorted(render_without_kubectl(), key=key)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_objects_pass_the_strict_schema(rendered, version):
    core = [o for o in rendered if not is_istio(o)]
    assert len(core) == 6
    errors = {o["kind"]: kube_validate(o, version) for o in core}
    assert errors == {k: None for k in errors}


def test_strict_schema_rejects_an_unknown_field(by_kind):
    """The check above would be worthless if it ignored misspelt fields."""
    bad = copy.deepcopy(by_kind["Deployment"])
    bad["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"periodSeconds": 5}
    assert "readinesProbe" in (kube_validate(bad, K8S_VERSIONS[-1]) or "")
    bad = copy.deepcopy(by_kind["Service"])
    bad["spec"]["ports"][0]["port"] = "eight thousand"
    assert kube_validate(bad, K8S_VERSIONS[-1]) is not None


def test_virtualservice_passes_istios_schema(rendered):
    istio = [o for o in rendered if is_istio(o)]
    assert [o["kind"] for o in istio] == ["VirtualService"]
    code, out = istio_validate(istio)
    assert code == 0, out


def test_istio_validator_rejects_unknown_fields_and_wrong_types(by_kind):
    bad = copy.deepcopy(by_kind["VirtualService"])
    http = bad["spec"]["http"][0]
    http["retries"]["retryon"] = http["retries"].pop("retryOn")  # a typo Istio would prune
    http["route"][0]["destination"]["port"]["numbr"] = 8000
    code, out = istio_validate([bad])
    assert code == 1
    assert "spec.http[0].retries.retryon: unknown field" in out
    assert "destination.port.numbr: unknown field" in out

    bad = copy.deepcopy(by_kind["VirtualService"])
    bad["spec"]["http"][0]["retries"]["attempts"] = "3"
    code, out = istio_validate([bad])
    assert code == 1 and "attempts must be integer" in out


# ------------------------------------------------------------------ the seed's values

def test_namespace_enables_istio_and_carries_the_cluster_labels(by_kind):
    labels = by_kind["Namespace"]["metadata"]["labels"]
    assert labels["istio-injection"] == "enabled"
    assert labels["app.kubernetes.io/part-of"] == "homecluster"
    assert labels["name"] == NAMESPACE


def test_deployment_replicas_selector_and_image(by_kind):
    dep = by_kind["Deployment"]
    assert dep["spec"]["replicas"] == 1
    assert dep["spec"]["selector"]["matchLabels"] == POD_LABELS
    assert POD_LABELS.items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    assert dep["spec"]["template"]["spec"].get("restartPolicy", "Always") == "Always"
    c = container(by_kind)
    assert c["name"] == "kokoro-api"
    assert re.fullmatch(r"[^:]*kokoro-api:[\w.-]+", c["image"]), c["image"]
    assert c["args"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]


def test_deployment_resources(by_kind):
    assert container(by_kind)["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "2000m", "memory": "4Gi"},
    }


def test_container_port_and_probes(by_kind):
    """The probes go to the probe listener (KOKORO_PROBE_PORT), whose connection slots are its
    own: idle clients holding every slot of the API port cannot fail them."""
    c = container(by_kind)
    assert c["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"},
                          {"name": "probes", "containerPort": 8081, "protocol": "TCP"},
                          {"name": "wyoming", "containerPort": 10200, "protocol": "TCP"}]
    env = {e["name"]: e for e in c["env"]}
    assert env["KOKORO_PROBE_PORT"]["value"] == "8081"
    assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "probes"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/health", "port": "probes"}
    startup = c["startupProbe"]
    assert startup["httpGet"] == {"path": "/ready", "port": "probes"}
    annotations = by_kind["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == "8081"
    # Loading the model must have at least a minute before liveness may restart the pod.
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60
    # A pod that stops answering /ready leaves the Service within 10 s.
    ready = c["readinessProbe"]
    assert ready["periodSeconds"] * ready["failureThreshold"] <= 10


def test_audio_scratch_space_is_an_emptydir_at_tmp_audio(by_kind):
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "audio-output", "emptyDir": {}}]
    assert container(by_kind)["volumeMounts"] == [
        {"name": "audio-output", "mountPath": "/tmp/audio"}]
    env = {e["name"]: e for e in container(by_kind)["env"]}
    assert env["TMPDIR"]["value"] == "/tmp/audio"


def test_container_runs_unprivileged_on_a_read_only_root(by_kind):
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["automountServiceAccountToken"] is False
    sc = container(by_kind)["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}


def test_no_per_address_cap_behind_the_sidecar(by_kind):
    """Istio's sidecar connects from 127.0.0.1 for every client: a per-address cap there would
    cap the whole pod's traffic, so the Deployment turns it off (docs/server.md)."""
    env = {e["name"]: e for e in container(by_kind)["env"]}
    assert env["KOKORO_MAX_PER_IP"]["value"] == "0"


def test_workers_follow_the_cpu_limit(by_kind):
    env = {e["name"]: e for e in container(by_kind)["env"]}
    assert env["KOKORO_WORKERS"]["valueFrom"]["resourceFieldRef"] == {
        "containerName": "kokoro-api", "resource": "limits.cpu", "divisor": "1"}


def test_grace_period_covers_the_drain(by_kind):
    """preStop delay + the longest request the mesh lets run must end before SIGKILL."""
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    pre_stop = container(by_kind)["lifecycle"]["preStop"]["sleep"]["seconds"]
    longest = seconds(by_kind["VirtualService"]["spec"]["http"][0]["timeout"])
    env = {e["name"]: e for e in container(by_kind)["env"]}
    drain = int(env["KOKORO_DRAIN_TIMEOUT"]["value"])  # the server's bound after SIGTERM
    assert drain >= longest, "the server would cut requests the mesh still waits for"
    assert pod["terminationGracePeriodSeconds"] > pre_stop + drain
    assert by_kind["Deployment"]["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_service(by_kind):
    svc = by_kind["Service"]["spec"]
    assert svc["type"] == "ClusterIP"
    assert svc["selector"] == POD_LABELS
    assert [p["name"] for p in svc["ports"]] == ["http", "wyoming"]
    port = svc["ports"][0]
    assert (port["name"], port["port"], port["targetPort"], port["protocol"]) == (
        "http", 8000, 8000, "TCP")
    assert port["targetPort"] == container(by_kind)["ports"][0]["containerPort"]


def test_wyoming_port_for_home_assistant(by_kind):
    """Issue 14: the Wyoming protocol on 10200, named `wyoming` in the container and the
    Service, turned on in the server, opaque TCP to Istio, admitted by the NetworkPolicy."""
    c = container(by_kind)
    [cport] = [p for p in c["ports"] if p["name"] == "wyoming"]
    assert cport == {"name": "wyoming", "containerPort": 10200, "protocol": "TCP"}
    env = {e["name"]: e for e in c["env"]}
    assert env["KOKORO_WYOMING_PORT"]["value"] == "10200"
    [sport] = [p for p in by_kind["Service"]["spec"]["ports"] if p["name"] == "wyoming"]
    assert sport == {"name": "wyoming", "protocol": "TCP", "appProtocol": "tcp", "port": 10200,
                     "targetPort": 10200}
    ingress = {p["port"] for rule in by_kind["NetworkPolicy"]["spec"]["ingress"]
               for p in rule["ports"]}
    assert 10200 in ingress
    # Only HTTP goes through the VirtualService; it must not claim the Wyoming port.
    for route in by_kind["VirtualService"]["spec"]["http"]:
        assert all(d["destination"]["port"]["number"] == 8000 for d in route["route"])


def test_virtualservice_retries_timeout_and_route(by_kind):
    vs = by_kind["VirtualService"]["spec"]
    assert vs["hosts"] == ["kokoro-api.ai-services.svc.cluster.local"]
    assert len(vs["http"]) == 1
    http = vs["http"][0]
    assert http["retries"] == {"attempts": 3, "perTryTimeout": "30s",
                               "retryOn": "5xx,reset,connect-failure,refused-stream"}
    assert http["timeout"] == "90s"
    assert seconds(http["timeout"]) == http["retries"]["attempts"] * seconds(
        http["retries"]["perTryTimeout"])
    assert http["route"] == [{"destination": {"host": "kokoro-api", "port": {"number": 8000}}}]
    assert http["route"][0]["destination"]["host"] == by_kind["Service"]["metadata"]["name"]


def test_hpa_scales_the_deployment_on_cpu(by_kind):
    hpa = by_kind["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": "kokoro-api"}
    assert hpa["minReplicas"] == by_kind["Deployment"]["spec"]["replicas"] == 1
    assert hpa["maxReplicas"] > hpa["minReplicas"]
    [metric] = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    # Utilisation is relative to the request; the target must be reachable under the limit.
    assert 100 <= metric["resource"]["target"]["averageUtilization"] < 2000 * 100 // 500


def test_pdb_covers_the_pods_without_blocking_drains(by_kind):
    pdb = by_kind["PodDisruptionBudget"]["spec"]
    assert pdb["selector"]["matchLabels"] == POD_LABELS
    # With one replica, minAvailable 1 (or maxUnavailable 0) would block every node drain.
    assert pdb.get("maxUnavailable") == 1 and "minAvailable" not in pdb


def test_networkpolicy_admits_the_api_and_wyoming_ports_only(by_kind):
    np = by_kind["NetworkPolicy"]["spec"]
    assert np["podSelector"]["matchLabels"] == POD_LABELS
    assert set(np["policyTypes"]) == {"Ingress", "Egress"}
    ports = {p["port"] for rule in np["ingress"] for p in rule["ports"]}
    assert {8000, 10200} <= ports <= {8000, 10200, 15020, 15090}
    egress = {(p["protocol"], p["port"]) for rule in np["egress"] for p in rule["ports"]}
    assert ("UDP", 53) in egress  # DNS
    assert ("TCP", 15012) in egress  # the sidecar's istiod connection


def test_every_manifest_file_is_listed_in_the_kustomization():
    listed = set(load_yaml_docs(os.path.join(K8S, "kustomization.yaml"))[0]["resources"])
    present = {f for f in os.listdir(K8S) if f.endswith(".yaml") and f != "kustomization.yaml"}
    assert listed == present
