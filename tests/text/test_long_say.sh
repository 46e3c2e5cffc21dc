#!/usr/bin/env bash
# test_long_say.sh - a 20,000-word text through `build/kokoro say`: memory stays bounded while
# audio streams to the file, and a progress bar is drawn when stderr is a terminal.
#
# Synthesising 20,000 words (over two hours of audio) takes hours on a small machine, so the
# run is watched for LONG_SAY_SECONDS (default 60) on one thread: resident memory is sampled
# every second and must stay under LONG_SAY_MAX_MB whatever the length of the text (the CLI
# feeds the text in blocks and the engine's memory follows the chunk, at most 510 phonemes);
# audio must reach the file while the run goes on. If the run finishes within the budget, its
# duration is checked too. A minute speaks some ten chunks, enough to see the memory settle
# (the 2-minute watch it replaced, in a make test at load 2.5: 287 s of audio, RSS at most
# 416 MB, at the end 318 MB).
set -euo pipefail
KOKORO=${KOKORO:-build/kokoro}
BUDGET=${LONG_SAY_SECONDS:-60}
MAX_MB=${LONG_SAY_MAX_MB:-600}

work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

python3 tests/text/long_text.py "$work/long.txt"

# Progress bar on a terminal: run a short text under a pseudo-terminal.
script -qefc "$KOKORO say -o $work/short.wav 'Progress check, one sentence.'" /dev/null \
    > "$work/tty.log" 2>&1 || { cat "$work/tty.log"; echo "test_long_say: short say failed"; exit 1; }
grep -q '100%' "$work/tty.log" || { echo "test_long_say: no progress bar on a terminal"; exit 1; }
grep -q '100%' <("$KOKORO" say -o "$work/short2.wav" 'No terminal here.' 2>&1) \
    && { echo "test_long_say: progress bar drawn without a terminal"; exit 1; }

"$KOKORO" say -f "$work/long.txt" -o "$work/long.wav" 2> "$work/say.log" &
pid=$!
max_kb=0; first_kb=0; after_kb=0; grow_checks=0; last_size=0; t=0
while kill -0 "$pid" 2>/dev/null && [ "$t" -lt "$BUDGET" ]; do
    sleep 1; t=$((t + 1))
    kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$kb" ] || kb=0
    [ "$kb" -gt "$max_kb" ] && max_kb=$kb
    size=$(stat -c %s "$work/long.wav" 2>/dev/null || echo 0)
    # memory once the first audio is out, to compare with the end of the watch
    if [ "$first_kb" -eq 0 ] && [ "$size" -gt 100000 ]; then first_kb=$kb; fi
    if [ "$first_kb" -gt 0 ] && [ "$kb" -gt "$after_kb" ]; then after_kb=$kb; fi
    if [ "$size" -gt "$last_size" ]; then grow_checks=$((grow_checks + 1)); last_size=$size; fi
done
if kill -0 "$pid" 2>/dev/null; then
    finished=0
    end_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    kill "$pid"; wait "$pid" 2>/dev/null || true
else
    wait "$pid" || { cat "$work/say.log"; echo "test_long_say: say failed"; exit 1; }
    finished=1; end_kb=$max_kb
fi
pid=
audio_s=$(( last_size / 48000 ))
echo "test_long_say: ${t}s watched, finished=$finished, ${audio_s}s of audio written," \
     "RSS max $((max_kb / 1024)) MB; after the first audio $((first_kb / 1024)) MB," \
     "at most $((after_kb / 1024)) MB, at the end $((end_kb / 1024)) MB"
[ "$max_kb" -lt $((MAX_MB * 1024)) ] || { echo "test_long_say: RSS above ${MAX_MB} MB"; exit 1; }
[ "$last_size" -gt 100000 ] || { echo "test_long_say: no audio reached the file while running"; exit 1; }
if [ "$finished" -eq 1 ]; then
    # 20,000 words at 2-4 words a second
    [ "$audio_s" -gt 5000 ] && [ "$audio_s" -lt 12000 ] \
        || { echo "test_long_say: ${audio_s}s of audio for 20,000 words"; exit 1; }
fi
echo "test_long_say: ok"
