"""test_ja_server.py - Japanese through the real server, as a user meets it.

A `kokoro serve` on 127.0.0.1 lists the Japanese voices, answers English without mapping the
Japanese dictionary (its files are absent from /proc/PID/maps), then speaks Japanese with
jf_alpha and jm_kumo (language from the voice, then given as ja-jp): WAV of a plausible length
for the morae said, not silent, and only now the dictionary is mapped. Run by `make test-ja`.
"""
import io
import math
import os
import socket
import struct
import subprocess
import tempfile
import time
import wave

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, os.environ.get("KOKORO_BIN", "build/kokoro"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([BIN, "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--probe-port", "0", "--workers", "1"], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:%d" % port
    try:
        deadline = time.time() + 300
        while True:
            assert proc.poll() is None, "the server exited (run `make model`)"
            try:
                if requests.get(url + "/v1/audio/voices", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.time() < deadline, "the server did not start"
            time.sleep(0.3)
        yield proc, url
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


def dictionary_mapped(pid):
    with open("/proc/%d/maps" % pid) as f:
        return any("unidic-lite" in line for line in f)


def speak(url, **body):
    body.setdefault("model", "kokoro")
    body.setdefault("response_format", "wav")
    r = requests.post(url + "/v1/audio/speech", json=body, timeout=300)
    assert r.status_code == 200, r.text
    with wave.open(io.BytesIO(r.content)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        rate = w.getframerate()
    # a streamed WAV's header cannot know the length: the samples are all that follows "data"
    data = r.content[r.content.index(b"data") + 8:]
    n = len(data) // 2
    pcm = struct.unpack("<%dh" % n, data[:2 * n])
    return n / rate, math.sqrt(sum(x * x for x in pcm) / max(n, 1)) / 32768


def test_japanese_voices_listed(server):
    _, url = server
    names = [v["id"] for v in requests.get(url + "/v1/audio/voices", timeout=10).json()["voices"]]
    assert {"jf_alpha", "jf_nezumi", "jm_kumo"} <= set(names)


def test_english_does_not_load_the_dictionary(server):
    proc, url = server
    seconds, level = speak(url, input="Good morning, how are you?", voice="af_heart")
    assert seconds > 0.8 and level > 0.01
    assert not dictionary_mapped(proc.pid), "an English request mapped the Japanese dictionary"


def test_japanese_is_spoken(server):
    proc, url = server
    # 今日は天気がいいですね。 is 13 morae (kʲoː βa teŋkʲi ɡa iː desɨ ne): 2 to 8 a second
    seconds, level = speak(url, input="今日は天気がいいですね。", voice="jf_alpha")
    assert 13 / 8 <= seconds <= 13 / 2 + 0.5, seconds
    assert level > 0.01, "silent"
    assert dictionary_mapped(proc.pid)
    # language given (an alias), another voice; a sentence three times as long lasts longer
    longer, level = speak(url, input="今日は天気がいいですね。明日は雨が降るかもしれません。"
                          "週末は何をする予定ですか。", voice="jm_kumo", lang_code="ja-jp")
    assert longer > 2 * seconds and level > 0.01, (seconds, longer)
