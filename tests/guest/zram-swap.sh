#!/bin/sh
# Sourced by the guest scripts: swap on zram (built in, or the module).  The
# outcome goes to stdout and to /out/swap, whose last line is "zram0 on" or
# "swap: FAILED: why"; the host fails the checks that need swap on anything
# but "zram0 on" (a workload that needs swap is otherwise clean for nothing).
# A missing tool (exit 127) is a failure like any other.
mmr_swap_on() {
	if [ ! -e /sys/block/zram0 ] && ! modprobe zram; then
		echo "swap: FAILED: no /sys/block/zram0 and modprobe zram failed"; return 1
	fi
	echo 64M > /sys/block/zram0/disksize || { echo "swap: FAILED: cannot size zram0"; return 1; }
	mkswap /dev/zram0 >/dev/null || { echo "swap: FAILED: mkswap /dev/zram0 (exit $?)"; return 1; }
	swapon /dev/zram0 || { echo "swap: FAILED: swapon /dev/zram0 (exit $?)"; return 1; }
	grep -q '^/dev/zram0 ' /proc/swaps || { echo "swap: FAILED: /dev/zram0 not in /proc/swaps"; return 1; }
	echo "zram0 on"
}
mkdir -p /out
mmr_swap_on > /out/swap 2>&1
cat /out/swap
