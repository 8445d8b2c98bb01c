#!/bin/sh
# scripts/deps.sh [--test]: install from Debian what mmreplay needs to build
# it and run the example (make, the compilers, libbpf, bpftool,
# libtraceevent, libelf); with --test, also what its tests call (python3,
# procps, stress-ng, bpftrace, busybox, QEMU, libFuzzer's runtime, GNU
# parallel, which runs replay --explore --shard's shards side by side or
# across hosts...) and
# the programs bench/replay-fidelity records (sqlite3, git; the rest are
# in the lists already or Essential).  Runs on a pristine
# Debian 12 (debootstrap --variant=minbase), where even make is missing, as
# root.  The package lists live here and nowhere else; `make deps` calls
# this script.
#
# QEMU: Debian 12's 7.2 hangs bringing up a second vCPU under -icount, which
# deterministic explore in a guest needs (replay --kernel --icount); 10.0
# from bookworm-backports does not.  The backports source reuses the mirror
# this machine's apt already uses for bookworm.
set -eu

BUILD_DEPS="make gcc libc6-dev clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
	libtraceevent-dev pkg-config"
TEST_DEPS="python3 procps util-linux stress-ng bpftrace busybox-static cpio xz-utils zstd
	qemu-system-x86 libclang-rt-14-dev sqlite3 git parallel"
BACKPORTS=/etc/apt/sources.list.d/mmreplay-bookworm-backports.sources

me=deps.sh
die() { echo "$me: $*" >&2; exit 1; }

add_backports() {
	grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release || return 1
	mirror=$(sh "$(dirname "$0")/debian-mirror.sh" bookworm) || mirror=
	if [ -z "$mirror" ]; then
		echo "$me: no apt source serves bookworm here; QEMU comes from bookworm itself" >&2
		rm -f "$BACKPORTS"
		return 1
	fi
	printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' \
		"$mirror" /usr/share/keyrings/debian-archive-keyring.gpg > "$BACKPORTS"
}

[ "$(id -u)" = 0 ] || die "installing packages needs root (apt-get)"
command -v apt-get >/dev/null || die "apt-get not found: this script is for Debian 12"
pkgs=$BUILD_DEPS
test_deps=0
case "${1:-}" in
	--test) test_deps=1; pkgs="$BUILD_DEPS $TEST_DEPS" ;;
	'') ;;
	*) die "usage: scripts/deps.sh [--test]" ;;
esac
backports=0
if [ "$test_deps" = 1 ] && add_backports; then backports=1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || die "apt-get update failed"
# shellcheck disable=SC2086
apt-get install -y -q $pkgs || die "apt-get install failed"
if [ "$backports" = 1 ]; then
	apt-get install -y -q -t bookworm-backports qemu-system-x86 \
		|| die "apt-get install -t bookworm-backports qemu-system-x86 failed"
fi
