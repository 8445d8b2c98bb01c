#!/usr/bin/env bash
# build.sh - build a minimal x86_64 6.1 kernel for the QEMU tests from Debian's
# linux-source-6.1 package: `make tinyconfig` + tests/kernels/mmreplay.config,
# optionally with bug-reintroducing patches (tests/kernels/patches/*.patch).
#
# Usage: tests/kernels/build.sh [-v] [--patch FILE]... [--name NAME] [--force] [-j N]
#   Result: ${MMREPLAY_CACHE:-$HOME/.cache/mmreplay}/kernels/<name>-<hash>/ holding
#           bzImage, vmlinux, config, System.map, kernel-release, package, patches/.
#   <hash>: sha256 of the linux-source-6.1 version, the fragment and the patches, in
#   order (first 16 hex digits). <name>: --name, else the patch names joined by '+',
#   else "mmreplay". Cached results are printed at once, without building.
#   A configured, built, unpatched tree is kept in .../src/linux-6.1-<hash2>/; patched
#   builds copy it (sources hard-linked, objects copied) and rebuild only what changed.
#   The kernel dir is printed on stdout as the last line; progress (with -v) and
#   errors go to stderr. Installs linux-source-6.1 and build deps with apt-get if root.
#   Exit status: 0 built (or cached); 3 the source or the build tools cannot be had
#   here (not root, no apt, apt-get failed): a missing capability, callers skip;
#   1 anything else (a patch that does not apply, a failed build): callers fail;
#   2 bad arguments.
set -euo pipefail

me=build-kernel
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/mmreplay.config
verbose=0 force=0 name='' jobs=''
patches=()
need() { [ $# -ge 2 ] || { echo "$me: option $1 needs an argument" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        -v|--verbose) verbose=1 ;;
        --force) force=1 ;;
        --patch) need "$@"; patches+=("$2"); shift ;;
        --name) need "$@"; name=$2; shift ;;
        -j) need "$@"; jobs=$2; shift ;;
        -j*) jobs=${1#-j} ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "$me: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$jobs" ] || jobs=$(nproc 2>/dev/null || echo 2)
case "$jobs" in ''|*[!0-9]*) echo "$me: -j takes a number" >&2; exit 2 ;; esac

