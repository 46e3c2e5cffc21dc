#!/usr/bin/env bash
# run_zh_fuzz.sh - a bounded run of the Mandarin fuzzer: first hostile seeds (a megabyte of
# Han without punctuation, of digits, of full-width marks; invalid UTF-8; the sentences of
# the parity test), then random inputs for SECONDS seconds. Fails on any crash, leak,
# timeout or sanitizer report.
set -euo pipefail
FUZZER=${1:?usage: run_zh_fuzz.sh build-fuzz/zh_fuzz [seconds]}
SECONDS_BUDGET=${2:-45}

. "$(dirname "$0")/fuzz_lib.sh"
fuzz_setup

python3 - "$work/seeds" "$here/tests/text/zh_sentences.txt" <<'PY'
import os, random, sys
d, sentences = sys.argv[1], sys.argv[2]
random.seed(13)
def put(name, s):
    with open(os.path.join(d, name), "wb") as f:
        f.write(s if isinstance(s, bytes) else s.encode())
lines = [l for l in open(sentences, encoding="utf-8") if l.strip() and not l.startswith("#")]
for i, l in enumerate(lines):
    put("sentence-%d" % i, l)
han = "".join(c for l in lines for c in l if "\u4e00" <= c <= "\u9fff")
put("mb-han", "".join(random.choice(han) for _ in range(350000)))  # one run, no punctuation
put("mb-digits", "9" * 1000000)
put("mb-marks", "，。！？、《》「」（）" * 30000)
put("numbers", " ".join(str(random.randrange(10 ** random.randrange(1, 30))) + random.choice(
    ["", "%", "℃", "年", "月", "日", "/7", "-9个", ".5"]) for _ in range(20000)))
put("invalid-utf8", bytes(random.randrange(256) for _ in range(20000)))
put("rare-han", "".join(chr(c) for c in range(0x9FA0, 0xA000)) + "〇㐀䶵")
PY

fuzz_seeds run_zh_fuzz "$FUZZER"
fuzz_random run_zh_fuzz "$FUZZER" "$SECONDS_BUDGET" 4096 "$work/corpus" "$work/seeds"
echo "run_zh_fuzz: ok"
