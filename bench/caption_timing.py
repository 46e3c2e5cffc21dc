#!/usr/bin/env python3
"""caption_timing.py - how well /dev/captioned_speech's word times match what Whisper hears.

A measurement, not a test: nothing here passes or fails. It starts `kokoro serve` (the current
build) on 127.0.0.1 and:

- sentences: speaks the 40 sentences of tests/text/asr_sentences.tsv one request each (wav,
  af_heart), transcribes each with Whisper tiny.en with word timestamps (faster-whisper, the
  project's tests/asr model), aligns the words (lower-cased, punctuation stripped; difflib on
  the two word lists) and reports the start differences: median, p90, max; and how many of the
  timestamps' words are the input as written (input[start_char:end_char] == word); and,
  without Whisper, our starts against where the audio shows a word begins: a hiss's onset or
  a stop's closure (landmarks()), with Whisper's starts of the same words beside them;
  and against a second clock that does not guess the words: pocketsphinx's forced alignment
  (tests/asr/align.py) of the words the timestamps say were spoken, every timestamp, with the
  aligner checked at the landmarks and Whisper against it;
- long (--long-minutes, 20 by default; 0 skips it): a text of about that much speech in one
  request; the last word's end against the audio's length, and the same Whisper comparison on
  30 s windows at the start, the middle and the end of the audio (drift would show as a
  difference that grows from one window to the next).

Usage: caption_timing.py [--bin build/kokoro] [--long-minutes 20] [--voice af_heart]
"""
import argparse
import base64
import difflib
import io
import os
import re
import statistics
import sys
import tempfile
import time
import wave

import numpy as np
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "server"))
sys.path.insert(0, os.path.join(ROOT, "tests", "asr"))
import conftest  # noqa: E402
from conftest import Server  # noqa: E402
import align  # noqa: E402
import asr  # noqa: E402


def key(w):
    return re.sub(r"[^a-z0-9']", "", w.lower().replace("’", "'"))


def whisper_words(model, pcm, offset_s=0.0):
    """Whisper's words of float samples at 24 kHz: [(word, start_s, end_s)]."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        with wave.open(f.name, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(24000)
            w.writeframes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())
        segs, _ = model.transcribe(f.name, language="en", beam_size=5, temperature=0.0,
                                   condition_on_previous_text=False, vad_filter=False,
                                   word_timestamps=True)
        out = []
        for s in segs:
            for w in s.words or []:
                out.append((w.word.strip(), w.start + offset_s, w.end + offset_s))
        return out


def start_diffs(ours, theirs, skip_first=False):
    """Aligns our timestamps (word, start) with Whisper's by their words; start differences in
    seconds of the words both have, one per matched word (skip_first: not the first word of
    ours, which Whisper places at the start of the recording)."""
    a = [key(w) for w, _ in ours]
    b = [key(w) for w, _, _ in theirs]
    diffs = []
    for blk in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
        for k in range(blk.size):
            if a[blk.a + k] and not (skip_first and blk.a + k == 0):
                diffs.append(abs(ours[blk.a + k][1] - theirs[blk.b + k][1]))
    return diffs


def energy_onset(pcm, threshold=0.02, after_s=0.0):
    """Seconds to the first 10 ms frame from after_s on whose RMS passes threshold."""
    fr = 240
    n = len(pcm) // fr
    rms = np.sqrt((pcm[: n * fr].reshape(n, fr) ** 2).mean(axis=1))
    first = int(after_s / 0.01)
    return (first + float(np.argmax(rms[first:] > threshold))) * 0.01


def after_pauses(ts, pcm, gap_s=0.15):
    """For each silence of at least gap_s inside the audio (10 ms frames under 0.003 RMS; found
    in the audio, not from our times, since a word's end holds the silence the model gives its
    last phoneme): where the sound comes back (energy_onset) minus the start of our word nearest
    to it. Whisper's view is not used. Signed seconds."""
    fr = 240
    n = len(pcm) // fr
    rms = np.sqrt((pcm[: n * fr].reshape(n, fr) ** 2).mean(axis=1))
    speech = np.nonzero(rms > 0.02)[0]
    if not len(speech) or not ts:
        return []
    out, k, last = [], speech[0], speech[-1]
    while k < last:
        if rms[k] >= 0.003:
            k += 1
            continue
        j = k
        while j < last and rms[j] < 0.003:
            j += 1
        if (j - k) * 0.01 >= gap_s:
            on = energy_onset(pcm, after_s=j * 0.01)
            near = min(ts, key=lambda t: abs(t["start_time"] - on))
            if abs(near["start_time"] - on) < 0.3:
                out.append(near["start_time"] - on)
        k = j
    return out


VOWEL_END = re.compile(r"[aeiouylmnrw]$")


