"""k8s_render.py - renders deploy/k8s into a list of objects, with or without kubectl."""
import copy
import os
import subprocess

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
K8S = os.path.join(ROOT, "deploy", "k8s")
CLUSTER_SCOPED = {"Namespace"}


def load_yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def render_without_kubectl():
    """Applies the three kustomize features deploy/k8s uses (namespace, resources, images).

    kubectl is not on every machine; where it is, a test checks that this rendering and
    `kubectl kustomize` agree, so the two cannot drift apart unnoticed."""
    kust = load_yaml_docs(os.path.join(K8S, "kustomization.yaml"))[0]
    unsupported = set(kust) - {"apiVersion", "kind", "namespace", "resources", "images"}
    assert not unsupported, f"kustomization.yaml uses {unsupported}: extend render_without_kubectl"
    images = {i["name"]: i for i in kust.get("images", [])}
    objects = []
    for res in kust["resources"]:
        for obj in load_yaml_docs(os.path.join(K8S, res)):
            obj = copy.deepcopy(obj)
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = kust["namespace"]
            pod = obj.get("spec", {}).get("template", {}).get("spec", {})
            for c in pod.get("containers", []) + pod.get("initContainers", []):
                name, _, tag = c["image"].partition(":")
                if name in images:
                    img = images[name]
                    c["image"] = f'{img.get("newName", name)}:{img.get("newTag", tag or "latest")}'
            objects.append(obj)
    return objects


def render_with_kubectl():
    out = subprocess.run(["kubectl", "kustomize", K8S], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, f"kubectl kustomize failed:\n{out.stderr}"
    return [d for d in yaml.safe_load_all(out.stdout) if d is not None]
