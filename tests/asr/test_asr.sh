#!/bin/sh
# test_asr.sh - speaks tests/asr/sentences_en.txt with `kokoro say` and checks that Whisper
# tiny.en understands it: total word error rate at most $WER_MAX percent (default 8).
#   usage: tests/asr/test_asr.sh [build/kokoro] [voice]
set -eu
KOKORO=${1:-build/kokoro}
VOICE=${2:-af_heart}
WER_MAX=${WER_MAX:-8}
SENTENCES=tests/asr/sentences_en.txt
[ -x "$KOKORO" ] || { echo "test_asr: $KOKORO not built (run make)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
grep -v '^#' "$SENTENCES" | grep -v '^[[:space:]]*$' > "$tmp/refs.txt"
while IFS= read -r line; do
    i=$((i + 1))
    out=$(printf '%s/%02d.wav' "$tmp" "$i")
    "$KOKORO" say --voice "$VOICE" -o "$out" "$line" </dev/null || {
        echo "test_asr: kokoro say failed on line $i: $line" >&2
        exit 1
    }
done < "$tmp/refs.txt"
# shellcheck disable=SC2046
nice python3 tests/asr/wer.py --max "$WER_MAX" --refs "$tmp/refs.txt" $(ls "$tmp"/*.wav | sort)
