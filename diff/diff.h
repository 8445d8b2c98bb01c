/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What `diff` and `export` read from a trace, and the comparison of two.
 *
 * A trace becomes the operations of each task (from the plan for a
 * recording, from the op marks for a replay; touches fold into the op
 * before them) and the kernel events each operation caused, as semantic
 * keys: the event kind, the address relocated to the mapping an operation
 * created (its page index there), and the page's role.  PFNs, mm hashes,
 * timestamps and CPU numbers are not part of a key.
 *
 * diff/ is an engine: it includes traces/, bpf/ and the replay plan
 * (replay/replay.h), never cli/.
 */
#ifndef MMR_DIFF_H
#define MMR_DIFF_H

#include "replay/replay.h"

/* Pseudo ops: what a task did before its first op, and its exit. */
#define DOP_START 0xf0
#define DOP_EXIT 0xf1
#define DOP_NONE 0xffffffffU	/* dkey.region, dop.id: none */

struct dop {
	__u64 ts, end;		/* start; end of its own syscalls (export's slice) */
	__u32 id;		/* plan index or the mark's op id; DOP_NONE for a pseudo op */
	__u32 task;
	__u16 type, nr;		/* enum rop_type or DOP_*, syscall number */
	__u32 touches;		/* touch ops folded into it */
	__u8 skipped;		/* a replay did not issue it (its range or fd is unknown there) */
	__u8 rss_fell;		/* a counter fell during it: a zap (which flushes a thread's cache before 6.2) */
	__u8 raced;		/* it overlapped another task's call when recorded */
	__s64 ret;
	__u32 ev0, nev;		/* its events: dtrace.evs[ev0 .. ev0 + nev) */
};

enum drole { R_NONE, R_ANON, R_SHMEM, R_FILE, R_FILE_SHARED, R_SWAP, R_UNEVICTABLE, R_NR };

/* A semantic key; region: the op (index in dtrace.ops) that created the mapping. */
/* dkey.flag: a read fault on a file page, a file or shmem rss change (see dkey_per_trace()) */
#define DK_CACHE 0x80

struct dkey {
	__u16 kind;		/* enum mmr_kind; MMR_K_SYS_EXIT: the op's result */
	__u8 role, flag;	/* enum drole; kind-specific bits (write, lru list...) */
	__u32 region;		/* DOP_NONE: no address */
	__u32 page;		/* page index in the region */
	__s32 val;		/* kind-specific: pages, errno, rss member */
};

struct devent {
	__u64 ts;
	struct dkey k;
};

struct dtrace {
	int replay;		/* ops from the replay's marks */
	long page_size;
	int nr_tasks;
	struct dop *ops;	/* by task: its start, its ops in order, its exit */
	size_t nr_ops, cap_ops;
	size_t *task_op0;	/* first op of each task; [nr_tasks] = nr_ops */
	struct devent *evs;	/* by op, in time order within one */
	size_t nr_evs;
	unsigned char recorded[MMR_K_NR];	/* the kind was recorded (status ok) */
	struct { int tid, task; } *tids;	/* threads of tasks */
	size_t nr_tids, cap_tids;
	struct rplan plan;	/* a recording's */
	char what[200];		/* the command, or "a replay of ..." */
	char comm[17];		/* a recording: the program its first task exec'd */
	char kernel[65];	/* its kernel_release */
	char thp[32];		/* its transparent hugepage mode (META thp_enabled), or "" */
	char read_fault[16];	/* META anon_read_fault: "page", "zero_page", or "" */
	int rss_exact;		/* its kernel counts rss exactly (6.2 on) */
	int rss_synced;		/* a replay that flushed its threads' rss caches at each op */
	__u64 zero_filled;	/* a replay's populates of pages its kernel read-faulted to the zero page */
	struct { int kind, pid; __u32 op; } perturbs[8];	/* explore's perturbers */
	int nr_perturbs;
};

/* dtrace_load(): the replay's marks do not name their ops: give the recording's plan. */
#define DTRACE_NEEDS_PLAN -2

/*
 * Reads a trace; types: the plan whose op ids an old replay's marks refer
 * to (or NULL).  0, or -1 (DTRACE_NEEDS_PLAN) with err set.
 */
int dtrace_load(struct dtrace *d, struct mmr_trace *t, const struct rplan *types, char *err,
		size_t errlen);
/*
 * Loads n (1 or 2) traces; a replay whose marks do not name their ops
 * takes them from the other, a recording.  0, or 1 + the index of the one
 * that failed, with err set (and every d[] to be freed).
 */
int dtrace_load_all(struct dtrace *d, struct mmr_trace *const *t, int n, char *err,
		    size_t errlen);
