#!/usr/bin/env python3
"""first_audio.py - what a user of the server feels, next to ONNX Runtime in the same run.

A measurement, not a test: nothing here passes or fails. For each server binary given (the
current build, and optionally an older one for a before/after table), it starts the server
with its defaults on 127.0.0.1 and measures:

- short: POST /synthesize of "Hello from Kokoro." (wav), median wall time of 5;
- first byte: a streamed /v1/audio/speech (pcm) of a three-sentence paragraph, median time to
  the first audio byte of 5;
- concurrent: 10 short requests at once, p50 and p90 of their wall times;
- hostile: an unpunctuated 116-word request at speed 0.25, 2,000 characters of "÷", a batch
  of 100 one-character items: status, wall time, and the server's peak RSS (sampled every
  50 ms) over all three;
- quality of the quick first piece (current build only): Whisper tiny.en on the streamed
  paragraph next to the same text synthesised whole, and the largest sample-to-sample jump
  (a click shows as a jump far above the speech's own).

ONNX Runtime's figures are session.run at 2 threads on the same phonemes (the engine's
`kokoro bench --print-ids`), best of 3 after a warm-up, in a fresh process, in this run.

Usage: first_audio.py [--bin build/kokoro] [--before OLD_BIN] [--out docs/latency.md]
"""
import argparse
import concurrent.futures as cf
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import wave

import numpy as np
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "server"))
sys.path.insert(0, os.path.join(ROOT, "tests", "asr"))
from conftest import PeakRSS, Server, rss_mb  # noqa: E402

SHORT = "Hello from Kokoro."
THREE = ("The quick brown fox jumps over the lazy dog. A second sentence follows the first one "
         "closely. Finally, the third sentence ends this short paragraph.")
FIRST_SENTENCE = "The quick brown fox jumps over the lazy dog."
CONCURRENT = "This is one request of the throughput run. It has two sentences."
UNPUNCTUATED = " ".join((("the river ran past the old mill and the stone bridge where children "
                          "played in summer").split() * 8)[:116])
WER_TEXTS = [
    THREE,
    "When the train finally arrived, forty minutes late, the platform was nearly empty. "
    "Nobody complained; they simply climbed aboard and found their seats.",
    "Our new kitchen has a large window facing the garden, and in the morning the light "
    "fills the whole room. It is my favourite place to read.",
    "Please remember to bring your passport and two printed copies of the booking. The office "
    "opens at nine and closes early on Fridays.",
]


def ids_of(kokoro, text):
    r = subprocess.run([kokoro, "bench", "--print-ids", "--text", text], capture_output=True,
                       text=True, check=True, cwd=ROOT)
    return [int(x) for x in r.stdout.strip().split(",")]


def ort_time(ids, threads=2, runs=3):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run_bench.py"), "--ort-child",
                        ",".join(map(str, ids)), str(threads), str(runs)],
                       capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(r.stdout.strip().splitlines()[-1])


def first_byte(url, text, fmt="pcm"):
    t0 = time.perf_counter()
    with requests.post(url + "/v1/audio/speech", stream=True, timeout=600,
                       json={"input": text, "voice": "af_heart", "response_format": fmt}) as r:
        chunks = r.iter_content(chunk_size=None)
        first = next(chunks)
        ttfb = time.perf_counter() - t0
        data = bytearray(first)
        for c in chunks:
            data += c
    return ttfb, time.perf_counter() - t0, bytes(data)


def synth(url, text, fmt="wav"):
    t0 = time.perf_counter()
    r = requests.post(url + "/synthesize", json={"text": text, "output_format": fmt}, timeout=900)
    return r.status_code, time.perf_counter() - t0, r.content


def measure_server(binary, label, hostile_too=True):
    os.environ["KOKORO_BIN"] = binary
    import conftest
    conftest.BIN = binary
    s = Server()
    out = {"label": label}
    try:
        time.sleep(1)
        out["rss_idle_mb"] = rss_mb(s.proc.pid)
        synth(s.url, "Warm up.")
        out["short_s"] = statistics.median(synth(s.url, SHORT)[1] for _ in range(5))
        runs = [first_byte(s.url, THREE) for _ in range(5)]
        out["ttfb_s"] = statistics.median(r[0] for r in runs)
        out["stream_total_s"] = statistics.median(r[1] for r in runs)
        out["stream_pcm"] = runs[0][2]
        with cf.ThreadPoolExecutor(10) as ex:
            walls = sorted(ex.map(lambda _: synth(s.url, CONCURRENT)[1], range(10)))
        out["conc_p50_s"] = statistics.median(walls)
        out["conc_p90_s"] = walls[8]
        pk = PeakRSS(s.proc.pid)
        hostile = []
        for name, path, body in () if not hostile_too else (
                ("116 words, no punctuation, speed 0.25", "/v1/audio/speech",
                 {"input": UNPUNCTUATED, "voice": "af_heart", "speed": 0.25,
                  "response_format": "wav", "stream": False}),
                ("2,000 x \u00f7", "/synthesize", {"text": "\u00f7" * 2000, "output_format": "wav"}),
                ("batch of 100 one-character items", "/synthesize/batch",
                 {"items": [{"text": "a", "output_format": "wav"}] * 100})):
            t0 = time.perf_counter()
            r = requests.post(s.url + path, json=body, timeout=900)
            hostile.append((name, r.status_code, time.perf_counter() - t0))
        out["hostile"] = hostile
        out["rss_hostile_peak_mb"] = pk.end()
        out["ready_after"] = requests.get(s.url + "/ready", timeout=10).status_code
    finally:
        s.stop()
    return out


