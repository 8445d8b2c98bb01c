#!/bin/busybox sh
# /init of the guest that `mmreplay replay --kernel` boots (linked into
# mmreplay from vm/guest-init.sh).  The initramfs holds busybox, mmreplay
# and its libraries, the trace, and under /mmreplay: args (the command,
# one argument per line), modules (to insmod, in order) and settings
# ("FILE VALUE" to write first).  Everything
# the command leaves in /out goes back to the host (vm/qemu.c).
/bin/busybox --install -s
export PATH=/mmreplay:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/shm /out /tmp /var/tmp /root
mount -t tmpfs tmpfs /dev/shm
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
exec </dev/null >/dev/console 2>&1
up() { cut -d' ' -f1 /proc/uptime; }
fact() { echo "$1=$2" >> /out/guest; }
ulimit -l unlimited
fact init_s "$(up)"
fact kernel "$(uname -r)"
fact cpus "$(grep -c ^processor /proc/cpuinfo)"
fact nodes "$(cat /sys/devices/system/node/online 2>/dev/null || echo 0)"
while read -r m; do
	insmod "$m" || echo "mmreplay-guest: insmod $m failed"
done < /mmreplay/modules

# the recording's settings (transparent hugepage modes): "FILE VALUE" lines
while read -r f v; do
	[ -n "$f" ] || continue
	echo "$v" 2>/dev/null > "$f" || echo "mmreplay-guest: cannot set $f to $v"
done < /mmreplay/settings

# swap on zram, built in or from the modules
swap=none
if [ -e /sys/block/zram0 ]; then
	echo 256M > /sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null \
		&& swapon /dev/zram0 && swap="zram0 256M"
fi
fact swap "$swap"

set --
while IFS= read -r a; do set -- "$@" "$a"; done < /mmreplay/args
echo "mmreplay-guest: $(uname -r), nodes $(cat /sys/devices/system/node/online 2>/dev/null), swap $swap: running mmreplay $*"
fact cmd_start_s "$(up)"
mmreplay "$@" > /out/replay.log 2>&1
fact status "$?"
fact cmd_end_s "$(up)"
# what the replay must not leave behind: perturber processes, their cgroups
fact leftover_perturbers "$(ps -o comm | grep -c '^mmr-perturb')"
fact leftover_cgroups "$(find /sys/fs/cgroup /var/tmp /tmp -name 'mmreplay-[0-9]*' -type d 2>/dev/null | wc -l)"
echo "mmreplay-guest: done, sending /out"

pack() {
	for f in /out/*; do
		[ -f "$f" ] || continue
		printf 'MMRFILE %d %s\n' "$(wc -c < "$f")" "${f##*/}"
		cat "$f"
	done
	printf 'MMREND\n'
}
# ivshmem (vm/send.c) first: memory stores keep an -icount run deterministic
if ! mmreplay __vm-send /out; then
	dev=
	n=0
	while [ $n -lt 30 ] && [ -z "$dev" ]; do
		for d in /dev/nvme0n1 /dev/vda; do
			[ -b $d ] && dev=$d && break
		done
		[ -n "$dev" ] || usleep 100000
		n=$((n + 1))
	done
	if [ -n "$dev" ]; then
		pack > $dev
	else
		stty -F /dev/ttyS1 raw -echo -ixon -ixoff 115200
		pack > /dev/ttyS1
	fi
fi
sync
reboot -f
