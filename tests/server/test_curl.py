"""test_curl.py - the routes as a shell user drives them with curl."""
import json
import subprocess

from conftest import probe


def curl(*args, timeout=300):
    out = subprocess.run(["curl", "-sS", "--max-time", str(timeout), *args],
                         capture_output=True, timeout=timeout + 10)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout


def test_curl_synthesize_to_file(api, tmp_path):
    f = tmp_path / "out.mp3"
    w = curl("-o", str(f), "-w", "%{http_code} %{content_type} %{size_download}",
             "-H", "Content-Type: application/json",
             "-d", '{"text": "Saved by curl.", "voice_id": "af_heart"}', api + "/synthesize")
    code, ctype, size = w.decode().split()
    assert code == "200" and ctype == "audio/mpeg" and int(size) == f.stat().st_size
    assert probe(f.read_bytes())["codec"] == "mp3"


def test_curl_streaming_first_byte_comes_before_the_end(api):
    body = json.dumps({"input": "The first sentence is short. The second sentence is a little "
                                "longer than the first. The third sentence ends this request.",
                       "voice": "af_heart", "response_format": "mp3"})
    w = curl("-N", "-o", "/dev/null", "-w", "%{http_code} %{time_starttransfer} %{time_total}",
             "-H", "Content-Type: application/json", "-d", body, api + "/v1/audio/speech")
    code, first, total = w.decode().split()
    assert code == "200"
    assert float(first) < float(total) * 0.8, (first, total)


def test_curl_head_and_json_routes(api):
    head = curl("-I", api + "/health").decode()
    assert head.startswith("HTTP/1.1 200") and "application/json" in head
    voices = json.loads(curl(api + "/v1/audio/voices"))
    assert any(v["id"] == "af_heart" for v in voices["voices"])
    assert b"kokoro_http_requests_total" in curl(api + "/metrics")


def test_curl_errors(api, tmp_path):
    big = tmp_path / "big.json"
    big.write_text('{"text": "' + "a" * 100000 + '"}')
    w = curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json",
             "--data-binary", "@" + str(big), api + "/synthesize")
    assert w == b"413"
    w = curl("-o", "/dev/null", "-w", "%{http_code}", "-d", "text=hi", api + "/synthesize")
    assert w == b"415"  # curl -d without a JSON Content-Type
    w = curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", api + "/synthesize")
    assert w == b"405"
