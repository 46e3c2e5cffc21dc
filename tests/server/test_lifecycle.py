"""test_lifecycle.py - a second server with an API key, one worker and a queue of one:
NotReady while loading, authentication, Overloaded with Retry-After, and the SIGTERM drain."""
import socket
import threading
import time

import pytest
import requests

from conftest import Server, post

KEY = "test-key-123"


@pytest.fixture(scope="module")
def small():
    s = Server("--workers", "1", "--queue", "1", "--drain-timeout", "600", "--idle-timeout", "60",
               wait_ready=False, env={"KOKORO_API_KEY": KEY, "KOKORO_LOG_LEVEL": "info"})
    s.early = post(s.url + "/synthesize", {"text": "too early"},
                   headers={"Authorization": "Bearer " + KEY})
    s.early_ready = requests.get(s.url + "/ready", timeout=10)
    s.wait_ready()
    yield s
    if s.proc.poll() is None:
        s.stop()


AUTH = {"Authorization": "Bearer " + KEY}


def test_not_ready_while_loading(small):
    assert small.early.status_code == 503 and small.early.json()["error"] == "NotReady"
    assert small.early.headers.get("Retry-After")
    assert small.early_ready.status_code == 503


def test_api_key_is_required(small):
    r = post(small.url + "/synthesize", {"text": "no key"})
    assert r.status_code == 401 and r.json()["error"] == "Unauthorized"
    r = post(small.url + "/v1/audio/speech", {"input": "bad key"},
             headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    assert requests.get(small.url + "/health", timeout=10).status_code == 200
    r = post(small.url + "/synthesize", {"text": "with key", "output_format": "wav"}, headers=AUTH)
    assert r.status_code == 200


def test_help_lists_every_setting():
    import subprocess
    from conftest import BIN
    out = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    for flag in ("--host", "--port", "--model", "--voices", "--default-voice", "--workers",
                 "--queue", "--max-body", "--max-text", "--max-header", "--idle-timeout",
                 "--api-key", "--cors-origins", "--log-level", "KOKORO_API_KEY", "--drain-timeout"):
        assert flag in out.stdout, flag
    bad = subprocess.run([BIN, "serve", "--port", "http"], capture_output=True, text=True,
                         timeout=30)
    assert bad.returncode == 2 and "--port" in bad.stderr


def test_overloaded_gets_503_with_retry_after_at_once(small):
    """One worker busy, one job queued: the third is refused immediately."""
    # six sentences hold the worker for seconds
    long_text = " ".join(f"Sentence {i} keeps the only worker busy." for i in range(6))
    results = []

    def busy():
        results.append(post(small.url + "/synthesize", {"text": long_text, "output_format": "wav"},
                            headers=AUTH, timeout=600))

    threads = [threading.Thread(target=busy) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.5)
    t0 = time.time()
    r = post(small.url + "/synthesize", {"text": "one too many"}, headers=AUTH)
    took = time.time() - t0
    for t in threads:
        t.join()
    assert r.status_code == 503 and r.json()["error"] == "Overloaded"
    assert int(r.headers["Retry-After"]) >= 1 and took < 2
    assert [x.status_code for x in results] == [200, 200]


def test_sigterm_drains_then_exits_zero(small):
    """SIGTERM: in-flight streaming work completes, /ready turns 503 on an open connection,
    new connections are refused, and the process exits 0."""
    text = " ".join(f"Drain sentence {i} is still being spoken." for i in range(4))
    got = {}

    def streaming():
        with requests.post(small.url + "/v1/audio/speech", stream=True, timeout=600,
                           headers=AUTH, json={"input": text, "response_format": "pcm"}) as r:
            got["status"] = r.status_code
            got["bytes"] = sum(len(c) for c in r.iter_content(None))

    keep = requests.Session()
    assert keep.get(small.url + "/health", timeout=10).status_code == 200
    t = threading.Thread(target=streaming)
    t.start()
    time.sleep(1.5)
    small.proc.send_signal(15)
    time.sleep(0.5)
    r = keep.get(small.url + "/ready", timeout=10)
    assert r.status_code == 503 and r.json()["error"] == "NotReady"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", small.port), timeout=2).close()
    t.join(timeout=600)
    assert got.get("status") == 200 and got.get("bytes", 0) / 2 / 24000 > 4.0, got
    assert small.proc.wait(timeout=120) == 0
    assert small.stop() == 0


def test_drain_is_bounded():
    """Work that outlives --drain-timeout is cancelled, and the process still exits 0 soon."""
    s = Server("--drain-timeout", "1", "--workers", "1")
    text = " ".join(f"Sentence {i} of a text far too long to finish in time." for i in range(30))
    got = {}

    def streaming():
        try:
            with requests.post(s.url + "/v1/audio/speech", stream=True, timeout=600,
                               json={"input": text, "response_format": "pcm"}) as r:
                got["status"] = r.status_code
                for chunk in r.iter_content(None):
                    got["first"] = True
                    got["bytes"] = got.get("bytes", 0) + len(chunk)
        except requests.RequestException as e:
            got["cut"] = type(e).__name__

    try:
        t = threading.Thread(target=streaming)
        t.start()
        deadline = time.time() + 300
        while "first" not in got and time.time() < deadline:
            time.sleep(0.1)
        assert got.get("first"), "no audio arrived"
        t0 = time.time()
        s.proc.send_signal(15)
        assert s.proc.wait(timeout=120) == 0
        t.join(timeout=60)
        assert time.time() - t0 < 60
        assert got.get("cut"), got  # the stream was cut short, not completed
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
    assert s.stop() == 0
