#!/usr/bin/env bash
# make-base-image.sh - makes a small Debian base image with debootstrap and imports it into the
# container engine, so that `make image` needs no container registry.
#
#   tools/make-base-image.sh ENGINE IMAGE [SUITE]
#   tools/make-base-image.sh podman localhost/kokoro-base:bookworm bookworm
#
# The root file system is debootstrap's minbase variant (Essential packages and apt), then
# slimmed as Debian's own "-slim" images are: no manuals, documentation or translations, now
# and in later `apt-get install`s (a dpkg path-exclude list), no apt lists or caches.
# Packages come from the Debian mirror this machine's apt already uses (or
# KOKORO_DEBIAN_MIRROR), so it works wherever `apt-get install` does.
set -euo pipefail

die() { echo "make-base-image: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: $0 ENGINE IMAGE [SUITE]"
engine=$1 image=$2 suite=${3:-bookworm}
[ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
command -v debootstrap > /dev/null || die "debootstrap not found (Debian package debootstrap)"

# The first Debian archive this machine's apt reads (deb822 "URIs:" or one-line "deb").
host_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }
             /^deb[ \t]/ { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; break } }' "$f"
    done | grep -E '/debian/?$' | head -n 1
}
mirror=${KOKORO_DEBIAN_MIRROR:-$(host_mirror)}
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt; set KOKORO_DEBIAN_MIRROR"
mirror=${mirror%/}

root=$(mktemp -d "${TMPDIR:-/tmp}/kokoro-base.XXXXXX")
trap 'rm -rf "$root"' EXIT

echo "make-base-image: debootstrap --variant=minbase $suite from $mirror"
debootstrap --variant=minbase --components=main "$suite" "$root" "$mirror" > "$root.log" 2>&1 \
    || { tail -n 20 "$root.log" >&2; rm -f "$root.log"; die "debootstrap failed"; }
rm -f "$root.log"

# Security and point-release updates, as the suite's own images have.
cat > "$root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb $mirror-security $suite-security main
SOURCES

# Nothing installed later brings manuals, documentation or translations either.
cat > "$root/etc/dpkg/dpkg.cfg.d/slim" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
DPKG
cat > "$root/etc/apt/apt.conf.d/slim" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
APT

find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/lib/apt/lists/* \
       "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old "$root"/var/log/*.log \
       "$root"/var/log/apt/* "$root"/tmp/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +

tar -C "$root" --numeric-owner -c . | "$engine" import \
    --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$image" > /dev/null
echo "make-base-image: $image ($("$engine" image inspect --format '{{.Size}}' "$image") bytes)"
