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

libs=$(ldd "$1") || die "ldd could not read $1"
missing=$(printf '%s\n' "$libs" | grep 'not found' || true)
[ -z "$missing" ] || die "$1 needs libraries that are not installed: $missing"

# Lines look like "libfoo.so.1 => /usr/lib/x86_64-linux-gnu/libfoo.so.1 (0x...)". dpkg knows
# some files by their path under /lib (before the /usr merge) and alternatives only by their
# target, so each library is looked up under every name it has.
printf '%s\n' "$libs" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | while read -r lib; do
    real=$(readlink -f "$lib")
    found=
    for path in "$lib" "$real" "${lib#/usr}" "${real#/usr}" "/usr$lib" "/usr$real"; do
        pkg=$(dpkg-query -S "$path" 2> /dev/null | head -n1 | cut -d: -f1) || true
        if [ -n "$pkg" ]; then found=$pkg; break; fi
    done
    [ -n "$found" ] || die "no Debian package provides $lib ($real)"
    echo "$found"
done | sort -u
