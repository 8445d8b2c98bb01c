// SPDX-License-Identifier: GPL-2.0
/*
 * Rebuild a workload from a trace: one operation stream per recorded task.
 * Syscalls become operations when they return (ordered by their entry),
 * user page faults become touches, forks and clones become spawns, and
 * reclaim or migration that no traced syscall asked for becomes an explicit
 * MADV_PAGEOUT or migration at the point the recording shows it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include "traces/kinds.h"
#include "replay.h"

#define SLOP_NS 1000000ULL	/* reclaim steps this close together are one pageout */

/* A syscall in flight. */
struct pend {
	int used;
	__u64 ts;
	struct mmr_sys_enter e;
	char path[MMR_PATH_MAX];
	__u64 *addrs;		/* pages migrated inside it */
	size_t nr_addrs, cap_addrs;
};

/* What the builder knows of each task besides its op stream. */
struct tstate {
	struct pend pend;
	__u64 mm;		/* its current mm */
	int dead;
	size_t kfault;		/* 1 + index of its last op, a kernel-mode touch; 0: none */
};

struct bld {
	struct rplan *p;
	struct tstate *ts;	/* per task */
	size_t cap_ts;
	int last_task;
	struct swap_count swap;
	struct { char *path; __u32 file; } *paths;
	int nr_paths, cap_paths;
	int have_ttu;
	int oom;		/* out of memory: the build stops, plan_build fails */
	struct rop spare;	/* what op_add hands out when it could not add one */
};

int replay_grow(void *arrp, size_t *cap, size_t need, size_t size)
{
	size_t old = *cap;
	void *arr;

	if (mmr_grow_ptr(arrp, cap, need, size, 16))
		return -1;
	memcpy(&arr, arrp, sizeof(arr));
	memset((char *)arr + old * size, 0, (*cap - old) * size);
	return 0;
}

/* ---- tasks ------------------------------------------------------------ */

static int task_find(struct bld *b, int tid)
{
	struct rplan *p = b->p;

	if (b->last_task >= 0 && p->tasks[b->last_task].tid == tid && !b->ts[b->last_task].dead)
		return b->last_task;
	for (int i = p->nr_tasks - 1; i >= 0; i--)
		if (p->tasks[i].tid == tid && !b->ts[i].dead)
			return b->last_task = i;
	return -1;
}

static int task_new(struct bld *b, int tid, int tgid, int parent, int thread)
{
	struct rplan *p = b->p;
	int i = p->nr_tasks;

	if (GROW(p->tasks, p->cap_tasks, i + 1) || GROW(b->ts, b->cap_ts, i + 1)) {
		b->oom = 1;
		return -1;
	}
	p->nr_tasks++;
	p->tasks[i] = (struct rtask){ .tid = tid, .tgid = tgid, .parent = parent, .thread = thread };
	return i;
}

static struct rop *op_add(struct bld *b, int task, int type, __u64 ts)
{
	struct rplan *p = b->p;
	struct rop *o;

	if (GROW(p->ops, p->cap_ops, p->nr_ops + 1)) {
		b->oom = 1;
		o = &b->spare;	/* written to, never read */
	} else {
		o = &p->ops[p->nr_ops++];
	}
	memset(o, 0, sizeof(*o));
	o->task = task;
	o->type = type;
	o->ts = ts;
	return o;
}

static int leader_of(struct bld *b, int tgid)
{
	for (int i = 0; i < b->p->nr_tasks; i++)
		if (b->p->tasks[i].tgid == tgid && !b->p->tasks[i].thread && !b->ts[i].dead)
			return i;
	return -1;
}

/*
 * The task of an event's thread.  A thread seen before any fork of it (one
 * that existed when `record -p` attached) is spawned by its process's first
 * task at that point; an unknown process is a root.
 */
