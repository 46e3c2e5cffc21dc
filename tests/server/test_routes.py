"""test_routes.py - every route of api.md answers as documented (Python requests + ffprobe)."""
import base64
import json
import socket
import subprocess
import tempfile
import time

import requests

from conftest import error_of, post, probe

SHORT = "Hello there, this is Kokoro."


def test_health_is_alive(api):
    r = requests.get(api + "/health", timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_ready_reports_workers_and_voices(api):
    r = requests.get(api + "/ready", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready" and body["voices"] >= 1 and body["workers"] >= 1


def test_root_points_to_the_docs(api):
    assert requests.get(api + "/", timeout=10).json()["openapi"] == "/openapi.json"


def test_synthesize_mp3_default_has_exact_length_and_speech(api):
    r = post(api + "/synthesize", {"text": SHORT})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "audio/mpeg"
    assert int(r.headers["Content-Length"]) == len(r.content)
    a = probe(r.content)
    assert a["codec"] == "mp3" and a["rate"] == 24000 and a["channels"] == 1
    assert 0.8 < a["duration"] < 8 and a["rms"] > 0.01, a


def test_synthesize_wav_and_ogg(api):
    for fmt, ctype, codec in (("wav", "audio/wav", "pcm_s16le"), ("ogg", "audio/ogg", "vorbis")):
        r = post(api + "/synthesize", {"text": SHORT, "voice_id": "af_bella", "language": "en",
                                       "speaking_rate": 1.0, "output_format": fmt})
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == ctype
        assert int(r.headers["Content-Length"]) == len(r.content)
        a = probe(r.content)
        assert a["codec"] == codec and a["rate"] == 24000 and 0.8 < a["duration"] < 8, a
        assert a["rms"] > 0.01


def test_speaking_rate_changes_duration(api):
    slow = probe(post(api + "/synthesize", {"text": SHORT, "output_format": "wav",
                                            "speaking_rate": 0.5}).content)
    fast = probe(post(api + "/synthesize", {"text": SHORT, "output_format": "wav",
                                            "speaking_rate": 2.0}).content)
    assert slow["duration"] > 2.5 * fast["duration"], (slow, fast)


def test_blends_and_openai_names_are_voices(api):
    for voice in ("af_bella+af_sky", "af_bella(2)+af_sky(1)", "alloy", "nova"):
        r = post(api + "/synthesize", {"text": "Blend.", "voice_id": voice, "output_format": "wav"})
        assert r.status_code == 200, (voice, r.text)
        assert probe(r.content)["rms"] > 0.005


def test_batch_returns_one_result_per_item_in_order(api):
    items = [{"text": "First item."}, {"text": "   "}, {"text": "Third item.", "output_format": "wav"},
             {"text": "x", "voice_id": "nobody"}]
    r = post(api + "/synthesize/batch", {"items": items})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [o.get("index") for o in out] == [0, 1, 2, 3]
    assert out[0]["content_type"] == "audio/mpeg"
    assert probe(base64.b64decode(out[0]["audio"]))["codec"] == "mp3"
    assert out[1]["error"] == "ValidationError" and out[1]["details"]["field"] == "text"
    assert probe(base64.b64decode(out[2]["audio"]))["codec"] == "pcm_s16le"
    assert out[3]["error"] == "UnsupportedVoice"


def test_batch_concatenate_is_one_file_of_all_items(api):
    one = probe(post(api + "/synthesize", {"text": "First item.", "output_format": "wav"}).content)
    r = post(api + "/synthesize/batch", {"items": [{"text": "First item.", "output_format": "wav"},
                                                   {"text": "Second item, a bit longer.",
                                                    "output_format": "wav"}],
                                         "concatenate": True})
    assert r.status_code == 200 and r.headers["Content-Type"] == "audio/wav"
    assert int(r.headers["Content-Length"]) == len(r.content)
    both = probe(r.content)
    assert both["duration"] > one["duration"] + 0.8, (one, both)


def test_batch_concatenate_mixed_formats_is_400(api):
    r = post(api + "/synthesize/batch", {"items": [{"text": "a"}, {"text": "b", "output_format": "wav"}],
                                         "concatenate": True})
    assert r.status_code == 400 and error_of(r) == "ValidationError"
    assert "output_format" in r.json()["message"]


def test_batch_limits(api):
    assert post(api + "/synthesize/batch", {"items": []}).status_code == 400
    assert post(api + "/synthesize/batch", {"items": [{"text": "a"}] * 101}).status_code == 400
    r = post(api + "/synthesize/batch", {"items": "no"})
    assert r.status_code == 400 and r.json()["details"]["field"] == "items"


def test_speech_all_six_formats_unstreamed(api):
    want = {"mp3": ("mp3", "audio/mpeg"), "opus": ("opus", "audio/ogg"),
            "aac": ("aac", "audio/aac"), "flac": ("flac", "audio/flac"),
            "wav": ("pcm_s16le", "audio/wav"), "pcm": ("pcm_s16le", "audio/pcm")}
    for fmt, (codec, ctype) in want.items():
        r = post(api + "/v1/audio/speech", {"model": "tts-1", "input": "Format check.",
                                            "voice": "af_heart", "response_format": fmt,
                                            "stream": False})
        assert r.status_code == 200, (fmt, r.text)
        assert r.headers["Content-Type"].startswith(ctype), (fmt, r.headers)
        assert int(r.headers["Content-Length"]) == len(r.content)
        a = probe(r.content, fmt)
        assert a["codec"] == codec, (fmt, a)
        assert a["rate"] == (48000 if fmt == "opus" else 24000), (fmt, a)
        assert 0.4 < a["duration"] < 6 and a["rms"] > 0.01, (fmt, a)


def test_speech_streams_chunked_as_sentences_are_ready(api):
    text = "First sentence is here. Second sentence follows it. Third one ends the test."
    with requests.post(api + "/v1/audio/speech", json={"input": text, "voice": "af_heart",
                                                       "response_format": "pcm"},
                       stream=True, timeout=300) as r:
        assert r.status_code == 200
        assert r.headers.get("Transfer-Encoding") == "chunked"
        assert "Content-Length" not in r.headers
        pieces = [c for c in r.iter_content(chunk_size=None) if c]
    data = b"".join(pieces)
    assert len(data) % 2 == 0 and len(data) / 2 / 24000 > 2.0
    assert len(pieces) >= 2, "the audio should arrive in more than one piece"


def test_speech_streamed_wav_and_mp3_decode(api):
    for fmt in ("wav", "mp3"):
        r = post(api + "/v1/audio/speech", {"input": "Streaming check.", "response_format": fmt})
        assert r.status_code == 200 and r.headers.get("Transfer-Encoding") == "chunked"
        a = probe(r.content, fmt)
        assert a["duration"] > 0.5 and a["rms"] > 0.01, (fmt, a)


def test_streamed_flac_says_its_duration(api):
    """/v1/audio/speech streams by default; a FLAC must still carry its length (STREAMINFO's
    total samples), or ffprobe and players show none."""
    r = post(api + "/v1/audio/speech", {"input": "Streaming check.", "response_format": "flac"})
    assert r.status_code == 200, r.text
    with tempfile.NamedTemporaryFile(suffix=".flac") as f:
        f.write(r.content)
        f.flush()
        out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                              "stream=duration_ts,duration", "-of", "json", f.name],
                             capture_output=True, text=True, timeout=60)
    st = json.loads(out.stdout)["streams"][0]
    decoded = probe(r.content, "flac")["duration"]
    assert "duration" in st, f"ffprobe shows no duration: {st}"
    assert abs(float(st["duration"]) - decoded) < 0.001, (st, decoded)


