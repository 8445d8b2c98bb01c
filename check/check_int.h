/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checker state shared by check.c (events), ledger.c (event ledgers),
 * verdicts.c (snapshot rules) and sysrec.c (each thread's last syscall).
 * Calls go one way: check.c -> ledger.c, verdicts.c -> sysrec.c, findings.c.
 */
#ifndef MMR_CHECK_INT_H
#define MMR_CHECK_INT_H

#include "findings.h"
#include "traces/fields.h"
#include "traces/syscalls.h"
#include "traces/trace.h"

/* flags the rules look at (the syscall numbers: syscalls.h) */
#define MADV_DONTNEED 4
#define MADV_FREE 8
#define MADV_REMOVE 9
#define MADV_DONTNEED_LOCKED 24
#define MLOCK_ONFAULT 1
#define MCL_ONFAULT 4
#define FALLOC_FL_PUNCH_HOLE 2

/* classes of syscalls seen on an mm since its last snapshot */
#define OP_ZAP		0x1	/* munmap, mremap, zapping madvise, shmdt */
#define OP_UNLOCK	0x2	/* munlock, munlockall, mlock2 over a range again */
#define OP_TRUNC	0x4	/* truncate, ftruncate, fallocate punch */
#define OP_EXEC		0x10

struct snap_vma {
	struct mmr_snap_vma v;
	size_t first, nr;	/* its pages in snap.pages */
};

struct snap {
	__u32 seq, reason, flags;
	__u32 reclaim_us;	/* MMR_SNAPF_RECLAIM: the pass before it */
	__u64 ts;
	int tid;
	__u64 trunc_count;	/* checker's trunc_count when it was taken */
	struct mmr_snap_counters st;
	struct snap_vma *vmas;
	size_t nr_vmas, cap_vmas;
	struct mmr_snap_page *pages;
	size_t nr_pages, cap_pages;
	int disordered;		/* VMAs or pages not ascending, or a page outside its VMA */
};

struct syscall_rec {		/* the last mm syscall of a thread */
	int tid, tgid;
	__u32 nr;
	__u64 args[6];
	struct mmr_file_id file;
	__s64 ret;
	int done;		/* sys_exit seen */
	__u16 cpu, exit_cpu;	/* where it entered, and returned */
	__u64 ts;
	char path[MMR_PATH_MAX];
};

/* An mlock-family call: its page range and when it ran. */
struct lock_call {
	__u64 start, end;	/* [0, ~0) for mlockall */
	__u64 entry, exit;
	int failed;		/* returned an error: its populate may have stopped early */
};

#define LOCK_CALLS_MAX 4096	/* past it they merge into one (wider, still sound) */

/* A range an mm stopped locking or mapping: munlock, munmap, mremap, shmdt, its exit. */
struct unlock_rec {
	__u64 mm, ts, start, end;
	__u64 exit;		/* when the call returned (ts: an exit_mmap) */
	int cpu_moved;		/* it returned on another CPU than it entered on */
	__u64 snap_ts;		/* of the snapshot its PFNs come from */
	__u64 *pfns;		/* sorted: the pages its last snapshot showed there */
	size_t nr_pfns;
	int known;		/* that snapshot showed all it mapped there then */
};

#define UNLOCKS_MAX 64		/* kept; older ones are known only to have been */

/* A run of reclaim's rmap visits (try_to_unmap_one, folio_referenced_one) to [start, end) of @mm. */
struct reclaim_rec {
	__u64 mm, start, end, entry, exit;
};

#define RECLAIMS_MAX 256

struct mm_state {
	__u64 mm;
	int tgid;
	__s64 rss[NR_RSS];
	__u8 rss_known[NR_RSS];
	int exited;		/* exit_mmap seen */
	int lock_raced;		/* an mlock() ran while pages migrated, no munlock since */
	struct lock_call *calls;	/* mlock-family calls whose range is still locked */
	size_t nr_calls, cap_calls;
	int calls_lost;		/* one could not be kept: the migration rule cannot follow pages */
	__u32 syscalls_since;	/* mm syscalls completed since its last snapshot */
	__u64 fault_lo, fault_hi;	/* [lo, hi]: addresses faulted since then (lo > hi: none) */
	int fault_locked;	/* one of them in a VMA that snapshot showed locked */
	int helper;		/* a replay helper (explore's perturber): not judged */
	__u64 exit_ts;
	__u32 ops;		/* OP_* since the last snapshot */
	__u32 ops_before_last;	/* the same, without the last syscall */
	int onfault_all;	/* mlockall(MCL_ONFAULT) */
	struct { __u64 start, end; } onfault[16];	/* mlock2(MLOCK_ONFAULT) ranges */
	int nr_onfault;
	struct snap *last, *cur;
	/*
	 * lost-mlock: the pages its last snapshot withheld, and why, for the
	 * snapshot after a reclaim pass (MMR_SNAPF_RECLAIM) to resolve
	 */
	struct withheld { __u64 addr; int rule; } *wh;
	size_t nr_wh, cap_wh;
	struct mm_ledger *lg;	/* ledger.c: swap entries and mlock calls */
	struct mm_state *next;	/* hash chain */
};

struct checker {
	const struct mmr_trace *t;
	long page_size;
	int rss_exact;		/* rss_stat's counters are exact sums (6.2 on) */
	int status_exact;	/* /proc/PID/status's are too (6.16 on) */
	int have_rss;		/* the trace's rss_stat format is readable */
	struct mm_state *mms[1024];
	struct syscall_rec *sys[1024];	/* open hash on tid, linear probe */
	__u64 trunc_count;	/* truncates and hole punches by any traced task */
	struct unlock_rec unlocks[UNLOCKS_MAX];	/* the last ones, a ring */
	__u64 nr_unlocks;	/* all there were: the newest is [(nr_unlocks - 1) % UNLOCKS_MAX] */
	struct reclaim_rec reclaims[RECLAIMS_MAX];	/* the last ones, a ring */
	__u64 nr_reclaims;
	/* move_pages/migrate_pages entered less those seen to return: 0, none in flight */
	__u64 migrations_open;
	/* the last try_to_migrate_one / remove_migration_pte by any task (a
	 * migrating task, such as explore's perturber, need not own the pages) */
	__u64 last_migrate_ts, last_mapped_back_ts;
	/* global snapshots */
	int have_base, have_final, all_exited;
	struct mmr_snap base, final;
	int saw_cmd;
	struct findings found;
	struct coverage cov[V_NR];
	__u64 events, snapshots;
	__u64 snapshots_disordered;	/* not judged: see struct snap */
	char problem[160];		/* checker_problem()'s line */
	__u64 exempt_pages;	/* lost-mlock: by-design exceptions */
	__u64 exempt_untold;	/* ... large, in a snapshot that could not tell PMD-mapped ones */
	/* pages a snapshot read while they kept moving (MMR_PF_MOVED): locked VMAs', others' */
	__u64 moved_locked, moved_other;
	__u64 stranded_unjudged;	/* stranded-mlock: mapped by untraced mms */
	__u64 stranded_shared;		/* stranded-mlock: shared pages judged across mms */
	__s64 mlocked_delta, stranded_delta;	/* global counters, end - start */
	/* event ledgers (ledger.c) */
	struct ledger *lg;
	__u64 cur_ts;		/* of the event being handled */
	__u64 drops;		/* events the recorder dropped: ledgers cannot be trusted */
	__u64 ledger_withheld;
	__u64 rss_unattributed;	/* remote rss_stat changes the recorder could not attribute */
	int reclaim_no_swap;	/* the reclaim passes ran with no swap on: anon pages not scanned */
	__u64 rss_withheld;	/* rss-counter-mismatch findings withheld for them */
	__u64 ledger_not_stored;	/* ledger findings counted, not stored */
	__u64 ledger_pages_not_stored;	/* and their pages */
	__u64 zaps_checked, zaps_over_swap, keep_zaps_checked, swap_adds, swap_resets;
	__u64 munlocks_checked, locks_checked;
	__u64 munlocks_migrating;	/* munlock_folio by an unmapping rmap walk: not judged */
	__u64 walk_mlocks_checked;	/* mlock_folio by an rmap walk over the page: judged */
	__u64 pfn_frees;		/* mm_page_free: a ledger PFN's entry ended */
	__u64 new_locked_checked;	/* new_anon_rmap: new pages of locked vmas judged */
	__u64 new_locked_swapin;	/* ... of which swapped in (6.18): not judged */
};

/* qsort() order of __u64s */
static inline int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* verdicts.c */
void verdicts_snapshot(struct checker *c, struct mm_state *m, struct snap *s,
		       const struct syscall_rec *trig);
/* @s, taken after a reclaim pass, resolves what m->last withheld. */
void verdicts_reclaim(struct checker *c, struct mm_state *m, struct snap *s);
/* What m->last withheld and no reclaim pass followed: counted so. */
void verdicts_unresolved(struct checker *c, struct mm_state *m);
void snap_free(struct snap *s);
/* @addr lies in a VMA of @s that is locked (VM_LOCKED, not VM_IO or hugetlb). */
int snap_locked_at(const struct snap *s, __u64 addr);
void verdicts_coverage(struct checker *c);

/* ledger.c */
struct ledger *ledger_new(const struct mmr_trace *t);
void ledger_free(struct ledger *lg);
void ledger_mm_free(struct mm_ledger *l);
void ledger_event(struct checker *c, struct mm_state *m, const struct mmr_event *ev);
void ledger_event_done(struct checker *c, const struct mmr_event *ev);
void ledger_swapents(struct checker *c, struct mm_state *m, int tid, __s64 old, __s64 val);
void ledger_syscall(struct checker *c, struct mm_state *m, const struct syscall_rec *r);
void ledger_exit_mmap(struct mm_state *m);
void ledger_coverage(struct checker *c);
/*
 * The trace follows migrated pages to their new PFN (remove_migration_pte's
 * pte), and dropped none of those events.
 */
int ledger_follows_migration(const struct checker *c);
/* When remove_migration_pte last mapped @pfn back in, 0 never. */
__u64 ledger_mapped_back_ts(const struct checker *c, __u64 pfn);

/* unlocks.c */
/*
 * Mm @mm (state @m, NULL if never seen) stopped locking or mapping
 * [start, end) at @ts (@moved: the call returned on another CPU).
 */
void note_unlock(struct checker *c, __u64 mm, const struct mm_state *m, __u64 start, __u64 end,
		 __u64 ts, int moved);
/* An rmap visit (try_to_unmap_one, folio_referenced_one): one run of reclaim. */
void on_rmap_visit(struct checker *c, const struct mmr_event *ev);
/*
 * Why a page at @addr of @m left mlocked by a munlock or unmap of its range
 * may still be in that state for a while (the rings hold them); D_NR if
 * nothing says so.
 */
enum defer_rule unlock_pending(const struct checker *c, const struct mm_state *m, __u64 addr);

/* sysrec.c */
/* the last mm syscall of @tid, or NULL */
struct syscall_rec *checker_sys(const struct checker *c, int tid);
/* the same, made (or taken over) if there is none; NULL if out of memory */
struct syscall_rec *checker_sys_slot(struct checker *c, int tid);
static inline int is_migration_call(__u32 nr)
{
	return nr == NR_MOVE_PAGES || nr == NR_MIGRATE_PAGES;
}

/* A move_pages/migrate_pages of any traced thread has not returned yet. */
int migration_in_flight(const struct checker *c);
int mm_locking(const struct checker *c, const struct mm_state *m);
/* The same, one that moves pages of process @tgid. */
int migration_in_flight_of(const struct checker *c, int tgid);
void describe_syscall(const struct syscall_rec *r, char *buf, size_t len);

/* findings.c, for a finding about mm @m (NULL: none) */
static inline struct finding *finding_add(struct checker *c, enum verdict v,
					  const struct mm_state *m, int tid, __u64 ts,
					  __u64 addr, __u64 pfn, __u64 nr, const char *op)
{
	return findings_add(&c->found, v, m ? m->tgid : 0, m ? m->mm : 0, tid, ts, addr, pfn, nr,
			    op);
}

/*
 * A finding drawn from events (the ledgers, the rss counters rss_stat
 * keeps): withheld if events were dropped, as a lost event leaves a hole
 * or a stale count, and so counted when it cannot be stored.
 */
static inline struct finding *event_finding(struct checker *c, enum verdict v,
					    const struct mm_state *m, int tid, __u64 ts,
					    __u64 addr, __u64 nr, const char *op)
{
	struct finding *f = finding_add(c, v, m, tid, ts, addr, ~0ULL, nr, op);

	if (f) {
		f->from_ledger = 1;
	} else {
		c->ledger_not_stored++;
		c->ledger_pages_not_stored += nr;
	}
	return f;
}

/*
 * An rss counter that disagrees: withheld where the recorder saw remote
 * changes (reclaim, exit teardown) it could not attribute to an mm
 * (kmem:rss_stat mm_id 0, before the kernel's CRNG was ready).
 */
static inline struct finding *rss_finding(struct checker *c, const struct mm_state *m, int tid,
					  __u64 ts, const char *op)
{
	if (c->rss_unattributed) {
		c->rss_withheld++;
		return NULL;
	}
	return event_finding(c, V_RSS_MISMATCH, m, tid, ts, 0, 0, op);
}

#endif
