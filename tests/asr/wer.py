#!/usr/bin/env python3
"""wer.py - word error rate of WAV files as Whisper tiny.en hears them.

    wer.py [--max PCT] [--refs FILE] WAV... [-- REFERENCE...]
    wer.py --transcribe WAV...        prints "<wav>\\t<transcript>" lines (for other scorers)

References come from --refs (one sentence per line, in the order of the WAVs, blank lines and
lines starting with # skipped) or after `--`, one argument per WAV. Prints each sentence's
errors/words and transcript, then the total WER; with --max, exits 1 when the total WER
exceeds PCT percent. Normalisation (both sides): see asr.py.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import asr  # noqa: E402


def main(argv):
    refs_cli = []
    if "--" in argv:
        i = argv.index("--")
        argv, refs_cli = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description="Whisper tiny.en word error rate")
    ap.add_argument("wavs", nargs="+")
    ap.add_argument("--refs", help="file of reference sentences, one per line")
    ap.add_argument("--max", type=float, help="fail when the total WER exceeds this percent")
    ap.add_argument("--transcribe", action="store_true", help="only print transcripts")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)

    for w in a.wavs:
        if not os.path.isfile(w):
            sys.exit(f"wer.py: {w}: no such file")
    try:
        model = asr.load_model(threads=a.threads)
    except FileNotFoundError as e:
        sys.exit(f"wer.py: {e}")
    if a.transcribe:
        for w in a.wavs:
            print(f"{w}\t{asr.transcribe(model, w)}", flush=True)
        return 0

    if a.refs:
        with open(a.refs, encoding="utf-8") as f:
            refs = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    else:
        refs = refs_cli
    if len(refs) != len(a.wavs):
        sys.exit(f"wer.py: {len(a.wavs)} WAV files but {len(refs)} reference sentences")

    errors = words = 0
    for w, r in zip(a.wavs, refs):
        hyp = asr.transcribe(model, w)
        rw, hw = asr.normalise(r), asr.normalise(hyp)
        e = asr.edit_distance(rw, hw)
        errors += e
        words += len(rw)
        mark = "  " if e == 0 else "!!"
        print(f"{mark} {e}/{len(rw)} {100.0 * e / max(1, len(rw)):5.1f}%  {r}\n"
              f"      heard: {hyp}", flush=True)
    total = 100.0 * errors / max(1, words)
    print(f"WER: {errors}/{words} words = {total:.2f}%"
          + (f" (limit {a.max:g}%)" if a.max is not None else ""))
    return 1 if a.max is not None and total > a.max else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
