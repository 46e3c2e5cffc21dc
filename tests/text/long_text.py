#!/usr/bin/env python3
"""long_text.py OUT - writes the 20,000-word English text of the long-input tests: sentences
drawn (fixed seed) from a small grammar full of abbreviations, money, times, dates and years,
with a paragraph break every 8 sentences. Used by tests/text/test_long_say.sh and
bench/long_say.py, so that both read the same text."""
import random, sys
random.seed(7)
subjects = ["The committee", "Dr. Alvarez", "Our neighbour", "The old lighthouse keeper",
            "A small team in Ohio", "The city council", "My grandmother", "The engineer"]
verbs = ["discussed", "repaired", "described", "photographed", "measured", "visited"]
objects = ["the bridge over the river", "a garden full of roses", "the museum on Main St.",
           "an old map of the coast", "the new library", "a quiet village in the hills"]
tails = ["on March 3rd, 2024.", "for $1,250.", "at 7:30 PM.", "in 1998.", "with 25 friends.",
         "before the storm arrived.", "while the children played outside.", "without a word."]
words, out = 0, []
while words < 20000:
    s = " ".join([random.choice(subjects), random.choice(verbs), random.choice(objects),
                  random.choice(tails)])
    out.append(s)
    words += len(s.split())
    if len(out) % 8 == 0:
        out.append("\n\n")
open(sys.argv[1], "w").write(" ".join(out))
print(f"test_long_say: {words} words, {sum(len(x) for x in out)} bytes", file=sys.stderr)
