#!/usr/bin/env bash
# build.sh - build the kernel's own mlock selftests, mlock2-tests and
# mlock-random-test, from Debian's linux-source-6.1 (tools/testing/selftests/vm/),
# for tests that record them and want `check` to find nothing on a correct
# kernel and the bug on a fixture kernel.
#
# Usage: tests/selftests/build.sh [-v]
#   Result: ${MMREPLAY_CACHE:-$HOME/.cache/mmreplay}/selftests/mlock-<hash>/ holding
#           mlock2-tests and mlock-random-test (libcap linked in statically, so that a
#           busybox guest runs them as they are) and VERSION.  <hash>: sha256 of the
#           linux-source-6.1 version and this script (first 16 hex digits).  A cached
#           result is printed at once.  The directory is the last line on stdout.
#   Installs linux-source-6.1 and libcap-dev with apt-get if root and they are missing.
#   Exit status: 0 built (or cached); 3 the source or a compiler cannot be had here
#   (not root, no apt, apt-get failed): a missing capability, callers skip;
#   1 anything else (a file missing from the source, a failed compile): callers fail.
set -euo pipefail

me=build-selftests
verbose=0
case "${1:-}" in
    -v) verbose=1 ;;
    '') ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "$me: unknown argument: $1" >&2; exit 2 ;;
esac
log() { if [ "$verbose" = 1 ]; then echo "$me: $*" >&2; fi; }
die() { echo "$me: $*" >&2; exit 1; }
unavailable() { echo "$me: $*" >&2; exit 3; }

srcpkg=linux-source-6.1
tarball=/usr/src/linux-source-6.1.tar.xz
cap_a=/usr/lib/x86_64-linux-gnu/libcap.a
cache=${MMREPLAY_CACHE:-$HOME/.cache/mmreplay}
root=$cache/selftests
mkdir -p "$root" "$cache/logs"
pkgver() { dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null | awk '$1 == "ii" { print $2 }'; }
hash_of() { { printf '%s %s\n' "$srcpkg" "$1"; cat "$0"; } | sha256sum | cut -c1-16; }

version=$(pkgver "$srcpkg" || true)
if [ -n "$version" ]; then
    dir=$root/mlock-$(hash_of "$version")
    if [ -f "$dir/.complete" ]; then
        log "cached: $dir"
        echo "$dir"; exit 0
    fi
fi

missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v xz >/dev/null 2>&1 || missing+=(xz-utils)
[ -n "$version" ] && [ -f "$tarball" ] || missing+=("$srcpkg")
[ -f "$cap_a" ] && [ -f /usr/include/sys/capability.h ] || missing+=(libcap-dev)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || unavailable "missing packages: ${missing[*]} (run as root, or apt-get install them)"
    command -v apt-get >/dev/null 2>&1 || unavailable "missing packages: ${missing[*]}, and no apt-get"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # another apt-get (tests/kernels/build.sh in a parallel run) is waited for
    apt-get -o DPkg::Lock::Timeout=600 update -qq >"$cache/logs/apt-selftests.log" 2>&1 \
        || unavailable "apt-get update failed (see $cache/logs/apt-selftests.log)"
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" \
        >>"$cache/logs/apt-selftests.log" 2>&1 \
        || unavailable "apt-get install ${missing[*]} failed (see $cache/logs/apt-selftests.log)"
    version=$(pkgver "$srcpkg" || true)
    [ -n "$version" ] && [ -f "$tarball" ] || die "$srcpkg installed but $tarball is missing"
fi
dir=$root/mlock-$(hash_of "$version")

# Built beside, then moved into place: a run cut short leaves no half result.
work=$(mktemp -d "$root/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
sub=linux-source-6.1/tools/testing/selftests
log "extracting the mlock selftests of $srcpkg $version"
tar -xJf "$tarball" -C "$work" "$sub/kselftest.h" "$sub/vm/mlock2.h" "$sub/vm/mlock2-tests.c" \
    "$sub/vm/mlock-random-test.c" 2>"$work/tar.err" || die "tar: $(tail -n1 "$work/tar.err")"
vm=$work/$sub/vm
mkdir "$work/out"
gcc -O2 -Wall -I "$vm" -o "$work/out/mlock2-tests" "$vm/mlock2-tests.c" 2>"$work/cc.err" \
    || die "mlock2-tests: $(head -n3 "$work/cc.err")"
gcc -O2 -Wall -I "$vm" -o "$work/out/mlock-random-test" "$vm/mlock-random-test.c" "$cap_a" \
    2>"$work/cc.err" || die "mlock-random-test: $(head -n3 "$work/cc.err")"
echo "$srcpkg $version" > "$work/out/VERSION"
touch "$work/out/.complete"
rm -rf "$dir"
mv "$work/out" "$dir"
log "built: $dir"
echo "$dir"
