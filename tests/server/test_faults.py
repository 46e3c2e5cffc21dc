"""test_faults.py - failures the operating system can hand the server, injected with an
LD_PRELOAD shim (tests/server/fault_fstat.c): each must give a clear answer, never act on
what a failed call left behind."""
import os
import subprocess

import pytest
import requests

from conftest import ASAN, ROOT, Server


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("fault") / "fault_fstat.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", out,
                    os.path.join(ROOT, "tests/server/fault_fstat.c"), "-ldl"], check=True)
    return out


def test_web_file_whose_fstat_fails_is_404_not_a_redirect(shim):
    env = {"LD_PRELOAD": shim}
    if ASAN:  # the shim comes first in the link order; ASan's runtime accepts that
        env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    s = Server(env=env, wait_ready=False)
    try:
        with open(os.path.join(s.web, "fstat-fails.html"), "w") as f:
            f.write("<p>unreadable</p>")
        r = requests.get(s.url + "/web/fstat-fails.html", timeout=10, allow_redirects=False)
        assert r.status_code == 404, (r.status_code, r.headers)
        r = requests.get(s.url + "/web/sub/app.js", timeout=10)
        assert r.status_code == 200 and "console.log" in r.text
    finally:
        assert s.stop() == 0
