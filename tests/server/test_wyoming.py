"""test_wyoming.py - the Wyoming protocol port (`--wyoming-port`, issue 14) against a real
server, driven by the PyPI `wyoming` client (AsyncTcpClient) as Home Assistant drives it, and
by raw sockets for hostile input: a 1 MB header line, bad JSON, lying lengths, payloads
without a header, slow senders, too many connections. Every wait is bounded."""
import array
import asyncio
import json
import re
import socket
import time

import pytest
import requests
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping
from wyoming.tts import (Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop,
                         SynthesizeStopped, SynthesizeVoice)

from conftest import ASAN, Server, free_port, post

READ_TIMEOUT = 120 if ASAN else 60
MAX_TEXT = 400
IDLE = 4
REQUEST_TIMEOUT = 3
RATE, WIDTH = 24000, 2


class Wy:
    """A server with a Wyoming port."""

    def __init__(self, *args, env=None):
        self.wport = free_port()
        self.http = Server("--wyoming-port", str(self.wport), *args, env=env)

    def client(self):
        return AsyncTcpClient("127.0.0.1", self.wport, connect_timeout=10,
                              read_timeout=READ_TIMEOUT)

    def raw(self, timeout=10):
        return socket.create_connection(("127.0.0.1", self.wport), timeout=timeout)

    def metrics(self):
        return requests.get(self.http.url + "/metrics", timeout=10).text

    def metric(self, name, labels=""):
        m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", self.metrics(), re.M)
        return float(m[1]) if m else 0.0

    def stop(self):
        return self.http.stop()


@pytest.fixture(scope="module")
def wy():
    s = Wy("--max-text", str(MAX_TEXT), "--idle-timeout", str(IDLE), "--request-timeout",
           str(REQUEST_TIMEOUT), "--max-per-ip", "12")
    yield s
    assert s.stop() == 0, f"log in {s.http.log_path}"


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, READ_TIMEOUT * 2))


async def collect(client, until=("audio-stop",)):
    """Reads events up to (and with) one whose type is in until, or an error."""
    events = []
    while True:
        ev = await client.read_event()
        assert ev is not None, f"connection closed after {[e.type for e in events]}"
        events.append(ev)
        if ev.type in until or ev.type == "error":
            return events


def audio_of(events):
    """Checks the audio framing of events and returns the PCM bytes."""
    types = [e.type for e in events]
    assert types[0] == "audio-start", types
    start = AudioStart.from_event(events[0])
    assert (start.rate, start.width, start.channels) == (RATE, WIDTH, 1)
    assert types.count("audio-start") == 1 and types.count("audio-stop") == 1, types
    pcm = b""
    for e in events:
        if e.type == "audio-chunk":
            chunk = AudioChunk.from_event(e)
            assert (chunk.rate, chunk.width, chunk.channels) == (RATE, WIDTH, 1)
            assert chunk.timestamp == len(pcm) * 1000 // (RATE * WIDTH)
            assert len(chunk.audio) % WIDTH == 0 and chunk.audio
            pcm += chunk.audio
    stop = AudioStop.from_event(events[types.index("audio-stop")])
    assert stop.timestamp == len(pcm) * 1000 // (RATE * WIDTH)
    return pcm


def rms(pcm):
    s = array.array("h", pcm)
    return (sum(x * x for x in s[::5]) / max(1, len(s[::5]))) ** 0.5 / 32768


async def synthesize(client, text, **voice):
    await client.write_event(Synthesize(text=text, voice=SynthesizeVoice(**voice)
                                        if voice else None).event())
    return await collect(client)


def error_code(ev):
    assert ev.type == "error", ev
    err = Error.from_event(ev)
    assert err.text
    return err.code


async def still_usable(client):
    await client.write_event(Describe().event())
    ev = await client.read_event()
    assert ev is not None and ev.type == "info", ev


