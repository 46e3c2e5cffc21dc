# fuzz_lib.sh - what the bounded libFuzzer runs of tests/text/run_*fuzz.sh share; sourced.
#   fuzz_setup              the lexicon folder, a work folder $work (removed on exit) with
#                           $work/seeds and $work/corpus
# The sanitizer options (ASAN_OPTIONS, LSAN_OPTIONS...) are the Makefile's, which it exports;
# run alone, ASan's defaults on Linux find leaks as well.
#   fuzz_seeds NAME FUZZER  runs every seed of $work/seeds once (hostile inputs: up to 1.1 MB)
#   fuzz_random NAME FUZZER SECONDS MAX_LEN CORPUS SEEDS [ENV=VALUE...]
#                           random inputs for SECONDS from the seeds; prints the units run
# Each fails (and shows the log's tail) on any crash, leak, timeout or sanitizer report.

fuzz_setup() {
    here=$(cd "$(dirname "${BASH_SOURCE[1]}")/../.." && pwd)
    export KOKORO_LEXICON_DIR=${KOKORO_LEXICON_DIR:-$here/models/lexicon}
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/seeds" "$work/corpus"
}

fuzz_seeds() {
    local name=$1 fuzzer=$2
    echo "$name: hostile seeds"
    timeout 600 "$fuzzer" -rss_limit_mb=4096 -timeout=120 -max_len=1100000 "$work/seeds"/* \
        > "$work/log-seeds" 2>&1 || { tail -n 40 "$work/log-seeds"; return 1; }
    echo "$name: $(grep -c '^Executed' "$work/log-seeds") seeds ran clean"
}

fuzz_random() {
    local name=$1 fuzzer=$2 seconds=$3 max_len=$4 corpus=$5 seeds=$6
    shift 6
    local log
    log="$work/log-$(basename "$corpus")"
    echo "$name: random inputs for ${seconds}s"
    mkdir -p "$corpus"
    env "$@" timeout $((seconds + 300)) "$fuzzer" -rss_limit_mb=4096 -timeout=30 \
        -max_len="$max_len" -max_total_time="$seconds" -print_final_stats=1 "$corpus" "$seeds" \
        > "$log" 2>&1 || { tail -n 40 "$log"; return 1; }
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" || true
}
