// SPDX-License-Identifier: GPL-2.0
/*
 * The executor: runs a plan on this kernel.  Each recorded process becomes a
 * forked process and each recorded thread a thread, and each runs its own
 * operation stream.  A sequencer in shared memory (a counter of completed
 * operations, waited on with a futex) enforces the recorded global order;
 * a run may start two operations together, each after a seeded delay, to
 * sweep their interleavings.  Recorded addresses map through a relocation
 * table per process; recorded files map to stand-ins in a scratch directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "exec_int.h"

static const struct rexec_opts *OPTS;
static const struct rrun *RUN;
static __u32 *start_at;
static __u64 delay_a, delay_b;
static __thread sigjmp_buf *guard;

/* ---- the sequencer ---------------------------------------------------- */

static int in_pair(__u32 id)
{
	return (long)id == RUN->a || (long)id == RUN->b;
}

static long futex(atomic_uint *w, int op, unsigned val, const struct timespec *to)
{
	return syscall(SYS_futex, w, op, val, to, NULL, 0);
}

/*
 * Waits until op id may start: spins a little, then sleeps on the futex.
 * The two ops of a racing pair spin once their release is one op away, so
 * that both leave the barrier within nanoseconds of each other.
 */
static void seq_wait(__u32 id)
{
	__u32 want = start_at[id];
	int pair = in_pair(id), spin = 2000;
	__u64 last = mmr_clock_ns();
	__u32 seen = atomic_load(&SH->done);

	if (OPTS->order == ORDER_FREE)
		return;
	for (;;) {
		__u32 d = atomic_load(&SH->done);
		struct timespec to = { 0, 100000000 };

		if (d >= want || SH->abort)
			return;
		if (d != seen) {
			seen = d;
			last = mmr_clock_ns();
		}
		if ((pair && want - d == 1) || spin-- > 0)
			continue;
		atomic_fetch_add(&SH->waiters, 1);
		futex(&SH->done, FUTEX_WAIT, d, &to);
		atomic_fetch_sub(&SH->waiters, 1);
		if (mmr_clock_ns() - last > (__u64)OPTS->timeout_s * 1000000000ULL) {
			SH->stuck = id;
			SH->abort = 1;
			return;
		}
	}
}

static void seq_done(__u32 n)
{
	if (RUN->a >= 0 && atomic_load(&SH->done) + n == start_at[RUN->a])
		SH->release_ns = mmr_clock_ns();
	atomic_fetch_add(&SH->done, n);
	if (atomic_load(&SH->waiters))
		futex(&SH->done, FUTEX_WAKE, INT_MAX, NULL);
}

/* A racing pair: both start from the release, each after its own delay. */
static void pair_delay(__u32 id)
{
	__u64 until;

	if (id != RUN->a && id != RUN->b)
		return;
	until = SH->release_ns + (id == RUN->a ? delay_a : delay_b);
	while (mmr_clock_ns() < until)
		;
}

/* ---- a perturbation run ------------------------------------------------ */

static __s64 perturb_offset;	/* the perturbation's start, from the op's */

static int perturbing(void)
{
	return RUN->perturb && OPTS->caps && (OPTS->caps->ok & 1u << RUN->perturb);
}

static void spin_until(__u64 t)
{
	while (mmr_clock_ns() < t)
		;
}

/*
 * A migration started before the op: the op starts once one of its pages
 * shows a migration entry (pagemap: not present, swap; the op's pages
 * were present), that is once move_pages has isolated them and dropped
 * mmap_lock, while it moves them: an op that took mmap_lock before that
 * would only wait for it.  At the latest at @deadline.  It looks every
 * 1/256 of a migration's calibrated cost rather than spinning: under TCG,
 * whose one host thread runs the vCPUs in turn, a spinning vCPU halved the
 * speed of the migration it waited for (its first page unmapped after
 * about twice the calibrated cost, past the earliest offsets).
 */
