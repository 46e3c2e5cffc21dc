#!/usr/bin/env bash
# fetch-lexicon.sh - fetches misaki's English pronunciation dictionaries into models/lexicon/.
# The gold and silver dictionaries (Apache-2.0 data) ship inside the PyPI wheel of `misaki`;
# `pip download --no-deps` fetches the wheel only (nothing is installed or run) and its
# SHA-256 is pinned. Idempotent: files already present and verified are kept.
set -euo pipefail

MODELS=${MODELS:-models}
DEST="$MODELS/lexicon"
PKG=misaki==0.9.4
WHEEL=misaki-0.9.4-py3-none-any.whl
WHEEL_SHA=90e2eeb169786c014c429e5058d2ea6bcd02d651f2a24450ba6c9ffc0f8da15a
FILES="us_gold.json us_silver.json gb_gold.json gb_silver.json"
PIP=${PIP:-python3 -m pip}

die() { echo "fetch-lexicon: $*" >&2; exit 1; }

mkdir -p "$DEST"
if [ -f "$DEST/SHA256SUMS" ] && (cd "$DEST" && sha256sum --quiet -c SHA256SUMS 2>/dev/null); then
    echo "fetch-lexicon: dictionaries present and verified"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-lexicon: downloading $PKG"
$PIP download --quiet --no-deps --only-binary=:all: --dest "$tmp" "$PKG" \
    || die "pip could not download $PKG; check the package index is reachable"
[ -f "$tmp/$WHEEL" ] || die "the download did not produce $WHEEL"
got=$(sha256sum "$tmp/$WHEEL" | cut -d' ' -f1)
[ "$got" = "$WHEEL_SHA" ] || die "$WHEEL has SHA-256 $got, expected $WHEEL_SHA"

python3 - "$tmp/$WHEEL" "$DEST" $FILES <<'PY' || die "could not extract the dictionaries"
import sys, zipfile, shutil, os
whl, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(whl) as z:
    for n in names:
        with z.open("misaki/data/" + n) as src, open(os.path.join(dest, n + ".part"), "wb") as out:
            shutil.copyfileobj(src, out)
        os.replace(os.path.join(dest, n + ".part"), os.path.join(dest, n))
PY
# The wheel's digest is pinned above; record the extracted files' digests so that later runs
# notice a damaged or partial copy.
(cd "$DEST" && sha256sum $FILES > SHA256SUMS)
echo "fetch-lexicon: $(echo $FILES | wc -w) dictionaries installed in $DEST"