static int task_of(struct bld *b, const struct mmr_event *ev)
{
	const struct mmr_common *c = ev->data;
	int t = task_find(b, c->pid), leader;

	if (t >= 0)
		return t;
	leader = leader_of(b, ev->h.tgid);
	if (leader < 0)
		return task_new(b, c->pid, ev->h.tgid, -1, 0);
	t = task_new(b, c->pid, ev->h.tgid, leader, 1);
	if (t >= 0)
		op_add(b, leader, ROP_SPAWN, ev->h.ts)->extra = t;
	return t;
}

static int task_of_mm(struct bld *b, __u64 mm)
{
	for (int i = b->p->nr_tasks - 1; i >= 0; i--)
		if (!b->ts[i].dead && b->ts[i].mm == mm)
			return i;
	return -1;
}

/* ---- files ------------------------------------------------------------ */

static __u32 file_of(struct bld *b, const struct mmr_file_id *id)
{
	struct rplan *p = b->p;

	if (!id->valid)
		return 0;
	for (int i = 0; i < p->nr_files; i++) {
		if (p->files[i].dev == id->dev && p->files[i].ino == id->ino) {
			if (id->size > p->files[i].size)
				p->files[i].size = id->size;
			return i + 1;
		}
	}
	if (GROW(p->files, p->cap_files, p->nr_files + 1)) {
		b->oom = 1;
		return 0;
	}
	p->files[p->nr_files] = (struct rfile){ .dev = id->dev, .ino = id->ino, .size = id->size };
	return ++p->nr_files;
}

static __u32 str_add(struct bld *b, const char *s)
{
	struct rplan *p = b->p;
	size_t n = strlen(s) + 1, at;

	if (!p->strs_len)
		p->strs_len = 1;	/* offset 0 is "none" */
	at = p->strs_len;
	if (GROW(p->strs, p->cap_strs, at + n)) {
		b->oom = 1;
		return 0;
	}
	memcpy(p->strs + at, s, n);
	p->strs_len += n;
	return at;
}

static void path_note(struct bld *b, const char *path, __u32 file)
{
	size_t cap = b->cap_paths;
	char *dup;

	if (!path[0] || !file)
		return;
	if (replay_grow(&b->paths, &cap, b->nr_paths + 1, sizeof(*b->paths)) ||
	    !(dup = strdup(path))) {
		b->oom = 1;
		return;
	}
	b->cap_paths = cap;
	b->paths[b->nr_paths].path = dup;
	b->paths[b->nr_paths++].file = file;
}

static __u32 path_file(struct bld *b, const char *path)
{
	for (int i = b->nr_paths - 1; i >= 0; i--)
		if (!strcmp(b->paths[i].path, path))
			return b->paths[i].file;
	return 0;
}

/* ---- syscalls --------------------------------------------------------- */

static int replayed_nr(int nr)
{
	static const int nrs[] = {
		NR_OPEN, NR_CLOSE, NR_MMAP, NR_MPROTECT, NR_MUNMAP, NR_BRK, NR_MREMAP, NR_MSYNC,
		NR_MADVISE, NR_SHMGET, NR_SHMAT, NR_SHMCTL, NR_SHMDT, NR_TRUNCATE, NR_FTRUNCATE,
		NR_MLOCK, NR_MUNLOCK, NR_MLOCKALL, NR_MUNLOCKALL, NR_MIGRATE_PAGES, NR_OPENAT,
		NR_MOVE_PAGES, NR_FALLOCATE, NR_MEMFD_CREATE, NR_MLOCK2, NR_OPENAT2,
	};

	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++)
		if (nrs[i] == nr)
			return 1;
	return 0;
}

static int is_open(int nr)
{
	return nr == NR_OPEN || nr == NR_OPENAT || nr == NR_OPENAT2;
}

static void on_enter(struct bld *b, const struct mmr_event *ev)
{
	const struct mmr_sys_enter *e = ev->data;
	int t = task_of(b, ev);
	struct pend *pd;

	if (t < 0)
		return;		/* out of memory */
	pd = &b->ts[t].pend;
	b->ts[t].mm = ev->h.mm;
	pd->used = 1;
	pd->ts = ev->h.ts;
	pd->e = *e;
	pd->path[0] = 0;
	pd->nr_addrs = 0;
	if (e->nr == NR_PROCESS_MADVISE)
		b->p->unreplayable++;
	file_of(b, &e->file);
}

