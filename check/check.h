/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The checker: turns a trace into verdicts (lost-mlock, stranded-mlock,
 * skipped-swap-entry, dropped-cow-swap-entry, rss-counter-mismatch).
 * Events go in one at a time, in time order; memory is bounded by the live
 * mms, their last snapshot and the pending syscalls, not by the trace.
 */
#ifndef MMR_CHECK_H
#define MMR_CHECK_H

#include <stdint.h>
#include "trace.h"

enum verdict {
	V_LOST_MLOCK,
	V_STRANDED_MLOCK,
	V_SKIPPED_SWAP,
	V_DROPPED_COW_SWAP,
	V_RSS_MISMATCH,
	V_NR,
};

#define FINDING_EVIDENCE 4

struct finding {
	enum verdict kind;
	int pid, tid;
	__u64 mm, ts;
	__u64 address, nr_pages;	/* address 0: not about one range */
	__u64 pfn;			/* ~0: unknown */
	__u32 snapshot;			/* seq, 0 if from events */
	int from_ledger;		/* drawn from the event ledgers (ledger.c) */
	char op[128];			/* what should have produced the right state */
	char evidence[FINDING_EVIDENCE][224];
	int nr_evidence;
};

/* How a verdict was checked, from each source. */
struct coverage {
	__u64 snap_checked;	/* snapshots (or pages) it was evaluated on */
	__u64 snap_skipped;	/* snapshots it could not be judged on */
	__u64 event_checked;	/* mms/ranges it was evaluated on from events */
	__u64 deferred;		/* pages a concurrent munlock may explain (no reclaim pass) */
	char snap_note[320];
	char event_note[200];
};

struct checker;

struct checker *checker_new(const struct mmr_trace *t, char *err, size_t errlen);
void checker_free(struct checker *c);
void checker_event(struct checker *c, const struct mmr_event *ev);
void checker_finish(struct checker *c);

const struct finding *checker_findings(const struct checker *c, int *nr);
__u64 checker_findings_total(const struct checker *c);	/* incl. ones not stored */
const struct coverage *checker_coverage(const struct checker *c, enum verdict v);
__u64 checker_events(const struct checker *c);
__u64 checker_snapshots(const struct checker *c);
const char *verdict_name(enum verdict v);

#endif
