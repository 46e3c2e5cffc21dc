"""test_image.py - the container image `make image` built, run for real with the engine.

As Kubernetes runs it and as a careful operator does by hand: a read-only root, every
capability dropped, no new privileges, the image's own non-root user, and the port published on
127.0.0.1 only. Checked through the published port with a real HTTP client and ffprobe: /ready,
a synthesize in each of the seed's formats, AAC's clear refusal (the image is built without
libavcodec), the health check (on KOKORO_PORT), the SIGTERM drain, and `podman kube play` of the
rendered Deployment, with what podman applied of it. Prints the image size and the cold start.
"""
import copy
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "deploy"))
from k8s_render import render_without_kubectl  # noqa: E402

ENGINE = os.environ.get("IMAGE_ENGINE", "podman")
IMAGE = os.environ.get("IMAGE", "localhost/kokoro-api:latest")
os.environ.setdefault("CONTAINERS_CONF", os.path.join(ROOT, "deploy", "containers.conf"))

MAX_IMAGE_BYTES = 250_000_000  # issue 15: at most 250 MB with the model (goal 200 MB)
READY_WITHIN = 120             # seconds; the Deployment's startup probe allows 300
TEXT = "The container image speaks from a read-only root, with no capabilities at all."
SEED_FORMATS = {"mp3": ("audio/mpeg", "mp3"), "wav": ("audio/wav", "pcm_s16le"),
                "ogg": ("audio/ogg", None)}  # ogg: Vorbis or Opus, as documented