def read_raw_events(sock, deadline, count=None):
    """Reads (header, data) pairs from a raw socket until it closes, the deadline, or count
    events; returns them and whether the socket was closed."""
    buf, events = b"", []
    while time.time() < deadline and (count is None or len(events) < count):
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            return events, True
        buf += chunk
        while b"\n" in buf:
            line, rest = buf.split(b"\n", 1)
            hdr = json.loads(line)
            n = hdr.get("data_length") or 0
            p = hdr.get("payload_length") or 0
            if len(rest) < n + p:
                break
            data = json.loads(rest[:n]) if n else hdr.get("data", {})
            events.append((hdr["type"], data))
            buf = rest[n + p:]
    return events, False


# ------------------------------------------------------------------ describe

def test_describe_is_a_tts_program_with_every_voice(wy):
    async def go():
        async with wy.client() as c:
            await c.write_event(Describe().event())
            return await c.read_event()
    info = Info.from_event(run(go()))
    assert len(info.tts) == 1 and not info.asr
    tts = info.tts[0]
    assert tts.name == "kokoro" and tts.installed and tts.version
    assert tts.supports_synthesize_streaming is True
    assert tts.attribution.name and tts.attribution.url.startswith("https://")
    http = requests.get(wy.http.url + "/v1/audio/voices", timeout=10).json()
    names = [v.name for v in tts.voices]
    assert names == [v["id"] for v in http["voices"]]  # every voice, the HTTP API's order
    by = {v.name: v for v in tts.voices}
    assert by["af_heart"].languages == ["en-US"] and by["af_heart"].installed
    assert by["bf_emma"].languages == ["en-GB"]
    assert by["ff_siwis"].languages == ["fr"]
    assert by["pf_dora"].languages == ["pt-BR"]
    assert "female" in by["af_heart"].description and "Heart" in by["af_heart"].description
    for v in tts.voices:
        assert len(v.languages) == 1 and v.attribution.url and v.version
    # Japanese and Mandarin voices carry their languages' tags.
    assert by["jf_alpha"].languages == ["ja"] and by["zf_xiaobei"].languages == ["zh"]
    for v in tts.voices:
        if v.name[0] in "ab":
            assert v.installed, v.name


def test_ping_gets_pong(wy):
    async def go():
        async with wy.client() as c:
            await c.write_event(Ping(text="hello").event())
            return await c.read_event()
    ev = run(go())
    assert ev.type == "pong" and ev.data.get("text") == "hello"


# ------------------------------------------------------------------ synthesize

def test_synthesize_gives_the_same_pcm_as_the_http_stream(wy):
    text = "Hello from Kokoro, speaking Wyoming to Home Assistant."

    async def go():
        async with wy.client() as c:
            return audio_of(await synthesize(c, text, name="af_heart"))
    pcm = run(go())
    assert 1.5 < len(pcm) / (RATE * WIDTH) < 8
    assert rms(pcm) > 0.01
    r = post(wy.http.url + "/v1/audio/speech", {"input": text, "voice": "af_heart",
                                                "response_format": "pcm", "stream": True})
    assert r.status_code == 200
    assert pcm == r.content  # same job, same pieces: the same samples


def test_several_requests_on_one_connection_and_pipelined(wy):
    async def go():
        async with wy.client() as c:
            a = audio_of(await synthesize(c, "First request."))
            b = audio_of(await synthesize(c, "Second request, same connection."))
            # Two synthesize events back to back: the second waits for the first's audio.
            await c.write_event(Synthesize(text="Third.").event())
            await c.write_event(Synthesize(text="Fourth and last.").event())
            third = audio_of(await collect(c))
            fourth = audio_of(await collect(c))
            return a, b, third, fourth
    a, b, third, fourth = run(go())
    assert len(a) < len(b) and len(third) < len(fourth)
    assert all(rms(x) > 0.01 for x in (a, b, third, fourth))


