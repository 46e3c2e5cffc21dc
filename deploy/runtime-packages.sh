#!/usr/bin/env bash
# runtime-packages.sh - prints the Debian packages whose shared libraries a program needs.
#
# Usage: deploy/runtime-packages.sh build/kokoro
# The Dockerfile runs it in its build stage and installs exactly these packages in the
# runtime stage, so the slim image follows whatever libraries the build links (encoders,
# BLAS, espeak-ng) without a second list to keep in step with deps/apt.txt.
set -euo pipefail

die() { echo "runtime-packages: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 PROGRAM"
[ -x "$1" ] || die "$1 is not an executable file; build it first"
command -v ldd > /dev/null || die "ldd not found (Debian package libc-bin)"
command -v dpkg-query > /dev/null || die "dpkg-query not found: this script needs Debian"

ldd_out=$(ldd "$1") || die "ldd could not read $1"
missing=$(grep 'not found' <<< "$ldd_out" || true)
[ -z "$missing" ] || die "$1 needs libraries that are not installed: $missing"

# Lines look like "libfoo.so.1 => /usr/lib/x86_64-linux-gnu/libfoo.so.1 (0x...)". dpkg knows
# some files by their path under /lib (before the /usr merge) and alternatives only by their
# target, so each library is looked up under every name it may have, all in one dpkg-query
# call (one call per name takes minutes for a program with a hundred libraries).
mapfile -t libs < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 }' <<< "$ldd_out")
declare -A names_of=()
all_names=()
for lib in "${libs[@]}"; do
    real=$(readlink -f "$lib")
    names=("$lib" "$real")
    for p in "$lib" "$real"; do
        case $p in /usr/*) names+=("${p#/usr}") ;; *) names+=("/usr$p") ;; esac
    done
    names_of[$lib]="${names[*]}"
    all_names+=("${names[@]}")
done

declare -A owner=()
while IFS= read -r line; do
    # "libfoo1:amd64: /usr/lib/x86_64-linux-gnu/libfoo.so.1"; diversions are not owners.
    [[ $line == diversion* ]] && continue
    pkg=${line%%: /*}
    owner[${line#*: }]=${pkg%%:*}
done < <(dpkg-query -S "${all_names[@]}" 2> /dev/null || true)

for lib in "${libs[@]}"; do
    found=
    for name in ${names_of[$lib]}; do
        if [ -n "${owner[$name]:-}" ]; then found=${owner[$name]}; break; fi
    done
    [ -n "$found" ] || die "no Debian package provides $lib ($(readlink -f "$lib"))"
    echo "$found"
done | sort -u
