#!/usr/bin/env python3
"""test_ja_parity.py - the Japanese front end against the original pipeline's G2P.

The reference is misaki 0.9.4's JAG2P on its cutlet path (Kokoro v1.0), with fugashi over
unidic-lite (unidic not installed: it downloads its dictionary on first use). JAG2P('cutlet')
only calls misaki.cutlet.Cutlet, which is called here directly: misaki.ja also imports
pyopenjtalk, which its other path needs and which has no wheel for this machine.

Both outputs are taken as the model sees them: characters outside its vocabulary dropped
(as Kokoro's pipeline drops them), runs of spaces as one. Prints the character error rate
(edit distance over the reference's length, all sentences) and the share of identical
sentences, and fails above 2% or below 85%.

  tests/text/test_ja_parity.py [build/tests/text/ja_lines] [tests/text/ja_sentences.txt]
"""
import os
import re
import subprocess
import sys

from g2p_parity import edit_distance, vocabulary

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HELPER = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/tests/text/ja_lines")
SENTENCES = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "ja_sentences.txt")
MAX_CER, MIN_SAME = 0.02, 0.85


def as_model_sees(ps, vocab):
    kept = "".join(c for c in ps if c in vocab)
    return re.sub(r" +", " ", kept).strip()


def main():
    import fugashi
    from misaki.cutlet import Cutlet
    try:
        import unidic  # noqa: F401
        sys.exit("test_ja_parity: the PyPI package unidic is installed; the reference uses "
                 "unidic-lite (pip uninstall unidic)")
    except ImportError:
        pass
    dic = fugashi.Tagger().dictionary_info[0]["filename"]
    assert "unidic_lite" in dic, dic

    with open(SENTENCES, encoding="utf-8") as f:
        lines = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    assert len(lines) >= 300, len(lines)
    run = subprocess.run([HELPER], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, timeout=600)
    if run.returncode != 0:
        sys.exit("test_ja_parity: %s failed: %s" % (HELPER, run.stderr))
    ours = run.stdout.split("\n")[:len(lines)]
    assert len(ours) == len(lines), (len(ours), len(lines))

    vocab = vocabulary()
    g2p = Cutlet()
    errors = total = same = 0
    diffs = []
    for text, mine in zip(lines, ours):
        ref = as_model_sees(g2p(text)[0], vocab)
        mine = as_model_sees(mine, vocab)
        d = edit_distance(ref, mine)
        errors += d
        total += len(ref)
        same += d == 0
        if d:
            diffs.append((text, ref, mine))
    for text, ref, mine in diffs:
        print("differs: %s\n    misaki: %s\n    ours:   %s" % (text, ref, mine))
    cer, share = errors / max(total, 1), same / len(lines)
    print("ja parity: %d sentences, character error rate %.2f%% (%d/%d), identical %.1f%% (%d)"
          % (len(lines), 100 * cer, errors, total, 100 * share, same))
    if cer > MAX_CER or share < MIN_SAME:
        sys.exit("test_ja_parity: below the bar (CER at most %.0f%%, identical at least %.0f%%)"
                 % (100 * MAX_CER, 100 * MIN_SAME))


if __name__ == "__main__":
    main()