static void on_path(struct bld *b, const struct mmr_event *ev)
{
	const struct mmr_sys_path *s = ev->data;
	int t = task_find(b, s->c.pid);

	struct pend *pd = t >= 0 ? &b->ts[t].pend : NULL;

	if (pd && pd->used && pd->e.nr == s->nr)
		snprintf(pd->path, sizeof(pd->path), "%.*s", MMR_PATH_MAX - 1, s->path);
}

/*
 * The file a call was about.  A mapping's own file (the VMA at mmap's
 * result) is the truth; the one read from the fd table at the call's entry
 * can be a stale slot of fd_array (bpf/mmreplay.bpf.c), seen as a pipe
 * of size 0 behind every mmap of a process, whose stand-in then SIGBUSes.
 */
static const struct mmr_file_id *call_file(const struct pend *pd, const struct mmr_sys_exit *x)
{
	if (is_open(pd->e.nr) || (pd->e.nr == NR_MMAP && x->file.valid))
		return &x->file;
	return &pd->e.file;
}

static __u32 op_file(struct bld *b, const struct pend *pd, const struct mmr_sys_exit *x)
{
	if (is_open(pd->e.nr))
		return x->ret >= 0 ? file_of(b, &x->file) : 0;
	if (pd->e.nr == NR_TRUNCATE)
		return path_file(b, pd->path);
	return file_of(b, call_file(pd, x));
}

static void on_exit_sys(struct bld *b, const struct mmr_event *ev)
{
	const struct mmr_sys_exit *x = ev->data;
	int t = task_find(b, x->c.pid);
	struct pend *pd;
	struct rop *o;

	if (t < 0 || !b->ts[t].pend.used || b->ts[t].pend.e.nr != x->nr)
		return;
	pd = &b->ts[t].pend;
	pd->used = 0;
	if (x->file.valid)
		file_of(b, &x->file);
	if (!replayed_nr(x->nr) || (is_open(x->nr) && x->ret < 0))
		return;
	o = op_add(b, t, ROP_SYSCALL, pd->ts);
	o->dur = ev->h.ts - pd->ts;
	o->nr = x->nr;
	memcpy(o->a, pd->e.args, sizeof(o->a));
	o->ret = x->ret;
	o->file = op_file(b, pd, x);
	o->fsize = call_file(pd, x)->size;
	if (is_open(x->nr))
		path_note(b, pd->path, o->file);
	if (x->nr == NR_MEMFD_CREATE)
		o->extra = str_add(b, pd->path[0] ? pd->path : "mmreplay");
	if (pd->nr_addrs) {
		struct rplan *p = b->p;

		if (GROW(p->addrs, p->cap_addrs, p->nr_addrs + pd->nr_addrs)) {
			b->oom = 1;
			return;
		}
		memcpy(p->addrs + p->nr_addrs, pd->addrs, pd->nr_addrs * sizeof(__u64));
		o->addr0 = p->nr_addrs;
		o->naddr = pd->nr_addrs;
		p->nr_addrs += pd->nr_addrs;
	}
}

static void on_fork(struct bld *b, const struct mmr_event *ev)
{
	const struct mmr_task_fork *f = ev->data;
	int parent = task_of(b, ev);
	int thread = f->child_tgid == f->parent_tgid;
	int child = parent < 0 ? -1 : task_new(b, f->child_tid, f->child_tgid, parent, thread);

	if (child < 0)
		return;		/* out of memory */
	b->ts[child].mm = f->child_mm;
	b->p->tasks[child].vm_shared = !thread && f->child_mm && f->child_mm == ev->h.mm;
	op_add(b, parent, ROP_SPAWN, ev->h.ts)->extra = child;
}

