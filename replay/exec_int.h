/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Executor internals shared by exec.c (runs and tasks), proc.c (one
 * process's state), perturb.c and explore.c.  Calls go one way:
 * exec.c -> proc.c, perturb.c -> run.c (the shared state and helpers).
 */
#ifndef MMR_EXEC_INT_H
#define MMR_EXEC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include "replay.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define MAX_SHM 64

/* One page of state shared by every process of a run. */
struct shared {
	atomic_uint done;	/* ops completed: the sequencer's futex word */
	atomic_uint waiters;
	volatile __u64 release_ns;	/* when a racing pair was released */
	volatile int abort;
	volatile int oom;	/* a process of the run ran out of memory (and aborted it) */
	volatile int stuck;
	atomic_uint ndiv;
	struct rstats st;
	struct {		/* a perturbation run: the target op hands over its pages */
		atomic_uint go;
		struct perturb_target t;
		__u64 t0, op_start, op_end, p_start, p_end;
		volatile int acted;	/* the perturber's own word: perturb_do() succeeded */
	} pt;
	atomic_flag shm_lock;
	int nr_shm;
	struct { __s64 rec; int rep; __u64 size; } shm[MAX_SHM];	/* SysV ids are global */
};

/* A recorded range and where it lives in the replay. */
struct region {
	__u64 rec, end, rep;
};

/* The state of one replayed process, shared by its threads. */
struct proc {
	pthread_mutex_t lock;
	struct region *reg;
	size_t nr_reg, cap_reg;
	atomic_uint gen;	/* bumped on every change of reg */
	struct { long rec; int rep; __u32 file; } *fds;
	size_t nr_fds, cap_fds;
	__u64 brk;		/* recorded program break, 0 until seen */
	long hold;		/* the target a moving mremap reserved, -1: none */
	pthread_t *thr;
	size_t nr_thr, cap_thr;
	const char *scratch;
	char *stacks;		/* our threads' (stacks_init()), TASK_STACK each, or NULL */
	int nr_stacks;
};

#define TASK_STACK (512 << 10)
#define STACKS_MAX 128		/* faulted in: 64 MiB at most; past it glibc's stacks */

struct piece {
	__u64 rep, len;
};

/* run.c */
extern struct shared *SH;	/* the run's, shared by its processes */
#define COUNT(field, n) __atomic_fetch_add(&SH->st.field, (n), __ATOMIC_RELAXED)
extern struct proc P;		/* this process's */
extern const struct rplan *PL;	/* the plan being run */

__u64 splitmix(__u64 *s);
int nr_nodes(void);
#define MOVE_MAX 256
/* Moves @k (at most MOVE_MAX) pages of process @pid (0: this one) to the next node; k or -1. */
int move_next_node(int pid, void **pages, int k);
/* Counts a replayed syscall whose success differs from the recorded one. */
void note_result(__u32 id, const struct rop *o, long ret);
/* This process ran out of memory: the run stops, and plan_exec fails saying so. */
void run_oom(void);

/* exec.c */
void run_task(int t);

/* xkernel.c: replaying where the kernel reports memory unlike the recording's */
/* Once per run, before its first op: what this kernel needs, announced by marks. */
void xk_init(void);
/* Before a fork: this thread's rss cache flushed, so that the child starts as reported. */
void xk_flush(void);
/* After a touch of @addr (@read: a load): its page and rss as the recording had them. */
void xk_after_touch(__u64 addr, int read);
/* After any other op: the pages it populated, its rss changes reported in its window. */
void xk_after_op(const struct rop *o);

/* proc.c */
void proc_init(const char *scratch);
void proc_add_thread(pthread_t th);
void proc_finish(void) __attribute__((noreturn));
void proc_reset_mm(void);
__u64 xlate(__u64 rec);
int pieces(__u64 rec, __u64 len, struct piece *out, int max);
/* Replays one syscall; -1 if it could not be (its recorded range or fd is unknown here). */
int replay_syscall(__u32 id, const struct rop *o);
void replay_prepare(const struct rop *o);
void shm_cleanup(void);

#endif
