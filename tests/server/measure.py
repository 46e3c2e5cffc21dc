"""measure.py - the server's numbers for the report (not a test): time to first audio byte of a
three-sentence streaming request, RTF of a 200-word /synthesize, throughput (audio seconds per
wall second) at 1, 2 and 4 concurrent clients, RSS idle and under load.

    python3 tests/server/measure.py [--bin build/kokoro] [-- extra serve flags]
"""
import concurrent.futures as cf
import json
import os
import statistics
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(__file__))
from conftest import PeakRSS, Server, probe, rss_mb  # noqa: E402

THREE = ("The quick brown fox jumps over the lazy dog. A second sentence follows the first one "
         "closely. Finally, the third sentence ends this short paragraph.")
WORDS200 = " ".join(["Speech synthesis turns written text into spoken audio, one sentence at a "
                     "time, and this paragraph exists only to be read aloud by the server."] * 8)


def first_byte(url, fmt):
    t0 = time.perf_counter()
    with requests.post(url + "/v1/audio/speech", stream=True, timeout=600,
                       json={"input": THREE, "voice": "af_heart", "response_format": fmt}) as r:
        it = r.iter_content(chunk_size=1)
        next(it)
        ttfb = time.perf_counter() - t0
        for _ in r.iter_content(chunk_size=65536):
            pass
    return ttfb, time.perf_counter() - t0


def synth(url, text):
    t0 = time.perf_counter()
    r = requests.post(url + "/synthesize", json={"text": text, "output_format": "wav"}, timeout=900)
    assert r.status_code == 200, r.text
    return time.perf_counter() - t0, probe(r.content)["duration"]


def main():
    extra = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    s = Server(*extra)
    pid = s.proc.pid
    try:
        time.sleep(2)
        out = {"rss_idle_mb": rss_mb(pid)}
        synth(s.url, "Warm up.")
        for fmt in ("pcm", "mp3"):
            runs = [first_byte(s.url, fmt) for _ in range(3)]
            out[f"ttfb_{fmt}_s"] = statistics.median(r[0] for r in runs)
            out[f"total_{fmt}_s"] = statistics.median(r[1] for r in runs)
        wall, dur = synth(s.url, WORDS200)
        out["rtf_200_words"] = wall / dur
        out["audio_200_words_s"] = dur
        pk = PeakRSS(pid, 0.1)
        text = "This is one request of the throughput run. It has two sentences."
        for clients in (1, 2, 4):
            n = 2 * clients
            t0 = time.perf_counter()
            with cf.ThreadPoolExecutor(clients) as ex:
                audio = sum(d for _, d in ex.map(lambda _: synth(s.url, text), range(n)))
            out[f"throughput_{clients}_clients"] = audio / (time.perf_counter() - t0)
        out["rss_load_peak_mb"] = pk.end()
        out["ready"] = requests.get(s.url + "/ready", timeout=10).json()
        print(json.dumps(out, indent=2))
    finally:
        s.stop()


if __name__ == "__main__":
    main()
