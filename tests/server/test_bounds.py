"""test_bounds.py - every request's work is bounded: an audio budget (413 naming the limit),
a compute deadline (504, or an error at the end of a stream), batch limits, a frame cap per
forward pass that bounds each worker's memory, and the Deployment's settings within its
memory limit; and a stream starts with a short piece. Against real servers on 127.0.0.1."""
import json
import os
import re
import threading
import time

import pytest
import requests
import yaml

from conftest import ROOT, PeakRSS, Server, children_rss_mb, error_of, post, probe, rss_mb

# The working memory of one forward pass (include/kokoro.h): bytes per frame and fixed part.
FRAME_BYTES = 400 * 1024
FIXED_BYTES = 24 * 1024 * 1024
THREAD_MB = 12  # kernel scratch per thread (KOKORO_THREAD_BYTES)

LONG = " ".join(["The committee met on a Monday to discuss the budget, and the debate went on "
                 "until late in the evening."] * 6)


@pytest.fixture(scope="module")
def tight():
    """A server with small budgets, so that tests reach them quickly."""
    s = Server("--max-audio", "6", "--batch-max-chars", "120", "--max-frames", "400")
    yield s
    assert s.stop() == 0, f"log in {s.log_path}"


# The deadline: long enough for a stream's first piece, short against the text below. The
# sanitized server computes with the optimised engine (mk/server.mk), so one figure fits both.
DEADLINE = 3
SLOW_TEXT = " ".join(["A sentence of some length, spoken slowly to take a while."] * 6)


@pytest.fixture(scope="module")
def hasty():
    """A server whose requests may compute for DEADLINE seconds."""
    s = Server("--job-timeout", str(DEADLINE))
    yield s
    assert s.stop() == 0, f"log in {s.log_path}"


def test_audio_budget_refused_before_any_work(tight):
    t0 = time.time()
    r = post(tight.url + "/synthesize", {"text": LONG, "output_format": "wav"})
    assert r.status_code == 413, r.text
    assert error_of(r) == "PayloadTooLarge"
    assert "6 s" in r.json()["message"], r.json()
    assert time.time() - t0 < 2, "refused from the estimate, before synthesis"
    # the OpenAI route, streamed: the status comes before any audio
    r = post(tight.url + "/v1/audio/speech", {"input": LONG, "voice": "af_heart",
                                               "response_format": "pcm"})
    assert r.status_code == 413 and error_of(r, "openai") == "PayloadTooLarge", r.text


def test_audio_budget_reached_while_speaking(tight):
    """Text whose estimate fits but whose speech does not: stopped at the limit."""
    text = "Well, well, well. Oh! Ah... Hmm, yes, yes, no, no. Right, left, up, down, go."
    r = post(tight.url + "/synthesize", {"text": text, "output_format": "wav",
                                         "speaking_rate": 0.5})
    assert r.status_code == 413, (r.status_code, r.text[:200])
    assert "6 s" in r.json()["message"]


def test_deadline_buffered_gives_504(hasty):
    text = SLOW_TEXT
    t0 = time.time()
    r = post(hasty.url + "/synthesize", {"text": text, "output_format": "wav"})
    took = time.time() - t0
    assert r.status_code == 504, (r.status_code, r.text[:200])
    assert error_of(r) == "Timeout" and f"{DEADLINE} s" in r.json()["message"], r.json()
    assert took < DEADLINE * 2 + 5, f"stopped within a layer of the deadline, took {took:.1f} s"


def test_deadline_ends_an_event_stream_with_an_error_event(hasty):
    text = SLOW_TEXT
    r = post(hasty.url + "/v1/audio/speech", {"input": text, "voice": "af_heart",
                                               "response_format": "pcm", "stream_format": "sse"},
             stream=True)
    assert r.status_code == 200
    events = [json.loads(line[6:]) for line in r.iter_lines(decode_unicode=True)
              if line.startswith("data: ")]
    assert events and events[0]["type"] == "speech.audio.delta", events[:1]
    assert events[-1]["type"] == "error" and events[-1]["error"]["type"] == "Timeout", events[-1]
    assert not any(e["type"] == "speech.audio.done" for e in events)


def test_deadline_cuts_a_raw_stream(hasty):
    """Raw audio has no room for an error event: the chunked body ends without its last
    chunk, which every HTTP client reports as an error rather than a complete file."""
    text = SLOW_TEXT
    r = post(hasty.url + "/v1/audio/speech", {"input": text, "voice": "af_heart",
                                               "response_format": "pcm"}, stream=True)
    assert r.status_code == 200
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for _ in r.iter_content(65536):
            pass


def test_batch_characters_together_bounded(tight):
    items = [{"text": "Forty characters of text in one item..."}] * 4
    r = post(tight.url + "/synthesize/batch", {"items": items})
    assert r.status_code == 413 and error_of(r) == "PayloadTooLarge", r.text
    assert r.json()["details"]["max_chars"] == 120
    assert "120" in r.json()["message"]


