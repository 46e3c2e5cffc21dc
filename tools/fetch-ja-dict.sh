#!/usr/bin/env bash
# fetch-ja-dict.sh - fetches the Japanese front end's data into models/lexicon/:
#   unidic-lite/  UniDic 2.1.2 for MeCab, from the PyPI source package unidic-lite 1.0.8 (the
#                 dictionary the original pipeline's fugashi uses; BSD/LGPL/GPL, see its COPYING)
#   ja_words.txt  misaki 0.9.4's list of words that group MeCab tokens (Apache-2.0, in its wheel)
# `pip download --no-deps` fetches the archives only (nothing is installed; of the source archive
# pip reads the metadata); their SHA-256 are pinned. Idempotent: files already present and
# verified are kept.
set -euo pipefail

MODELS=${MODELS:-models}
DEST="$MODELS/lexicon"
DIC="$DEST/unidic-lite"
UL=unidic-lite==1.0.8
UL_TAR=unidic-lite-1.0.8.tar.gz
UL_SHA=db9d4572d9fdd4d00a97949d4b0741ec480ee05a7e7e2e32f547500dae27b245
MISAKI=misaki==0.9.4
MISAKI_WHEEL=misaki-0.9.4-py3-none-any.whl
MISAKI_SHA=90e2eeb169786c014c429e5058d2ea6bcd02d651f2a24450ba6c9ffc0f8da15a
# what MeCab reads at run time, and the licence texts
DIC_FILES="sys.dic unk.dic matrix.bin char.bin dicrc mecabrc COPYING BSD LGPL GPL README.md"
SUMS="$DEST/SHA256SUMS-ja"
PIP=${PIP:-python3 -m pip}

die() { echo "fetch-ja-dict: $*" >&2; exit 1; }

mkdir -p "$DIC"
if [ -f "$SUMS" ] && (cd "$DEST" && sha256sum --quiet -c "$(basename "$SUMS")" 2>/dev/null); then
    echo "fetch-ja-dict: UniDic and ja_words present and verified"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() { # package file sha256 pip-options...
    local pkg=$1 file=$2 sha=$3
    shift 3
    echo "fetch-ja-dict: downloading $pkg"
    $PIP download --quiet --no-deps "$@" --dest "$tmp" "$pkg" \
        || die "pip could not download $pkg; check the package index is reachable"
    [ -f "$tmp/$file" ] || die "the download did not produce $file"
    local got
    got=$(sha256sum "$tmp/$file" | cut -d' ' -f1)
    [ "$got" = "$sha" ] || die "$file has SHA-256 $got, expected $sha"
}
fetch "$UL" "$UL_TAR" "$UL_SHA" --no-binary=:all:
fetch "$MISAKI" "$MISAKI_WHEEL" "$MISAKI_SHA" --only-binary=:all:

python3 - "$tmp/$UL_TAR" "$tmp/$MISAKI_WHEEL" "$DEST" $DIC_FILES <<'PY' || die "could not extract the data"
import os, shutil, sys, tarfile, zipfile
tar, whl, dest, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def put(src, path):
    with open(path + ".part", "wb") as out:
        shutil.copyfileobj(src, out)
    os.replace(path + ".part", path)
with tarfile.open(tar) as t:
    for n in names:
        put(t.extractfile("unidic-lite-1.0.8/unidic_lite/dicdir/" + n),
            os.path.join(dest, "unidic-lite", n))
with zipfile.ZipFile(whl) as z, z.open("misaki/data/ja_words.txt") as src:
    put(src, os.path.join(dest, "ja_words.txt"))
PY
(cd "$DEST" && sha256sum ja_words.txt $(for f in $DIC_FILES; do echo "unidic-lite/$f"; done) \
    > "$(basename "$SUMS")")
echo "fetch-ja-dict: UniDic ($(du -sh "$DIC" | cut -f1)) and ja_words.txt installed in $DEST"
