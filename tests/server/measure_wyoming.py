"""measure_wyoming.py - first-audio latency over the Wyoming port for the report (not a test):
the time from writing `synthesize` to reading the first audio-chunk, median of 5, for a short
sentence and a three-sentence paragraph, on a default server (plus --wyoming-port); the same
for the streaming form, timed from synthesize-start with the text following word by word at
once (a fast writer), and for comparison the first byte of /v1/audio/speech (pcm) for the
same texts. The three are interleaved run by run, so that load from elsewhere hits each alike.

    python3 tests/server/measure_wyoming.py [--bin build/kokoro] [-- extra serve flags]
"""
import asyncio
import os
import statistics
import sys
import time

import requests
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

sys.path.insert(0, os.path.dirname(__file__))
from conftest import Server, free_port  # noqa: E402
from measure import THREE  # noqa: E402

SHORT = "Turning on the kitchen lights."
RUNS = 5


async def first_audio(port, text, stream):
    async with AsyncTcpClient("127.0.0.1", port, read_timeout=300) as c:
        if stream:
            t0 = time.perf_counter()
            await c.write_event(SynthesizeStart().event())
            for w in text.split(" "):
                await c.write_event(SynthesizeChunk(text=w + " ").event())
            await c.write_event(SynthesizeStop().event())
        else:
            t0 = time.perf_counter()
            await c.write_event(Synthesize(text=text).event())
        first = None
        while True:
            ev = await c.read_event()
            if ev.type == "audio-chunk" and first is None:
                first = time.perf_counter() - t0
            if ev.type in ("audio-stop", "error"):
                assert ev.type == "audio-stop", ev
                break
        if stream:
            while (await c.read_event()).type != "synthesize-stopped":
                pass
        return first


def http_first_byte(url, text):
    t0 = time.perf_counter()
    with requests.post(url + "/v1/audio/speech", stream=True, timeout=600,
                       json={"input": text, "voice": "af_heart", "response_format": "pcm"}) as r:
        next(r.iter_content(chunk_size=1))
        first = time.perf_counter() - t0
        for _ in r.iter_content(65536):
            pass
    return first


def main():
    args = sys.argv[1:]
    extra = args[args.index("--") + 1:] if "--" in args else []
    if "--bin" in args:
        os.environ["KOKORO_BIN"] = args[args.index("--bin") + 1]
    wport = free_port()
    srv = Server("--wyoming-port", str(wport), *extra)
    try:
        asyncio.run(first_audio(wport, SHORT, False))  # warm-up
        for name, text in (("short sentence", SHORT), ("3-sentence paragraph", THREE)):
            ways = (("wyoming synthesize", lambda: asyncio.run(first_audio(wport, text, False))),
                    ("wyoming stream", lambda: asyncio.run(first_audio(wport, text, True))),
                    ("http /v1/audio/speech pcm", lambda: http_first_byte(srv.url, text)))
            times = {label: [] for label, _ in ways}
            for _ in range(RUNS):
                for label, fn in ways:
                    times[label].append(fn())
            for label, t in times.items():
                print(f"{name:22s} {label:26s} median {statistics.median(t):.3f} s  "
                      f"(min {min(t):.3f}, max {max(t):.3f})", flush=True)
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