static void on_exec(struct bld *b, const struct mmr_event *ev)
{
	int t = task_of(b, ev);

	if (t < 0)
		return;		/* out of memory */
	b->ts[t].mm = ev->h.mm;
	b->ts[t].pend.used = 0;	/* execve returns no exit record for a leader it replaced */
	op_add(b, t, ROP_EXEC, ev->h.ts);
}

static void on_task_exit(struct bld *b, const struct mmr_event *ev)
{
	const struct mmr_task_exit *x = ev->data;
	int t = task_find(b, x->tid);

	if (t >= 0)
		b->ts[t].dead = 1;
}

/* ---- faults, reclaim, migration ------------------------------------- */

static void on_fault(struct bld *b, const struct mmr_event *ev)
{
	int t = task_of(b, ev);
	__u64 addr = mmr_ev_u64(ev, F_ADDRESS);
	struct rop *o;

	if (t < 0)
		return;		/* out of memory */
	b->ts[t].mm = ev->h.mm;
	o = op_add(b, t, ROP_TOUCH, ev->h.ts);
	o->a[0] = addr & ~(__u64)(b->p->page_size - 1);
	o->a[1] = !!(mmr_ev_u64(ev, F_ERROR_CODE) & 2);
	o->a[2] = ((const struct mmr_common *)ev->data)->type == MMR_K_PAGE_FAULT_KERNEL;
	b->ts[t].kfault = o->a[2] && o != &b->spare ? (size_t)(o - b->p->ops) + 1 : 0;
}

/*
 * A fault the kernel took on a user address: a touch made from the kernel
 * too (a syscall that copies to or from the page).  One inside a recorded
 * syscall is that call's own: replayed, the call takes it again.
 */
static void on_kernel_fault(struct bld *b, const struct mmr_event *ev)
{
	int t = task_of(b, ev);
	__u64 page = mmr_ev_u64(ev, F_ADDRESS) & ~(__u64)(b->p->page_size - 1);
	const struct rop *last;

	if (t < 0 || b->ts[t].pend.used)
		return;
	/* a copy retried after its atomic try failed (diff/dtrace.c): one touch */
	last = b->ts[t].kfault ? &b->p->ops[b->ts[t].kfault - 1] : NULL;
	if (last && last == &b->p->ops[b->p->nr_ops - 1] && last->a[0] == page &&
	    last->a[1] == !!(mmr_ev_u64(ev, F_ERROR_CODE) & 2))
		return;
	on_fault(b, ev);
}

static int in_syscall(struct bld *b, int tid, int nr)
{
	int t = task_find(b, tid);

	return t >= 0 && b->ts[t].pend.used && (int)b->ts[t].pend.e.nr == nr;
}

/* Kernel-initiated reclaim or migration of pages of mm: an explicit op. */
static void kernel_op(struct bld *b, const struct mmr_event *ev, int type, __u64 addr, __u64 n)
{
	struct rplan *p = b->p;
	int t = task_of_mm(b, ev->h.mm);
	struct rop *last = p->nr_ops ? &p->ops[p->nr_ops - 1] : NULL;

	if (t < 0)
		return;
	addr &= ~(__u64)(p->page_size - 1);
	if (last && last->type == type && last->task == (__u32)t && ev->h.ts - last->ts < SLOP_NS &&
	    last->a[0] + last->a[1] * p->page_size == addr) {
		last->a[1] += n;
		return;
	}
	last = op_add(b, t, type, ev->h.ts);
	last->a[0] = addr;
	last->a[1] = n;
}

static void on_unmap_one(struct bld *b, const struct mmr_event *ev)
{
	const struct mmr_rmap *r = ev->data;

	if (in_syscall(b, r->c.pid, NR_MADVISE))
		return;
	kernel_op(b, ev, ROP_PAGEOUT, r->address, r->nr_pages ? r->nr_pages : 1);
}