static void wait_migrating(__u64 addr, __u64 len, __u64 deadline)
{
	__u64 psz = PL->page_size, nr = len / psz, n = nr > MOVE_MAX ? MOVE_MAX : nr, pm[MOVE_MAX];
	__u64 poll = OPTS->caps->cost_ns[PERTURB_MIGRATE] / 256;
	struct timespec gap = { poll / 1000000000, poll % 1000000000 };
	int fd = open("/proc/self/pagemap", O_RDONLY);
	off_t off = (addr + (nr - n) * psz) / psz * 8;

	while (fd >= 0 && n && mmr_clock_ns() < deadline) {
		if (pread(fd, pm, n * 8, off) != (ssize_t)(n * 8))
			break;
		for (__u64 i = 0; i < n; i++)
			if (!(pm[i] >> 63) && (pm[i] >> 62 & 1))	/* not present, swap */
				goto out;
		nanosleep(&gap, NULL);
	}
out:
	if (fd >= 0)
		close(fd);
}

/* The target op: hands its pages to the perturber, then runs at its offset. */
static void perturbed_op(__u32 id, void (*exec)(__u32))
{
	const struct rop *o = &PL->ops[id];
	__u64 lo, hi;

	if (rop_range(PL, o, &lo, &hi)) {
		SH->pt.t.pid = getpid();
		SH->pt.t.addr = xlate(lo);
		SH->pt.t.len = hi - lo;
	}
	SH->pt.t0 = mmr_clock_ns();
	atomic_store(&SH->pt.go, 1);
	futex(&SH->pt.go, FUTEX_WAKE, INT_MAX, NULL);
	if (perturb_offset < 0 && RUN->perturb == PERTURB_MIGRATE)
		wait_migrating(SH->pt.t.addr, SH->pt.t.len, SH->pt.t0 - 2 * perturb_offset);
	else if (perturb_offset < 0)
		spin_until(SH->pt.t0 - perturb_offset);
	SH->pt.op_start = mmr_clock_ns();
	exec(id);
	SH->pt.op_end = mmr_clock_ns();
}

/* The perturber: its own process (recorded as a task of its own), one act per run. */
static void perturber(void)
{
	struct timespec to = { 0, 100000000 };

	prctl(PR_SET_NAME, "mmr-perturb");
	syscall(SYS_prctl, MMR_MARK_PERTURB, RUN->perturb, RUN->a, 0, 0);
	while (!atomic_load(&SH->pt.go)) {
		if (SH->abort || atomic_load(&SH->done) >= PL->nr_ops)
			_exit(0);
		futex(&SH->pt.go, FUTEX_WAIT, 0, &to);
	}
	if (perturb_offset > 0)
		spin_until(SH->pt.t0 + perturb_offset);
	SH->pt.p_start = mmr_clock_ns();
	if (SH->pt.t.len && perturb_do(RUN->perturb, &SH->pt.t) == 0)
		SH->pt.acted = 1;
	SH->pt.p_end = mmr_clock_ns();
	_exit(0);
}

static void perturb_stats(struct rstats *st)
{
	if (!RUN->perturb)
		return;
	if (!perturbing()) {
		st->perturbed = -1;
		return;
	}
	/* perturbed only if the perturber says it ran and acted, not because it was asked to */
	st->perturbed = SH->pt.acted ? 1 : 0;
	if (!st->perturbed || !SH->pt.p_end || !SH->pt.op_end)
		return;
	st->perturb_at_ns = (__s64)(SH->pt.p_start - SH->pt.op_start);
	st->perturb_ns = SH->pt.p_end - SH->pt.p_start;
	st->op_ns = SH->pt.op_end - SH->pt.op_start;
}

/* ---- guarded touches -------------------------------------------------- */