def landmarks(ts, pcm):
    """Where the words that begin with a hiss (s, sh, f) or a stop (p t k b d g) after a word
    ending in a vowel or a sonorant, with no pause between, begin by the audio alone: the first
    5 ms frame from 100 ms before the previous word's end on whose energy is mostly above 3.5 kHz
    (a hiss), or whose energy falls under a fifth of the loudest before it (a stop's closure).
    [(index in ts, seconds)]. Independent of Whisper; the window, from 100 ms before the
    previous word's end to 150 ms after it, is the same for our start at the word's first
    phoneme or at the space before it (the previous word ends where the space starts)."""
    fr = 120  # 5 ms
    n = len(pcm) // fr
    fa = pcm[: n * fr].reshape(n, fr)
    rms = np.sqrt((fa ** 2).mean(axis=1))
    spec = np.abs(np.fft.rfft(fa * np.hanning(fr), axis=1)) ** 2
    hf = spec[:, np.fft.rfftfreq(fr, 1 / 24000) >= 3500].sum(axis=1) / (spec.sum(axis=1) + 1e-12)
    out = []
    for i in range(1, len(ts)):
        w, pw = ts[i]["word"].lower(), ts[i - 1]["word"].lower()
        if not VOWEL_END.search(pw) or ts[i]["start_time"] - ts[i - 1]["end_time"] > 0.15:
            continue
        edge = ts[i - 1]["end_time"]  # where the space before the word starts
        lo, hi = int((edge - 0.1) / 0.005), min(n, int((edge + 0.15) / 0.005))
        k = None
        if re.match(r"(s[^c]|sh|f)", w):
            k = next((k for k in range(lo, hi) if hf[k] > 0.5 and rms[k] > 0.005), None)
        elif re.match(r"[ptkbdg][^h]", w) and not w.startswith("kn"):
            top = rms[lo:hi].max() if hi > lo else 0
            peak = lo + int(np.argmax(rms[lo:hi])) if hi > lo else lo
            k = next((k for k in range(peak, hi) if rms[k] < 0.2 * top), None)
        if k is not None:
            out.append((i, k * 0.005))
    return out


