/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The replay engine: a plan (one operation stream per recorded task, in the
 * recorded global order) rebuilt from a trace, and the executor that runs it
 * on this kernel.
 *
 * replay/ is an engine: it includes traces/, vm/ and bpf/, never cli/; the
 * session (session.h) also check/, to check each run of a replay.
 */
#ifndef MMR_REPLAY_H
#define MMR_REPLAY_H

#include <stddef.h>
#include <linux/types.h>
#include "traces/trace.h"
#include "traces/fields.h"
#include "traces/host.h"
#include "traces/marks.h"
#include "traces/syscalls.h"
#include "record/cgroup.h"

enum rop_type {
	ROP_SYSCALL,	/* nr, a[], ret as recorded */
	ROP_TOUCH,	/* a[0] page address, a[1] 1 for a write, a[2] 1 from the kernel */
	ROP_PAGEOUT,	/* reclaim: a[0] address, a[1] pages: MADV_PAGEOUT */
	ROP_MIGRATE,	/* kernel migration: a[0] address, a[1] pages */
	ROP_SPAWN,	/* fork/clone: child task in extra */
	ROP_EXEC,	/* execve: the task gets a new, empty mm */
};

struct rop {
	__u64 ts, dur;		/* recorded start and duration, ns */
	__u64 a[6];
	__s64 ret;
	__u64 fsize;		/* size of the file at the call */
	__u32 task;
	__u16 type;
	__u16 nr;		/* syscall number */
	__u32 file;		/* 1 + index in plan.files, 0: none */
	__u32 extra;		/* ROP_SPAWN: child task; memfd: name in plan.strs */
	__u32 addr0, naddr;	/* move_pages/migrate_pages: migrated pages in plan.addrs */
	__u32 flags;		/* ROPF_* */
};

#define ROPF_RACED 0x1	/* overlapped a syscall of another task when recorded */

struct rtask {
	int tid, tgid;
	int parent;		/* task index, -1 for a root */
	int thread;		/* shares its parent's mm and fd table */
	int vm_shared;		/* no thread, but in its parent's mm until it execs (vfork,
				 * posix_spawn's CLONE_VM) */
	__u32 *ops;		/* op indices, in order */
	size_t nr_ops, cap;
};

struct rfile {
	__u32 dev;
	__u64 ino;
	__u64 size;		/* largest size seen */
};

struct rplan {
	struct rop *ops;
	size_t nr_ops, cap_ops;
	struct rtask *tasks;
	int nr_tasks;
	size_t cap_tasks;
	struct rfile *files;
	int nr_files;
	size_t cap_files;
	__u64 *addrs;
	size_t nr_addrs, cap_addrs;
	char *strs;
	size_t strs_len, cap_strs;
	long page_size;
	__u64 first_ts, last_ts;
	/* what the recording showed but replay cannot place */
	__u64 swapouts_unplaced;	/* pages: MM_SWAPENTS rose, no try_to_unmap_one */
	__u64 swapouts;			/* pages swapped out (MM_SWAPENTS rises) */
	__u64 unreplayable;		/* process_madvise: its iovec is not recorded */
	/* the recording's transparent hugepage modes (META thp_NAME of mmr_thp_files[]), or "" */
	char thp[MMR_THP_NR][32];
	char anon_read_fault[16];	/* META anon_read_fault: "page", "zero_page", or "" */
	int migrations_traced;		/* set_migration_pte was recorded: an op's naddr is all it moved */
};

/*
 * Rebuilds the plan.  Returns 0, or -1 with err set: not a trace this
 * machine can replay, or one recorded without the events replay needs
 * (err lists them).
 */
int plan_build(struct mmr_trace *t, struct rplan *p, char *err, size_t errlen);
/*
 * plan_build() that also hands every event to hook, with the task the plan
 * gives it (its thread's, or for a kernel thread its mm's; -1: none), and
 * reads a trace of any machine (it is not to be run here).
 */
typedef void (*plan_hook)(void *ctx, const struct mmr_event *ev, int task);
int plan_build_hook(struct mmr_trace *t, struct rplan *p, plan_hook hook, void *ctx, char *err,
		    size_t errlen);
void plan_free(struct rplan *p);
/* The recorded range an op works on; 0 if it has none. */
int rop_range(const struct rplan *p, const struct rop *o, __u64 *lo, __u64 *hi);
const char *rop_name(const struct rop *o);
/*
 * mmr_grow() for replay/ and diff/: grows the array *arrp (cap elements of
 * size bytes) to hold need, new elements zeroed; 0, or -1 when out of memory
 * (*arrp and cap are then unchanged).  GROW(arr, cap, need) names the array.
 */