def test_speech_sse_events(api):
    r = post(api + "/v1/audio/speech", {"input": "Event stream. Two sentences.",
                                        "response_format": "pcm", "stream_format": "sse"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    assert events[-1]["type"] == "speech.audio.done"
    deltas = [e for e in events if e["type"] == "speech.audio.delta"]
    assert deltas and len(deltas) == len(events) - 1
    pcm = b"".join(base64.b64decode(e["audio"]) for e in deltas)
    assert len(pcm) / 2 / 24000 > 1.0


def test_speech_speed_and_volume(api):
    base = probe(post(api + "/v1/audio/speech", {"input": SHORT, "response_format": "wav",
                                                 "stream": False}).content)
    quiet = probe(post(api + "/v1/audio/speech", {"input": SHORT, "response_format": "wav",
                                                  "stream": False, "volume_multiplier": 0.25,
                                                  "speed": 4.0}).content)
    assert quiet["duration"] < base["duration"] / 2.5, (base, quiet)
    assert quiet["rms"] < base["rms"] / 2, (base, quiet)


def test_voices_lists_ids_and_names(api):
    body = requests.get(api + "/v1/audio/voices", timeout=10).json()
    ids = [v["id"] for v in body["voices"]]
    assert "af_heart" in ids and all(v["name"] for v in body["voices"])
    assert body["aliases"]["alloy"] in ids


def test_models_in_openai_shape(api):
    for path in ("/v1/models", "/v1/audio/models"):
        body = requests.get(api + path, timeout=10).json()
        assert body["object"] == "list"
        assert {"kokoro", "tts-1", "tts-1-hd"} <= {m["id"] for m in body["data"]}
        assert all(m["object"] == "model" for m in body["data"])
    assert requests.get(api + "/v1/models/tts-1", timeout=10).json()["id"] == "tts-1"
    r = requests.get(api + "/v1/models/dall-e", timeout=10)
    assert r.status_code == 404 and error_of(r, "openai") == "NotFound"


def test_captioned_speech_has_word_timestamps(api):
    r = post(api + "/dev/captioned_speech", {"input": "Hello world. Captions work.",
                                             "voice": "af_heart", "response_format": "wav",
                                             "stream": False})
    assert r.status_code == 200, r.text
    body = r.json()
    a = probe(base64.b64decode(body["audio"]))
    words = body["timestamps"]
    assert words and all(set(w) >= {"word", "start_time", "end_time"} for w in words)
    assert all(0 <= w["start_time"] <= w["end_time"] <= a["duration"] + 0.05 for w in words)
    starts = [w["start_time"] for w in words]
    assert starts == sorted(starts)


def test_captioned_speech_streams_ndjson(api):
    r = post(api + "/dev/captioned_speech", {"input": "One sentence. Another one.",
                                             "response_format": "pcm"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(x) for x in r.text.splitlines() if x]
    assert lines and sum(len(x["timestamps"]) for x in lines) >= 2
    pcm = b"".join(base64.b64decode(x["audio"]) for x in lines)
    assert len(pcm) / 2 / 24000 > 1.0


def test_phonemize(api):
    r = post(api + "/dev/phonemize", {"text": "Hello world", "language": "en-us"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["phonemes"] and body["tokens"] and all(isinstance(t, int) for t in body["tokens"])


def test_metrics_are_prometheus_text(api):
    post(api + "/dev/phonemize", {"text": "count me"})
    r = requests.get(api + "/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    for name in ("kokoro_http_requests_total", "kokoro_queue_depth", "kokoro_workers",
                 "kokoro_audio_seconds_total", "kokoro_http_request_duration_seconds_bucket"):
        assert name in text
    assert 'route="/dev/phonemize",code="200"' in text


def test_web_serves_static_files(server, api):
    r = requests.get(api + "/web", timeout=10, allow_redirects=False)
    assert r.status_code in (301, 302, 307, 308) and r.headers["Location"] == "/web/"
    r = requests.get(api + "/web/", timeout=10)
    assert r.status_code == 200 and "kokoro test page" in r.text
    assert r.headers["Content-Type"].startswith("text/html")
    r = requests.get(api + "/web/sub/app.js", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")


def test_cors_for_the_configured_origin_only(api):
    r = requests.options(api + "/v1/audio/speech", timeout=10,
                         headers={"Origin": "https://app.example",
                                  "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    r = requests.get(api + "/health", headers={"Origin": "https://evil.example"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in r.headers


def test_vary_origin_on_every_answer_that_depends_on_it(api):
    """With a list of allowed origins, the answer to one origin (or to none) must not be
    cached for another: Vary: Origin whatever the Origin header was, errors included."""
    for origin in ("https://app.example", "https://evil.example", None):
        h = {"Origin": origin} if origin else {}
        for r in (requests.get(api + "/health", headers=h, timeout=10),
                  requests.options(api + "/v1/audio/speech", headers=h, timeout=10),
                  requests.get(api + "/no/such/route", headers=h, timeout=10),
                  post(api + "/synthesize", {"text": ""}, headers=h)):
            vary = [v.strip().lower() for v in r.headers.get("Vary", "").split(",")]
            assert "origin" in vary, (origin, r.request.method, r.url, r.headers)


def test_one_access_log_line_per_request(server, api):
    rid = "log-check-12345"
    requests.get(api + "/health", headers={"X-Request-Id": rid}, timeout=10)
    import time
    time.sleep(0.3)
    lines = [l for l in server.log_lines() if l.get("request_id") == rid]
    assert len(lines) == 1
    line = lines[0]
    assert line["msg"] == "request" and line["status"] == 200 and line["path"] == "/health"
    assert line["method"] == "GET" and "duration_ms" in line and line["remote"] == "127.0.0.1"


def logged(server, rid):
    """The access-log line of request rid (it is written once the response has ended)."""
    for _ in range(50):
        lines = [l for l in server.log_lines() if l.get("request_id") == rid]
        if lines:
            return lines
        time.sleep(0.1)
    return []


def test_streamed_response_logs_its_bytes(server, api):
    rid = "log-stream-bytes"
    r = post(api + "/v1/audio/speech", {"input": "Streaming check.", "response_format": "pcm"},
             headers={"X-Request-Id": rid})
    assert r.status_code == 200 and r.headers.get("Transfer-Encoding") == "chunked"
    lines = logged(server, rid)
    assert len(lines) == 1 and lines[0]["bytes"] == len(r.content) > 0, lines


def test_path_with_invalid_utf8_is_logged(server, api):
    """A path of bytes that are not UTF-8 still gets its access-log line (the log is JSON,
    so the bad bytes are replaced)."""
    rid = "log-bad-utf8"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /caf\xe9/\xff\xfe HTTP/1.1\r\nHost: x\r\nX-Request-Id: " +
                  rid.encode() + b"\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 404"), reply[:200]
    lines = logged(server, rid)
    assert len(lines) == 1, lines
    assert lines[0]["status"] == 404 and lines[0]["path"] == "/caf?/??", lines


def test_openapi_lists_every_route_and_each_answers(api):
    doc = requests.get(api + "/openapi.json", timeout=10).json()
    assert doc["openapi"].startswith("3.1")
    called = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            url = api + path.replace("{model}", "tts-1")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "example" in body:
                r = requests.request(method, url, json=body["example"], timeout=300)
            else:
                r = requests.request(method, url, timeout=60, allow_redirects=False)
            assert str(r.status_code) in op["responses"], (method, path, r.status_code, r.text[:300])
            assert r.status_code == 200, (method, path, r.status_code, r.text[:300])
            called += 1
    assert called >= 14
    for route in ("/synthesize", "/synthesize/batch", "/health", "/ready", "/v1/audio/speech",
                  "/v1/audio/voices", "/v1/models", "/v1/audio/models", "/dev/captioned_speech",
                  "/dev/phonemize", "/metrics", "/openapi.json"):
        assert route in doc["paths"], route