def test_voice_by_name_blend_alias_or_language(wy):
    text = "Choosing a voice."

    async def go():
        async with wy.client() as c:
            out = {}
            out["bf_emma"] = audio_of(await synthesize(c, text, name="bf_emma"))
            out["en-GB"] = audio_of(await synthesize(c, text, language="en-GB"))
            out["en_GB"] = audio_of(await synthesize(c, text, language="en_GB"))
            out["af_heart"] = audio_of(await synthesize(c, text, name="af_heart"))
            out["en"] = audio_of(await synthesize(c, text, language="en"))
            out["default"] = audio_of(await synthesize(c, text))
            out["fr-FR"] = audio_of(await synthesize(c, "Bonjour à tous.", language="fr-FR"))
            out["ff_siwis"] = audio_of(await synthesize(c, "Bonjour à tous.", name="ff_siwis"))
            out["blend"] = audio_of(await synthesize(c, text, name="af_bella(2)+af_sky(1)"))
            out["alias"] = audio_of(await synthesize(c, text, name="shimmer"))
            out["af_bella"] = audio_of(await synthesize(c, text, name="af_bella"))
            # a name wins over a language (the wyoming client drops the language then)
            await c.write_event(Event("synthesize", {"text": text, "voice": {
                "name": "bf_emma", "language": "fr", "speaker": "x"}}))
            out["name+lang"] = audio_of(await collect(c))
            return out
    out = run(go())
    assert out["en-GB"] == out["bf_emma"] == out["en_GB"] == out["name+lang"]
    assert out["en"] == out["af_heart"] == out["default"]
    assert out["fr-FR"] == out["ff_siwis"]
    assert out["alias"] == out["af_bella"] != out["blend"]
    assert out["bf_emma"] != out["af_heart"]


def test_errors_are_events_and_the_connection_stays_usable(wy):
    async def go():
        async with wy.client() as c:
            codes = []
            for data in ({"text": "   "}, {}, {"text": 5},
                         {"text": "x" * (MAX_TEXT + 1)},
                         {"text": "hi", "voice": {"name": "nobody_here"}},
                         {"text": "hi", "voice": {"name": "../../etc/passwd"}},
                         {"text": "hi", "voice": {"language": "xx-YY"}},
                         {"text": "hi", "voice": {"language": "ko"}},
                         {"text": "hi", "voice": "af_heart"},
                         {"text": "<speak>hi <break></speak>", "text_format": "ssml"},
                         {"text": "hi", "text_format": "ssml"},
                         {"text": "hi", "text_format": "markdown"},
                         {"text": "a\u0000b"}):
                await c.write_event(Event("synthesize", data))
                [ev] = await collect(c)
                codes.append(error_code(ev))
            await c.write_event(SynthesizeChunk(text="no stream").event())
            codes.append(error_code(await c.read_event()))
            await c.write_event(SynthesizeStop().event())
            codes.append(error_code(await c.read_event()))
            await still_usable(c)
            pcm = audio_of(await synthesize(c, "Still working."))
            return codes, pcm
    codes, pcm = run(go())
    assert codes == ["ValidationError", "ValidationError", "ValidationError", "PayloadTooLarge",
                     "UnsupportedVoice", "UnsupportedVoice", "UnsupportedLanguage",
                     "UnsupportedLanguage", "ValidationError", "ValidationError",
                     "ValidationError", "UnsupportedFormat", "ValidationError",
                     "ValidationError", "ValidationError"]
    assert rms(pcm) > 0.01


