"""conftest.py - the rendered deploy/k8s objects, shared by the deployment tests."""
import shutil

import pytest

from k8s_render import render_with_kubectl, render_without_kubectl


@pytest.fixture(scope="session")
def rendered():
    """The objects deploy/k8s produces: kubectl's rendering where kubectl exists."""
    if shutil.which("kubectl"):
        return render_with_kubectl()
    return render_without_kubectl()


@pytest.fixture(scope="session")
def by_kind(rendered):
    """kind -> the one object of that kind (each kind appears once)."""
    kinds = {}
    for obj in rendered:
        assert obj["kind"] not in kinds, f"two objects of kind {obj['kind']}"
        kinds[obj["kind"]] = obj
    return kinds
