#!/usr/bin/env python3
"""make_phonemes.py - regenerate tests/parity/phonemes.txt (the parity test's inputs).

The parity test must not depend on the espeak-ng version installed, so its phoneme strings are
generated once by this script and committed. Each line is "<name>\t<ids>\t<phonemes>", a real
English utterance phonemised with espeak-ng (en-us) and mapped to Kokoro's vocabulary with the
rules of kokoro-model.md, cut at a word boundary so that the lengths cover 2..500 ids; <ids> are
the comma-separated vocabulary ids of the phonemes (from kokoro-v1.0-config.json), so that the
test itself needs neither espeak-ng nor the config.

Usage: make_phonemes.py > tests/parity/phonemes.txt
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.environ.get("KOKORO_CONFIG", os.path.join(HERE, "../../../shared/data/kokoro-v1.0-config.json"))

TEXT = (
    "Oh! Yes, please. The quick brown fox jumps over the lazy dog. "
    "She sells seashells by the seashore, and the shells she sells are surely seashells. "
    "How much wood would a woodchuck chuck, if a woodchuck could chuck wood? "
    "In the beginning of the twentieth century, railways changed the way people thought about "
    "distance; a journey that once took a week could suddenly be made in a single afternoon. "
    "Would you like a cup of tea, or would you rather have coffee with a little milk? "
    "The committee, after long and careful deliberation, decided to postpone the vote until "
    "everyone had read the report (all three hundred pages of it). "
    "Thunderstorms rolled across the valley, and the old mill creaked and groaned, while the "
    "children huddled by the fire, telling each other stories about ghosts, pirates and "
    "forgotten treasure buried beneath the floorboards of abandoned lighthouses. "
    "Measure twice, cut once: a carpenter's rule that applies just as well to writing software, "
    "where a careless change can quietly break something far away from the line you edited. "
    "Astronomers pointed their enormous telescopes at a faint, flickering star, hoping to catch "
    "the tiny dip in brightness that reveals a planet passing in front of it."
)

# (name, target length in ids): each is cut from TEXT at word boundaries, at most target long
TARGETS = [("len002", 2), ("len006", 6), ("len013", 13), ("len027", 27), ("len055", 55),
           ("len096", 96), ("len160", 160), ("len240", 240), ("len330", 330),
           ("len420", 420), ("len500", 500)]


def espeak(chunk):
    out = subprocess.run(["espeak-ng", "-q", "--ipa", "--tie=^", "-v", "en-us", chunk],
                         check=True, capture_output=True, text=True).stdout
    return " ".join(out.split())


def to_vocab(ps):
    for a, b in [("a^ɪ", "I"), ("a^ʊ", "W"), ("d^ʒ", "ʤ"), ("e^ɪ", "A"), ("e", "A"),
                 ("t^ʃ", "ʧ"), ("ɔ^ɪ", "Y"), ("ə^l", "ᵊl"), ("ɚ", "əɹ"), ("r", "ɹ"),
                 ("x", "k"), ("ç", "k"), ("ɐ", "ə"), ("ɬ", "l"), ("ʲ", ""), ("\u0303", ""),
                 ("o^ʊ", "O"), ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɪə", "iə"), ("ː", ""),
                 ("o", "ɔ"), ("ɾ", "T"), ("ʔ", "t"), ("^", "")]:
        ps = ps.replace(a, b)
    return ps


def phonemize(text):
    parts = re.split(r"([.,!?;:()])", text)
    out = ""
    for p in parts:
        if not p.strip():
            continue
        if p in ".,!?;:":
            out = out.rstrip() + p + " "
        elif p == "(":
            out += "("
        elif p == ")":
            out = out.rstrip() + ") "
        else:
            out += to_vocab(espeak(p.strip())) + " "
    return out.strip()


def emit(name, ps, vocab):
    print(f"{name}\t{','.join(str(vocab[c]) for c in ps)}\t{ps}")


def main():
    vocab = json.load(open(CONFIG))["vocab"]
    full = "".join(ch for ch in phonemize(TEXT) if ch in vocab)
    for k, (name, n) in enumerate(TARGETS):
        # start each sequence at a different word so that they do not share one prefix
        start = 0 if k < 2 else full.find(" ", (k * 211) % max(1, len(full) - n - 1)) + 1
        cut = full[start: start + n]
        if n > 2 and start + n < len(full) and " " in cut:
            cut = cut[: cut.rfind(" ")]
        emit(name, cut.strip(), vocab)
    # one sequence with no punctuation from the middle of the text, and one that repeats a
    # single vowel (long steady F0: where float phase drift would show)
    mid = full[400:700]
    emit("mid", mid[mid.find(" ") + 1: mid.rfind(" ")], vocab)
    emit("vowel", "ˈɑ" * 60, vocab)


if __name__ == "__main__":
    sys.exit(main())