def pcm_to_float(pcm):
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0


def wav_to_float(data):
    with wave.open(io.BytesIO(data)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0


def quality(binary):
    """WER and the largest jump: streamed (quick first piece) vs the same text in one go."""
    import asr
    import conftest
    conftest.BIN = binary
    model = asr.load_model(threads=2)
    s = Server()
    res = {"stream": [0, 0, 0.0], "whole": [0, 0, 0.0]}
    try:
        for text in WER_TEXTS:
            ref = asr.normalise(text)
            _, _, pcm = first_byte(s.url, text, "pcm")
            _, _, wav = synth(s.url, text, "wav")
            for key, audio in (("stream", pcm_to_float(pcm)), ("whole", wav_to_float(wav))):
                path = f"/tmp/first_audio_{key}.wav"
                with wave.open(path, "wb") as w:
                    w.setnchannels(1)
                    w.setsampwidth(2)
                    w.setframerate(24000)
                    w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
                hyp = asr.normalise(asr.transcribe(model, path))
                res[key][0] += asr.edit_distance(ref, hyp)
                res[key][1] += len(ref)
                res[key][2] = max(res[key][2], float(np.max(np.abs(np.diff(audio)))))
    finally:
        s.stop()
    return {k: {"wer": v[0] / v[1], "errors": v[0], "words": v[1], "max_jump": v[2]}
            for k, v in res.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "kokoro"))
    ap.add_argument("--before", help="an older build, measured the same way")
    ap.add_argument("--before-hostile", action="store_true",
                    help="send the older build the hostile requests too (minutes each)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "latency.md"))
    a = ap.parse_args()

    ort_short = ort_time(ids_of(a.bin, SHORT))
    ort_first = ort_time(ids_of(a.bin, FIRST_SENTENCE))
    rows = []
    if a.before:
        rows.append(measure_server(a.before, "before", hostile_too=a.before_hostile))
    rows.append(measure_server(a.bin, "now"))
    q = quality(a.bin)

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    L = []
    L.append("# First audio and bounded work: the server next to ONNX Runtime\n")
    L.append(f"Written by `bench/first_audio.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
             f"CPU: {cpu}, {os.cpu_count()} cores; load average before the run "
             f"{os.getloadavg()[0]:.1f}. Servers run with their defaults (workers = usable CPUs). "
             "ORT: `session.run` at 2 threads on the same phoneme ids, best of 3, same run.\n")
    L.append(f"- ORT, \"{SHORT}\" ({ort_short['audio_s']:.2f} s of audio): {ort_short['compute_s']:.3f} s")
    L.append(f"- ORT, \"{FIRST_SENTENCE}\" ({ort_first['audio_s']:.2f} s of audio): "
             f"{ort_first['compute_s']:.3f} s\n")
    L.append("| build | short /synthesize s | / ORT | stream first byte s | / ORT first sentence | "
             "10 concurrent p50 s | p90 s | idle RSS MB | peak RSS, hostile MB |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        peak = f"{r['rss_hostile_peak_mb']:.0f}" if r["hostile"] else "not sent"
        L.append(f"| {r['label']} | {r['short_s']:.3f} | {r['short_s'] / ort_short['compute_s']:.2f} | "
                 f"{r['ttfb_s']:.3f} | {r['ttfb_s'] / ort_first['compute_s']:.2f} | "
                 f"{r['conc_p50_s']:.2f} | {r['conc_p90_s']:.2f} | {r['rss_idle_mb']:.0f} | "
                 f"{peak} |")
    L.append("\nHostile requests (one after another; peak RSS above is over all three):\n")
    L.append("| build | request | status | wall s |")
    L.append("| --- | --- | ---: | ---: |")
    for r in rows:
        for name, st, wall in r["hostile"]:
            L.append(f"| {r['label']} | {name} | {st} | {wall:.1f} |")
    L.append("\nThe quick first piece (current build), Whisper tiny.en over "
             f"{q['stream']['words']} words in {len(WER_TEXTS)} paragraphs:\n")
    L.append("| output | WER | errors | largest sample jump |")
    L.append("| --- | ---: | ---: | ---: |")
    for k, name in (("stream", "streamed, quick first piece"), ("whole", "/synthesize, whole")):
        L.append(f"| {name} | {q[k]['wer']:.3f} | {q[k]['errors']} | {q[k]['max_jump']:.3f} |")
    text = "\n".join(L) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