def speak(url, text, voice):
    r = requests.post(url + "/dev/captioned_speech",
                      json={"input": text, "voice": voice, "response_format": "wav",
                            "stream": False}, timeout=7200)
    r.raise_for_status()
    body = r.json()
    with wave.open(io.BytesIO(base64.b64decode(body["audio"]))) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
    return body["timestamps"], pcm


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def summary(d):
    return (f"{len(d)} words: median {statistics.median(d) * 1000:.0f} ms, "
            f"p90 {pct(d, 90) * 1000:.0f} ms, max {max(d) * 1000:.0f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/kokoro")
    ap.add_argument("--long-minutes", type=float, default=20)
    ap.add_argument("--voice", default="af_heart")
    args = ap.parse_args()
    conftest.BIN = os.path.abspath(args.bin)  # the servers started below run this binary
    model = asr.load_model()
    srv = Server("--max-text", "1000000", "--max-audio", "7200", "--job-timeout", "7200",
                 "--request-timeout", "3600", "--idle-timeout", "3600")
    try:
        sents = asr.written_sentences()
        diffs, inner, onset, first_w, paused, n_words, n_written = [], [], [], [], [], 0, 0
        lm_ours, lm_whisper = [], []  # signed: start minus the audio's landmark
        fa_all, fa_inner, fa_signed, fa_whisper, lm_aligner, fa_skipped = [], [], [], [], [], 0
        for text in sents:
            ts, pcm = speak(srv.url, text, args.voice)
            n_words += len(ts)
            n_written += sum(1 for t in ts if t.get("start_char") is not None
                             and text[t["start_char"]:t["end_char"]] == t["word"])
            ours = [(t["word"], t["start_time"]) for t in ts]
            theirs = whisper_words(model, pcm)
            diffs += start_diffs(ours, theirs)
            inner += start_diffs(ours, theirs, skip_first=True)
            onset.append(abs(ts[0]["start_time"] - energy_onset(pcm)))
            paused += after_pauses(ts, pcm)
            marks = dict(landmarks(ts, pcm))
            lm_ours += [ts[i]["start_time"] - at for i, at in marks.items()]
            a = [key(t["word"]) for t in ts]
            b = [key(w) for w, _, _ in theirs]
            for blk in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
                lm_whisper += [theirs[blk.b + k][1] - marks[blk.a + k]
                               for k in range(blk.size) if blk.a + k in marks]
            if theirs:
                first_w.append(theirs[0][1])
            starts = align.timestamp_starts(ts, pcm, 24000)
            if starts is None:
                fa_skipped += 1
                print(f"  not aligned: {text}")
            else:
                fa_skipped += starts.count(None) > 0
                d = [t["start_time"] - at for t, at in zip(ts, starts) if at is not None]
                fa_signed += d
                fa_all += [abs(x) for x in d]
                fa_inner += [abs(x) for x in d[1:]]
                # Whisper against the aligner, on the words both place
                fa_whisper += start_diffs([(w, st) for w, st, _ in theirs],
                                          [(t["word"], at, 0) for t, at in zip(ts, starts)
                                           if at is not None])
                lm_aligner += [starts[i] - at for i, at in marks.items() if starts[i] is not None]
        print(f"sentences ({len(sents)}, {args.voice}): start difference to Whisper tiny.en, "
              f"all words: {summary(diffs)}")
        print(f"  without each request's first word: {summary(inner)}")
        print(f"  first words: ours {summary(onset)} from the audio's energy onset; Whisper puts "
              f"them at a median {statistics.median(first_w) * 1000:.0f} ms")
        if paused:
            print(f"  words after a silence of 150 ms or more in the audio: ours "
                  f"{summary([abs(x) for x in paused])} from where the sound comes back, signed "
                  f"median {statistics.median(paused) * 1000:+.0f} ms (no Whisper)")
        if lm_ours:
            def signed(d):
                return (f"{len(d)} words: signed median {statistics.median(d) * 1000:+.0f} ms, "
                        f"|median| {statistics.median([abs(x) for x in d]) * 1000:.0f} ms")
            print(f"  words at an acoustic landmark (a hiss or a stop's closure, no Whisper): ours "
                  f"{signed(lm_ours)}; Whisper's {signed(lm_whisper)}")
        print(f"  timestamps that are the input as written: {n_written} of {n_words}")
        if fa_all:
            print(f"start difference to pocketsphinx's forced alignment of the words spoken "
                  f"({len(sents)} sentences; {fa_skipped} with a word outside its dictionary, "
                  f"cut around it): all timestamps: {summary(fa_all)}")
            print(f"  without each request's first word: {summary(fa_inner)}; signed median "
                  f"(ours minus the aligner's) {statistics.median(fa_signed) * 1000:+.0f} ms")
            print(f"  Whisper tiny.en against the aligner: {summary(fa_whisper)}")
            if lm_aligner:
                print(f"  the aligner at the acoustic landmarks: {len(lm_aligner)} words: signed "
                      f"median {statistics.median(lm_aligner) * 1000:+.0f} ms, |median| "
                      f"{statistics.median([abs(x) for x in lm_aligner]) * 1000:.0f} ms")
        if args.long_minutes > 0:
            words = []
            prose = [s for s in sents]
            text = ""
            # about 150 words a minute
            while len(text.split()) < args.long_minutes * 150:
                text += " ".join(prose) + "\n"
            t0 = time.time()
            ts, pcm = speak(srv.url, text, args.voice)
            dur = len(pcm) / 24000
            print(f"long: {len(text.split())} words, {len(text)} characters -> {dur:.1f} s of "
                  f"audio in {time.time() - t0:.0f} s; {len(ts)} timestamps; last word ends at "
                  f"{ts[-1]['end_time']:.2f} s ({dur - ts[-1]['end_time']:.2f} s before the end)")
            back = sum(1 for a, b in zip(ts, ts[1:]) if b["start_time"] < a["start_time"])
            print(f"  starts that go back: {back}")
            for name, at in (("start", 0.0), ("middle", dur / 2 - 15), ("end", dur - 30)):
                a, b = int(at * 24000), int((at + 30) * 24000)
                theirs = whisper_words(model, pcm[a:b], at)
                # ours inside the window, with a margin for words cut at its edges
                ours = [(t["word"], t["start_time"]) for t in ts
                        if at + 0.5 <= t["start_time"] <= at + 29.5]
                theirs = [w for w in theirs if at + 0.5 <= w[1] <= at + 29.5]
                d = start_diffs(ours, theirs)
                # the forced aligner on the same window's words, cut between our words (the
                # window's first and last words, which may hold a neighbour's sound, not counted)
                idx = [i for i, t in enumerate(ts)
                       if at + 0.5 <= t["start_time"] and t["end_time"] <= at + 29.5]
                fa_d = []
                if len(idx) > 2:
                    i0, i1 = idx[0], idx[-1]
                    lo = ts[i0 - 1]["end_time"] if i0 > 0 else 0.0
                    hi = ts[i1 + 1]["start_time"] if i1 + 1 < len(ts) else dur
                    win = [dict(t, start_time=t["start_time"] - lo, end_time=t["end_time"] - lo)
                           for t in ts[i0:i1 + 1]]
                    starts = align.timestamp_starts(win, pcm[int(lo * 24000):int(hi * 24000)],
                                                    24000)
                    if starts:
                        fa_d = [abs(t["start_time"] - st)
                                for t, st in list(zip(win, starts))[1:-1] if st is not None]
                print(f"  {name} ({at:.0f}-{at + 30:.0f} s): Whisper "
                      f"{summary(d) if d else 'no match'}; forced aligner "
                      f"{summary(fa_d) if fa_d else 'not aligned'}")
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
