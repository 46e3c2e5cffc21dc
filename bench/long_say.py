#!/usr/bin/env python3
"""long_say.py - the whole 20,000-word text through `kokoro say` (a measurement, not a test:
it takes well over an hour on 2 cores). Reports wall time, RTF, the audio's length, resident
memory sampled every 5 s (at the first audio, the largest, at the end), and whether the audio
holds the text from its first to its last sentence: Whisper tiny.en transcribes the first and
the last 30 s, each scored (WER) against the stretch of the text at that end that fits it best.

    python3 bench/long_say.py [--threads N] [--keep OUT.wav]
    python3 bench/long_say.py --wav OUT.wav [--samples LOG]   # score an earlier run's file
LOG: lines "seconds rss_kb wav_bytes", as this script writes them (OUT.wav.rss).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "asr"))
import asr  # noqa: E402

KOKORO = os.path.join(ROOT, "build", "kokoro")
TEXT_GEN = os.path.join(ROOT, "tests", "text", "long_text.py")
EDGE_S = 30


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(text_path, wav_path, threads, log_path):
    t0 = time.monotonic()
    p = subprocess.Popen([KOKORO, "say", "--threads", str(threads), "-f", text_path, "-o",
                          wav_path], stderr=subprocess.PIPE, text=True)
    with open(log_path, "w") as log:
        while p.poll() is None:
            size = os.path.getsize(wav_path) if os.path.exists(wav_path) else 0
            log.write(f"{time.monotonic() - t0:.0f} {rss_kb(p.pid)} {size}\n")
            log.flush()
            time.sleep(5)
    err = p.stderr.read()
    if p.returncode != 0:
        sys.exit(f"long_say: kokoro say failed ({p.returncode}): {err.strip()}")
    return time.monotonic() - t0


def edge_wav(src, dst, start_s, length_s):
    with wave.open(src) as w:
        rate = w.getframerate()
        w.setpos(int(start_s * rate))
        frames = w.readframes(int(length_s * rate))
        params = w.getparams()
    with wave.open(dst, "wb") as o:
        o.setparams(params)
        o.writeframes(frames)


def best_window(words, hyp, at_end):
    """Fewest errors of hyp against a stretch of words starting (or ending) at the text's edge."""
    best = None
    for k in range(max(1, len(hyp) // 2), min(len(words), 2 * len(hyp) + 10)):
        ref = words[-k:] if at_end else words[:k]
        e = asr.edit_distance(ref, hyp)
        if best is None or e / len(ref) < best[0] / len(best[1]):
            best = (e, ref)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--wav", help="score this earlier output instead of running say")
    ap.add_argument("--samples", help="RSS log of that run")
    ap.add_argument("--keep", help="where to keep the audio (default: a temporary folder)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp()
    text_path = os.path.join(tmp, "long.txt")
    subprocess.run([sys.executable, TEXT_GEN, text_path], check=True)
    text = open(text_path, encoding="utf-8").read()
    wall = None
    if args.wav:
        wav_path, log_path = args.wav, args.samples
    else:
        wav_path = args.keep or os.path.join(tmp, "long.wav")
        log_path = wav_path + ".rss"
        wall = run(text_path, wav_path, args.threads, log_path)

    with wave.open(wav_path) as w:
        audio_s = w.getnframes() / w.getframerate()
    print(f"text: {len(text.split())} words, {len(text)} bytes")
    print(f"audio: {audio_s:.0f} s ({audio_s / 3600:.2f} h), "
          f"{len(text.split()) / audio_s * 60:.0f} words a minute")
    if wall:
        print(f"wall: {wall:.0f} s, RTF {wall / audio_s:.3f} ({args.threads} thread(s))")
    if log_path and os.path.exists(log_path):
        rows = []
        for line in open(log_path):
            parts = line.split()
            if len(parts) == 3 and all(p.isdigit() for p in parts):
                rows.append(tuple(int(p) for p in parts))
        rows = [r for r in rows if r[1] > 0]
    else:
        rows = []
    if rows:
        first = next((r for r in rows if r[2] > 100000), rows[0])
        peak = max(rows, key=lambda r: r[1])
        print(f"RSS: {first[1] / 1024:.0f} MB at the first audio ({first[0]} s), "
              f"largest {peak[1] / 1024:.0f} MB (at {peak[0]} s), "
              f"{rows[-1][1] / 1024:.0f} MB at the last sample ({rows[-1][0]} s); "
              f"{len(rows)} samples")
        if wall is None:
            print(f"wall (from the samples): about {rows[-1][0]} s, "
                  f"RTF about {rows[-1][0] / audio_s:.3f}")

    model = asr.load_model()
    words = asr.normalise(text)
    for name, start, at_end in (("first", 0.0, False), ("last", audio_s - EDGE_S, True)):
        part = os.path.join(tmp, name + ".wav")
        edge_wav(wav_path, part, start, EDGE_S)
        hyp = asr.normalise(asr.transcribe(model, part))
        # a cut through a word at the inner edge costs at most one error on each side
        e, ref = best_window(words, hyp, at_end)
        print(f"{name} {EDGE_S} s: {len(hyp)} words heard, {e} errors against the text's "
              f"{name} {len(ref)} words (WER {e / len(ref):.1%})")
        print(f"  heard: {' '.join(hyp)}")


if __name__ == "__main__":
    main()
