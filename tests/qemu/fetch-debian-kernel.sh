#!/usr/bin/env bash
# fetch-debian-kernel.sh - download and unpack the newest Debian 12 (bookworm)
# linux-image-6.1.0-*-cloud-amd64-unsigned package, without installing it.
#
# Usage: tests/qemu/fetch-debian-kernel.sh [-v] [--flavour cloud-amd64] [--force]
#   Result: ${MMREPLAY_CACHE:-$HOME/.cache/mmreplay}/kernels/debian-<version>/
#           holding vmlinuz (bzImage), config, System.map and lib/modules/<kver>/.
#   Idempotent: when the newest package is already unpacked, only prints the dir.
#   Offline: if apt knows no candidate or the download fails, the newest cached dir is used.
#   The kernel dir is printed on stdout as the last line; progress (with -v) and
#   errors go to stderr.  Needs apt-get/apt-cache/dpkg-deb (run as root or not).
#   Exit status: 0 fetched (or cached); 3 the package cannot be had here (no apt,
#   no such package, the download failed, nothing cached): callers skip; 1 anything
#   else (a package that does not hold what it should): callers fail.
set -euo pipefail

verbose=0 force=0 flavour=cloud-amd64
while [ $# -gt 0 ]; do
    case "$1" in
        -v|--verbose) verbose=1 ;;
        --force) force=1 ;;
        --flavour) flavour=$2; shift ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "fetch-debian-kernel: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

log() { if [ "$verbose" = 1 ]; then echo "fetch-debian-kernel: $*" >&2; fi; }
die() { echo "fetch-debian-kernel: $*" >&2; exit 1; }
unavailable() { echo "fetch-debian-kernel: $*" >&2; exit 3; }

cache=${MMREPLAY_CACHE:-$HOME/.cache/mmreplay}
kroot=$cache/kernels
mkdir -p "$kroot"

newest_cached() {
    local d
    d=$(ls -d "$kroot"/debian-6.1.* 2>/dev/null | sort -V | tail -n1 || true)
    if [ -n "$d" ] && [ -f "$d/vmlinuz" ]; then echo "$d"; fi
}

# Newest ABI name, e.g. linux-image-6.1.0-56-cloud-amd64-unsigned.
pkg=$(apt-cache search --names-only "^linux-image-6\.1\.0-[0-9]+-${flavour}-unsigned\$" 2>/dev/null \
        | awk '{print $1}' | sort -V | tail -n1 || true)
if [ -z "$pkg" ]; then
    log "apt-cache knows no package; trying 'apt-get update'"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq >/dev/null 2>&1 || true; fi
    pkg=$(apt-cache search --names-only "^linux-image-6\.1\.0-[0-9]+-${flavour}-unsigned\$" 2>/dev/null \
            | awk '{print $1}' | sort -V | tail -n1 || true)
fi
if [ -z "$pkg" ]; then
    d=$(newest_cached)
    [ -n "$d" ] || unavailable "no linux-image-6.1.0-*-${flavour}-unsigned package known to apt and nothing cached"
    log "apt knows no package; using cached $d"
    echo "$d"; exit 0
fi
version=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
[ -n "$version" ] && [ "$version" != "(none)" ] || unavailable "no candidate version for $pkg"
kver=${pkg#linux-image-}; kver=${kver%-unsigned}          # 6.1.0-56-cloud-amd64
dest=$kroot/debian-$version
log "package $pkg version $version (kernel $kver) -> $dest"

if [ "$force" = 0 ] && [ -f "$dest/vmlinuz" ] && [ -d "$dest/lib/modules/$kver" ] && [ -f "$dest/.complete" ]; then
    log "already cached"
    echo "$dest"; exit 0
fi

tmp=$(mktemp -d "$kroot/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(
    cd "$tmp"
    # apt-get download runs as _apt when root; make the dir readable for it.
    chmod 755 "$tmp"
    if [ "$verbose" = 1 ]; then apt-get download "$pkg=$version" >&2
    else apt-get download -qq "$pkg=$version" >/dev/null 2>"$tmp/apt.err" || { cat "$tmp/apt.err" >&2; exit 1; }
    fi
) || {
    d=$(newest_cached)
    [ -n "$d" ] || unavailable "apt-get download $pkg=$version failed"
    echo "fetch-debian-kernel: apt-get download $pkg=$version failed; using cached $d" >&2
    echo "$d"; exit 0
}
deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || die "apt-get download produced no .deb"
mkdir "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x"
[ -f "$tmp/x/boot/vmlinuz-$kver" ] || die "package has no boot/vmlinuz-$kver"

mkdir -p "$tmp/out/lib"
mv "$tmp/x/boot/vmlinuz-$kver" "$tmp/out/vmlinuz"
for f in config System.map; do
    if [ -f "$tmp/x/boot/$f-$kver" ]; then mv "$tmp/x/boot/$f-$kver" "$tmp/out/$f"; fi
done
mv "$tmp/x/lib/modules" "$tmp/out/lib/modules"
echo "$kver" > "$tmp/out/kernel-release"
echo "$pkg=$version" > "$tmp/out/package"
touch "$tmp/out/.complete"
rm -rf "$dest"
mv "$tmp/out" "$dest"
log "unpacked to $dest"
echo "$dest"