static void on_migration(struct bld *b, const struct mmr_event *ev)
{
	const struct mmr_common *c = ev->data;
	__u64 addr = mmr_ev_u64(ev, F_ADDR) & ~(__u64)(b->p->page_size - 1);
	__u64 n = 1ULL << (mmr_ev_u64(ev, F_ORDER) & 31);
	int t = task_find(b, c->pid);

	if (t >= 0 && b->ts[t].pend.used &&
	    (b->ts[t].pend.e.nr == NR_MOVE_PAGES || b->ts[t].pend.e.nr == NR_MIGRATE_PAGES)) {
		struct pend *pd = &b->ts[t].pend;

		if (GROW(pd->addrs, pd->cap_addrs, pd->nr_addrs + 1))
			b->oom = 1;
		else
			pd->addrs[pd->nr_addrs++] = addr;
		return;
	}
	kernel_op(b, ev, ROP_MIGRATE, addr, n);
}

__u64 swap_rise(struct swap_count *s, const struct mmr_event *ev, long page_size)
{
	struct mmr_rss r;
	struct mmr_rss_change ch;
	size_t i;

	if (mmr_ev_rss(ev, page_size, &r) || r.member != MMR_RSS_SWAP)
		return 0;
	for (i = 0; i < s->nr && s->mms[i].mm != ev->h.mm; i++)
		;
	if (i == s->nr) {
		if (GROW(s->mms, s->cap, s->nr + 1)) {
			s->oom = 1;
			return 0;
		}
		s->mms[s->nr++].mm = ev->h.mm;
	}
	mmr_rss_update(&s->mms[i].rss, ev, page_size, &ch);
	return ch.now > ch.old ? ch.now - ch.old : 0;
}

static void on_rss(struct bld *b, const struct mmr_event *ev)
{
	const struct mmr_common *c = ev->data;
	__u64 rise = swap_rise(&b->swap, ev, b->p->page_size);

	b->oom |= b->swap.oom;
	if (!rise)
		return;
	b->p->swapouts += rise;
	if (!b->have_ttu && !in_syscall(b, c->pid, NR_MADVISE))
		b->p->swapouts_unplaced += rise;
}

/* ---- the trace -------------------------------------------------------- */

static int kind_ok(struct mmr_trace *t, const char *name)
{
	const struct mmr_kind_info *k = mmr_trace_kind_by_name(t, name);

	return k && k->present && k->status && !strcmp(k->status, "ok");
}

const char *const replay_needed_kinds[] = { "sys_enter", "sys_exit", "task_fork",
					     "page_fault_user", NULL };

static int check_needed(struct mmr_trace *t, char *err, size_t errlen)
{
	const char *const *needed = replay_needed_kinds;
	char list[256] = "";
	size_t n = 0;

	for (size_t i = 0; needed[i]; i++) {
		const struct mmr_kind_info *k = mmr_trace_kind_by_name(t, needed[i]);

		if (kind_ok(t, needed[i]))
			continue;
		n += snprintf(list + n, sizeof(list) - n, "%s%s (%s)", n ? ", " : "", needed[i],
			      k && k->status ? k->status : "not in the trace");
		if (n >= sizeof(list))
			break;
	}
	if (!n)
		return 0;
	snprintf(err, errlen, "the recording lacks events replay needs to rebuild the workload: %s",
		 list);
	return -1;
}

static int check_machine(struct mmr_trace *t, char *err, size_t errlen)
{
	const char *ps = mmr_trace_meta(t, "page_size");
	long psz = ps ? atol(ps) : 0;
	char m[65];
	struct utsname u;

	/* meta values share one buffer: copy before the next lookup */
	snprintf(m, sizeof(m), "%s", mmr_trace_meta(t, "machine") ?: "");
	uname(&u);
	if (m[0] && strcmp(m, u.machine)) {
		snprintf(err, errlen, "trace was recorded on %s; replay needs the same architecture "
			 "(this machine is %s)", m, u.machine);
		return -1;
	}
	if (psz && psz != sysconf(_SC_PAGESIZE)) {
		snprintf(err, errlen, "trace was recorded with %ld-byte pages; this machine has %ld",
			 psz, sysconf(_SC_PAGESIZE));
		return -1;
	}
	return 0;
}

