"""test_races.py - the server under ThreadSanitizer (make test-server-tsan): requests arrive
while the model loads and the workers start, then audio is streamed and buffered; no data
race may be reported. Skipped against a build without TSan (KOKORO_TEST_TSAN=1 says it is)."""
import os
import time

import pytest
import requests

from conftest import Server, post

TSAN = os.environ.get("KOKORO_TEST_TSAN") == "1"
pytestmark = pytest.mark.skipif(not TSAN, reason="needs the ThreadSanitizer build "
                                "(make test-server-tsan)")


def test_no_data_race_between_loading_and_requests():
    s = Server(env={"TSAN_OPTIONS": "halt_on_error=0 report_signal_unsafe=0"},
               wait_ready=False)
    try:
        # The loader publishes the pool and the engine while these read them: every answer
        # before it is done is a 503 that consults the pool (Retry-After).
        seen = set()
        deadline = time.time() + 300
        while time.time() < deadline:
            seen.add(post(s.url + "/v1/audio/speech", {"input": "Hi."}, timeout=60).status_code)
            requests.get(s.url + "/metrics", timeout=60)
            if requests.get(s.url + "/ready", timeout=60).status_code == 200:
                break
        assert 503 in seen, f"no request came in while the model was loading: {seen}"
        r = post(s.url + "/v1/audio/speech", {"input": "Two sentences. Streamed to the end.",
                                              "response_format": "pcm"}, timeout=300)
        assert r.status_code == 200 and len(r.content) > 24000
        r = post(s.url + "/synthesize", {"text": "Buffered."}, timeout=300)
        assert r.status_code == 200
    finally:
        time.sleep(0.5)
        log = s.read_log()
        code = s.stop(timeout=120)  # TSan exits with 66 when it reported anything
    assert "ThreadSanitizer" not in log, log[-20000:]
    assert code == 0, f"exit code {code}; log in {s.log_path}"