static void on_fault_signal(int sig)
{
	if (guard)
		siglongjmp(*guard, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* /dev/zero and a pipe, for touches the kernel makes; opened once, shared by the tree */
static int zero_fd = -1, kpipe[2] = { -1, -1 };

static void kernel_touch_init(void)
{
	if (zero_fd < 0)
		zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (kpipe[0] < 0 && pipe2(kpipe, O_CLOEXEC | O_NONBLOCK))
		kpipe[0] = kpipe[1] = -1;
}

/*
 * The recording's fault came from the kernel (copy_to_user in a read()
 * into fresh memory, copy_from_user in a write()): a syscall that copies
 * one byte to the page (clear_user, from /dev/zero) or from it (into a
 * pipe, drained at once) takes the same fault in kernel mode.  Each
 * process writes one byte before reading one, so the shared pipe never
 * runs dry.
 */
static void kernel_touch(__u64 addr, int store)
{
	char c;
	ssize_t r;

	if (store) {
		r = read(zero_fd, (void *)addr, 1);
	} else {
		r = write(kpipe[1], (void *)addr, 1);
		if (r == 1 && read(kpipe[0], &c, 1) != 1)
			r = -1;
	}
	if (r != 1)
		COUNT(touch_fault, 1);
	else
		xk_after_touch(addr, !store);
}

static void touch(__u64 addr, const struct rop *o)
{
	sigjmp_buf jb;

	if (o->a[2]) {
		kernel_touch(addr, o->a[1]);
		return;
	}
	if (sigsetjmp(jb, 0)) {
		guard = NULL;
		COUNT(touch_fault, 1);
		return;
	}
	guard = &jb;
	if (o->a[1])
		__atomic_fetch_add((char *)addr, 0, __ATOMIC_RELAXED);
	else
		(void)*(volatile char *)addr;
	guard = NULL;
	xk_after_touch(addr, !o->a[1]);
}

/* ---- operations ------------------------------------------------------- */

static void mark(__u32 id, const struct rop *o, __u64 rep)
{
	syscall(SYS_prctl, MMR_MARK_OP, id, o->task, rep, 1, MMR_MARK_WHAT(o->type, o->nr));
}

/* Kernel-initiated migration: to another node, or with one node, compaction. */
static void migrate(const __u64 *rec, size_t n)
{
	void *pages[64];
	int k = 0;

	if (nr_nodes() < 2) {
		int fd = open("/proc/sys/vm/compact_memory", O_WRONLY);

		if (fd >= 0 && write(fd, "1", 1) == 1)
			COUNT(migrations, n);
		if (fd >= 0)
			close(fd);
		return;
	}
	for (size_t i = 0; i < n && k < 64; i++) {
		__u64 rep = xlate(rec[i]);

		if (rep)
			pages[k++] = (void *)rep;
	}
	if (k && move_next_node(0, pages, k) > 0)
		COUNT(migrations, k);
}

/*
 * move_pages and migrate_pages: their arrays and node masks are not
 * recorded, only the pages that migrated during the call.  They move to
 * the next node (none with one node); migrate_pages moves node 0 to node 1,
 * unless the recording shows it moved nothing (node 0 to node 0 then: the
 * same drain of the LRU batches, as a one-node host's call, mlock_rules'
 * "drain", did).
 */
static void migrate_call(__u32 id, const struct rop *o)
{
	int none = PL->migrations_traced && !o->naddr;
	unsigned long from = 1, to = nr_nodes() > 1 && !none ? 2 : 1;
	void *pages[64];
	int nodes[64], status[64], k = 0;
	long r;

	if (o->nr == NR_MIGRATE_PAGES) {
		r = syscall(SYS_migrate_pages, 0, 8 * sizeof(from), &from, &to);
		note_result(id, o, r < 0 ? -errno : r);
		return;
	}
	for (size_t i = 0; i < o->naddr && k < 64; i++) {
		__u64 rep = xlate(PL->addrs[o->addr0 + i]);

		if (rep) {
			nodes[k] = nr_nodes() > 1;
			pages[k++] = (void *)rep;
		}
	}
	r = syscall(SYS_move_pages, 0, k, pages, nodes, status, 2 /* MPOL_MF_MOVE */);
	note_result(id, o, r < 0 ? -errno : r);
	if (r >= 0)
		COUNT(migrations, k);
}

static void *thread_main(void *arg);

/*
 * Our threads, which stand in for the recorded threads and vfork children,
 * run on stacks mapped and faulted in before any op.  glibc would map each
 * as the thread starts, in address space a replayed munmap may just have
 * freed (diff then read its faults as the unmapped op's pages), and free
 * its pages as the thread ends, while the next op runs (their rss changes
 * then landed in that op).  One stack per such task, in task order: a
 * vfork child's process goes on running on its thread's stack, and its own
 * children take theirs.
 */
static int stack_task(int t)
{
	return PL->tasks[t].thread || PL->tasks[t].vm_shared;
}

static void stacks_init(void)
{
	int n = 0;

	if (P.stacks)
		return;		/* an earlier run's: the same plan */
	for (int t = 0; t < PL->nr_tasks; t++)
		n += stack_task(t);
	n = n < STACKS_MAX ? n : STACKS_MAX;
	if (!n)
		return;
	P.stacks = mmap(NULL, (size_t)n * TASK_STACK, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (P.stacks == MAP_FAILED) {
		P.stacks = NULL;	/* glibc's stacks, then */
		return;
	}
	memset(P.stacks, 0, (size_t)n * TASK_STACK);
	P.nr_stacks = n;
}

/* The stack of task @t's thread; NULL: glibc's. */
static void *stack_of(int t)
{
	int slot = 0;

	for (int i = 0; i < t; i++)
		slot += stack_task(i);
	return P.stacks && slot < P.nr_stacks ? P.stacks + (size_t)slot * TASK_STACK : NULL;
}

/*
 * A thread of ours for task @t: a recorded thread, or a vfork child, which
 * runs in its parent's mm until it execs (run_task() then forks it off).
 * Not joined before the next spawn: a vfork parent resumes when the child
 * releases its mm, before the exec is traced, so its next op may come
 * first in the recorded order.
 */
static void spawn_thread(int t)
{
	pthread_attr_t a;
	pthread_t th;

	pthread_attr_init(&a);
	if (stack_of(t))
		pthread_attr_setstack(&a, stack_of(t), TASK_STACK);
	if (pthread_create(&th, &a, thread_main, (void *)(long)t) == 0)
		proc_add_thread(th);
	pthread_attr_destroy(&a);
}

static void spawn(const struct rop *o)
{
	int child = o->extra;
	pid_t pid;

	if (stack_task(child)) {
		spawn_thread(child);
		return;
	}
	pthread_mutex_lock(&P.lock);
	xk_flush();
	pid = fork();
	pthread_mutex_unlock(&P.lock);
	if (pid == 0) {
		P.nr_thr = 0;
		run_task(child);
		proc_finish();
	}
}

static void pageout(const struct rop *o)
{
	struct piece pc[16];
	int n = pieces(o->a[0], o->a[1] * PL->page_size, pc, 16);

	for (int i = 0; i < n; i++)
		if (madvise((void *)pc[i].rep, pc[i].len, MADV_PAGEOUT) == 0)
			COUNT(pageouts, pc[i].len / PL->page_size);
}

static void exec_op(__u32 id)
{
	const struct rop *o = &PL->ops[id];
	__u64 rep;

	switch (o->type) {
	case ROP_TOUCH:
		rep = xlate(o->a[0]);
		mark(id, o, rep);
		COUNT(touches, 1);
		if (!rep)
			COUNT(touch_outside, 1);
		else
			touch(rep, o);
		break;
	case ROP_PAGEOUT:
		mark(id, o, xlate(o->a[0]));
		pageout(o);
		break;
	case ROP_MIGRATE: {
		__u64 pages[64];
		size_t n = o->a[1] < 64 ? o->a[1] : 64;

		for (size_t i = 0; i < n; i++)
			pages[i] = o->a[0] + i * PL->page_size;
		mark(id, o, xlate(o->a[0]));
		migrate(pages, n);
		break;
	}
	case ROP_SPAWN:
		mark(id, o, 0);
		spawn(o);
		break;
	case ROP_EXEC:
		mark(id, o, 0);
		proc_reset_mm();
		break;
	case ROP_SYSCALL:
		replay_prepare(o);
		mark(id, o, 0);
		if (o->nr == NR_MOVE_PAGES || o->nr == NR_MIGRATE_PAGES) {
			migrate_call(id, o);
			break;
		}
		if (replay_syscall(id, o) < 0)
			COUNT(skipped, 1);
		break;
	}
	COUNT(ops, 1);
}

#define MAX_BATCH 4096

/*
 * A run of touches of task ops[i..]: consecutive op ids (no other task's op
 * between them in the recorded order), none of a racing pair, all relocated
 * by the same delta.  Returns its length, 0 if ops[i] is outside every
 * replayed mapping.
 */
static size_t touch_run(const struct rtask *task, size_t i, __u64 *delta)
{
	__u32 id = task->ops[i];
	__u64 rep = xlate(PL->ops[id].a[0]);
	size_t n = 1;

	if (!rep)
		return 0;
	*delta = rep - PL->ops[id].a[0];
	while (i + n < task->nr_ops && n < MAX_BATCH) {
		__u32 next = task->ops[i + n];
		const struct rop *o = &PL->ops[next];

		if (next != id + n || o->type != ROP_TOUCH || in_pair(next) ||
		    xlate(o->a[0]) != o->a[0] + *delta)
			break;
		n++;
	}
	return n;
}

/* One mark (first op, task, its replay address, count) for a run of touches. */
static void touch_batch(__u32 id, size_t n, __u64 delta)
{
	const struct rop *o = &PL->ops[id];

	syscall(SYS_prctl, MMR_MARK_OP, id, o->task, o->a[0] + delta, n,
		MMR_MARK_WHAT(ROP_TOUCH, 0));
	for (size_t k = 0; k < n; k++)
		touch(o[k].a[0] + delta, &o[k]);
	COUNT(touches, n);
	COUNT(ops, n);
}

/*
 * A vfork child (a thread of ours until now) execs: it goes on in a process
 * of its own, whose mm exec_op() then empties; the thread ends.  1 in that
 * process, 0 in the thread.
 */
static int vfork_exec(void)
{
	pid_t pid;

	pthread_mutex_lock(&P.lock);
	xk_flush();
	pid = fork();
	pthread_mutex_unlock(&P.lock);
	if (pid < 0)
		SH->abort = 1;	/* its ops cannot run: end the run, do not let it stall */
	if (pid != 0)
		return 0;
	P.nr_thr = 0;		/* the parent's threads, not ours */
	return 1;
}

void run_task(int t)
{
	const struct rtask *task = &PL->tasks[t];
	int in_parent_mm = task->vm_shared, forked = 0;
	__u64 delta;

	for (size_t i = 0, n; i < task->nr_ops && !SH->abort; i += n) {
		__u32 id = task->ops[i];

		seq_wait(id);
		if (SH->abort)
			break;
		if (in_parent_mm && PL->ops[id].type == ROP_EXEC) {
			if (!vfork_exec())
				return;
			in_parent_mm = 0;
			forked = 1;
		}
		pair_delay(id);
		n = 1;
		if (PL->ops[id].type == ROP_TOUCH && !in_pair(id) &&
		    (n = touch_run(task, i, &delta)) > 1)
			touch_batch(id, n, delta);
		else if ((long)id == RUN->a && perturbing())
			perturbed_op(id, exec_op), n = 1;
		else
			exec_op(id), n = 1;
		if (PL->ops[id].type != ROP_TOUCH)	/* a touch settles itself */
			xk_after_op(&PL->ops[id]);
		seq_done(n);
	}
	if (forked)
		proc_finish();
}

static void *thread_main(void *arg)
{
	run_task((int)(long)arg);
	return NULL;
}

/* ---- one run ---------------------------------------------------------- */

/*
 * Where each op may start: after start_at[id] ops have completed.  A pair
 * (a, b) starts together at a's slot; the ops between them move after b.
 */
/*
 * When a perturbation starts, from its op's start: seeded over [-2 C, 2 D],
 * C what one takes here (calibrated), D the op's recorded duration (at
 * least 10 us each): long enough before that it is still at work when the
 * op begins, during the op, or after it.
 */
static __s64 perturb_start(const struct rplan *p, const struct rrun *run, __u64 *seed)
{
	__u64 c = OPTS->caps ? OPTS->caps->cost_ns[run->perturb] : 0;
	__u64 d = p->ops[run->a].dur;

	c = c < 10000 ? 10000 : c;
	d = d < 10000 ? 10000 : d;
	return (__s64)(splitmix(seed) % (2 * c + 2 * d + 1)) - (__s64)(2 * c);
}

static int order_run(const struct rplan *p, const struct rrun *run)
{
	__u64 s = run->seed, span;

	start_at = calloc(p->nr_ops + 1, sizeof(*start_at));
	if (!start_at)
		return -1;
	for (size_t i = 0; i < p->nr_ops; i++)
		start_at[i] = i;
	if (run->a < 0)
		return 0;
	if (run->perturb) {	/* before, during or after the op */
		perturb_offset = perturb_start(p, run, &s);
		return 0;
	}
	for (long i = run->a + 1; i < run->b; i++)
		start_at[i] = i + 1;
	start_at[run->b] = run->a;
	span = p->ops[run->a].dur + p->ops[run->b].dur;
	if (span < 10000)
		span = 10000;
	delay_a = splitmix(&s) % (span + 1);
	delay_b = splitmix(&s) % (span + 1);
	return 0;
}

static volatile sig_atomic_t stopping;

static void on_stop_signal(int sig)
{
	stopping = 1;
	if (SH)
		SH->abort = 1;
}

int plan_interrupted(void)
{
	return stopping;
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_fault_signal, .sa_flags = SA_NODEFER };

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Forks each root task; waits for every process of the run (we are their subreaper). */
static int drive(const struct rplan *p, char *err, size_t errlen)
{
	pid_t pgid = 0;
	__u64 last = mmr_clock_ns();
	__u32 seen = 0;
	int status;

	if (perturbing()) {
		pid_t pid = fork();

		if (pid == 0) {
			setpgid(0, 0);
			perturber();
		}
		if (pid > 0)
			setpgid(pid, 0), pgid = pid;
	}
	for (int t = 0; t < p->nr_tasks; t++) {
		pid_t pid;

		if (p->tasks[t].parent >= 0)
			continue;
		xk_flush();
		pid = fork();
		if (pid < 0) {
			snprintf(err, errlen, "fork: %s", strerror(errno));
			SH->abort = 1;
			break;
		}
		if (pid == 0) {
			setpgid(0, pgid);
			run_task(t);
			proc_finish();
		}
		setpgid(pid, pgid);
		if (!pgid)
			pgid = pid;
	}
	for (;;) {
		pid_t w = waitpid(-1, &status, WNOHANG);

		if (w < 0 && errno == ECHILD)
			break;
		if (w > 0)
			continue;
		if (atomic_load(&SH->done) != seen) {
			seen = atomic_load(&SH->done);
			last = mmr_clock_ns();
		}
		if (SH->abort || mmr_clock_ns() - last > (__u64)OPTS->timeout_s * 1000000000ULL) {
			SH->abort = 1;
			if (pgid)
				kill(-pgid, SIGKILL);
		}
		usleep(2000);
	}
	return 0;
}

int plan_exec(const struct rplan *p, const struct rrun *run, int idx, const struct rexec_opts *o,
	      struct rstats *st, char *err, size_t errlen)
{
	__u64 t0;
	int ret = 0;

	PL = p, OPTS = o, RUN = run;
	err[0] = 0;
	if (!SH) {
		SH = mmap(NULL, sizeof(*SH), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (SH == MAP_FAILED) {
			SH = NULL;
			snprintf(err, errlen, "shared memory: %s", strerror(errno));
			return -1;
		}
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		setup_signals();
	}
	memset(SH, 0, sizeof(*SH));
	SH->stuck = -1;
	SH->abort = stopping;
	if (order_run(p, run)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	proc_init(o->scratch);
	/*
	 * One malloc arena: a thread of ours that mallocs would otherwise map
	 * an arena of its own (128 MiB reserved, its header written) inside
	 * the op it replays: a fault and a page the recording does not have.
	 */
	mallopt(M_ARENA_MAX, 1);
	stacks_init();
	kernel_touch_init();
	syscall(SYS_prctl, MMR_MARK_RUN, idx, run->a, run->b, run->perturb);
	xk_init();
	t0 = mmr_clock_ns();
	SH->release_ns = t0;
	drive(p, err, errlen);
	*st = SH->st;
	st->elapsed_ns = mmr_clock_ns() - t0;
	perturb_stats(st);
	st->stuck = SH->stuck;
	if (!err[0] && SH->oom)
		snprintf(err, errlen, "out of memory in a replayed process");
	if (!err[0] && SH->abort && atomic_load(&SH->done) < p->nr_ops) {
		__u32 d = atomic_load(&SH->done);

		if (SH->stuck >= 0)
			d = SH->stuck;
		snprintf(err, errlen, "replay stopped at op %u of %zu (%s of task %u)%s", d, p->nr_ops,
			 d < p->nr_ops ? rop_name(&p->ops[d]) : "-", d < p->nr_ops ? p->ops[d].task : 0,
			 SH->stuck >= 0 ? ": no progress (a task died or blocked)" : ": interrupted");
		st->stuck = d;
	}
	if (err[0])
		ret = -1;
	shm_cleanup();
	free(start_at);
	start_at = NULL;
	return ret;
}
