#!/usr/bin/env bash
# run_ja_fuzz.sh - a bounded run of the Japanese front end's fuzzer: first hostile seeds (a
# megabyte of kana with no punctuation, 300,000 digits, half-width kana and lone voiced marks,
# iteration marks, symbol soup, invalid UTF-8), then random inputs from the parity sentences
# for SECONDS seconds. Fails on any crash, leak, timeout or sanitizer report.
set -euo pipefail
FUZZER=${1:?usage: run_ja_fuzz.sh build-fuzz/ja_fuzz [seconds]}
SECONDS_BUDGET=${2:-60}

here=$(cd "$(dirname "$0")/../.." && pwd)
export LSAN_OPTIONS="suppressions=$here/fuzz/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS=detect_leaks=1
export KOKORO_LEXICON_DIR=${KOKORO_LEXICON_DIR:-$here/models/lexicon}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds" "$work/corpus"

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

echo "run_ja_fuzz: hostile seeds"
timeout 600 "$FUZZER" -rss_limit_mb=4096 -timeout=120 -max_len=1100000 "$work/seeds"/* 2>&1 | tail -n 3

echo "run_ja_fuzz: random inputs for ${SECONDS_BUDGET}s"
timeout $((SECONDS_BUDGET + 300)) "$FUZZER" -rss_limit_mb=4096 -timeout=30 -max_len=4096 \
    -max_total_time="$SECONDS_BUDGET" -print_final_stats=1 "$work/corpus" "$work/seeds" \
    > "$work/log" 2>&1 || { tail -n 40 "$work/log"; exit 1; }
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/log" || true
echo "run_ja_fuzz: ok"
