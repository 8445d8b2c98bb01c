#!/bin/sh
# Runs inside a QEMU guest (tests/test_guest): zram swap, then mmreplay probes
# and a recording of each workload, all into /out for the host to check, with
# /proc/vmstat's pswpout before and after each (NAME.pswpout: "BEFORE AFTER").
set -u
PATH=/mmreplay:$PATH
mkdir -p /out /tmp
. /mmreplay/zram-swap.sh
mmreplay probes --json > /out/probes.json
uname -r > /out/uname
pswpout() { awk '$1 == "pswpout" { print $2 }' /proc/vmstat; }
for w in mlock_memfd fork_mlock "cow_pageout_truncate /tmp"; do
	name=${w%% *}
	before=$(pswpout)
	MMR_REPORT=/out/$name.report mmreplay -v -v record -o /out/$name.trace -- /mmreplay/$w \
		2> /out/$name.record.err
	rc=$?
	echo "$before $(pswpout)" > /out/$name.pswpout
	echo "$name: record exit $rc"
	[ "$rc" = 0 ] || tail -n 25 /out/$name.record.err
done
# with snapshots: bpf_send_signal stops the task, the recorder reads /proc
for w in "mlock_rules" "cow_pageout_truncate /tmp"; do
	name=snap_${w%% *}
	before=$(pswpout)
	MMR_REPORT=/out/$name.report mmreplay record --snapshot -o /out/$name.trace -- /mmreplay/$w \
		2> /out/$name.record.err
	echo "$name: record exit $?"
	echo "$before $(pswpout)" > /out/$name.pswpout
done
# the kernel's own mlock selftests, where the host could build them: from events
# (their status is record's) and with snapshots
for t in mlock2-tests mlock-random-test; do
	[ -x /mmreplay/$t ] || continue
	name=st_$t
	mmreplay record -o /out/$name.trace -- /mmreplay/$t 2> /out/$name.record.err
	echo $? > /out/$name.record-exit
	mmreplay record --snapshot -o /out/snap_$name.trace -- /mmreplay/$t \
		2> /out/snap_$name.record.err
	echo $? > /out/snap_$name.record-exit
	echo "$name: record exit $(cat /out/$name.record-exit), with snapshots $(cat /out/snap_$name.record-exit)"
done
# the kprobe path, as on a kernel where fentry is not allowed
MMREPLAY_NO_FENTRY=1 MMR_REPORT=/out/kprobe.report mmreplay record -o /out/kprobe.trace \
	-- /mmreplay/mlock_memfd 2> /out/kprobe.record.err
echo "kprobe: record exit $?"
