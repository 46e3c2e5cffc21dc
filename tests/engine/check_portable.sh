#!/bin/sh
# check_portable.sh - proves that an x86-64 build runs on any x86-64-v2 CPU: disassembles the
# given binaries / archives and fails when a function outside the run-time-dispatched back
# ends (kk_avx2_*, kk_avx512_*: src/model/cpu/) uses AVX, AVX2, FMA or AVX-512 instructions,
# that is a VEX/EVEX mnemonic (v...) or a ymm, zmm or mask register.
#   tests/engine/check_portable.sh build/kokoro build/libkokoro.a
set -eu
status=0
for f in "$@"; do
    if ! objdump -f "$f" 2>/dev/null | grep -q 'x86-64'; then
        echo "check_portable: $f is not x86-64, nothing to check"
        continue
    fi
    objdump -d --no-show-raw-insn "$f" | awk -F'\t' -v file="$f" '
        /^[0-9a-f]+ <.*>:$/ { fn = $0; sub(/^[0-9a-f]+ </, "", fn); sub(/>:$/, "", fn); next }
        NF >= 2 {
            ins = $NF
            split(ins, w, " ")
            if (w[1] ~ /^v/ || ins ~ /%[yz]mm[0-9]|%k[0-7]/) {
                if (fn ~ /^kk_(avx2|avx512)_/) { wide[fn] = 1 }
                else if (!(fn in bad)) { bad[fn] = ins }
            }
        }
        END {
            nw = 0; for (k in wide) nw++
            nb = 0; for (k in bad) { nb++; printf "check_portable: %s: %s uses %s\n", file, k, bad[k] }
            if (nb) { printf "check_portable: %s: %d function(s) outside the back ends need more than x86-64-v2\n", file, nb; exit 1 }
            if (nw == 0) { printf "check_portable: %s: no AVX back end found (kk_avx2_*, kk_avx512_*)\n", file; exit 1 }
            printf "check_portable: %s: baseline x86-64-v2 except %d back-end functions\n", file, nw
        }' || status=1
done
exit $status
