"""g2p_parity.py - what the Japanese and Mandarin parity tests share: the model's phoneme
characters (src/text/vocab.c's table) and the edit distance they count errors with (the one
tests/asr/asr.py counts word errors with)."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "asr"))
from asr import edit_distance  # noqa: E402,F401


def vocabulary():
    """The model's phoneme characters, from src/text/vocab.c's table (114 of them)."""
    with open(os.path.join(ROOT, "src", "text", "vocab.c"), encoding="utf-8") as f:
        chars = {chr(int(h, 16)) for h in re.findall(r"\{0x([0-9A-Fa-f]+), \d+\}", f.read())}
    assert len(chars) == 114, f"read {len(chars)} vocabulary entries from vocab.c"
    return chars
