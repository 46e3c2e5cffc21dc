#!/usr/bin/env bash
# fetch-zh.sh - fetches the Mandarin front end's dictionaries into models/lexicon/zh/.
#
# Sources (both MIT-licensed, from PyPI, SHA-256 pinned; `pip download --no-deps` fetches the
# archive only):
#   jieba 0.42.1 (source archive): dict.txt, the word frequencies of its segmenter, and the
#     HMM of jieba.finalseg for words the dictionary lacks
#   pypinyin 0.55.0 (wheel): pinyin_dict.json and phrases_dict.json, the readings of
#     characters and phrases
# These are the versions misaki 0.9.4's ZHG2P runs on in the reference (deps/pip.txt).
# tools/zh_convert.py turns them into the plain text files src/text/zh/ loads. Idempotent:
# files already present and verified are kept.
set -euo pipefail

MODELS=${MODELS:-models}
DEST="$MODELS/lexicon/zh"
JIEBA=jieba-0.42.1.tar.gz
JIEBA_SHA=055ca12f62674fafed09427f176506079bc135638a14e23e25be909131928db2
PYPINYIN=pypinyin-0.55.0-py2.py3-none-any.whl
PYPINYIN_SHA=d53b1e8ad2cdb815fb2cb604ed3123372f5a28c6f447571244aca36fc62a286f
FILES="jieba.dict jieba.hmm pinyin.chars pinyin.phrases"
PIP=${PIP:-python3 -m pip}
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "fetch-zh: $*" >&2; exit 1; }

mkdir -p "$DEST"
if [ -f "$DEST/SHA256SUMS" ] && (cd "$DEST" && sha256sum --quiet -c SHA256SUMS 2>/dev/null); then
    echo "fetch-zh: dictionaries present and verified"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() { # fetch <pip requirement> <pip options> <file> <sha256>
    echo "fetch-zh: downloading $1"
    $PIP download --quiet --no-deps $2 --dest "$tmp" "$1" \
        || die "pip could not download $1; check the package index is reachable"
    [ -f "$tmp/$3" ] || die "the download did not produce $3"
    local got
    got=$(sha256sum "$tmp/$3" | cut -d' ' -f1)
    [ "$got" = "$4" ] || die "$3 has SHA-256 $got, expected $4"
}
fetch jieba==0.42.1 --no-binary=:all: "$JIEBA" "$JIEBA_SHA"
fetch pypinyin==0.55.0 --only-binary=:all: "$PYPINYIN" "$PYPINYIN_SHA"

python3 "$here/zh_convert.py" "$tmp/$JIEBA" "$tmp/$PYPINYIN" "$DEST" \
    || die "could not convert the dictionaries"
(cd "$DEST" && sha256sum $FILES > SHA256SUMS)
echo "fetch-zh: $(echo $FILES | wc -w) files installed in $DEST ($(du -sh "$DEST" | cut -f1))"
