#!/usr/bin/env bash
# run_captions_fuzz.sh - a bounded run of the captions fuzzer (the normaliser's source map under
# every combination of normalization options, written words, SRT/VTT cues) from seeds with
# money, phone numbers, URLs, markup-like text, long words and invalid UTF-8. Fails on any
# crash, leak, timeout, broken cue rule or sanitizer report (the sanitizer options are the
# Makefile's, exported; ASan finds leaks by default on Linux when this runs alone).
set -euo pipefail
FUZZER=${1:?usage: run_captions_fuzz.sh build-fuzz/captions_fuzz [seconds]}
SECONDS_BUDGET=${2:-30}
here=$(cd "$(dirname "$0")/../.." && pwd)
export KOKORO_LEXICON_DIR=${KOKORO_LEXICON_DIR:-$here/models/lexicon}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds" "$work/corpus"
i=0
seed() { printf '%s' "$1" > "$work/seeds/s$i"; i=$((i + 1)); }
seed $'\x7fDr. Smith paid $25.50 at 7:30 PM, "fine," she said. Call 1-800-555-0199!'
seed $'\x01Dr. Smith paid $25.50 at 7:30 PM on 3/4/2024 & more (s) item(s).'
seed $'\xffVisit https://www.example.com/a/very/long/path/that/goes/on/and/on or a.b@example.com.'
seed $'\x5dIt weighs 3 kg, 35\xc2\xb0C \xe2\x80\x94 \xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x80\xa6 Z\xc3\xbcrich.'
seed $'\x7f1234567890123456789012345678901234567890123456789 1,234,567,890,123,456,789,012,345,678,901,234'
seed $'\x7f<now> & <then> --> \xff\xfe\x80 \x01\x02 word(s)(s)((s))'
seed $'\x3fI read the book yesterday. He read it. J. K. Rowling. U.S. Navy.'
"$FUZZER" -max_total_time="$SECONDS_BUDGET" -max_len=2048 -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 "$work/corpus" "$work/seeds" 2>&1 | tail -n 15