def test_ssml_text_format(wy):
    """text_format ssml is read as SSML (issue "Control over what is spoken"): a break adds its
    time, in a plain synthesize and in a stream whose chunks cut the markup anywhere."""
    plain = "<speak>Hello there. This is a test.</speak>"
    pause = '<speak>Hello there. <break time="2s"/> This is a test.</speak>'

    async def go():
        async with wy.client() as c:
            await c.write_event(Synthesize(text=plain, text_format="ssml").event())
            base = audio_of(await collect(c))
            await c.write_event(Synthesize(text=pause, text_format="ssml").event())
            longer = audio_of(await collect(c))
            await c.write_event(SynthesizeStart(text_format="ssml").event())
            for i in range(0, len(pause), 5):  # cuts through tags and sentences
                await c.write_event(SynthesizeChunk(text=pause[i:i + 5]).event())
            await c.write_event(SynthesizeStop().event())
            streamed = await collect(c, until=("synthesize-stopped",))
            await c.write_event(SynthesizeStart(text_format="ssml").event())
            await c.write_event(SynthesizeChunk(text="<speak>Broken <break").event())
            await c.write_event(SynthesizeStop().event())
            broken = await collect(c, until=("synthesize-stopped",))
            if broken[-1].type == "error":
                broken += await collect(c, until=("synthesize-stopped",))
            return base, longer, streamed, broken
    base, longer, streamed, broken = run(go())
    # 2 s of break, less the model's edge silence a stream trims where its pieces join
    extra = (len(longer) - len(base)) / (RATE * WIDTH)
    assert 1.2 < extra < 2.6, extra
    assert streamed[-1].type == "synthesize-stopped"
    assert abs(len(audio_of(streamed[:-1])) - len(longer)) / (RATE * WIDTH) < 0.5
    assert [e.type for e in broken] == ["error", "synthesize-stopped"]
    assert error_code(broken[0]) == "ValidationError" and "line" in broken[0].data["text"]


def test_unknown_events_are_dropped(wy):
    async def go():
        async with wy.client() as c:
            await c.write_event(Event("select-program", {"name": "kokoro"}))
            await c.write_event(Event("audio-chunk", {"rate": 16000, "width": 2, "channels": 1},
                                      payload=b"\x00\x01" * 500))
            await c.write_event(Event("transcribe", {}))
            await still_usable(c)
    run(go())


# ------------------------------------------------------------------ streaming

SENTENCES = ["The first sentence arrives word by word.",
             "Dr. Smith reads the second one, at 7.5 miles an hour!",
             "Is the third one a question?"]


def test_stream_speaks_sentences_as_they_complete(wy):
    """synthesize-start, chunks..., synthesize-stop: audio for the first sentence comes
    before the rest of the text is sent; one audio-start/stop; synthesize-stopped last."""
    async def go():
        async with wy.client() as c:
            await c.write_event(SynthesizeStart(voice=SynthesizeVoice(name="af_heart")).event())
            for w in SENTENCES[0].split(" "):
                await c.write_event(SynthesizeChunk(text=w + " ").event())
            first = await c.read_event()  # nothing more is sent until audio comes
            assert first.type == "audio-start", first
            events = [first]
            rest = " ".join(SENTENCES[1:])
            for i in range(0, len(rest), 7):
                await c.write_event(SynthesizeChunk(text=rest[i:i + 7]).event())
            # Home Assistant also sends the whole text for servers without streaming.
            await c.write_event(Synthesize(text=" ".join(SENTENCES)).event())
            await c.write_event(SynthesizeStop().event())
            events += await collect(c, until=("synthesize-stopped",))
            await still_usable(c)
            return events
    events = run(go())
    assert events[-1].type == "synthesize-stopped" and events[-2].type == "audio-stop"
    pcm = audio_of(events[:-1])
    secs = len(pcm) / (RATE * WIDTH)
    assert 6 < secs < 20, secs  # three sentences, the compatibility synthesize not spoken
    assert rms(pcm) > 0.01