void dtrace_free(struct dtrace *d);
/* The task of a thread, -1 if it ran no task. */
int dtrace_task_of(const struct dtrace *d, int tid);
/* "mlock", "touch", "start", "exit"... */
const char *dop_name(const struct dop *o);

/* ---- alignment ---------------------------------------------------------- */

/* One step of an edit script: a[i] matches b[j], or only a[i] / only b[j] (the other -1). */
struct dstep {
	long i, j;
};

/*
 * Myers' diff of two token arrays: the steps in order, -1 if they differ
 * by more than max_d insertions and deletions, -2 if out of memory.
 * *steps is malloc'ed.
 */
long dalign(const __u32 *a, size_t na, const __u32 *b, size_t nb, long max_d,
	    struct dstep **steps);

/* ---- comparison ------------------------------------------------------- */

/* One event key of an op pair, and how often each side has it. */
struct dcount {
	__u32 key;
	__u32 a, b;
};

/* Two aligned ops (either may be DOP_NONE: only in the other trace) that differ. */
struct dpair {
	__u32 a, b;		/* op indices, DOP_NONE: absent */
	struct dcount *only;	/* keys whose counts differ */
	size_t nr_only;
	struct dstep *seq;	/* the events' edit script (indices into each op's events) */
	long nr_seq;		/* -1: too different to show */
};

/* Events of one kind, compared. */
struct dkind {
	__u64 a, b;
	__u64 cached[2];	/* DK_CACHE events of A and B: counted, not compared */
	int left_out;		/* 1: only A recorded it, 2: only B */
	int per_trace;		/* counted, not compared op by op (see dkind_per_trace()) */
};

/*
 * Kinds counted per trace but not compared op by op: LRU additions are
 * drained from per-CPU batches by whichever call comes next, and whether a
 * fault or call takes mmap_lock depends on the per-VMA lock fast path and
 * the page cache, not on the operation.
 */
int dkind_per_trace(int kind);
/*
 * Those, and read faults on file pages and changes of MM_FILEPAGES and
 * MM_SHMEMPAGES (DK_CACHE): fault-around maps the neighbours of a faulting
 * page that are in the page cache, so whether a read faults, and how many
 * file pages a fault, a populating call or a COW maps or unmaps, depends on
 * the cache (a replay's stand-ins start cold), not on the operation.
 */
int dkey_per_trace(const struct dkey *k);

struct dverdict {
	__u32 pair;		/* index in ddiff.pairs */
	char text[256];
};

struct ddiff {
	const struct dtrace *A, *B;
	struct dkey *keys;	/* interned: keys[id]; region given as an A op, or B op | 1<<31 */
	size_t nr_keys, cap_keys;
	__u32 *hash;		/* open addressing over keys: id + 1 */
	size_t hash_cap;
	__u32 *ka, *kb;		/* each event's key id */
	struct dpair *pairs;	/* the ops that differ, in A's order */
	size_t nr_pairs, cap_pairs;
	size_t aligned, only_a, only_b;	/* ops (pseudo ops not counted) */
	size_t skipped;			/* aligned ops a replay did not issue: not compared */
	size_t rss_moved;		/* ops equal once rss changes moved between threads count */
	size_t rss_late;		/* ops equal once rss changes a pre-6.2 trace reported late count */
	struct dkind kinds[MMR_K_NR];
	struct dverdict *verdicts;
	size_t nr_verdicts;
	__u64 events;		/* compared, both sides */
	int oom;		/* ran out of memory: ddiff_run fails */
};

/*
 * Compares two traces.  0, or -1 with err set: they do not record the same
 * workload (too few of their ops line up).
 */
int ddiff_run(struct ddiff *x, const struct dtrace *A, const struct dtrace *B, char *err,
	      size_t errlen);
void ddiff_free(struct ddiff *x);
/* The compared key ids of one op (side 0: A, 1: B), in order; malloc'ed. */
__u32 *ddiff_op_keys(const struct ddiff *x, int side, __u32 op, size_t *n);
/* A key id as text; the region names A's op, or B's ("B op 12"). */
void ddiff_key_text(const struct ddiff *x, __u32 key, char *buf, size_t len);
int ddiff_equivalent(const struct ddiff *x);
/*
 * What the reader of a comparison must know about how the two traces
 * report (a kernel that caches rss changes per thread, and whether the
 * replay flushed them per op; transparent hugepage modes that differ):
 * up to @max lines into @notes; their number.
 */
#define DIFF_NOTE_LEN 256
#define DIFF_NOTES_MAX 5
int ddiff_notes(const struct ddiff *x, char notes[][DIFF_NOTE_LEN], int max);

#endif
