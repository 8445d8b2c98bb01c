#!/bin/sh
# Sourced by the guest scripts: swap on zram (built in, or the module).
if [ -e /sys/block/zram0 ] || modprobe zram 2>/dev/null; then
	echo 64M > /sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 \
		&& echo "swap: zram0 on"
fi
