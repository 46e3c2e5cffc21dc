"""test_entrypoint.py - the image's command, run natively the way the container runs it.

No Docker engine here, so the test rebuilds the container's conditions around build/kokoro: the
Dockerfile's ENTRYPOINT + CMD (port and host swapped for a free loopback port), the image's
layout (/app with models/ and web/, working directory /app), its unprivileged uid, the
Deployment's environment, and a root filesystem remounted read-only in a private mount
namespace with only the audio folder writable. The server must load, answer its probes and the
HEALTHCHECK, synthesise, serve /web, leave no temporary file behind, and exit 0 on SIGTERM.
Needs `make` and `make model`; fails (never skips) without them.
"""
import json
import os
import pathlib
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from k8s_render import ROOT
from dockerfile import DOCKERFILE, exec_form, last, stages

BUILD = os.environ.get("BUILD", "build")
KOKORO = os.path.join(ROOT, BUILD, "kokoro")
READY_TIMEOUT = 180  # seconds: loading the model on a busy two-core machine


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, body=None, timeout=120):
    """(status, headers, body bytes) of a GET, or of a JSON POST when body is given."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}
                                 if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.headers, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture(scope="module")
def image():
    """ENTRYPOINT + CMD, the HEALTHCHECK command and the runtime uid:gid from the Dockerfile."""
    with open(DOCKERFILE, encoding="utf-8") as f:
        runtime = stages(f.read())[-1]
    check = exec_form(last(runtime, "HEALTHCHECK").partition("CMD ")[2])
    uid, _, gid = last(runtime, "USER").partition(":")
    return {"entry": exec_form(last(runtime, "ENTRYPOINT")) + exec_form(last(runtime, "CMD")),
            "healthcheck": check, "uid": int(uid), "gid": int(gid)}


@pytest.fixture(scope="module")
def container(image, by_kind):
    """The server running as the container would; yields its base URL, audio dir and log."""
    assert os.path.exists(KOKORO), f"{KOKORO} is missing: run make first"
    assert os.path.exists(os.path.join(ROOT, "models", "kokoro.onnx")), \
        "models/kokoro.onnx is missing: run make model first"
    assert os.geteuid() == 0, "this test needs root to switch uid and remount / read-only"
    for tool in ("unshare", "setpriv", "mount"):
        assert shutil.which(tool), f"{tool} is missing (Debian util-linux / mount)"

    # The image's layout: /app/models and /app/web, read-only to the runtime user. Not under
    # pytest's tmp_path, whose parents only root may enter.
    top = pathlib.Path(tempfile.mkdtemp(prefix="kokoro-container-"))
    app = top / "app"
    app.mkdir()
    os.symlink(os.path.join(ROOT, "models"), app / "models")
    shutil.copytree(os.path.join(ROOT, "web"), app / "web")
    audio = top / "audio"
    audio.mkdir(mode=0o700)
    os.chown(audio, image["uid"], image["gid"])
    for d in (top, app):
        os.chmod(d, 0o755)

    port = free_port()
    entry = list(image["entry"])
    assert entry[0] == "kokoro"
    entry[0] = KOKORO
    if "--port" in entry:
        entry[entry.index("--port") + 1] = str(port)
    if "--host" in entry:
        entry[entry.index("--host") + 1] = "127.0.0.1"  # tests talk to loopback only

    # The Deployment's environment, with the emptyDir's path swapped for the staged one.
    c = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOKORO_")}
    for e in c["env"]:
        if "value" in e:
            env[e["name"]] = e["value"]
    env["KOKORO_WORKERS"] = "2"  # what resourceFieldRef gives for limits.cpu 2000m
    probe_port = free_port()
    env["KOKORO_PROBE_PORT"] = str(probe_port)  # the Deployment's 8081, on a free port
    env["TMPDIR"] = str(audio)
    # The image's ENV KOKORO_HOST/KOKORO_PORT, on loopback and a free port.
    env["KOKORO_HOST"], env["KOKORO_PORT"] = "127.0.0.1", str(port)
    env["HOME"] = "/nonexistent"  # the image user's home (useradd --home-dir): not writable

    # In a private mount namespace: audio stays writable, everything else becomes read-only,
    # then the server runs as the image's user.
    script = ('set -e; mount --bind "$AUDIO" "$AUDIO"; mount -o remount,bind,ro /; '
              'exec setpriv --reuid "$UID_" --regid "$GID_" --clear-groups -- "$@"')
    env.update(AUDIO=str(audio), UID_=str(image["uid"]), GID_=str(image["gid"]))
    log_path = top / "server.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                             script, "sh"] + entry, cwd=app, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            if request(base + "/ready", timeout=2)[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"not ready after {READY_TIMEOUT} s:\n{log_path.read_text()}")
        time.sleep(0.25)
    yield {"base": base, "port": port, "audio": audio, "log": log_path, "proc": proc,
           "probes": f"http://127.0.0.1:{probe_port}"}
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    log.close()
    shutil.rmtree(top)


def test_probes_answer(container):
    for base in (container["base"], container["probes"]):  # the kubelet uses the probe port
        assert request(base + "/health")[0] == 200
        assert request(base + "/ready")[0] == 200
    assert request(container["probes"] + "/metrics")[0] == 200


def test_docker_healthcheck_command_passes(container, image):
    cmd = [a.replace(":8000/", f':{container["port"]}/') for a in image["healthcheck"]]
    env = dict(os.environ, KOKORO_PORT=str(container["port"]))  # the check follows it
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, env=env)
    assert out.returncode == 0, f"{shlex.join(cmd)}: {out.stderr}"


def test_synthesis_works_on_a_read_only_root_as_an_unprivileged_user(container):
    status, headers, body = request(container["base"] + "/synthesize", {
        "text": "Hello from a read-only container.", "output_format": "wav"})
    assert status == 200, body[:300]
    assert headers["Content-Type"] == "audio/wav"
    assert body[:4] == b"RIFF" and len(body) > 24000  # over half a second at 24 kHz
    status, headers, body = request(container["base"] + "/v1/audio/speech", {
        "input": "And once more, streamed as MP3.", "voice": "af_heart", "response_format": "mp3"})
    assert status == 200, body[:300]
    assert headers["Content-Type"] == "audio/mpeg" and len(body) > 2000


def test_web_page_is_served(container):
    status, headers, body = request(container["base"] + "/web")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<title>Kokoro speech</title>" in body
    for asset, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        status, headers, body = request(f'{container["base"]}/web/{asset}')
        assert status == 200 and kind in headers["Content-Type"], asset
        with open(os.path.join(ROOT, "web", asset), "rb") as f:
            assert body == f.read()


def test_no_temporary_files_are_left_and_nothing_failed_to_write(container):
    time.sleep(0.5)  # responses are complete; cleanup runs as they end
    assert os.listdir(container["audio"]) == []
    log = container["log"].read_text(errors="replace")
    assert not re.search(r"read-only file system|permission denied", log, re.I), log


def test_sigterm_exits_zero(container):
    proc = container["proc"]
    proc.terminate()
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the server did not exit within 30 s of SIGTERM while idle")
    assert code == 0, container["log"].read_text()


# ------------------------------------------------------------------ the runtime stage's libraries

RUNTIME_PACKAGES = os.path.join(ROOT, "deploy", "runtime-packages.sh")


def test_runtime_packages_cover_the_libraries_the_program_links():
    assert os.path.exists(KOKORO), f"{KOKORO} is missing: run make first"
    out = subprocess.run([RUNTIME_PACKAGES, KOKORO], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    pkgs = out.stdout.split()
    for needed in ("libc6", "libespeak-ng1", "libmicrohttpd12", "libjansson4", "libmp3lame0"):
        assert needed in pkgs, f"{needed} missing from {pkgs}"
    assert any(p.startswith("libopenblas") for p in pkgs), pkgs
    # Each is a package the runtime stage can install from Debian.
    show = subprocess.run(["apt-cache", "show", "--no-all-versions"] + pkgs,
                          capture_output=True, text=True, timeout=120)
    assert show.returncode == 0, show.stderr
    assert show.stdout.count("\nPackage: ") + show.stdout.startswith("Package: ") >= len(pkgs)


def test_runtime_packages_refuse_a_library_no_package_provides(tmp_path):
    (tmp_path / "private.c").write_text("int private_answer(void) { return 42; }\n")
    (tmp_path / "main.c").write_text(
        "int private_answer(void);\nint main(void) { return private_answer() != 42; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", "libprivate.so", "private.c"],
                   cwd=tmp_path, check=True)
    subprocess.run(["cc", "-o", "prog", "main.c", "-L.", "-lprivate", f"-Wl,-rpath,{tmp_path}"],
                   cwd=tmp_path, check=True)
    out = subprocess.run([RUNTIME_PACKAGES, str(tmp_path / "prog")], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0
    assert "no Debian package provides" in out.stderr and "libprivate.so" in out.stderr
