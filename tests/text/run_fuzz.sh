#!/usr/bin/env bash
# run_fuzz.sh - a bounded run of the text fuzzer: first the hostile seeds (1 MB without
# spaces, control characters, invalid UTF-8, right-to-left text, emoji), then random inputs
# for SECONDS seconds. Fails on any crash, leak, timeout or sanitizer report.
set -euo pipefail
FUZZER=${1:?usage: run_fuzz.sh build-fuzz/text_fuzz [seconds]}
SECONDS_BUDGET=${2:-60}

here=$(cd "$(dirname "$0")/../.." && pwd)
export LSAN_OPTIONS="suppressions=$here/fuzz/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS=detect_leaks=1
export KOKORO_LEXICON_DIR=${KOKORO_LEXICON_DIR:-$here/models/lexicon}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seeds="$work/seeds"
mkdir -p "$seeds" "$work/corpus"

python3 - "$seeds" <<'PY'
import os, random, sys
d = sys.argv[1]
random.seed(1)
def put(name, lang, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes([lang]) + data)
letters = "abcdefghijklmnopqrstuvwxyz"
put("mb-nospace-en", 0, "".join(random.choice(letters) for _ in range(1 << 20)).encode())
put("mb-nospace-es", 4, ("ñandú" * 40000).encode())
put("mb-digits", 1, b"9" * 300000)
put("control", 0, bytes(range(1, 32)) * 50 + b"Hello\x00world")
put("invalid-utf8", 0, bytes(random.randrange(256) for _ in range(20000)))
put("rtl", 0, "שלום עולם مرحبا بالعالم Hello \u202eevil\u202c text.".encode())
put("emoji", 0, "I ❤️ NY 👍🏽👨‍👩‍👧 $5 🎉 at 7:30 PM!".encode() * 100)
put("mixed", 0, ("Dr. Smith paid $1,234.56 on 3/4/2024 at 7:30 p.m.; call (555) 123-4567 or "
                 "visit https://example.com. Henry VIII, World War II, 25°C, 60 mph. " * 300).encode())
put("numbers", 1, b" ".join(str(random.randrange(10**random.randrange(1, 25))).encode() for _ in range(5000)))
put("punct", 0, b".,;:!?()[]{}\"'-/\\@#$%^&*+=<>~`|" * 500)
put("hindi", 6, "नमस्ते दुनिया, आप कैसे हैं? ".encode() * 500)
PY

echo "run_fuzz: hostile seeds"
timeout 600 "$FUZZER" -rss_limit_mb=4096 -timeout=120 \
    -max_len=1100000 "$seeds"/* 2>&1 | tail -n 3

echo "run_fuzz: random inputs for ${SECONDS_BUDGET}s"
timeout $((SECONDS_BUDGET + 300)) "$FUZZER" -rss_limit_mb=4096 \
    -timeout=30 -max_len=8192 -max_total_time="$SECONDS_BUDGET" -print_final_stats=1 \
    "$work/corpus" "$seeds" > "$work/log" 2>&1 || { tail -n 40 "$work/log"; exit 1; }
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/log" || true
echo "run_fuzz: ok"
