#!/bin/sh
# Runs inside a QEMU guest (tests/test_vm_replay's rmap part): swap on, then
# tests/workloads/mlock_migrate_race's own self-check with a memory.reclaim
# thread and serially, then a recording of it with reclaim, from events
# alone and with snapshots, and one with migration and reclaim passes, all
# into /out for the host to check.
# NAME.out/.err: the workload's output; NAME.exit: its (or record's) status.
set -u
PATH=/mmreplay:$PATH
. /mmreplay/zram-swap.sh
rounds=${MMR_ROUNDS:-60}
for m in reclaim serial; do
	mlock_migrate_race "$rounds" $m > /out/$m.out 2> /out/$m.err
	echo $? > /out/$m.exit
	tail -n1 /out/$m.out
done
# a round strands by a race (none in 20, recorded, once in CI): on a buggy
# kernel (MMR_WANT_STRAND=1), again up to 3 times until one did (exit 1)
for try in 1 2 3; do
	mmreplay record -o /out/events.trace -- mlock_migrate_race 20 reclaim \
		> /out/events.out 2> /out/events.err
	echo $? > /out/events.exit
	[ "${MMR_WANT_STRAND:-0}" = 1 ] && [ "$(cat /out/events.exit)" = 0 ] || break
done
echo $try > /out/events.tries
mmreplay record --snapshot -o /out/snap.trace -- mlock_migrate_race 10 reclaim \
	> /out/snap.out 2> /out/snap.err
echo $? > /out/snap.exit
# with migration and the reclaim pass: mlock() leaves pages that migration maps
# back during its walk unmlocked (VM_IO), which check withholds and the pass
# resolves.  Whether a round catches a migration is a race: again (up to 3
# times) until a pass ran; migpass.tries says how many it took.
for try in 1 2 3; do
	mmreplay record --snapshot --reclaim-pass -o /out/migpass.trace -- mlock_migrate_race 20 \
		migrate > /out/migpass.out 2> /out/migpass.err
	echo $? > /out/migpass.exit
	grep -q 'reclaim passes  *[1-9]' /out/migpass.err && break
done
echo $try > /out/migpass.tries
tail -n1 /out/events.out /out/snap.out /out/migpass.out
