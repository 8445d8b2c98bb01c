#!/usr/bin/env bash
# selftest.sh - checks that the QEMU harness works on this machine: fetches the Debian
# 6.1 cloud kernel (fetch-debian-kernel.sh), then boots it with run-in-guest.sh to test
# exit status, byte-exact /out (sha256 in guest vs host), NUMA, zram, every transport,
# timeout (124) and panic (125) detection.
#
# Usage: tests/qemu/selftest.sh [-v] [--quick]
#   --quick  skip the slow cases (serial transport, timeout, panic)
#   Prints one line per case and ends with "N passed, N failed"; exits 1 on any failure.
#   Takes about 45 s under TCG (each boot is ~3-5 s); --quick about 30 s.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
verbose=0 quick=0
for a in "$@"; do
    case "$a" in
        -v) verbose=1 ;;
        --quick) quick=1 ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "selftest: unknown argument $a" >&2; exit 2 ;;
    esac
done

kdir=$("$here/fetch-debian-kernel.sh" | tail -n1)
K=$kdir/vmlinuz
run=("$here/run-in-guest.sh" --kernel "$K")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qemu-selftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# check NAME WANT_STATUS CMD... : CMD's exit status must be WANT_STATUS
check() {
    local name=$1 want=$2 rc=0 t0 t1
    shift 2
    t0=$(date +%s.%N)
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    t1=$(date +%s.%N)
    if [ "$rc" = "$want" ]; then
        pass=$((pass + 1)); printf 'PASS %-22s (%.1fs)\n' "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
    else
        fail=$((fail + 1)); printf 'FAIL %-22s exit %s, wanted %s\n' "$name" "$rc" "$want"
        sed 's/^/    /' "$tmp/err" | tail -n 15
    fi
    if [ "$verbose" = 1 ]; then sed 's/^/    | /' "$tmp/out" "$tmp/err" | tail -n 20; fi
}

check exit-status 42 "${run[@]}" -- sh -c 'exit 42'
check output 0 bash -c '[ "$("$@" -- printf "%s|" "a b" "it'"'"'s")" = "a b|it'"'"'s|" ]' _ "${run[@]}"
check binary-out 0 bash -c '"$@" --out "'"$tmp"'/bin" -- sh -c "head -c 3000000 /dev/urandom > /out/r.bin; sha256sum /out/r.bin" > "'"$tmp"'/sha" &&
    [ "$(cut -d" " -f1 "'"$tmp"'/sha")" = "$(sha256sum < "'"$tmp"'/bin/r.bin" | cut -d" " -f1)" ]' _ "${run[@]}"
check file-in 0 bash -c 'head -c 100000 /dev/urandom > "'"$tmp"'/in.bin"; h=$(sha256sum < "'"$tmp"'/in.bin" | cut -d" " -f1);
    [ "$("$@" --file "'"$tmp"'/in.bin:/data/" -- sha256sum /data/in.bin | cut -d" " -f1)" = "$h" ]' _ "${run[@]}"
check numa-2-nodes 0 "${run[@]}" --numa 2 -- test -d /sys/devices/system/node/node1
check zram-module 0 "${run[@]}" -- sh -c 'grep -q "^zram " /proc/modules && test -b /dev/zram0'
check btf-kprobe 0 "${run[@]}" -- test -f /sys/kernel/btf/vmlinux -a -f /sys/bus/event_source/devices/kprobe/type
check transport-virtio 0 "${run[@]}" --transport virtio -- true
if [ "$quick" = 0 ]; then
    check transport-serial 0 "${run[@]}" --transport serial -- true
    check timeout-124 124 "${run[@]}" --timeout 8 -- sleep 60
    check panic-125 125 "${run[@]}" -- sh -c 'echo c > /proc/sysrq-trigger'
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
