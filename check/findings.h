/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the checker finds: the verdicts, one finding, how each verdict was
 * covered.  The bottom of check/: check.c, ledger.c and verdicts.c all add
 * findings through here, and nothing here calls back up.
 */
#ifndef MMR_FINDINGS_H
#define MMR_FINDINGS_H

#include "traces/fields.h"
#include "traces/trace.h"

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
	__u64 repeated;		/* pages already reported at an earlier snapshot, not again */
	int by_snapshots;	/* the trace has snapshots it is judged on */
	int by_events;		/* every event kind it is judged on was recorded */
	char snap_note[320];
	char event_note[200];
};

/* The findings of one check, in the order found. */
struct findings {
	struct finding *v;
	int nr, cap;
	__u64 total;		/* incl. pages merged into a stored range, and ones not stored */
	__u64 not_stored;	/* found past FINDINGS_MAX (or out of memory): counted only */
	__u64 *seen;		/* hashes of the pages reported so far (findings_seen) */
	size_t seen_nr, seen_cap;
};

#define FINDINGS_MAX 10000	/* stored; past it findings are only counted */

/* A new finding, zeroed but for these fields; NULL if not stored (still counted). */
struct finding *findings_add(struct findings *fs, enum verdict v, int pid, __u64 mm, int tid,
			     __u64 ts, __u64 addr, __u64 pfn, const char *op);
/* One more line of evidence, if f is not NULL and has room. */
void finding_evidence(struct finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void findings_free(struct findings *fs);
/*
 * Whether page @addr/@pfn of @mm was already reported as @v (at an earlier
 * snapshot); records it if not.  Past SEEN_MAX pages nothing is recorded
 * and every page is new: repeats are then reported, never lost.
 */
int findings_seen(struct findings *fs, enum verdict v, __u64 mm, __u64 addr, __u64 pfn);
#define SEEN_MAX (1u << 20)

const char *verdict_name(enum verdict v);
/* "seconds.microseconds" of a trace timestamp */
const char *ts_str(__u64 ts, char *buf, size_t len);

#define NR_RSS MMR_NR_RSS	/* rss_stat's counters, named by mmr_rss_name() */

#endif