log() { if [ "$verbose" = 1 ]; then echo "$me: $*" >&2; fi; }
die() { echo "$me: $*" >&2; exit 1; }
unavailable() { echo "$me: $*" >&2; exit 3; }   # a missing capability, not a broken build
bad_arg() { echo "$me: $*" >&2; exit 2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", b - a }'; }
t_start=$(now)

[ -f "$fragment" ] || die "config fragment missing: $fragment"
abs_patches=()
for p in ${patches[@]+"${patches[@]}"}; do
    [ -f "$p" ] || bad_arg "--patch: no such file: $p"
    abs_patches+=("$(cd "$(dirname "$p")" && pwd)/$(basename "$p")")
done
if [ -z "$name" ]; then
    if [ ${#abs_patches[@]} -eq 0 ]; then name=mmreplay
    else
        name=
        for p in "${abs_patches[@]}"; do b=$(basename "$p"); name=${name:+$name+}${b%.patch}; done
    fi
fi
case "$name" in *[!A-Za-z0-9._+-]*|'') bad_arg "--name may only hold letters, digits and . _ + -" ;; esac

cache=${MMREPLAY_CACHE:-$HOME/.cache/mmreplay}
kroot=$cache/kernels
sroot=$cache/src
mkdir -p "$kroot" "$sroot" "$cache/logs" "$cache/locks"

# ---------------------------------------------------------------- packages
srcpkg=linux-source-6.1
tarball=/usr/src/linux-source-6.1.tar.xz
pkgver() { dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null | awk '$1 == "ii" { print $2 }'; }
version=$(pkgver "$srcpkg" || true)

# Hashes first: a cached result needs nothing else.
hash_of() { # hash_of WITH_PATCHES
    {
        printf '%s %s\n' "$srcpkg" "$version"
        cat "$fragment"
        if [ "$1" = 1 ]; then for p in ${abs_patches[@]+"${abs_patches[@]}"}; do cat "$p"; done; fi
    } | sha256sum | cut -c1-16
}
if [ -n "$version" ] && [ -f "$tarball" ]; then
    khash=$(hash_of 1)
    kdir=$kroot/$name-$khash
    if [ "$force" = 0 ] && [ -f "$kdir/.complete" ] && [ -f "$kdir/bzImage" ]; then
        log "cached: $kdir"
        echo "$kdir"; exit 0
    fi
fi

# Build dependencies: command -> Debian package.
deps="gcc:gcc make:make bc:bc bison:bison flex:flex pahole:dwarves perl:perl xz:xz-utils
      patch:patch cpio:cpio flock:util-linux readelf:binutils"
missing=()
for d in $deps; do command -v "${d%%:*}" >/dev/null 2>&1 || missing+=("${d#*:}"); done
[ -f /usr/include/libelf.h ] || missing+=(libelf-dev)
[ -f /usr/include/openssl/opensslv.h ] || missing+=(libssl-dev)
if [ -z "$version" ] || [ ! -f "$tarball" ]; then missing+=("$srcpkg"); fi
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || unavailable "missing packages: ${missing[*]} (run as root, or apt-get install them)"
    command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1 \
        || unavailable "missing packages: ${missing[*]}, and no apt-get/dpkg-query to install them"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >"$cache/logs/apt.log" 2>&1 || unavailable "apt-get update failed (see $cache/logs/apt.log)"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$cache/logs/apt.log" 2>&1 \
        || unavailable "apt-get install ${missing[*]} failed (see $cache/logs/apt.log)"
    version=$(pkgver "$srcpkg" || true)
    [ -n "$version" ] && [ -f "$tarball" ] || die "$srcpkg installed but $tarball is missing"
fi
khash=$(hash_of 1)
bhash=$(hash_of 0)
kdir=$kroot/$name-$khash
base=$sroot/linux-6.1-$bhash
log "$srcpkg $version; fragment $fragment; ${#abs_patches[@]} patch(es) -> $kdir"

tmpdirs=() partial_base=
cleanup() {
    for d in ${tmpdirs[@]+"${tmpdirs[@]}"} $partial_base; do rm -rf "$d"; done
}
trap cleanup EXIT
trap 'echo "$me: interrupted" >&2; exit 130' INT TERM

# Wanted options: every "CONFIG_X=value" line of the fragment must be in .config.
verify_config() { # verify_config DOTCONFIG
    local l miss=()
    while read -r l; do
        grep -qxF "$l" "$1" || miss+=("$l")
    done < <(grep -E '^CONFIG_[A-Za-z0-9_]+=' "$fragment")
    [ ${#miss[@]} -eq 0 ] || die "config options dropped by kconfig (unmet dependencies?): ${miss[*]}"
}

run_make() { # run_make DIR LOG ARGS...: quiet make (-v: progress on stderr), full log kept
    local dir=$1 lf=$2 rc=0; shift 2
    if [ "$verbose" = 1 ]; then
        { make -C "$dir" -j"$jobs" "$@" 2>&1; echo $? > "$lf.rc"; } | tee -a "$lf" \
            | { grep -E --line-buffered '^ *(CC|LD|BTF|BTFIDS|Kernel:)|warning:|error:' >&2 || true; }
        rc=$(cat "$lf.rc"); rm -f "$lf.rc"
        return "$rc"
    fi
    make -C "$dir" -s -j"$jobs" "$@" >>"$lf" 2>&1
}
log_tail() { if [ "$verbose" = 1 ]; then tail -n 30 "$1" >&2; fi; }

# ---------------------------------------------------------------- clean base tree
# $base: the unpacked source, configured and built in place (kbuild records relative
# paths for in-tree builds; tools/ records absolute ones, so the tree is built where
# it stays). A tree without .mmreplay-complete is an interrupted build: redone.
# .mmreplay-src.list: the files of the pristine source, which a copy may hard-link.
# Lock: shared while the tree is only read (copied), exclusive while it is built.
exec 9>"$cache/locks/src-$bhash"
flock -s 9
rebuild_base=0
if [ "$force" = 1 ] && [ ${#abs_patches[@]} -eq 0 ]; then rebuild_base=1; fi
if [ ! -f "$base/.mmreplay-complete" ] || [ "$rebuild_base" = 1 ]; then
    flock 9     # to exclusive (not atomic: someone else may have built it meanwhile)
fi
if [ ! -f "$base/.mmreplay-complete" ] || [ "$rebuild_base" = 1 ]; then
    rm -rf "$base"
    mkdir -p "$base"
    partial_base=$base      # removed again if this build fails or is interrupted
    t0=$(now)
    blog=$cache/logs/linux-6.1-$bhash.log
    : > "$blog"
    log "unpacking $tarball into $base"
    tar -xf "$tarball" -C "$base" --strip-components=1 || die "cannot unpack $tarball"
    (cd "$base" && find . \( -type f -o -type l \) -print0 | LC_ALL=C sort -z > .mmreplay-src.list)
    log "configuring: tinyconfig + $(basename "$fragment")"
    run_make "$base" "$blog" tinyconfig || die "make tinyconfig failed (log: $blog)"
    (cd "$base" && ./scripts/kconfig/merge_config.sh -m .config "$fragment") >>"$blog" 2>&1 \
        || die "merge_config.sh failed (log: $blog)"
    run_make "$base" "$blog" olddefconfig || die "make olddefconfig failed (log: $blog)"
    verify_config "$base/.config"
    log "building the clean tree with -j$jobs (log: $blog)"
    if ! run_make "$base" "$blog" all; then log_tail "$blog"; die "kernel build failed (log: $blog)"; fi
    echo "$srcpkg=$version" > "$base/.mmreplay-package"
    elapsed "$t0" "$(now)" > "$base/.mmreplay-build-seconds"
    touch "$base/.mmreplay-complete"
    partial_base=
    log "clean tree built in $(cat "$base/.mmreplay-build-seconds")s: $base"
fi
[ -f "$base/.mmreplay-complete" ] || die "no clean tree in $base"
verify_config "$base/.config"
flock -s 9      # back to shared: others may copy the clean tree at the same time

# ---------------------------------------------------------------- this kernel
exec 8>"$cache/locks/kernel-$name-$khash"
flock 8
if [ "$force" = 0 ] && [ -f "$kdir/.complete" ] && [ -f "$kdir/bzImage" ]; then
    log "built meanwhile: $kdir"
    echo "$kdir"; exit 0
fi

tree=$base
t0=$(now)
if [ ${#abs_patches[@]} -gt 0 ]; then
    # a dry run of the first patch on the clean tree catches the common mistake at once
    patch -d "$base" -p1 --dry-run -s -f < "${abs_patches[0]}" >/dev/null 2>&1 \
        || die "patch $(basename "${abs_patches[0]}") does not apply to $srcpkg $version"
    work=$(mktemp -d "$sroot/.work-$name.XXXXXX"); tmpdirs+=("$work")
    log "copying the clean tree to $work"
    # sources: hard links (patch replaces the files it changes, see below);
    # everything make wrote (objects, .cmd files, vmlinux): real copies.
    (cd "$base" && xargs -0 cp -al --parents -t "$work" < .mmreplay-src.list) \
        || die "cannot hard-link $base into $work"
    (cd "$base" && find . \( -type f -o -type l \) -print0 | LC_ALL=C sort -z \
        | LC_ALL=C comm -z -13 .mmreplay-src.list - \
        | tar --null -T - -cf - ) | tar -xf - -C "$work" || die "cannot copy $base into $work"
    # tools/ (objtool, resolve_btfids) record absolute paths in their .cmd/.d files:
    # point them at the copy, or objtool is rebuilt and, being newer, every object too
    (cd "$work" && find tools \( -name '.*.cmd' -o -name '.*.d' \) -type f -print0 \
        | xargs -0 -r grep -lZ -F "$base/" \
        | while IFS= read -r -d '' f; do
              sed "s|$base/|$work/|g" "$f" > "$f.mmr-tmp" && touch -r "$f" "$f.mmr-tmp" && mv -f "$f.mmr-tmp" "$f"
          done) || die "cannot rewrite paths in $work/tools"
    plog=$cache/logs/$name-$khash.log
    : > "$plog"
    for p in "${abs_patches[@]}"; do
        # break the hard link of every file the patch touches before patching it
        while read -r f; do
            if [ -f "$work/$f" ]; then cp -p "$work/$f" "$work/$f.mmr-unlink" && mv -f "$work/$f.mmr-unlink" "$work/$f"; fi
        done < <(awk '/^\+\+\+ / { f = $2; sub(/^[^\/]*\//, "", f); print f }' "$p")
        patch -d "$work" -p1 -f -s --no-backup-if-mismatch < "$p" >>"$plog" 2>&1 \
            || die "patch $(basename "$p") does not apply to $srcpkg $version (log: $plog)"
        log "applied $(basename "$p")"
    done
    log "building with -j$jobs (log: $plog)"
    if ! run_make "$work" "$plog" all; then log_tail "$plog"; die "kernel build failed (log: $plog)"; fi
    verify_config "$work/.config"
    tree=$work
fi

[ -f "$tree/arch/x86/boot/bzImage" ] && [ -f "$tree/vmlinux" ] || die "build left no bzImage/vmlinux in $tree"
# (no grep -q: with pipefail, readelf killed by SIGPIPE would fail the test)
readelf -S -W "$tree/vmlinux" 2>/dev/null | grep ' \.BTF ' >/dev/null || die "$tree/vmlinux has no .BTF section"
tmpk=$(mktemp -d "$kroot/.build.XXXXXX"); tmpdirs+=("$tmpk")
chmod 755 "$tmpk"
cp "$tree/arch/x86/boot/bzImage" "$tmpk/bzImage"
cp "$tree/vmlinux" "$tmpk/vmlinux"
cp "$tree/.config" "$tmpk/config"
cp "$tree/System.map" "$tmpk/System.map"
make -s -C "$tree" kernelrelease > "$tmpk/kernel-release" 2>/dev/null || true
echo "$srcpkg=$version" > "$tmpk/package"
if [ ${#abs_patches[@]} -gt 0 ]; then
    mkdir "$tmpk/patches"
    i=0
    for p in "${abs_patches[@]}"; do i=$((i + 1)); cp "$p" "$tmpk/patches/$(printf %02d "$i")-$(basename "$p")"; done
    echo "incremental build from $base: $(elapsed "$t0" "$(now)")s" > "$tmpk/build-info"
else
    echo "clean build: $(cat "$base/.mmreplay-build-seconds")s (tree $base)" > "$tmpk/build-info"
fi
touch "$tmpk/.complete"
rm -rf "$kdir"
mv "$tmpk" "$kdir"
log "done in $(elapsed "$t_start" "$(now)")s: $kdir"
echo "$kdir"
