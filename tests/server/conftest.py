"""conftest.py - starts real `kokoro serve` processes on 127.0.0.1 for the server tests.

KOKORO_BIN picks the binary (default build/kokoro); KOKORO_TEST_ASAN=1 says it is the
sanitizer build: slower, and its log is checked for sanitizer reports at shutdown.
Tests that need the model fail (never skip) when it is missing: the server then exits.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, os.environ.get("KOKORO_BIN", "build/kokoro"))
ASAN = os.environ.get("KOKORO_TEST_ASAN") == "1"
LOAD_TIMEOUT = 600 if ASAN else 300


def pytest_configure(config):
    config.addinivalue_line("markers", "load: concurrency tests bounded by wall time")
    config.addinivalue_line(
        "markers", "audio: listens to the audio with Whisper, or speaks a long text: what is "
        "said, not a code path the sanitizers would add to (a shorter test takes each path)")


def rss_mb(pid):
    """Resident memory of a process, in MB (0 once it is gone)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def children(pid):
    """A process's children (the server's: its espeak-ng helper): [(pid, state letter)]."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(st[1]) == pid:
            out.append((int(d), st[0]))
    return out


def children_rss_mb(pid):
    """Resident memory of a process's children, in MB."""
    return sum(rss_mb(c) for c, _ in children(pid))


class PeakRSS:
    """Samples a process's RSS every `interval` seconds until end(), which returns the peak."""

    def __init__(self, pid, interval=0.05):
        self.pid, self.interval, self.peak = pid, interval, 0.0
        self.stop = threading.Event()
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except OSError:
                return
            time.sleep(self.interval)

    def end(self):
        self.stop.set()
        self.th.join()
        return self.peak


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process with its own port, log file and web folder."""

    def __init__(self, *args, env=None, wait_ready=True):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tempfile.mkdtemp(prefix="kokoro-server-test-")
        self.web = os.path.join(self.tmp, "web")
        os.makedirs(os.path.join(self.web, "sub"))
        with open(os.path.join(self.web, "index.html"), "w") as f:
            f.write("<!doctype html><title>kokoro test page</title>")
        with open(os.path.join(self.web, "sub", "app.js"), "w") as f:
            f.write("console.log('hi');\n")
        with open(os.path.join(self.tmp, "secret.txt"), "w") as f:
            f.write("outside the web folder\n")
        os.symlink(os.path.join(self.tmp, "secret.txt"), os.path.join(self.web, "link.txt"))
        self.log_path = os.path.join(self.tmp, "server.log")
        self.log = open(self.log_path, "w")
        # The sanitizer options come from the environment: the Makefile exports them (leaks
        # on); ASan's own defaults are the same on Linux when pytest runs alone.
        full_env = dict(os.environ)
        # Under ASan the front end and the server run slower, and slower still on a loaded
        # machine (make test runs two areas side by side); when the engine was sanitized too,
        # the default limit of 120 s of computing cut short sentences there (504). A test of
        # the limit sets its own (--job-timeout wins over the environment).
        if ASAN:
            full_env.setdefault("KOKORO_JOB_TIMEOUT", "900")
        # No probe listener unless a test asks for one (--probe-port wins): its default port,
        # 8081, would be shared by every server the tests start.
        full_env.setdefault("KOKORO_PROBE_PORT", "0")
        full_env.update(env or {})
        cmd = [BIN, "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--web-dir", self.web, *args]
        assert os.path.exists(BIN), f"{BIN} is not built (run make)"
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self.log, stderr=self.log,
                                     env=full_env)
        self.wait_up()
        if wait_ready:
            self.wait_ready()

    def wait_up(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            self.check_alive()
            try:
                requests.get(self.url + "/health", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("server did not answer /health:\n" + self.read_log())

    def wait_ready(self):
        deadline = time.time() + LOAD_TIMEOUT
        while time.time() < deadline:
            self.check_alive()
            if requests.get(self.url + "/ready", timeout=5).status_code == 200:
                return
            time.sleep(0.25)
        raise AssertionError("server never became ready:\n" + self.read_log())

    def check_alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(
                f"server exited with {self.proc.returncode} (is the model fetched? `make model`):\n"
                + self.read_log())

    def read_log(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def log_lines(self):
        out = []
        for line in self.read_log().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def stop(self, timeout=60):
        """SIGTERM; returns the exit code. Sanitizer reports fail the caller."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("server did not stop within %d s after SIGTERM" % timeout)
        log = self.read_log()
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert bad not in log, f"sanitizer report in the server log:\n{log[-20000:]}"
        if self.proc.returncode == 0:  # keep the folder (and its log) only when something failed
            self.log.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
        return self.proc.returncode


@pytest.fixture(scope="session")
def server():
    """The main server: CORS for one origin, modest limits so that tests can reach them."""
    s = Server("--cors-origins", "https://app.example", "--max-text", "2000",
               "--max-body", "65536", "--idle-timeout", "4", "--queue", "16")
    yield s
    code = s.stop()
    assert code == 0, f"exit code {code}; log in {s.log_path}"


@pytest.fixture
def api(server):
    return server.url


@pytest.fixture(scope="session")
def whisper():
    """Whisper tiny.en (tests/asr), loaded once for every test that listens to the audio."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "asr"))
    import asr
    return asr.load_model()


def post(url, body, headers=None, **kw):
    """POSTs a dict as JSON, or bytes/str as they are."""
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    data = json.dumps(body) if isinstance(body, (dict, list)) else body
    return requests.post(url, data=data, headers=h, timeout=kw.pop("timeout", 300), **kw)


def probe(data, fmt=None):
    """Decodes audio bytes with ffprobe/ffmpeg: codec, sample rate, channels, duration, rms."""
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(data)
        f.flush()
        pre = ["-f", "s16le", "-ar", "24000", "-ac", "1"] if fmt == "pcm" else []
        info = subprocess.run(
            ["ffprobe", "-v", "error", *pre, "-show_streams", "-show_format", "-of", "json",
             f.name], capture_output=True, text=True, timeout=60)
        assert info.returncode == 0, f"ffprobe cannot read it: {info.stderr}"
        st = json.loads(info.stdout)["streams"][0]
        fmt_name = json.loads(info.stdout)["format"]["format_name"]
        rate = int(st["sample_rate"])
        raw = subprocess.run(["ffmpeg", "-v", "error", *pre, "-i", f.name, "-f", "s16le",
                              "-ac", "1", "-ar", str(rate), "-"],
                             capture_output=True, timeout=60)
        assert raw.returncode == 0, raw.stderr.decode(errors="replace")
    import array
    samples = array.array("h", raw.stdout[: len(raw.stdout) // 2 * 2])
    rms = (sum(x * x for x in samples[::7]) / max(1, len(samples[::7]))) ** 0.5 / 32768
    return {"codec": st["codec_name"], "rate": rate, "channels": int(st["channels"]),
            "duration": len(samples) / rate, "rms": rms, "container": fmt_name}


def error_of(resp, family="seed"):
    """The error type of an error response, checking its shape."""
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    body = resp.json()
    if family == "seed":
        assert set(body) >= {"error", "message", "details"}, body
        assert isinstance(body["message"], str) and body["message"], body
        return body["error"]
    err = body["error"]
    assert set(err) >= {"message", "type", "param", "code"}, body
    return err["code"]