int replay_grow(void *arrp, size_t *cap, size_t need, size_t size);
#define GROW(arr, cap, need) replay_grow(&(arr), &(cap), (need), sizeof(*(arr)))

/* The kinds a recording needs for replay to rebuild its workload (NULL-terminated). */
extern const char *const replay_needed_kinds[];

/* MM_SWAPENTS per mm, to count the pages each rss_stat event swapped out. */
struct swap_count {
	struct { __u64 mm; struct mmr_rss_counters rss; } *mms;
	size_t nr, cap;
	int oom;		/* an mm could not be added: out of memory */
};
/* Pages an rss_stat event added to its mm's MM_SWAPENTS; 0 for a fall or another counter. */
__u64 swap_rise(struct swap_count *s, const struct mmr_event *ev, long page_size);

/*
 * One run: the plan in recorded order; or with ops a and b started
 * together; or with op a and a kernel-side perturbation of its pages.
 */
struct rrun {
	long a, b;		/* op ids, -1: plain run (b is -1 with a perturbation) */
	__u64 seed;
	int perturb;		/* PERTURB_*, with a */
};

/* Race candidates: pairs of ops of different tasks on the same pages, close in time. */
struct rpair {
	__u32 a, b;
	int perturb;		/* PERTURB_*: op a against this, b unused */
};
int plan_pairs(const struct rplan *p, __u64 window_ns, struct rpair *out, int max);
/* Ops worth perturbing (mlock, munlock, munmap, madvise... on known pages), at most max. */
int plan_targets(const struct rplan *p, __u32 *out, int max);

/* Kernel-side perturbations for --explore (perturb.c) */
enum { PERTURB_NONE, PERTURB_RECLAIM, PERTURB_MIGRATE, PERTURB_COMPACT, PERTURB_COLLAPSE,
       PERTURB_NR };
#define PERTURB_ALL (((1u << PERTURB_NR) - 1) & ~1u)
enum { RECLAIM_PAGEOUT, RECLAIM_CGROUP, RECLAIM_HIGH };

struct perturb_caps {
	unsigned ok;			/* bit k: kind k runs here */
	int reclaim_how;		/* RECLAIM_* */
	char how[PERTURB_NR][160];	/* how each kind runs */
	__u64 cost_ns[PERTURB_NR];	/* what one takes here, a power of two in us */
	char why[PERTURB_NR][160];	/* why it cannot */
	struct mmr_cgroup cg;		/* the replay's own group */
};

struct perturb_target {
	int pid;		/* the process of the op */
	__u64 addr, len;	/* its pages, in the replay */
};

const char *perturb_name(int kind);
int perturb_kind(const char *name);		/* -1: unknown */
/* "reclaim,migrate" or "none" into a mask of kinds; -1 on an unknown kind */
int perturb_parse(const char *list, unsigned *mask);
/* What of @want this kernel supports; may put this process in a cgroup (perturb_cleanup). */
void perturb_detect(struct perturb_caps *c, unsigned want, const char *scratch);
int perturb_do(int kind, const struct perturb_target *t);
void perturb_cleanup(struct perturb_caps *c);
/* This process in a cgroup of its own, if it is in none yet and one can be had. */
void perturb_own_cgroup(struct perturb_caps *c, const char *scratch);
/* The seed of trial t of pair i under the master seed. */
__u64 trial_seed(__u64 seed, int pair, int trial);

enum rorder { ORDER_RECORDED, ORDER_FREE };

struct rexec_opts {
	const char *scratch;	/* existing directory for the stand-in files */
	enum rorder order;
	int timeout_s;		/* no progress for this long: the run is stuck */
	const struct perturb_caps *caps;	/* what perturbations run here */
};

/* Counters of one run, summed over its processes. */
struct rstats {
	__u64 ops, skipped, touches, touch_outside, touch_fault, diverged;
	__u64 diverged_raced;	/* of which the op raced another task's when recorded */
	__u64 pageouts, migrations, elapsed_ns;
	int stuck;		/* op id it stopped at, -1 */
	int perturbed;		/* 1: the perturber ran and acted, 0: it did not, -1: not available here */
	__s64 perturb_at_ns;	/* its start, from the op's start */
	__u64 perturb_ns, op_ns;	/* how long each took */
	__u64 end_ns;		/* CLOCK_MONOTONIC at its end, the replay process's clock */
	char first_divergence[3][160];
};

/* Runs one run; 0, or -1 with err set (it could not be started or got stuck). */
int plan_exec(const struct rplan *p, const struct rrun *run, int idx, const struct rexec_opts *o,
	      struct rstats *st, char *err, size_t errlen);
/* SIGINT or SIGTERM arrived: no further runs. */
int plan_interrupted(void);

#endif
