#!/usr/bin/env python3
"""test_lexicon.py - every entry of the four dictionaries, looked up through the C loader,
equals what a JSON parser reads: gold over silver, each heteronym tag, the default form."""
import json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LEX = os.environ.get("KOKORO_LEXICON_DIR") or os.path.join(ROOT, "models", "lexicon")
EXE = os.path.join(ROOT, "build", "tests", "text", "lexicon_lookup")

bad = 0
for dialect in ("us", "gb"):
    gold = json.load(open(os.path.join(LEX, dialect + "_gold.json"), encoding="utf-8"))
    silver = json.load(open(os.path.join(LEX, dialect + "_silver.json"), encoding="utf-8"))
    queries, want = [], []
    for src in (gold, silver):
        for k, v in src.items():
            if src is silver and k in gold:
                continue
            if "\n" in k or "\t" in k:
                continue
            if isinstance(v, str):
                queries.append((k, "-"))
                want.append(v)
            elif isinstance(v, dict):
                forms = {t: p for t, p in v.items() if p}
                if not forms:
                    continue
                default = forms.get("DEFAULT", next(iter(forms.values())))
                queries.append((k, "-"))
                want.append(default)
                for t, p in forms.items():
                    queries.append((k, t))
                    want.append(p)
    out = subprocess.run([EXE, LEX, dialect], input="".join(f"{k}\t{t}\n" for k, t in queries),
                         capture_output=True, text=True, check=True).stdout.split("\n")
    for (k, t), w, g in zip(queries, want, out):
        if w != g:
            bad += 1
            if bad <= 10:
                print(f"{dialect} {k!r} [{t}]: got {g!r}, want {w!r}")
    print(f"test_lexicon: {dialect}: {len(queries)} lookups checked")
if bad:
    print(f"test_lexicon: {bad} lookups differ")
    sys.exit(1)
print("test_lexicon: ok")