def test_stream_in_one_chunk_and_empty_stream(wy):
    async def go():
        async with wy.client() as c:
            await c.write_event(SynthesizeStart(voice=SynthesizeVoice(language="en-GB")).event())
            await c.write_event(SynthesizeChunk(text="A whole answer in one chunk, no "
                                                "final stop").event())
            await c.write_event(SynthesizeStop().event())
            one = await collect(c, until=("synthesize-stopped",))
            await c.write_event(SynthesizeStart().event())
            await c.write_event(SynthesizeStop().event())
            empty = await collect(c, until=("synthesize-stopped",))
            # a second start while one is open is refused; the open one goes on
            await c.write_event(SynthesizeStart().event())
            await c.write_event(SynthesizeStart().event())
            err = await c.read_event()
            await c.write_event(SynthesizeChunk(text="Still open.").event())
            await c.write_event(SynthesizeStop().event())
            after = await collect(c, until=("synthesize-stopped",))
            return one, empty, err, after
    one, empty, err, after = run(go())
    assert rms(audio_of(one[:-1])) > 0.01
    assert [e.type for e in empty] == ["synthesize-stopped"]
    assert error_code(err) == "ValidationError"
    assert rms(audio_of(after[:-1])) > 0.01


def test_stream_over_the_text_limit_fails_and_still_stops(wy):
    async def go():
        async with wy.client() as c:
            await c.write_event(SynthesizeStart().event())
            chunk = "Short words here. " * 5  # 90 characters
            for _ in range(MAX_TEXT // len(chunk) + 2):
                await c.write_event(SynthesizeChunk(text=chunk).event())
            await c.write_event(SynthesizeStop().event())
            events = await collect(c, until=("synthesize-stopped",))
            while events[-1].type != "synthesize-stopped":
                events += await collect(c, until=("synthesize-stopped",))
            await still_usable(c)
            return events
    events = run(go())
    types = [e.type for e in events]
    errors = [error_code(e) for e in events if e.type == "error"]
    assert errors == ["PayloadTooLarge"], types
    assert types[-1] == "synthesize-stopped"


# ------------------------------------------------------------------ hostile input

def test_a_1mb_header_line_without_newline_is_refused_quickly(wy):
    s = wy.raw()
    t = time.time()
    try:
        s.sendall(b'{"type":"describe","data":{"x":"' + b"a" * (1 << 20))
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused while it was still being sent
    events, closed = read_raw_events(s, time.time() + 5)
    s.close()
    assert time.time() - t < 3
    assert closed
    assert [(t_, d.get("code")) for t_, d in events] == [("error", "PayloadTooLarge")]
    assert "header line" in events[0][1]["text"]
    run(_describe(wy))


async def _describe(wy):
    async with wy.client() as c:
        await still_usable(c)


def test_bad_json_and_payload_without_header_keep_the_connection(wy):
    s = wy.raw()
    junk = [b"{not json}\n", b"[1,2,3]\n", b'{"data":{}}\n', b'{"type":7}\n',
            b'{"type":"synthesize","data":"text"}\n', b"\x00\xff\xfe binary payload \x80\n",
            b'{"type":"describe","type":"ping"}\n']
    for j in junk:
        s.sendall(j)
    s.sendall(b'{"type":"describe"}\n')
    events, closed = read_raw_events(s, time.time() + 15, count=len(junk) + 1)
    s.close()
    assert not closed
    types = [t for t, _ in events]
    assert types == ["error"] * len(junk) + ["info"], types
    assert all(d["code"] == "ValidationError" for t, d in events if t == "error")


def test_data_length_that_lies(wy):
    # Shorter than the data: the rest is read as the next header line, refused, and the
    # connection goes on.
    s = wy.raw()
    data = json.dumps({"text": "hello"}).encode()
    s.sendall(b'{"type":"synthesize","data_length":5}\n' + data + b"\n")
    s.sendall(b'{"type":"describe"}\n')
    events, closed = read_raw_events(s, time.time() + 15, count=3)
    s.close()
    assert [t for t, _ in events] == ["error", "error", "info"], events

    # Longer than the data: the event never completes; the event deadline closes it.
    s = wy.raw()
    t = time.time()
    s.sendall(b'{"type":"synthesize","data_length":1000}\n' + data)
    events, closed = read_raw_events(s, time.time() + REQUEST_TIMEOUT + 5)
    s.close()
    assert closed and REQUEST_TIMEOUT - 0.5 < time.time() - t < REQUEST_TIMEOUT + 3
    assert [(t_, d["code"]) for t_, d in events] == [("error", "RequestTimeout")]

    # Impossible lengths: refused, closed (the framing cannot be trusted any more).
    for hdr, code in ((b'{"type":"x","data_length":-1}\n', "ValidationError"),
                      (b'{"type":"x","data_length":"9"}\n', "ValidationError"),
                      (b'{"type":"x","payload_length":1e30}\n', "ValidationError"),
                      (b'{"type":"x","data_length":1048577}\n', "PayloadTooLarge"),
                      (b'{"type":"x","payload_length":99999999999}\n', "PayloadTooLarge")):
        s = wy.raw()
        s.sendall(hdr)
        events, closed = read_raw_events(s, time.time() + 5)
        s.close()
        assert closed and [(t_, d["code"]) for t_, d in events] == [("error", code)], (
            hdr, events)

    # A payload nobody asked for is read past.
    s = wy.raw()
    s.sendall(b'{"type":"audio-chunk","payload_length":70000}\n' + b"\x01" * 70000 +
              b'{"type":"describe"}\n')
    events, closed = read_raw_events(s, time.time() + 15, count=1)
    s.close()
    assert [t for t, _ in events] == ["info"]


def test_slow_header_is_cut_by_the_event_deadline(wy):
    s = wy.raw()
    t = time.time()
    line = b'{"type":"describe"}'
    closed = False
    for b in line:
        try:
            s.sendall(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        time.sleep(0.4)
        if time.time() - t > REQUEST_TIMEOUT + 3:
            break
    events, closed2 = read_raw_events(s, time.time() + 3)
    s.close()
    assert closed or closed2
    assert time.time() - t < REQUEST_TIMEOUT + 4
    if events:
        assert events == [("error", {"text": events[0][1]["text"], "code": "RequestTimeout"})]


def test_a_silent_connection_is_closed_after_the_idle_timeout(wy):
    s = wy.raw()
    t = time.time()
    events, closed = read_raw_events(s, time.time() + IDLE + 5)
    s.close()
    assert closed and events == [] and IDLE - 0.5 < time.time() - t < IDLE + 2


def test_per_address_cap(wy):
    held = [wy.raw() for _ in range(12)]
    try:
        time.sleep(0.3)
        extra = wy.raw()
        events, closed = read_raw_events(extra, time.time() + 5)
        extra.close()
        assert closed and [t for t, _ in events] == ["error"]
        assert "KOKORO_MAX_PER_IP" in events[0][1]["text"]
        assert wy.metric("kokoro_wyoming_connections_total", '{result="refused"}') >= 1
    finally:
        for s in held:
            s.close()
    time.sleep(0.5)
    run(_describe(wy))


def test_disconnect_cancels_the_job(wy):
    before = wy.metric("kokoro_cancelled_total")
    long_text = " ".join(["This sentence is one of many in a long text that nobody hears."] * 6)
    assert len(long_text) <= MAX_TEXT

    async def go():
        c = wy.client()
        await c.connect()
        await c.write_event(Synthesize(text=long_text).event())
        ev = await c.read_event()
        assert ev.type == "audio-start"
        await c.read_event()
        await c.disconnect()
    t = time.time()
    run(go())
    deadline = time.time() + 30
    while time.time() < deadline and wy.metric("kokoro_cancelled_total") <= before:
        time.sleep(0.2)
    assert wy.metric("kokoro_cancelled_total") > before
    lines = [l for l in wy.http.log_lines() if l.get("msg") == "wyoming"]
    assert lines[-1]["outcome"] == "client_gone"
    assert lines[-1]["audio_s"] < 10  # of the ~25 s the whole text would give
    assert time.time() - t < 30


def test_metrics_count_wyoming_requests(wy):
    m = wy.metrics()
    assert re.search(r'^kokoro_wyoming_requests_total\{kind="synthesize",outcome="ok"\} [1-9]',
                     m, re.M)
    assert re.search(r'^kokoro_wyoming_requests_total\{kind="stream",outcome="ok"\} [1-9]', m,
                     re.M)
    assert re.search(r'^kokoro_wyoming_requests_total\{kind="describe",outcome="ok"\} [1-9]',
                     m, re.M)
    assert re.search(r'^kokoro_wyoming_requests_total\{kind="synthesize",'
                     r'outcome="PayloadTooLarge"\} [1-9]', m, re.M)
    assert wy.metric("kokoro_wyoming_first_audio_seconds_count") >= 1
    assert wy.metric("kokoro_wyoming_connections_total", '{result="accepted"}') >= 5
    assert "kokoro_wyoming_connections " in m


# ------------------------------------------------------------------ queue and lifecycle

def test_shares_the_http_queue_overloaded_is_an_error_event():
    """One worker, no queue: while an HTTP stream holds the worker, a Wyoming synthesize
    gets Overloaded at once, and the same connection speaks once the worker is free."""
    s = Wy("--workers", "1", "--queue", "0", "--idle-timeout", "300")  # ASan is slow
    try:
        long_text = " ".join(["The worker is busy with this long request."] * 3)
        r = requests.post(s.http.url + "/v1/audio/speech", json={
            "input": long_text, "response_format": "pcm", "stream": True}, stream=True,
            timeout=READ_TIMEOUT)
        it = r.iter_content(4096)
        next(it)  # the job is running

        async def go():
            async with s.client() as c:
                await c.write_event(Synthesize(text="Am I next?").event())
                [ev] = await collect(c)
                code = error_code(ev)
                r.close()  # the HTTP client goes away: its job is cancelled, the worker freed
                for _ in range(200):  # the worker is free once the cancelled job stops
                    events = await synthesize(c, "Now it is my turn.")
                    if events[0].type != "error":
                        break
                    assert error_code(events[0]) == "Overloaded"
                    await asyncio.sleep(0.1)
                return code, audio_of(events)
        code, pcm = run(go())
        assert code == "Overloaded"
        assert rms(pcm) > 0.01
        assert s.metric("kokoro_overloaded_total") >= 1
    finally:
        assert s.stop() == 0


def test_sigterm_drains_wyoming_work_then_exits():
    s = Wy("--drain-timeout", "60")
    text = " ".join(["A sentence that is still being spoken when the server is told to stop."]
                    * 3)

    async def go():
        async with s.client() as c:
            await c.write_event(Synthesize(text=text).event())
            events = [await c.read_event()]
            assert events[0].type == "audio-start"
            s.http.proc.send_signal(15)
            await asyncio.sleep(0.5)
            try:  # the port no longer takes connections
                r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", s.wport), 5)
                w.write(Describe().event().type.encode())
                got = await asyncio.wait_for(r.read(), 5)
                w.close()
                refused = got == b""
            except (ConnectionRefusedError, ConnectionResetError):
                refused = True
            events += await collect(c)
            return events, refused
    try:
        events, refused = run(go())
        assert refused
        assert rms(audio_of(events)) > 0.01  # the audio in flight was finished
        assert s.http.proc.wait(timeout=60) == 0
    finally:
        s.stop()


def test_off_by_default_and_in_help(server):
    from conftest import BIN
    import subprocess
    out = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert "--wyoming-port" in out.stdout and "KOKORO_WYOMING_PORT" in out.stdout
    assert not any("wyoming" in str(l.get("msg", "")) for l in server.log_lines())