def engine(*args, check=True, timeout=120):
    out = subprocess.run([ENGINE, *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert out.returncode == 0, f"{ENGINE} {' '.join(args)}:\n{out.stdout}\n{out.stderr}"
    return out


def inspect(name):
    return json.loads(engine("inspect", name).stdout)[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_address():
    """This machine's address on its default route (not loopback), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # picks a route; sends nothing
            addr = s.getsockname()[0]
        except OSError:
            return None
    return None if addr.startswith("127.") else addr


def wait_ready(base, within=READY_WITHIN, container=None):
    """Seconds until GET /ready answers 200; fails with the container's log otherwise."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < within:
        try:
            if requests.get(base + "/ready", timeout=2).status_code == 200:
                return time.monotonic() - t0
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    logs = engine("logs", container, check=False).stderr if container else ""
    pytest.fail(f"{base}/ready did not answer 200 within {within} s\n{logs}")


def ffprobe(data, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                          "stream=codec_name,sample_rate,channels:format=duration",
                          "-of", "json", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    return info["streams"][0], float(info["format"].get("duration", 0))


def assert_only_tmp_audio_writable(name):
    """The root file system refuses writes, even to world-writable /tmp; /tmp/audio (the
    volume, TMPDIR) takes them. bash alone: the image has no coreutils."""
    for path in ("/tmp/probe", "/app/probe", "/usr/local/bin/probe"):
        out = engine("exec", name, "bash", "-c", f": > {path}", check=False)
        assert out.returncode != 0, f"{path} was writable"
        assert "Read-only file system" in out.stderr or "Permission denied" in out.stderr
    assert "Read-only" in engine("exec", name, "bash", "-c", ": > /tmp/probe",
                                 check=False).stderr
    out = engine("exec", name, "bash", "-c", "[ -w /tmp/audio ] && : >> /tmp/audio/.probe",
                 check=False)
    assert out.returncode == 0, out.stderr


class Container:
    """One `ENGINE run -d` of the image, removed at the end whatever happens."""

    def __init__(self, *run_args, port_in=8000, args=()):
        self.name = f"kokoro-test-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # podman's --read-only puts a tmpfs on /tmp, /var/tmp and /run unless told not to;
        # in Kubernetes (and docker) only the declared volume is writable.
        no_tmpfs = ["--read-only-tmpfs=false"] if ENGINE == "podman" else []
        engine("run", "-d", "--name", self.name, "--read-only", *no_tmpfs,
               "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
               "-p", f"127.0.0.1:{self.port}:{port_in}", *run_args, IMAGE, *args)

    def exec(self, script, check=False):
        return engine("exec", self.name, "bash", "-c", script, check=check)

    def remove(self):
        engine("rm", "-f", "-v", "-t", "0", self.name, check=False)


@pytest.fixture(scope="module")
def served():
    c = Container()
    try:
        c.ready_s = wait_ready(c.base, container=c.name)
        print(f"\nimage: cold start (run to /ready 200): {c.ready_s:.2f} s")
        yield c
    finally:
        c.remove()


def health(name):
    """The image's HEALTHCHECK run once now (podman healthcheck run): its exit code."""
    if ENGINE != "podman":
        pytest.skip("running a health check on demand needs podman")
    out = engine("healthcheck", "run", name, check=False)
    return out.returncode, out.stdout + out.stderr


# ------------------------------------------------------------------ the image itself

def test_image_size_is_within_the_budget():
    size = int(engine("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
    print(f"\nimage: {IMAGE} is {size / 1e6:.1f} MB ({size} bytes; budget "
          f"{MAX_IMAGE_BYTES / 1e6:.0f} MB)")
    assert size <= MAX_IMAGE_BYTES


def test_image_config_runs_kokoro_as_non_root_with_a_health_check():
    image = json.loads(engine("image", "inspect", IMAGE).stdout)[0]
    cfg = image["Config"]
    assert cfg["User"] == "10001:10001"
    assert cfg["Entrypoint"] == ["kokoro"] and cfg["Cmd"] == ["serve"]
    assert set(cfg["ExposedPorts"]) == {"8000/tcp", "10200/tcp"}
    assert "/tmp/audio" in cfg["Volumes"]
    # The docker format keeps the health check (the OCI format would drop it).
    where = "{{json .HealthCheck}}" if ENGINE == "podman" else "{{json .Config.Healthcheck}}"
    check = json.loads(engine("image", "inspect", "--format", where, IMAGE).stdout)
    assert check["Test"][:2] == ["CMD", "bash"] and "KOKORO_PORT" in check["Test"][-1]
    assert check["StartPeriod"] > 0


# ------------------------------------------------------------------ run read-only, no caps

def test_runs_confined_as_the_image_user(served):
    info = inspect(served.name)
    assert info["HostConfig"]["ReadonlyRootfs"] is True
    assert info["EffectiveCaps"] in (None, [])
    assert "no-new-privileges" in " ".join(info["HostConfig"]["SecurityOpt"])
    ids = served.exec("echo $EUID ${GROUPS[0]}", check=True).stdout.split()
    assert ids == ["10001", "10001"]
    assert_only_tmp_audio_writable(served.name)


def test_the_port_is_published_on_loopback_only(served):
    bindings = inspect(served.name)["HostConfig"]["PortBindings"]["8000/tcp"]
    assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]


@pytest.mark.parametrize("fmt", sorted(SEED_FORMATS))
def test_synthesize_in_each_seed_format(served, fmt, tmp_path):
    ctype, codec = SEED_FORMATS[fmt]
    r = requests.post(served.base + "/synthesize", timeout=120,
                      json={"text": TEXT, "voice_id": "af_heart", "language": "en",
                            "speaking_rate": 1.0, "output_format": fmt})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(ctype)
    assert int(r.headers["Content-Length"]) == len(r.content)
    stream, seconds = ffprobe(r.content, tmp_path, "out." + fmt)
    if codec:
        assert stream["codec_name"] == codec
    else:
        assert stream["codec_name"] in ("vorbis", "opus")
    assert stream["channels"] == 1
    assert 2.0 < seconds < 15.0, f"{seconds} s of audio for {len(TEXT.split())} words"


# The seed's languages in their own script: the image carries each one's dictionaries (the
# lexicons in /app/models, espeak-ng's data for the rest).
GREETINGS = {"en-us": "Hello, my friends.", "en-gb": "Hello, my friends.",
             "es": "Hola, amigos míos.", "fr": "Bonjour, mes amis.", "hi": "नमस्ते, मेरे दोस्तों।",
             "it": "Ciao, amici miei.", "pt-br": "Olá, meus amigos.", "zh": "你好，我的朋友们。"}


@pytest.mark.parametrize("lang", sorted(GREETINGS))
def test_every_seed_language_is_read(served, lang):
    r = requests.post(served.base + "/dev/phonemize", timeout=60,
                      json={"text": GREETINGS[lang], "language": lang})
    assert r.status_code == 200, r.text
    phonemes = r.json()["phonemes"]
    assert len(phonemes) >= 6, phonemes
    # Spoken, not spelled: no letter of a non-Latin script is left in the phonemes.
    assert not any("\u0900" <= ch <= "\u097f" or "\u4e00" <= ch <= "\u9fff" for ch in phonemes)


def test_openai_speech_streams_and_aac_is_refused_clearly(served, tmp_path):
    r = requests.post(served.base + "/v1/audio/speech", timeout=120,
                      json={"model": "kokoro", "input": TEXT, "voice": "af_heart",
                            "response_format": "flac"})  # streamed: the route's default
    assert r.status_code == 200, r.text
    stream, seconds = ffprobe(r.content, tmp_path, "speech.flac")
    assert stream["codec_name"] == "flac" and 2.0 < seconds < 15.0, (stream, seconds)
    # Built with AAC=0: a clear 4xx naming the formats that work, and the server goes on.
    r = requests.post(served.base + "/v1/audio/speech", timeout=120,
                      json={"model": "kokoro", "input": "Hello there.", "voice": "af_heart",
                            "response_format": "aac"})
    assert r.status_code == 400, (r.status_code, r.text)
    message = r.json()["error"]["message"]
    assert "AAC" in message and "mp3" in message, message
    assert requests.get(served.base + "/ready", timeout=5).status_code == 200


def test_health_check_passes(served):
    code, out = health(served.name)
    assert code == 0, out


# ------------------------------------------------------------------ KOKORO_PORT

def test_health_check_follows_kokoro_port():
    c = Container("-e", "KOKORO_PORT=9000", port_in=9000)
    try:
        wait_ready(c.base, container=c.name)
        code, out = health(c.name)
        assert code == 0, out
    finally:
        c.remove()


def test_health_check_fails_when_the_server_is_elsewhere():
    """The check really asks the server: told port 9000 while serving 8000, it fails."""
    c = Container("-e", "KOKORO_PORT=9000", args=("serve", "--port", "8000"))
    try:
        wait_ready(c.base, container=c.name)
        code, out = health(c.name)
        assert code != 0, out
    finally:
        c.remove()


# ------------------------------------------------------------------ Japanese, mounted

def test_japanese_speaks_with_its_dictionary_mounted(tmp_path):
    """UniDic (248 MB) stays out of the image; mounted read-only where the server looks for
    it, Japanese is spoken."""
    unidic = os.path.join(ROOT, "models", "lexicon", "unidic-lite")
    assert os.path.isdir(unidic), f"{unidic} is missing: run make model first"
    c = Container("-v", f"{unidic}:/app/models/lexicon/unidic-lite:ro")
    try:
        wait_ready(c.base, container=c.name)
        r = requests.post(c.base + "/synthesize", timeout=120, json={
            "text": "今日はいい天気ですね。", "voice_id": "jf_alpha", "output_format": "wav"})
        assert r.status_code == 200, r.text
        assert ffprobe(r.content, tmp_path, "ja.wav")[1] > 1.0
    finally:
        c.remove()


# ------------------------------------------------------------------ SIGTERM drain

def test_sigterm_drains_the_request_in_flight(tmp_path):
    c = Container("-e", "KOKORO_DRAIN_TIMEOUT=90")  # as the Deployment sets it
    try:
        wait_ready(c.base, container=c.name)
        long_text = " ".join([TEXT] * 5)
        result = {}

        def synthesize():
            try:
                result["r"] = requests.post(c.base + "/synthesize", timeout=180, json={
                    "text": long_text, "voice_id": "af_heart", "output_format": "wav"})
            except requests.RequestException as e:  # reported by the assertion below
                result["e"] = e

        worker = threading.Thread(target=synthesize)
        worker.start()
        time.sleep(1.0)  # the request is in the server's hands
        t0 = time.monotonic()
        engine("kill", "--signal", "TERM", c.name)
        # Within moments: not ready, or no longer accepting; the request in flight goes on.
        late = 200
        while late == 200 and time.monotonic() - t0 < 2:
            try:
                late = requests.get(c.base + "/ready", timeout=5).status_code
            except requests.RequestException:
                late = "refused"
        assert late in (503, "refused"), f"/ready still {late} 2 s after SIGTERM"
        worker.join(180)
        assert "r" in result, result.get("e")
        assert result["r"].status_code == 200, result["r"].text
        stream, seconds = ffprobe(result["r"].content, tmp_path, "drained.wav")
        assert seconds > 15, f"only {seconds} s of audio: the request was cut"
        code = int(engine("wait", c.name, timeout=120).stdout.split()[-1])
        print(f"\nimage: SIGTERM to exit {time.monotonic() - t0:.2f} s, draining a "
              f"{seconds:.0f} s synthesis; exit code {code}")
        assert code == 0
    finally:
        c.remove()


# ------------------------------------------------------------------ podman kube play

def deployment_for_podman(ports):
    """The rendered Deployment, on this image, its ports bound to 127.0.0.1 (kube play would
    otherwise publish each containerPort on 0.0.0.0)."""
    dep = copy.deepcopy(next(o for o in render_without_kubectl() if o["kind"] == "Deployment"))
    c = dep["spec"]["template"]["spec"]["containers"][0]
    c["image"] = IMAGE
    c["imagePullPolicy"] = "Never"
    for p in c["ports"]:
        p["hostIP"] = "127.0.0.1"
        p["hostPort"] = ports[p["name"]]
    return dep, c


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    if ENGINE != "podman":
        pytest.skip("kube play needs podman")
    ports = {"http": free_port(), "probes": free_port(), "wyoming": free_port()}
    dep, spec = deployment_for_podman(ports)
    path = tmp_path_factory.mktemp("kube") / "deployment.yaml"
    path.write_text(yaml.safe_dump(dep))
    engine("kube", "play", "--replace", str(path), timeout=300)
    try:
        pod = next(p for p in json.loads(engine("pod", "ps", "--format", "json").stdout)
                   if p["Name"].startswith(dep["metadata"]["name"]))
        name = next(c["Names"] for c in pod["Containers"] if c["Names"].endswith(spec["name"]))
        yield {"ports": ports, "spec": spec, "pod": dep["spec"]["template"]["spec"],
               "info": inspect(name), "name": name}
    finally:
        engine("kube", "down", str(path), check=False, timeout=300)


def test_kube_play_serves_on_loopback(kube, tmp_path):
    base = f"http://127.0.0.1:{kube['ports']['http']}"
    ready = wait_ready(base, container=kube["name"])
    print(f"\nimage: kube play pod ready in {ready:.2f} s")
    probes = f"http://127.0.0.1:{kube['ports']['probes']}"
    assert requests.get(probes + "/health", timeout=5).status_code == 200
    r = requests.post(base + "/synthesize", timeout=120,
                      json={"text": TEXT, "output_format": "mp3"})
    assert r.status_code == 200, r.text
    assert ffprobe(r.content, tmp_path, "kube.mp3")[0]["codec_name"] == "mp3"
    # Every port of the pod is published on loopback alone, and another address of this
    # machine does not reach it.
    published = engine("port", kube["name"]).stdout.split("\n")
    published = [line for line in published if line.strip()]
    assert len(published) == len(kube["ports"]), published
    assert all(line.split(" -> ")[1].startswith("127.0.0.1:") for line in published), published
    other = own_address()
    if other:
        with pytest.raises(OSError):
            socket.create_connection((other, kube["ports"]["http"]), timeout=2).close()


def test_kube_play_wyoming_port_answers(kube):
    """KOKORO_WYOMING_PORT from the manifest turned the Wyoming server on, on its port."""
    import asyncio
    from wyoming.client import AsyncTcpClient
    from wyoming.info import Describe, Info

    async def describe():
        async with AsyncTcpClient("127.0.0.1", kube["ports"]["wyoming"]) as c:
            await c.write_event(Describe().event())
            return await asyncio.wait_for(c.read_event(), 30)
    info = Info.from_event(asyncio.run(describe()))
    assert [t.name for t in info.tts] == ["kokoro"]
    assert "af_heart" in [v.name for v in info.tts[0].voices]


def test_kube_play_applies_the_security_context(kube):
    info, sc, pod_sc = kube["info"], kube["spec"]["securityContext"], kube["pod"]["securityContext"]
    host = info["HostConfig"]
    assert info["Config"]["User"].split(":")[0] == str(pod_sc["runAsUser"])
    assert host["ReadonlyRootfs"] is sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"]["drop"] == ["ALL"] and info["EffectiveCaps"] in (None, [])
    assert sc["allowPrivilegeEscalation"] is False
    assert "no-new-privileges" in " ".join(host["SecurityOpt"])
    assert host["Privileged"] is False


def test_kube_play_applies_the_resources(kube):
    host, limits = kube["info"]["HostConfig"], kube["spec"]["resources"]["limits"]
    assert limits == {"cpu": "2000m", "memory": "4Gi"}
    assert host["Memory"] == 4 * 2**30
    assert host["CpuQuota"] / host["CpuPeriod"] == 2.0


def test_kube_play_applies_the_env(kube):
    env = dict(e.split("=", 1) for e in kube["info"]["Config"]["Env"])
    for var in kube["spec"]["env"]:
        if "value" in var:
            assert env.get(var["name"]) == var["value"], var["name"]
    # KOKORO_WORKERS comes from limits.cpu (2000m, divisor 1).
    assert env.get("KOKORO_WORKERS") == "2"


def test_kube_play_mounts_the_audio_volume(kube):
    mounts = {m["Destination"]: m for m in kube["info"]["Mounts"]}
    want = kube["spec"]["volumeMounts"][0]["mountPath"]
    assert want == "/tmp/audio" and mounts[want]["RW"] is True
    assert_only_tmp_audio_writable(kube["name"])
