#!/usr/bin/env python3
"""asr_wer.py - word error rate of speech made by the front end + engine, as Whisper hears it.

Speaks every sentence of tests/text/asr_sentences.tsv (30 "hard" ones full of numbers, money,
dates, abbreviations and names; 10 of plain prose) with build/tests/text/say_lines, transcribes
them with the project's Whisper tool (tests/asr), and scores each sentence against the better
of two references (method in docs/text.md):
  - as written: the hypothesis as Whisper wrote it ("$25.50") against the text as written;
  - as spoken:  the hypothesis passed through our English normaliser ("twenty-five dollars and
    fifty cents") against what a careful reader says (third column of the file).
Both sides are lower-cased, stripped of punctuation, hyphens split, letters of initialisms
separated; hyphenated words count split or joined, whichever matches. The WER of a set is its
total errors over its total reference words.
Limits: hard <= 10 %, prose <= 5 %.
"""
import argparse, os, re, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def words(s, join_hyphens=False):
    s = s.lower().replace("’", "'")
    if join_hyphens:
        s = re.sub(r"(?<=[a-z])-(?=[a-z])", "", s)              # e-mail == email
    s = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1 ", s)          # u.s. -> u s
    s = re.sub(r"\b(a|p)\.?m\.?(?=\W|$)", r"\1 m", s)          # pm, p.m. -> p m
    s = re.sub(r"[-–—/]", " ", s)
    s = re.sub(r"[^a-z0-9' ]+", " ", s)
    out = []
    for w in s.split():
        w = w.strip("'")
        if not w:
            continue
        out.append(w)
    return out


def normalise_lines(lines):
    """Our own English normaliser (build/tests/text/normalize_lines) over the hypotheses."""
    exe = os.path.join(ROOT, "build/tests/text/normalize_lines")
    out = subprocess.run([exe], input="\n".join(lines) + "\n", capture_output=True, text=True,
                         check=True).stdout.splitlines()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--voice", default="af_heart")
    ap.add_argument("--wavs", help="reuse wav files already made in this folder")
    a = ap.parse_args()

    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(HERE, "asr_sentences.tsv"))
            if l.strip() and not l.startswith("#")]
    tmp = a.wavs or tempfile.mkdtemp(prefix="asr_wer_")
    paths = [os.path.join(tmp, "%03d.wav" % i) for i in range(len(rows))]
    if not a.wavs:
        say = os.path.join(ROOT, "build/tests/text/say_lines")  # one model load for all
        subprocess.run([say, tmp, a.voice], input="\n".join(r[1] for r in rows) + "\n",
                       text=True, check=True, stdout=subprocess.DEVNULL)
    sys.path.insert(0, os.path.join(ROOT, "tests", "asr"))
    import asr  # Whisper tiny.en from models/whisper-tiny.en (make model)
    model = asr.load_model()
    hyps = [asr.transcribe(model, p) for p in paths]
    spoken_hyps = normalise_lines(hyps)

    totals = {}
    for (kind, written, spoken), h, hs in zip(rows, hyps, spoken_hyps):
        # the fairer reference (as written or as spoken), hyphenated words split ("twenty-five"
        # = "twenty five") or joined ("e-mail" = "email"): the candidate with the lowest rate
        cands = []
        for ref, hyp_text, how in ((written, h, "written"), (spoken, hs, "spoken")):
            for join in (False, True):
                r = words(ref, join)
                err = asr.edit_distance(r, words(hyp_text, join))
                cands.append((err / len(r), err, len(r), how))
        _, e, n, how = min(cands)
        t = totals.setdefault(kind, [0, 0])
        t[0] += e
        t[1] += n
        flag = "  " if e == 0 else "!!"
        print(f"{flag} [{kind} {how} {e}/{n}] {written}\n      heard: {h}")
    ok = True
    for kind, limit in (("hard", 0.10), ("prose", 0.05)):
        e, n = totals.get(kind, [0, 1])
        print(f"WER {kind}: {e}/{n} = {100.0 * e / n:.1f}% (limit {100 * limit:.0f}%)")
        ok &= e / n <= limit
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
