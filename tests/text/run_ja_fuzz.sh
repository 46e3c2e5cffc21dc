#!/usr/bin/env bash
# run_ja_fuzz.sh - a bounded run of the Japanese front end's fuzzer: first hostile seeds (a
# megabyte of kana with no punctuation, 300,000 digits, half-width kana and lone voiced marks,
# iteration marks, symbol soup, invalid UTF-8), then random inputs from the parity sentences
# for SECONDS seconds. Fails on any crash, leak, timeout or sanitizer report.
set -euo pipefail
FUZZER=${1:?usage: run_ja_fuzz.sh build-fuzz/ja_fuzz [seconds]}
SECONDS_BUDGET=${2:-60}

. "$(dirname "$0")/fuzz_lib.sh"
fuzz_setup

python3 - "$work/seeds" "$here/tests/text/ja_sentences.txt" <<'PY'
import os, random, sys
d, sentences = sys.argv[1], sys.argv[2]
random.seed(13)
def put(name, s):
    with open(os.path.join(d, name), "wb") as f:
        f.write(s if isinstance(s, bytes) else s.encode())
kana = "".join(chr(c) for c in range(0x3041, 0x3097)) + "".join(chr(c) for c in range(0x30A1, 0x30FB))
put("mb-kana", "".join(random.choice(kana) for _ in range(350000)))
put("mb-kanji", "日本語" * 120000)
put("digits", "9" * 300000)
put("numbers", "、".join(str(random.randrange(10 ** random.randrange(1, 14))) for _ in range(3000)))
put("halfwidth", "ｶﾞｷﾞｸﾞﾊﾟﾋﾟﾞﾟｰ｡､･ﾞﾞﾟ" * 200)
put("marks", "々ゝゞヽヾ〃ーっんッンゃゅょぁぃぅぇぉ゛゜\u3099\u309a" * 200)
put("symbols", "「」『』（）()[]【】《》・、。！？!?〜～—…‥★♪😀①ⅢＡＢ１２３\t　\"'’”“‘«»" * 100)
put("ainu", "".join(chr(c) for c in range(0x31F0, 0x3200)) * 100)
put("invalid-utf8", bytes(random.randrange(256) for _ in range(20000)))
put("control", bytes(range(1, 32)) * 50 + "日本\x00語".encode())
with open(sentences, encoding="utf-8") as f:
    lines = [l.strip() for l in f if l.strip() and not l.startswith("#")]
for i, l in enumerate(lines[::10]):
    put("sentence-%d" % i, l)
put("all-sentences", "".join(lines))
PY

fuzz_seeds run_ja_fuzz "$FUZZER"
fuzz_random run_ja_fuzz "$FUZZER" "$SECONDS_BUDGET" 4096 "$work/corpus" "$work/seeds"
echo "run_ja_fuzz: ok"
