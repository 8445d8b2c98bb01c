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

struct finding_page {
	__u64 addr;			/* 0: unknown (findings from events know the pfn) */
	__u64 pfn;			/* ~0: unknown */
};

/*
 * One finding.  Pages found by one verdict for one mm at one point (the
 * same snapshot, or the same operation seen in events) are one bug, so one
 * finding: a group, with its pages in pages[] and the evidence of its first.
 */
struct finding {
	enum verdict kind;
	int pid, tid;
	__u64 mm, ts;
	__u64 address, nr_pages;	/* first page (0: not about one page), pages in all */
	__u64 pfn;			/* first page's; ~0: unknown */
	__u32 snapshot;			/* seq, 0 if from events */
	__u64 op_ts;			/* from events: when the operation began (0: unknown) */
	int from_ledger;		/* drawn from the event ledgers (ledger.c) */
	int group;			/* made by findings_page(): pages[] lists its pages */
	struct finding_page *pages;	/* the first nr_listed of nr_pages */
	__u64 nr_listed;
	size_t cap_listed;
	char op[128];			/* what should have produced the right state */
	char evidence[FINDING_EVIDENCE][224];
	int nr_evidence;
};

/* Where a page was found: the key of its group, and who found it. */
struct finding_at {
	enum verdict kind;
	int pid, tid;
	__u64 mm, ts;
	__u32 snapshot;
	__u64 op_ts;
	int from_ledger;
	const char *op;
};

/*
 * Why a snapshot verdict withheld a page: each rule names a transient the
 * kernel allows (verdicts.c says which code it models).
 */
enum defer_rule {
	D_SHARED_FOREIGN_UNLOCK,	/* shared page, another mm munlocked or unmapped */
	D_OTHER_RANGE_UNLOCKED,		/* shared or file page, this mm unlocked another range */
	D_MAPPED_BACK_IN_MLOCK,		/* migration mapped it back during an mlock of its range */
	D_MIGRATION_UNFOLLOWED,		/* any migration, where the trace cannot follow pages */
	D_MIGRATING_NOW,		/* a move_pages/migrate_pages of this process in flight */
	D_MUNLOCK_BATCH_ELSEWHERE,	/* its munlock moved CPU: another CPU's batch holds it */
	D_UNLOCK_RACED_RECLAIM,		/* reclaim visited it during its range's munlock */
	D_LOCK_FAILED,			/* swapped, and the last mlock of its range failed */
	D_NR
};

/* "migrated back in during an mlock of its range" */
const char *defer_rule_text(enum defer_rule r);
/* "mapped_back_in_mlock" */
const char *defer_rule_key(enum defer_rule r);

/* How a verdict was checked, from each source. */
struct coverage {
	__u64 snap_checked;	/* snapshots (or pages) it was evaluated on */
	__u64 snap_skipped;	/* snapshots it could not be judged on */
	__u64 event_checked;	/* mms/ranges it was evaluated on from events */
	__u64 deferred;		/* pages a documented transient may explain */
	__u64 deferred_by[D_NR];	/* the same, by rule */
	/*
	 * lost-mlock: what a reclaim pass (record --reclaim-pass) made of the
	 * deferred pages of the snapshot before it: mlocked again (the
	 * transient it was), evicted from their VM_LOCKED VMA or left
	 * unmlocked where reclaim must have scanned them (findings), or still
	 * not mlocked where it may not have; and those no pass followed
	 */
	__u64 reclaim_remlocked, reclaim_lost, reclaim_unreached, reclaim_none;
	char reclaim_note[320];	/* the same in words, and why no pass ran */
	__u64 repeated;		/* pages already reported at an earlier snapshot, not again */
	/*
	 * lost-mlock and stranded-mlock: pages a snapshot rule gave a verdict
	 * on, right or wrong (not those exempt, deferred or not judged)
	 */
	__u64 pages_judged;
	int by_snapshots;	/* the trace has snapshots it is judged on */
	int by_events;		/* every event kind it is judged on was recorded */
	char snap_note[448];
	char event_note[512];
};

/* The findings of one check, in the order found. */
struct findings {
	struct finding *v;
	int nr;
	size_t cap;
	__u64 total;		/* findings (groups), incl. ones not stored */
	__u64 pages;		/* pages of all findings, incl. ones not stored */
	__u64 not_stored;	/* findings past FINDINGS_MAX (or out of memory): counted only */
	__u64 pages_not_stored;	/* their pages */
	__u64 listed;		/* pages in the findings' page lists, at most LISTED_MAX */
	__u64 unstored_key;	/* key of the last finding not stored: its pages join it */
	struct { __u64 key; int i; } *groups;	/* index of the stored groups by key */
	__u64 *seen;		/* hashes of the pages reported so far (findings_seen) */
	size_t seen_nr, seen_cap;
};

#define FINDINGS_MAX 10000	/* stored; past it findings are only counted */
#define GROUPS_CAP 32768	/* slots of the group index: a power of 2 > 2 * FINDINGS_MAX */
#define LISTED_MAX (1u << 20)	/* pages listed in all (16 MB); past it only counted */

/*
 * A new finding of @nr pages (not a group: a count, or one page), zeroed
 * but for these fields; NULL if not stored (still counted).
 */
struct finding *findings_add(struct findings *fs, enum verdict v, int pid, __u64 mm, int tid,
			     __u64 ts, __u64 addr, __u64 pfn, __u64 nr, const char *op);
/*
 * Page @addr/@pfn found at @at: it joins the finding of the same verdict,
 * mm, snapshot, op and op_ts if there is one (NULL returned: nothing to
 * add), else starts it (returned, for its evidence; NULL if not stored).
 */
struct finding *findings_page(struct findings *fs, const struct finding_at *at, __u64 addr,
			      __u64 pfn);
/*
 * Drops the findings drawn from the event ledgers, stored ones and the
 * @not_stored (with @pages_not_stored pages) that were only counted;
 * returns how many findings that was.
 */
__u64 findings_drop_ledger(struct findings *fs, __u64 not_stored, __u64 pages_not_stored);
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