static void on_event(struct bld *b, const struct mmr_event *ev)
{
	const struct mmr_common *c = ev->data;

	switch (c->type) {
	case MMR_K_SYS_ENTER:
		on_enter(b, ev);
		break;
	case MMR_K_SYS_EXIT:
		on_exit_sys(b, ev);
		break;
	case MMR_K_SYS_PATH:
		on_path(b, ev);
		break;
	case MMR_K_TASK_FORK:
		on_fork(b, ev);
		break;
	case MMR_K_TASK_EXEC:
		on_exec(b, ev);
		break;
	case MMR_K_TASK_EXIT:
		on_task_exit(b, ev);
		break;
	case MMR_K_PAGE_FAULT_USER:
		on_fault(b, ev);
		break;
	case MMR_K_PAGE_FAULT_KERNEL:
		on_kernel_fault(b, ev);
		break;
	case MMR_K_RSS_STAT:
		on_rss(b, ev);
		break;
	case MMR_K_TRY_TO_UNMAP_ONE:
		on_unmap_one(b, ev);
		break;
	case MMR_K_SET_MIGRATION_PTE:
		on_migration(b, ev);
		break;
	}
}

struct op_key {
	__u64 ts;
	size_t idx;
};

static int cmp_key(const void *x, const void *y)
{
	const struct op_key *a = x, *b = y;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/*
 * Ops are appended when they complete (a syscall at its exit) but ordered by
 * when they started; ties keep their append order.  Spawns name their child
 * by task index, so only the per-task lists need building.
 */
static int order_ops(struct rplan *p)
{
	struct op_key *k = calloc(p->nr_ops + 1, sizeof(*k));
	struct rop *sorted = calloc(p->nr_ops + 1, sizeof(*sorted));

	if (!k || !sorted) {
		free(k);
		free(sorted);
		return -1;
	}
	for (size_t i = 0; i < p->nr_ops; i++)
		k[i] = (struct op_key){ p->ops[i].ts, i };
	qsort(k, p->nr_ops, sizeof(*k), cmp_key);
	for (size_t i = 0; i < p->nr_ops; i++)
		sorted[i] = p->ops[k[i].idx];
	free(k);
	free(p->ops);
	p->ops = sorted;
	p->cap_ops = p->nr_ops + 1;
	for (size_t i = 0; i < p->nr_ops; i++) {
		struct rtask *t = &p->tasks[p->ops[i].task];

		if (GROW(t->ops, t->cap, t->nr_ops + 1))
			return -1;
		t->ops[t->nr_ops++] = i;
	}
	return 0;
}

/*
 * Syscalls of different tasks that overlapped when recorded: no serial order
 * reproduces their outcome for sure, so their results may differ.
 */
static void mark_raced(struct rplan *p)
{
	for (size_t i = 1; i < p->nr_ops; i++) {
		struct rop *o = &p->ops[i];

		for (size_t j = i; j-- > 0 && i - j <= 256;) {
			struct rop *q = &p->ops[j];

			if (q->task != o->task && q->dur && q->ts + q->dur > o->ts) {
				q->flags |= ROPF_RACED;
				if (o->dur || o->type == ROP_SYSCALL)
					o->flags |= ROPF_RACED;
			}
		}
	}
}

static void bld_free(struct bld *b)
{
	for (int i = 0; i < b->p->nr_tasks && b->ts; i++)
		free(b->ts[i].pend.addrs);
	for (int i = 0; i < b->nr_paths; i++)
		free(b->paths[i].path);
	free(b->paths);
	free(b->ts);
	free(b->swap.mms);
}

/* The task an event belongs to: its thread's, or for a kernel thread its mm's. */
static int event_task(struct bld *b, const struct mmr_event *ev)
{
	int t = task_find(b, ((const struct mmr_common *)ev->data)->pid);

	return t >= 0 ? t : ev->h.mm ? task_of_mm(b, ev->h.mm) : -1;
}

int plan_build_hook(struct mmr_trace *t, struct rplan *p, plan_hook hook, void *ctx, char *err,
		    size_t errlen)
{
	struct bld b = { .p = p, .last_task = -1 };
	const char *ps = mmr_trace_meta(t, "page_size");
	struct mmr_event ev;

	memset(p, 0, sizeof(*p));
	p->page_size = hook && ps && atol(ps) > 0 ? atol(ps) : sysconf(_SC_PAGESIZE);
	if ((!hook && check_machine(t, err, errlen)) || check_needed(t, err, errlen))
		return -1;
	b.have_ttu = kind_ok(t, "try_to_unmap_one");
	p->migrations_traced = kind_ok(t, "set_migration_pte");
	/* meta values share one buffer: each is copied before the next lookup */
	for (int i = 0; i < MMR_THP_NR; i++) {
		char key[32];

		snprintf(key, sizeof(key), "thp_%s", mmr_thp_files[i]);
		snprintf(p->thp[i], sizeof(p->thp[i]), "%s", mmr_trace_meta(t, key) ?: "");
	}
	snprintf(p->anon_read_fault, sizeof(p->anon_read_fault), "%s",
		 mmr_trace_meta(t, "anon_read_fault") ?: "");
	mmr_trace_rewind(t);
	while (mmr_trace_next(t, &ev) == 1) {
		if (!p->first_ts)
			p->first_ts = ev.h.ts;
		p->last_ts = ev.h.ts;
		if (ev.h.len < sizeof(struct mmr_common))
			continue;
		on_event(&b, &ev);
		if (b.oom)
			break;
		if (hook)
			hook(ctx, &ev, event_task(&b, &ev));
	}
	bld_free(&b);
	if (!b.oom && !p->nr_tasks) {
		snprintf(err, errlen, "the trace has no traced task to replay");
		return -1;
	}
	if (b.oom || order_ops(p)) {
		snprintf(err, errlen, "out of memory");
		plan_free(p);
		return -1;
	}
	mark_raced(p);
	return 0;
}

int plan_build(struct mmr_trace *t, struct rplan *p, char *err, size_t errlen)
{
	return plan_build_hook(t, p, NULL, NULL, err, errlen);
}

void plan_free(struct rplan *p)
{
	for (int i = 0; i < p->nr_tasks; i++)
		free(p->tasks[i].ops);
	free(p->tasks);
	free(p->ops);
	free(p->files);
	free(p->addrs);
	free(p->strs);
	memset(p, 0, sizeof(*p));
}

int rop_range(const struct rplan *p, const struct rop *o, __u64 *lo, __u64 *hi)
{
	__u64 psz = p->page_size;

	switch (o->type) {
	case ROP_TOUCH:
		*lo = o->a[0], *hi = o->a[0] + psz;
		return 1;
	case ROP_PAGEOUT:
	case ROP_MIGRATE:
		*lo = o->a[0], *hi = o->a[0] + o->a[1] * psz;
		return 1;
	case ROP_SYSCALL:
		break;
	default:
		return 0;
	}
	switch (o->nr) {
	case NR_MMAP:
		if (o->ret < 0)
			return 0;
		*lo = o->ret, *hi = o->ret + o->a[1];
		return 1;
	case NR_MPROTECT: case NR_MUNMAP: case NR_MREMAP: case NR_MSYNC: case NR_MADVISE:
	case NR_MLOCK: case NR_MUNLOCK: case NR_MLOCK2:
		*lo = o->a[0], *hi = o->a[0] + (o->a[1] ? o->a[1] : psz);
		return 1;
	}
	return 0;
}

const char *rop_name(const struct rop *o)
{
	static const char *const names[] = { "syscall", "touch", "pageout", "migrate", "spawn", "exec" };

	if (o->type == ROP_SYSCALL)
		return syscall_name(o->nr);
	return o->type < sizeof(names) / sizeof(names[0]) ? names[o->type] : "?";
}
