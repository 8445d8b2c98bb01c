/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record --snapshot: read a traced process's memory state from /proc while
 * the BPF side holds it stopped, and write it as snapshot records.
 */
#ifndef MMR_SNAPSHOT_H
#define MMR_SNAPSHOT_H

#include <sys/types.h>
#include "traces/trace.h"
#include "reclaim.h"

/* Where a snapshot's time goes (bench/snapshot-cost reads them). */
enum snap_phase {
	SNAP_HOLD,		/* waiting for the SIGSTOP to land */
	SNAP_DRAIN,		/* drain_batches(): lru_add_drain_all() */
	SNAP_REFRESH,		/* stat_refresh: folding the per-CPU counters */
	SNAP_COUNTERS,		/* status, meminfo, vmstat */
	SNAP_SMAPS,		/* reading /proc/PID/smaps */
	SNAP_PAGEMAP,		/* reading /proc/PID/pagemap */
	SNAP_KPAGE,		/* reading /proc/kpageflags and kpagecount */
	SNAP_WRITE,		/* records into the trace writer (after the resume) */
	SNAP_OTHER,		/* the rest: parsing, converting, checking the hold */
	SNAP_PHASE_NR
};

struct snapshots {
	struct mmr_writer *w;
	int kflags_fd, kcount_fd;
	long page_size;
	__u32 seq;
	__u64 taken, not_held, failed;
	__u64 held;		/* snapshots of a process stopped at a call */
	__u64 coalesced;	/* calls of a process already waiting for a snapshot */
	__u64 moved;		/* pagemap read again: pages moved meanwhile */
	__u64 moved_pages;	/* still moving after the last read: MMR_PF_MOVED */
	__u64 records[MMR_K_NR];	/* records written, by kind */
	__u64 phase_ns[SNAP_PHASE_NR];	/* of the last snapshot */
	__u64 held_ns;		/* of the last: from the start until the process was resumed */
	/*
	 * record --reclaim-pass: after a held snapshot that found a present
	 * page unmlocked in a VM_LOCKED VMA, reclaim the process's cgroup and
	 * snapshot it again (MMR_SNAPF_RECLAIM), still held; at most
	 * RECLAIM_PASS_MAX times a recording.
	 */
	int reclaim;
	struct reclaim_pass rp;
	__u64 unmlocked;	/* such pages, in all held snapshots */
	__u64 unmlocked_before, unmlocked_after;	/* ... in those a pass followed, and after it */
};

int snapshots_open(struct snapshots *s, struct mmr_writer *w);
void snapshots_close(struct snapshots *s);
/*
 * Wait until every thread of @tgid, sent SIGSTOP, is stopped (or gone):
 * 1 if it is, 0 if it did not stop in time.
 */
int snapshot_wait_stopped(pid_t tgid);
/*
 * Snapshot process @tgid after thread @tid's syscall @reason.  If @stopped,
 * the BPF side sent it SIGSTOP: wait until every thread is stopped, read,
 * then SIGCONT it, and only then write the records read.  @tgid 0 writes a global snapshot (counters only).
 * Returns 0, or -1 if the trace could not be written.
 */
int snapshot_take(struct snapshots *s, pid_t tgid, pid_t tid, __u64 mm, __u32 reason,
		  int stopped);

#endif