def test_batch_audio_budget_is_shared(tight):
    """Each item fits the 6 s budget alone; together they do not."""
    items = [{"text": "One short item here.", "output_format": "wav"}] * 5
    r = post(tight.url + "/synthesize/batch", {"items": items, "concatenate": True})
    assert r.status_code == 413, (r.status_code, r.text[:200])
    assert "6 s" in r.json()["message"]


def test_server_still_serves_after_the_limits(tight):
    r = post(tight.url + "/synthesize", {"text": "Still here.", "output_format": "wav"})
    assert r.status_code == 200 and probe(r.content)["duration"] > 0.5
    assert requests.get(tight.url + "/ready", timeout=5).status_code == 200


@pytest.mark.load
def test_slow_unpunctuated_speech_stays_within_the_frame_bound():
    """Two workers, each speaking unpunctuated text at speed 0.25 (which used to make one
    forward pass of ~6,000 frames and 3 GB): the process grows by at most the documented
    per-worker bound."""
    s = Server("--workers", "2", "--max-frames", "400")
    try:
        post(s.url + "/synthesize", {"text": "Warm up.", "output_format": "wav"})
        time.sleep(0.5)
        idle = rss_mb(s.proc.pid)
        pk = PeakRSS(s.proc.pid, 0.02)
        words = " ".join(("the river ran past the old mill and the stone bridge").split() * 2)
        results = []

        def one():
            results.append(post(s.url + "/v1/audio/speech",
                                {"input": words, "voice": "af_heart", "speed": 0.25,
                                 "response_format": "wav", "stream": False}))

        ts = [threading.Thread(target=one) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        peak = max(idle, pk.end())
        for r in results:
            assert r.status_code == 200, r.text[:200]
            assert probe(r.content)["duration"] > 20, "slow speech of 20 words"
        per_worker = (FRAME_BYTES * 400 + FIXED_BYTES) / 2**20 + 2 * THREAD_MB + 64  # + encoder
        grew = peak - idle
        assert grew <= 2 * per_worker, f"grew {grew:.0f} MB over idle {idle:.0f} MB"
    finally:
        assert s.stop() == 0


def test_deployment_settings_fit_its_memory_limit():
    """The memory bound of docs/server.md, with the Deployment's own settings and the idle
    RSS of a real server and its espeak-ng helper, is within the container's limit."""
    with open(os.path.join(ROOT, "deploy", "k8s", "deployment.yaml")) as f:
        dep = yaml.safe_load(f)
    c = next(c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "kokoro-api")
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    cpu = c["resources"]["limits"]["cpu"]
    workers = int(cpu[:-1]) // 1000 if cpu.endswith("m") else int(cpu)
    mem = c["resources"]["limits"]["memory"]
    limit_mb = int(mem[:-2]) * (1024 if mem.endswith("Gi") else 1)
    max_frames = int(env.get("KOKORO_MAX_FRAMES") or 800)
    max_audio = int(env.get("KOKORO_MAX_AUDIO_SECONDS") or 600)
    s = Server("--workers", str(workers))
    try:
        time.sleep(0.5)
        helper = children_rss_mb(s.proc.pid)  # the espeak-ng helper: the same container
        assert 5 < helper < 100, helper
        idle = rss_mb(s.proc.pid) + helper
    finally:
        assert s.stop() == 0
    out = os.popen(f"{os.environ.get('KOKORO_BIN', os.path.join(ROOT, 'build', 'kokoro'))} "
                   "serve --help").read()
    defaults = dict(re.findall(r"(--[a-z-]+)\s+\S+\s+.*?\(default (\d+)", out))
    max_body_mb = int(defaults.get("--max-body", 1 << 20)) / 2**20
    conns = int(defaults.get("--max-connections", 256))
    # per worker: one forward pass, the kernels' per-thread scratch, the encoded output twice
    # (its state keeps no float weights: every layer runs on the model's 8-bit integers)
    per_worker = ((FRAME_BYTES * max_frames + FIXED_BYTES) / 2**20 + workers * THREAD_MB
                  + 2 * max_audio * 48000 / 2**20)
    bound = idle + workers * per_worker + conns * max_body_mb
    assert bound <= limit_mb, (f"bound {bound:.0f} MB: idle {idle:.0f} + {workers} x "
                               f"{per_worker:.0f} + {conns} x {max_body_mb:.0f}, limit {limit_mb}")


def test_retry_after_reflects_a_running_job_before_any_has_finished():
    """Retry-After used to say 1 s until the first job finished, however long it ran."""
    s = Server("--workers", "1", "--queue", "0")
    try:
        # eight sentences keep the worker busy well past the 3.5 s below
        long_text = " ".join(f"Sentence {i} keeps the only worker busy for a while." for i in range(8))
        th = threading.Thread(target=lambda: post(s.url + "/synthesize",
                                                  {"text": long_text, "output_format": "wav"}))
        th.start()
        time.sleep(3.5)
        r = post(s.url + "/synthesize", {"text": "one too many"})
        th.join()
        assert r.status_code == 503 and r.json()["error"] == "Overloaded", r.text
        assert int(r.headers["Retry-After"]) >= 3, r.headers["Retry-After"]
    finally:
        assert s.stop() == 0
