#!/bin/sh
# Runs inside a QEMU guest on a fixture kernel (tests/test_fixtures): swap on,
# then each workload recorded twice, from events alone (NAME.trace) and with
# snapshots and reclaim passes (snap_NAME.trace), all into /out for the host to check, with
# /proc/vmstat's pswpout before and after each (NAME.pswpout: "BEFORE AFTER")
# and the recorder's exit status (NAME.record-exit).
# usage: fixture.sh 'NAME CMD ARGS' ...
set -u
PATH=/mmreplay:$PATH
mkdir -p /out /tmp
. /mmreplay/zram-swap.sh
uname -r > /out/uname
pswpout() { awk '$1 == "pswpout" { print $2 }' /proc/vmstat; }
for w in "$@"; do
	name=${w%% *}
	cmd=${w#* }
	before=$(pswpout)
	MMR_REPORT=/out/$name.report mmreplay record -o /out/$name.trace -- $cmd \
		2> /out/$name.record.err
	echo $? > /out/$name.record-exit
	echo "$name: record exit $(cat /out/$name.record-exit)"
	echo "$before $(pswpout)" > /out/$name.pswpout
	before=$(pswpout)
	MMR_REPORT=/out/snap_$name.report mmreplay record --snapshot --reclaim-pass \
		-o /out/snap_$name.trace -- $cmd 2> /out/snap_$name.record.err
	echo $? > /out/snap_$name.record-exit
	echo "snap_$name: record exit $(cat /out/snap_$name.record-exit)"
	echo "$before $(pswpout)" > /out/snap_$name.pswpout
done
