// SPDX-License-Identifier: GPL-2.0
/*
 * A trace as diff compares it: operations per task, and the kernel events
 * each caused, as semantic keys.
 *
 * Each thread's events are cut into causes: a syscall (enter to exit), a
 * user fault (to the thread's next cause), a zap (unmap_page_range to its
 * return).  An event with an address counts when the address lies in a
 * mapping that an operation created (a region: the replay harness's own
 * memory never is one); an event without one counts when its cause does:
 * the op's own syscall, a fault or zap in a region, or a kernel thread's
 * work on a task's mm.  So a replay's harness (its setup, its own faults,
 * the stand-in files it opens, the mark prctls) adds nothing, and neither
 * does what the recording did outside the calls replay rebuilds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "diff.h"
#include "traces/fields.h"
#include "traces/kinds.h"

#define MAP_SHARED_ 0x01
#define MAP_ANON_ 0x20
#define MREMAP_DONTUNMAP_ 4


/* What an event's cause is. */
enum anchor { AN_NONE, AN_SYS, AN_OWN, AN_OTHER, AN_FAULT_IN, AN_FAULT_OUT, AN_FAULT_CACHE,
	      AN_ZAP_IN, AN_ZAP_OUT, AN_FOREIGN };

/* A mapping an op created: pages from base, labelled by the op (labels[label]). */
struct dreg {
	__u64 end, start, base;		/* sorted by end (mmr_lower() keys on it) */
	__u32 label;
	__u8 role;
};

struct dmm {
	__u64 mm, brk;
	struct dreg *r;
	size_t nr, cap;
	int task, tgid;		/* replay: who marked ops in it */
};

struct dthread {
	int tid, task;
	__u8 anchor, outer;	/* the cause; the one a zap interrupted */
	__u8 in_exit, result_done;
	__u8 user_args;		/* the syscall reads strings or arrays from user memory */
	__u8 last_anchor;	/* replay: the cause of its op's last syscall, AN_NONE */
	__u8 helper, helper_anchor;	/* replay: in a helper bracket, and for what cause */
	__u64 cause_ts, outer_ts;
	struct mmr_sys_enter enter;	/* the syscall in flight */
	__u64 enter_ts;
	int mark;		/* replay: index in marks of its current op, -1 */
	__u64 kfault;		/* the last event was this kernel-mode fault (address | write) */
};

/* A replay op mark. */
struct dmark {
	__u64 ts, end;
	__u32 id, task, n;
	__u16 type, nr;
	int ran;		/* a syscall op issued its own syscall */
};

/* An event before its op is known. */
struct draw {
	__u64 ts, cause_ts;
	struct dkey k;		/* region: a label until resolved */
	__u32 task;
	__u8 anchor, in_exit, addressed;
};

/* The last value of each rss counter of an mm, in pages. */
struct drss {
	__u64 mm;
	struct mmr_rss_counters c;
};

struct bld {
	struct dtrace *d;
	const struct rplan *types;
	struct dthread *th;
	size_t nr_th, cap_th;
	struct dmm *mms;
	size_t nr_mms, cap_mms;
	struct { __u32 task; __u64 ts; } *labels;
	size_t nr_labels, cap_labels;
	struct { __s64 id; __u64 size; } *shm;
	size_t nr_shm, cap_shm;
	struct draw *raw;
	size_t nr_raw, cap_raw;
	struct dmark *marks;
	size_t nr_marks, cap_marks;
	struct drss *rss;
	size_t nr_rss, cap_rss;
	__s64 rss_delta;	/* of the event at hand; rss_known: it had a value before */
	int rss_known;
	int runs, untyped;
	/* processes in exit_group: who called it, and that call's cause */
	struct { int tgid, task; __u8 anchor; __u64 cause_ts; } gexit[64];
	int nr_gexit;
	char *err;
	size_t errlen;
	/*
	 * Out of memory: the load fails.  Until it stops, what could not be
	 * added is handed out as a spare, written to and never read.
	 */
	int oom;
	struct dthread spare_th;
	struct dmm spare_mm;
	struct drss spare_rss;
};

static __u64 page_up(const struct bld *b, __u64 v)
{
	return (v + b->d->page_size - 1) & ~(__u64)(b->d->page_size - 1);
}

static int is_err(__s64 ret)
{
	return ret < 0 && ret > -4096;
}

/* ---- threads and mms --------------------------------------------------- */

static struct dthread *thread_of(struct bld *b, int tid)
{
	for (size_t i = b->nr_th; i-- > 0;)
		if (b->th[i].tid == tid)
			return &b->th[i];
	if (GROW(b->th, b->cap_th, b->nr_th + 1)) {
		b->oom = 1;
		b->spare_th = (struct dthread){ .tid = tid, .task = -1, .mark = -1 };
		return &b->spare_th;
	}
	b->th[b->nr_th] = (struct dthread){ .tid = tid, .task = -1, .mark = -1 };
	return &b->th[b->nr_th++];
}

static struct dmm *mm_of(struct bld *b, __u64 mm)
{
	for (size_t i = b->nr_mms; i-- > 0;)
		if (b->mms[i].mm == mm)
			return &b->mms[i];
	if (GROW(b->mms, b->cap_mms, b->nr_mms + 1)) {
		b->oom = 1;
		free(b->spare_mm.r);
		b->spare_mm = (struct dmm){ .mm = mm, .task = -1 };
		return &b->spare_mm;
	}
	b->mms[b->nr_mms] = (struct dmm){ .mm = mm, .task = -1 };
	return &b->mms[b->nr_mms++];
}

/* ---- regions ------------------------------------------------------------ */

/* Removes [start, end) from m's regions, splitting the ones it cuts. */
static void reg_cut(struct bld *b, struct dmm *m, __u64 start, __u64 end)
{
	size_t w = 0, n = m->nr;
	struct dreg *out = calloc(n * 2 + 1, sizeof(*out));

	if (!out) {
		b->oom = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct dreg r = m->r[i];

		if (r.end <= start || r.start >= end) {
			out[w++] = r;
			continue;
		}
		if (r.start < start)
			out[w] = r, out[w++].end = start;
		if (r.end > end)
			out[w] = r, out[w++].start = end;
	}
	free(m->r);
	m->r = out;
	m->nr = w;
	m->cap = n * 2 + 1;
}

static void reg_add(struct bld *b, struct dmm *m, __u64 start, __u64 len, __u32 task, __u64 ts,
		    int role)
{
	size_t at;

	if (!len)
		return;
	reg_cut(b, m, start, start + len);
	if (GROW(b->labels, b->cap_labels, b->nr_labels + 1) || GROW(m->r, m->cap, m->nr + 1)) {
		b->oom = 1;
		return;
	}
	b->labels[b->nr_labels].task = task;
	b->labels[b->nr_labels].ts = ts;
	for (at = m->nr; at > 0 && m->r[at - 1].start > start; at--)
		m->r[at] = m->r[at - 1];
	m->r[at] = (struct dreg){ start + len, start, start, b->nr_labels++, role };
	m->nr++;
}

static const struct dreg *reg_find(const struct dmm *m, __u64 addr)
{
	size_t i = m ? mmr_lower(m->r, m->nr, sizeof(*m->r), addr + 1) : 0;

	return m && i < m->nr && m->r[i].start <= addr ? &m->r[i] : NULL;
}

static void reg_copy(struct bld *b, __u64 from, __u64 to)
{
	struct dmm *src = mm_of(b, from), *dst;
	size_t n = src->nr;

	dst = mm_of(b, to);
	src = mm_of(b, from);	/* mm_of may have moved it */
	if (dst == src)
		return;		/* both spares: out of memory */
	if (GROW(dst->r, dst->cap, n + 1)) {
		b->oom = 1;
		return;
	}
	if (n)	/* src->r may still be NULL */
		memcpy(dst->r, src->r, n * sizeof(*src->r));
	dst->nr = n;
	dst->brk = src->brk;
}

static __u64 shm_size(struct bld *b, __s64 id)
{
	for (size_t i = 0; i < b->nr_shm; i++)
		if (b->shm[i].id == id)
			return b->shm[i].size;
	return 0;
}

static int map_role(__u64 flags)
{
	int shared = (flags & 3) == MAP_SHARED_ || (flags & 3) == 3;

	if (flags & MAP_ANON_)
		return shared ? R_SHMEM : R_ANON;
	return shared ? R_FILE_SHARED : R_FILE;
}

/* A syscall that created or removed mappings returned. */
static void regions_after(struct bld *b, struct dthread *th, __u64 mm, __s64 ret)
{
	const struct mmr_sys_enter *e = &th->enter;
	struct dmm *m = mm_of(b, mm);
	const struct dreg *old;
	__u64 lo, hi;

	if (is_err(ret))
		return;
	switch (e->nr) {
	case NR_MMAP:
		reg_add(b, m, ret, page_up(b, e->args[1]), th->task, th->enter_ts,
			map_role(e->args[3]));
		break;
	case NR_MUNMAP:
		reg_cut(b, m, e->args[0], e->args[0] + page_up(b, e->args[1]));
		break;
	case NR_MREMAP:
		old = reg_find(m, e->args[0]);
		lo = old ? old->role : R_ANON;
		if (!(e->args[3] & MREMAP_DONTUNMAP_))
			reg_cut(b, m, e->args[0], e->args[0] + page_up(b, e->args[1]));
		reg_add(b, m, ret, page_up(b, e->args[2]), th->task, th->enter_ts, lo);
		break;
	case NR_BRK:
		lo = page_up(b, m->brk), hi = page_up(b, ret);
		if (e->args[0] && m->brk && hi > lo)
			reg_add(b, m, lo, hi - lo, th->task, th->enter_ts, R_ANON);
		else if (e->args[0] && m->brk && hi < lo)
			reg_cut(b, m, hi, lo);
		m->brk = ret;
		break;
	case NR_SHMGET:
		if (GROW(b->shm, b->cap_shm, b->nr_shm + 1)) {
			b->oom = 1;
			break;
		}
		b->shm[b->nr_shm].id = ret;
		b->shm[b->nr_shm++].size = e->args[1];
		break;
	case NR_SHMAT:
		reg_add(b, m, ret, page_up(b, shm_size(b, e->args[0])), th->task, th->enter_ts,
			R_SHMEM);
		break;
	case NR_SHMDT:
		old = reg_find(m, e->args[0]);
		if (old)
			reg_cut(b, m, old->start, old->end);
		break;
	}
}

/* ---- keys ---------------------------------------------------------------- */

static struct drss *rss_of(struct bld *b, __u64 mm)
{
	for (size_t i = 0; i < b->nr_rss; i++)
		if (b->rss[i].mm == mm)
			return &b->rss[i];
	if (GROW(b->rss, b->cap_rss, b->nr_rss + 1)) {
		b->oom = 1;
		b->spare_rss = (struct drss){ .mm = mm };
		return &b->spare_rss;
	}
	b->rss[b->nr_rss].mm = mm;
	return &b->rss[b->nr_rss++];
}

/*
 * Every event, whoever caused it: how much an rss_stat moved its counter.
 * The values are exact, but one zap may report in more or fewer batches,
 * so ops are compared by the net change of each counter, not by event
 * counts.  An mm that dies (exit_mmap) is forgotten: a new mm may take its
 * address, and so its hash.  A forked mm starts with its parent's counters
 * (its changes while fork copies them are not traced).
 */
static void mm_track(struct bld *b, const struct mmr_event *ev)
{
	int type = ((const struct mmr_common *)ev->data)->type;
	struct mmr_rss r;
	struct mmr_rss_change ch;

	b->rss_known = 0;
	if (type == MMR_K_EXIT_MMAP) {
		memset(rss_of(b, ev->h.mm)->c.seen, 0, MMR_NR_RSS);
		mm_of(b, ev->h.mm)->nr = 0;
	} else if (type == MMR_K_TASK_FORK) {	/* fork copies anon PTEs and swap entries */
		__u64 child = ((const struct mmr_task_fork *)ev->data)->child_mm;
		struct drss *c = child != ev->h.mm ? rss_of(b, child) : NULL;

		if (c)
			*c = *rss_of(b, ev->h.mm), c->mm = child;
	}
	if (type != MMR_K_RSS_STAT || mmr_ev_rss(ev, b->d->page_size, &r))
		return;
	mmr_rss_update(&rss_of(b, ev->h.mm)->c, ev, b->d->page_size, &ch);
	b->rss_known = ch.seen;
	b->rss_delta = ch.now - ch.old;
}

static int rss_role(__u64 member)
{
	static const int roles[] = { R_FILE, R_ANON, R_SWAP, R_SHMEM };

	return member < MMR_NR_RSS ? roles[member] : R_NONE;
}

static int lru_role(__u64 lru)
{
	return lru <= 1 ? R_ANON : lru <= 3 ? R_FILE : lru == 4 ? R_UNEVICTABLE : R_NONE;
}

/*
 * The key of a kernel event, and the address it is about (0: none); 0 if
 * the event is not one diff compares (syscalls, task lifetime, snapshots).
 */
static int key_of(struct bld *b, const struct mmr_event *ev, struct dkey *k, __u64 *addr)
{
	const struct mmr_common *c = ev->data;
	__u64 v;

	memset(k, 0, sizeof(*k));
	k->kind = c->type;
	k->region = DOP_NONE;
	*addr = 0;
	switch (c->type) {
	case MMR_K_PAGE_FAULT_USER:
	case MMR_K_PAGE_FAULT_KERNEL:
		*addr = mmr_ev_u64(ev, F_ADDRESS);
		v = mmr_ev_u64(ev, F_ERROR_CODE);
		k->flag = (!!(v & 2)) | (v & 1) << 1;	/* write, protection */
		return 1;
	case MMR_K_RSS_STAT:	/* summed per op and counter by resolve() */
		v = mmr_ev_u64(ev, F_MEMBER);
		k->role = rss_role(v);
		k->flag = v & 3;
		k->val = b->rss_delta;
		if (k->role == R_FILE || k->role == R_SHMEM)
			k->flag |= DK_CACHE;
		return b->rss_known && v < MMR_NR_RSS;
	case MMR_K_LRU_INSERTION:
		v = mmr_ev_u64(ev, F_LRU);
		k->flag = v;
		k->role = lru_role(v);
		return 1;
	case MMR_K_SET_MIGRATION_PTE:
	case MMR_K_REMOVE_MIGRATION_PTE:
		*addr = mmr_ev_u64(ev, F_ADDR);
		return 1;
	case MMR_K_MMAP_LOCK_START:
	case MMR_K_MMAP_LOCK_ACQUIRED:
	case MMR_K_MMAP_LOCK_RELEASED:
		k->flag = (!!mmr_ev_u64(ev, F_WRITE)) |
			  (c->type == MMR_K_MMAP_LOCK_ACQUIRED && mmr_ev_u64(ev, F_SUCCESS)) << 1;
		return 1;
	case MMR_K_EXIT_MMAP:
	case MMR_K_ZAP_DONE:
		return 1;
	case MMR_K_TRY_TO_UNMAP_ONE:
	case MMR_K_FOLIO_REFERENCED_ONE:
	case MMR_K_TRY_TO_MIGRATE_ONE:
		*addr = ((const struct mmr_rmap *)c)->address;
		k->val = ((const struct mmr_rmap *)c)->nr_pages;
		return 1;
	case MMR_K_MLOCK_FOLIO:
	case MMR_K_MUNLOCK_FOLIO:
	case MMR_K_MLOCK_NEW_FOLIO:
		k->val = ((const struct mmr_mlock *)c)->nr_pages;
		return 1;
	case MMR_K_UNMAP_PAGE_RANGE:
	case MMR_K_ZAP_PAGE_RANGE_SINGLE: {
		const struct mmr_zap *z = ev->data;

		*addr = z->start;
		k->val = (z->end - z->start) / b->d->page_size;
		k->flag = (!!z->has_details) | (!!z->even_cows) << 1;
		return 1;
	}
	case MMR_K_UNMAP_MAPPING_PAGES:
	case MMR_K_UNMAP_MAPPING_RANGE: {
		const struct mmr_unmap_mapping *u = ev->data;
		long div = c->type == MMR_K_UNMAP_MAPPING_RANGE ? b->d->page_size : 1;

		k->page = u->start / div;
		k->val = u->len / div;
		k->flag = !!u->even_cows;
		return 1;
	}
	case MMR_K_FREE_SWAP_AND_CACHE:
		k->role = R_SWAP;
		k->val = ((const struct mmr_free_swap *)c)->nr;
		return 1;
	case MMR_K_DO_SWAP_PAGE:
		k->role = R_SWAP;
		*addr = ((const struct mmr_swap_fault *)c)->address;
		return 1;
	case MMR_K_FAULT_DONE:
		*addr = ((const struct mmr_fault_done *)c)->address;
		k->val = ((const struct mmr_fault_done *)c)->ret;
		return 1;
	}
	return 0;
}

static void raw_add(struct bld *b, const struct dthread *th, int task, int anchor,
		    const struct mmr_event *ev, const struct dkey *k, int addressed)
{
	if (GROW(b->raw, b->cap_raw, b->nr_raw + 1)) {
		b->oom = 1;
		return;
	}
	b->raw[b->nr_raw++] = (struct draw){
		.ts = ev->h.ts, .cause_ts = th && anchor != AN_FOREIGN ? th->cause_ts : ev->h.ts,
		.k = *k, .task = task, .anchor = anchor, .in_exit = th ? th->in_exit : 0,
		.addressed = addressed,
	};
}

/* Relocates addr into k: the region's label and the page index in it. */
static int relocate(struct bld *b, __u64 mm, __u64 addr, struct dkey *k)
{
	const struct dreg *r = reg_find(mm_of(b, mm), addr);

	if (!r)
		return 0;
	k->region = r->label;
	k->page = (addr - r->base) / b->d->page_size;
	if (!k->role)
		k->role = r->role;
	return 1;
}

/* ---- events -------------------------------------------------------------- */

/* Replay: is this syscall one the current op issues for itself? */
static int own_nr(const struct bld *b, const struct dthread *th, int nr)
{
	const struct dmark *m;

	if (!b->d->replay)
		return 1;
	if (th->mark < 0)
		return 0;
	m = &b->marks[th->mark];
	if (m->type != ROP_SYSCALL && m->type != ROP_PAGEOUT && m->type != ROP_MIGRATE)
		return 0;
	if (m->type == ROP_PAGEOUT)
		return nr == NR_MADVISE;
	if (m->type == ROP_MIGRATE || m->nr == NR_MOVE_PAGES || m->nr == NR_MIGRATE_PAGES)
		return nr == NR_MOVE_PAGES || nr == NR_MIGRATE_PAGES;
	if (m->nr == NR_BRK)
		return nr == NR_MMAP || nr == NR_MUNMAP;
	if (m->nr == NR_OPEN || m->nr == NR_OPENAT || m->nr == NR_OPENAT2)
		return nr == NR_OPEN || nr == NR_OPENAT || nr == NR_OPENAT2;
	return nr == m->nr;
}

/*
 * Syscalls that read a path, a name or an array from user memory: a
 * replay's lives elsewhere (its harness), so the faults the kernel takes
 * on it, and what they cause, say nothing about the op.
 */
static int reads_user_memory(int nr)
{
	return nr == NR_OPEN || nr == NR_OPENAT || nr == NR_OPENAT2 || nr == NR_MEMFD_CREATE ||
	       nr == NR_TRUNCATE || nr == NR_MOVE_PAGES || nr == NR_MIGRATE_PAGES || nr == 59;
}

static void on_enter(struct bld *b, struct dthread *th, const struct mmr_event *ev)
{
	const struct mmr_sys_enter *e = ev->data;

	th->user_args = reads_user_memory(e->nr);
	th->enter = *e;
	th->enter_ts = ev->h.ts;
	th->cause_ts = ev->h.ts;
	if (e->nr == NR_EXIT || e->nr == NR_EXIT_GROUP)
		th->in_exit = 1;
	if (!b->d->replay)
		th->anchor = AN_SYS;
	else
		th->anchor = own_nr(b, th, e->nr) ? AN_OWN : AN_OTHER;
	if (th->anchor == AN_OWN)
		b->marks[th->mark].ran = 1;
	if (e->nr == NR_EXIT_GROUP && b->nr_gexit < (int)(sizeof(b->gexit) / sizeof(b->gexit[0])))
		b->gexit[b->nr_gexit++] = (typeof(b->gexit[0])){ ev->h.tgid, th->task, th->anchor,
								 th->cause_ts };
}

/*
 * A thread of a process in exit_group, killed without a call of its own:
 * what it does from then on is the exit's.  Whichever thread drops the mm
 * last tears it down (mmput), so the teardown counts as it does for the
 * caller of exit_group, not for the op the killed thread ran last.
 */
static int group_exit(struct bld *b, struct dthread *th, const struct mmr_event *ev, int task)
{
	int type = ((const struct mmr_common *)ev->data)->type;

	for (int i = b->nr_gexit - 1; i >= 0; i--) {
		if (b->gexit[i].tgid != (int)ev->h.tgid || b->gexit[i].task < 0)
			continue;
		if (b->gexit[i].task != th->task) {
			th->in_exit = 1;
			th->anchor = b->gexit[i].anchor;
			th->cause_ts = b->gexit[i].cause_ts;
			task = b->gexit[i].task;
		}
		if (type == MMR_K_EXIT_MMAP)	/* torn down: the process is gone */
			b->gexit[i].task = -1;
		break;
	}
	return task;
}

static void on_exit_sys(struct bld *b, struct dthread *th, const struct mmr_event *ev)
{
	const struct mmr_sys_exit *x = ev->data;
	struct dkey k = { .kind = MMR_K_SYS_EXIT, .region = DOP_NONE };
	int counts = th->anchor == AN_SYS || th->anchor == AN_OWN;
	int brk = b->d->replay ? th->mark >= 0 && b->marks[th->mark].nr == NR_BRK : x->nr == NR_BRK;
	/* reclaim and migration the recording shows are replayed as calls it never made */
	int kernel_op = b->d->replay && th->mark >= 0 && (b->marks[th->mark].type == ROP_PAGEOUT ||
							   b->marks[th->mark].type == ROP_MIGRATE);

	if (th->enter.nr != x->nr || !th->enter_ts)
		return;
	if (counts && th->task >= 0)
		regions_after(b, th, ev->h.mm, x->ret);
	if (th->anchor == AN_OWN && th->mark >= 0)
		b->marks[th->mark].end = ev->h.ts;
	k.val = is_err(x->ret) ? x->ret : 0;
	/* one result per op; brk is replayed as mappings, so it has none */
	if (counts && !th->result_done && th->task >= 0 && !brk && !kernel_op) {
		raw_add(b, th, th->task, th->anchor, ev, &k, 0);
		th->result_done = b->d->replay;
	}
	th->last_anchor = th->anchor;
	th->anchor = AN_NONE;
	th->enter_ts = 0;
}

/* A replay op mark: the thread runs that task's op now. */
static void on_mark(struct bld *b, struct dthread *th, const struct mmr_event *ev)
{
	const struct mmr_sys_enter *e = ev->data;
	struct dmark m = { .ts = ev->h.ts, .end = ev->h.ts, .id = e->args[1], .task = e->args[2],
			   .n = e->args[4] > 1 ? e->args[4] : 1 };
	int type, nr;
	struct dmm *mm;

	if (mark_what(e->args[5], &type, &nr) == 0) {
		m.type = type, m.nr = nr;
	} else if (b->types && m.id < b->types->nr_ops && b->types->ops[m.id].task == m.task) {
		m.type = b->types->ops[m.id].type, m.nr = b->types->ops[m.id].nr;
	} else {
		b->untyped = 1;
		return;
	}
	if (m.task > 1000000)
		return;
	if (GROW(b->marks, b->cap_marks, b->nr_marks + 1)) {
		b->oom = 1;
		return;
	}
	b->marks[b->nr_marks] = m;
	th->mark = b->nr_marks++;
	th->task = m.task;
	th->anchor = AN_NONE;
	th->last_anchor = AN_NONE;
	th->helper = 0;
	th->result_done = 0;
	th->user_args = 0;
	mm = mm_of(b, ev->h.mm);
	mm->task = m.task;
	mm->tgid = ev->h.tgid;
	if (m.type == ROP_EXEC)
		mm->nr = 0;	/* the recorded exec's new mm has no mappings yet */
}

static void on_fork(struct bld *b, const struct mmr_event *ev)
{
	const struct mmr_task_fork *f = ev->data;

	if (f->child_mm && f->child_mm != ev->h.mm)
		reg_copy(b, ev->h.mm, f->child_mm);
}

static int is_fault(int kind)
{
	return kind == MMR_K_PAGE_FAULT_USER || kind == MMR_K_PAGE_FAULT_KERNEL;
}

/*
 * The kernel's copy from user memory into a file (generic_perform_write)
 * first copies with page faults disabled: that fault fails at once (no
 * handle_mm_fault), then the page is faulted in and the copy retried.  So
 * a kernel-mode fault right after the same one, on the same page, is a
 * retry that left memory as it was: one fault, as a pipe's write() or the
 * replay's takes it.
 */
static int kfault_retry(struct dthread *th, const struct mmr_event *ev, long page_size)
{
	const struct mmr_common *c = ev->data;
	__u64 key, last = th->kfault;

	th->kfault = 0;
	if (c->type != MMR_K_PAGE_FAULT_KERNEL)
		return 0;
	key = (mmr_ev_u64(ev, F_ADDRESS) & ~(__u64)(page_size - 1)) |
	      !!(mmr_ev_u64(ev, F_ERROR_CODE) & 2);
	th->kfault = key;
	return key == last;
}

/* A kernel event of a task's thread (or of a kernel thread on a task's mm). */
static void on_kernel(struct bld *b, struct dthread *th, int task, int foreign,
		      const struct mmr_event *ev)
{
	const struct mmr_common *c = ev->data;
	struct dkey k;
	__u64 addr;
	int in, anchor;

	if (!key_of(b, ev, &k, &addr))
		return;
	if (!foreign && th->helper) {	/* a replay's helper call: its rss changes only */
		if (c->type == MMR_K_RSS_STAT)
			raw_add(b, th, task, th->helper_anchor, ev, &k, 0);
		return;
	}
	in = addr && relocate(b, ev->h.mm, addr, &k);
	/* a read of a file page faults or not by the page cache; a write protection
	 * fault or not by whether a read mapped the page before */
	if (is_fault(c->type) && in && (k.role == R_FILE || k.role == R_FILE_SHARED))
		k.flag = k.flag & 1 ? 1 : DK_CACHE;
	/* the kernel's fault in a syscall not traced (read()) is a cause; in a traced one, the call's */
	if (!foreign && (c->type == MMR_K_PAGE_FAULT_USER ||
			 (c->type == MMR_K_PAGE_FAULT_KERNEL && !th->enter_ts))) {
		th->anchor = !in ? AN_FAULT_OUT : k.flag & DK_CACHE ? AN_FAULT_CACHE : AN_FAULT_IN;
		th->cause_ts = ev->h.ts;
	} else if (!foreign && c->type == MMR_K_UNMAP_PAGE_RANGE && !th->in_exit) {
		th->outer = th->anchor, th->outer_ts = th->cause_ts;
		th->anchor = in ? AN_ZAP_IN : AN_ZAP_OUT;
		th->cause_ts = ev->h.ts;
	}
	anchor = foreign ? AN_FOREIGN : th->anchor;
	if (addr && !in)
		return;
	if ((anchor == AN_SYS || anchor == AN_OWN) && th->user_args)
		anchor = AN_OTHER;
	raw_add(b, foreign ? NULL : th, task, anchor, ev, &k, addr != 0);
	if (!foreign && c->type == MMR_K_ZAP_DONE &&
	    (th->anchor == AN_ZAP_IN || th->anchor == AN_ZAP_OUT)) {
		th->anchor = th->outer;
		th->cause_ts = th->outer_ts;
	}
}

/*
 * A thread that dies outside any call of its own (a signal killed it: sort
 * writing into a pipe whose reader exited): what follows is its exit's, and
 * counts as exit_group's teardown does, by address only.  Whichever comes
 * first says so: sched_process_exit (before exit_mm() on this 6.18 host) or
 * exit_mmap (6.1's do_exit() traces the exit after exit_mm(), so there the
 * teardown's rss changes before exit_mmap still count for the last op).
 */
static void killed(struct dthread *th, const struct mmr_event *ev)
{
	th->in_exit = 1;
	th->anchor = AN_OTHER;
	th->cause_ts = ev->h.ts;
}

/* One event of a thread that runs task (or of a foreign thread: foreign). */
static void on_event(struct bld *b, struct dthread *th, int task, int foreign,
		     const struct mmr_event *ev)
{
	const struct mmr_common *c = ev->data;

	if (!foreign && kfault_retry(th, ev, b->d->page_size))
		return;
	if (!foreign && b->nr_gexit && c->type != MMR_K_SYS_ENTER && c->type != MMR_K_SYS_EXIT)
		task = group_exit(b, th, ev, task);
	if (!foreign && !th->enter_ts && !th->in_exit &&
	    (c->type == MMR_K_TASK_EXIT || c->type == MMR_K_EXIT_MMAP))
		killed(th, ev);
	if (!foreign && th->helper && (c->type == MMR_K_SYS_ENTER || c->type == MMR_K_SYS_EXIT))
		return;		/* a replay's helper call (replay/xkernel.c) */
	switch (c->type) {
	case MMR_K_SYS_ENTER:
		if (!foreign)
			on_enter(b, th, ev);
		break;
	case MMR_K_SYS_EXIT:
		if (!foreign)
			on_exit_sys(b, th, ev);
		break;
	case MMR_K_TASK_FORK:
		on_fork(b, ev);
		break;
	default:
		on_kernel(b, th, task, foreign, ev);
	}
}

/* ---- a recording: tasks from the plan ------------------------------------ */

static void tid_note(struct bld *b, int tid, int task)
{
	struct dtrace *d = b->d;

	for (size_t i = 0; i < d->nr_tids; i++) {
		if (d->tids[i].tid == tid) {
			d->tids[i].task = task;
			return;
		}
	}
	if (GROW(d->tids, d->cap_tids, d->nr_tids + 1)) {
		b->oom = 1;
		return;
	}
	d->tids[d->nr_tids].tid = tid;
	d->tids[d->nr_tids++].task = task;
}

static void rec_hook(void *ctx, const struct mmr_event *ev, int task)
{
	struct bld *b = ctx;
	const struct rplan *p = &b->d->plan;
	int tid = ((const struct mmr_common *)ev->data)->pid;
	struct dthread *th = thread_of(b, tid);

	mm_track(b, ev);
	if (task >= 0 && p->tasks[task].tid == tid && th->task != task) {
		th->task = task;
		tid_note(b, tid, task);
	}
	if (th->task == 0 && !b->d->comm[0] &&
	    ((const struct mmr_common *)ev->data)->type == MMR_K_TASK_EXEC)
		snprintf(b->d->comm, sizeof(b->d->comm), "%.16s",
			 ((const struct mmr_task_exec *)ev->data)->comm);
	if (th->task >= 0)
		on_event(b, th, th->task, 0, ev);
	else if (task >= 0 && p->tasks[task].tgid != (int)ev->h.tgid)
		on_event(b, th, task, 1, ev);
	else if (ev->h.mm && ((const struct mmr_common *)ev->data)->type == MMR_K_TASK_FORK)
		on_fork(b, ev);
}

/* The next op; its room was reserved (ops_reserve). */
static struct dop *op_add(struct dtrace *d, __u32 task, int type, __u64 ts)
{
	struct dop *o = &d->ops[d->nr_ops++];

	*o = (struct dop){ .ts = ts, .end = ts, .id = DOP_NONE, .task = task, .type = type };
	return o;
}

/* Room for n more ops, and the per-task index; -1 if out of memory. */
static int ops_reserve(struct dtrace *d, size_t n)
{
	d->task_op0 = calloc(d->nr_tasks + 1, sizeof(*d->task_op0));
	return !d->task_op0 || GROW(d->ops, d->cap_ops, d->nr_ops + n) ? -1 : 0;
}

static int rec_ops(struct dtrace *d)
{
	const struct rplan *p = &d->plan;
	size_t n = 0;

	d->nr_tasks = p->nr_tasks;
	for (int t = 0; t < p->nr_tasks; t++)
		n += p->tasks[t].nr_ops + 2;	/* at most: touches add none */
	if (ops_reserve(d, n))
		return -1;
	for (int t = 0; t < p->nr_tasks; t++) {
		struct dop *cur;

		d->task_op0[t] = d->nr_ops;
		cur = op_add(d, t, DOP_START, 0);
		for (size_t i = 0; i < p->tasks[t].nr_ops; i++) {
			__u32 id = p->tasks[t].ops[i];
			const struct rop *r = &p->ops[id];

			if (r->type == ROP_TOUCH) {
				cur->touches++;
				continue;
			}
			cur = op_add(d, t, r->type, r->ts);
			cur->end = r->ts + r->dur;
			cur->id = id;
			cur->nr = r->nr;
			cur->ret = r->ret;
			cur->raced = !!(r->flags & ROPF_RACED);
		}
		op_add(d, t, DOP_EXIT, ~0ULL);
	}
	d->task_op0[d->nr_tasks] = d->nr_ops;
	return 0;
}

/* ---- a replay: tasks from the marks -------------------------------------- */

/*
 * A replay's helper bracket (MMR_MARK_HELPER, replay/xkernel.c): the rss
 * changes inside it count as the cause before it would have them counted:
 * the touch's fault, else the op's last syscall.  The end mark counts the
 * pages it wrote through.
 */
static void on_helper(struct bld *b, struct dthread *th, const struct mmr_sys_enter *e)
{
	int a = th->anchor;

	th->helper = !!e->args[1];
	if (!th->helper) {
		b->d->zero_filled += e->args[2];
		return;
	}
	if ((a == AN_NONE || a == AN_FAULT_OUT) && th->last_anchor != AN_NONE)
		a = th->last_anchor;
	if ((a == AN_SYS || a == AN_OWN) && th->user_args)
		a = AN_OTHER;
	th->helper_anchor = a;
}

static void replay_event(struct bld *b, const struct mmr_event *ev)
{
	const struct mmr_common *c = ev->data;
	struct dthread *th = thread_of(b, c->pid);
	struct dmm *m;

	mm_track(b, ev);
	if (mark_of(ev, MMR_MARK_RUN)) {
		b->runs++;
		return;
	}
	if (mark_of(ev, MMR_MARK_RSS_SYNC)) {
		b->d->rss_synced = 1;
		return;
	}
	if (mark_of(ev, MMR_MARK_ZERO_FILL))
		return;
	if (mark_of(ev, MMR_MARK_HELPER)) {
		on_helper(b, th, ev->data);
		return;
	}
	if (mark_of(ev, MMR_MARK_PERTURB)) {	/* shown, not compared */
		const struct mmr_sys_enter *e = ev->data;

		if (b->d->nr_perturbs < 8)
			b->d->perturbs[b->d->nr_perturbs++] = (typeof(b->d->perturbs[0])){
				(int)e->args[1], (int)c->pid, (__u32)e->args[2] };
		return;
	}
	if (mark_of(ev, MMR_MARK_OP)) {
		on_mark(b, th, ev);
		if (th->task >= 0)
			tid_note(b, c->pid, th->task);
		return;
	}
	if (th->task >= 0) {
		on_event(b, th, th->task, 0, ev);
		return;
	}
	m = ev->h.mm ? mm_of(b, ev->h.mm) : NULL;
	if (m && m->task >= 0 && m->tgid != (int)ev->h.tgid)
		on_event(b, th, m->task, 1, ev);
	else if (c->type == MMR_K_TASK_FORK)
		on_fork(b, ev);
}

static int cmp_mark(const void *x, const void *y)
{
	const struct dmark *a = x, *b = y;

	if (a->task != b->task)
		return a->task < b->task ? -1 : 1;
	return a->ts < b->ts ? -1 : a->ts > b->ts;
}

static int replay_ops(struct bld *b)
{
	struct dtrace *d = b->d;
	size_t i = 0;

	qsort(b->marks, b->nr_marks, sizeof(*b->marks), cmp_mark);
	for (size_t k = 0; k < b->nr_marks; k++)
		if ((int)b->marks[k].task >= d->nr_tasks)
			d->nr_tasks = b->marks[k].task + 1;
	if (ops_reserve(d, b->nr_marks + 2 * (size_t)d->nr_tasks))
		return -1;
	for (int t = 0; t < d->nr_tasks; t++) {
		struct dop *cur;

		d->task_op0[t] = d->nr_ops;
		cur = op_add(d, t, DOP_START, 0);
		for (; i < b->nr_marks && (int)b->marks[i].task == t; i++) {
			const struct dmark *m = &b->marks[i];

			if (m->type == ROP_TOUCH) {
				cur->touches += m->n;
				continue;
			}
			cur = op_add(d, t, m->type, m->ts);
			cur->end = m->end;
			cur->id = m->id;
			cur->nr = m->nr;
			cur->skipped = m->type == ROP_SYSCALL && !m->ran;
		}
		op_add(d, t, DOP_EXIT, ~0ULL);
	}
	d->task_op0[d->nr_tasks] = d->nr_ops;
	return 0;
}

/* ---- events to ops ------------------------------------------------------- */

/* The op of task at time ts: the last one started by then (its start, or its exit). */
static __u32 op_at(const struct dtrace *d, __u32 task, __u64 ts, int in_exit)
{
	size_t lo = d->task_op0[task] + 1, hi = d->task_op0[task + 1] - 1;

	if (in_exit)
		return hi;
	return lo + mmr_lower(&d->ops[lo], hi - lo, sizeof(*d->ops), ts + 1) - 1;
}

/* Does a raw event count for its op?  (A syscall of a recording: only the op's own.) */
static int counts(const struct dtrace *d, const struct draw *r, __u32 op)
{
	switch (r->anchor) {
	case AN_SYS:	/* a recording's syscall: the op's own, or only its addresses count */
		return (d->ops[op].type == ROP_SYSCALL && d->ops[op].ts == r->cause_ts) ||
		       r->addressed;
	case AN_OWN:
	case AN_FAULT_IN:
	case AN_ZAP_IN:
	case AN_FOREIGN:
		return 1;
	}
	return r->addressed;
}

/* The op an event counts for, DOP_NONE if none; its region's label resolved to an op. */
static __u32 place(struct bld *b, struct draw *r)
{
	struct dtrace *d = b->d;
	__u32 op;

	if ((int)r->task >= d->nr_tasks)
		return DOP_NONE;
	op = op_at(d, r->task, r->cause_ts, r->in_exit);
	if (!counts(d, r, op))
		return DOP_NONE;
	if (r->k.region != DOP_NONE) {
		__u32 l = r->k.region;

		r->k.region = b->labels[l].task < (__u32)d->nr_tasks ?
			      op_at(d, b->labels[l].task, b->labels[l].ts, 0) : DOP_NONE;
	}
	return op;
}

/* The net change of rss counter member over an op: one key, after the op's other events. */
static void put_rss(struct dtrace *d, size_t o, size_t *at, const __s64 net[4])
{
	for (int m = 0; m < 4; m++) {
		struct dkey k = { .kind = MMR_K_RSS_STAT, .role = rss_role(m), .flag = m,
				  .region = DOP_NONE, .val = net[m] };

		if (!net[m])
			continue;
		if (k.role == R_FILE || k.role == R_SHMEM)
			k.flag |= DK_CACHE;
		d->evs[(*at)++] = (struct devent){ d->ops[o].end, k };
	}
}

/* Events to their ops, grouped by op; rss_stat summed per op and counter. */
static int resolve(struct bld *b)
{
	struct dtrace *d = b->d;
	__u32 *op = calloc(b->nr_raw + 1, sizeof(*op));
	__s64 (*net)[4] = calloc(d->nr_ops + 1, sizeof(*net));
	size_t *fill = calloc(d->nr_ops + 1, sizeof(*fill));

	d->evs = calloc(b->nr_raw + 1, sizeof(*d->evs));
	if (!op || !net || !d->evs || !fill) {
		free(op);
		free(net);
		free(fill);
		return -1;
	}
	for (size_t i = 0; i < b->nr_raw; i++) {
		struct draw *r = &b->raw[i];

		op[i] = place(b, r);
		if (op[i] != DOP_NONE && r->k.kind == MMR_K_RSS_STAT) {
			net[op[i]][r->k.flag & 3] += r->k.val;
			d->ops[op[i]].rss_fell |= r->k.val < 0;
			op[i] = DOP_NONE;
		}
		if (op[i] != DOP_NONE)
			d->ops[op[i]].nev++;
	}
	for (size_t o = 0, at = 0; o < d->nr_ops; o++) {
		for (int m = 0; m < 4; m++)
			d->ops[o].nev += net[o][m] != 0;
		d->ops[o].ev0 = fill[o] = at;
		at += d->ops[o].nev;
	}
	for (size_t i = 0; i < b->nr_raw; i++)
		if (op[i] != DOP_NONE)
			d->evs[fill[op[i]]++] = (struct devent){ b->raw[i].ts, b->raw[i].k };
	for (size_t o = 0; o < d->nr_ops; o++)
		put_rss(d, o, &fill[o], net[o]);
	d->nr_evs = d->nr_ops ? fill[d->nr_ops - 1] : 0;
	free(op);
	free(net);
	free(fill);
	return 0;
}

/* ---- loading ------------------------------------------------------------- */

static void bld_free(struct bld *b)
{
	for (size_t i = 0; i < b->nr_mms; i++)
		free(b->mms[i].r);
	free(b->mms);
	free(b->th);
	free(b->labels);
	free(b->shm);
	free(b->raw);
	free(b->marks);
	free(b->rss);
	free(b->spare_mm.r);
}

/* Does the trace hold replay op marks? */
static int has_marks(struct mmr_trace *t)
{
	struct mmr_event ev;
	int found = 0;

	mmr_trace_rewind(t);
	while (!found && mmr_trace_next(t, &ev) == 1)
		found = mark_of(&ev, MMR_MARK_OP) != NULL;
	mmr_trace_rewind(t);
	return found;
}

static void describe(struct dtrace *d, struct mmr_trace *t)
{
	const char *cmd = mmr_trace_meta(t, "command");
	const char *arg = cmd ? strrchr(cmd, ' ') : NULL;

	if (d->replay && cmd && strstr(cmd, "__replay-run") && arg)
		snprintf(d->what, sizeof(d->what), "a replay of %s", arg + 1);
	else
		snprintf(d->what, sizeof(d->what), "%s", cmd && cmd[0] ? cmd : "?");
	/* meta values share one buffer: each is copied before the next lookup */
	snprintf(d->kernel, sizeof(d->kernel), "%s", mmr_trace_meta(t, "kernel_release") ?: "?");
	snprintf(d->thp, sizeof(d->thp), "%s", mmr_trace_meta(t, "thp_enabled") ?: "");
	snprintf(d->read_fault, sizeof(d->read_fault), "%s",
		 mmr_trace_meta(t, "anon_read_fault") ?: "");
	d->rss_exact = mmr_kernel_rss_exact(d->kernel);
}

static void setup(struct bld *b, struct mmr_trace *t)
{
	struct dtrace *d = b->d;
	const char *ps = mmr_trace_meta(t, "page_size");

	d->page_size = ps && atol(ps) > 0 ? atol(ps) : 4096;
	for (int id = 1; id < MMR_K_NR; id++) {
		const struct mmr_kind_info *k = mmr_trace_kind(t, id);

		d->recorded[id] = k && k->present && k->status && !strcmp(k->status, "ok");
	}
}

static int load_replay(struct bld *b, struct mmr_trace *t)
{
	struct mmr_event ev;
	int r;

	while (!b->oom && (r = mmr_trace_next(t, &ev)) == 1)
		if (ev.h.len >= sizeof(struct mmr_common))
			replay_event(b, &ev);
	if (b->oom)
		return -1;
	if (r < 0) {
		snprintf(b->err, b->errlen, "cannot read the trace");
		return -1;
	}
	if (b->untyped) {
		snprintf(b->err, b->errlen, "its op marks do not name their operations (a replay "
			 "made before they did): diff it against the recording it replays");
		return DTRACE_NEEDS_PLAN;
	}
	if (b->runs > 1) {
		snprintf(b->err, b->errlen, "it holds %d runs (replay --explore or --pair); diff "
			 "takes a plain replay", b->runs);
		return -1;
	}
	if (replay_ops(b)) {
		b->oom = 1;
		return -1;
	}
	return 0;
}

int dtrace_load(struct dtrace *d, struct mmr_trace *t, const struct rplan *types, char *err,
		size_t errlen)
{
	struct bld b = { .d = d, .types = types, .err = err, .errlen = errlen };
	int r = 0;

	memset(d, 0, sizeof(*d));
	setup(&b, t);
	d->replay = has_marks(t);
	describe(d, t);
	if (d->replay) {
		r = load_replay(&b, t);
	} else if (plan_build_hook(t, &d->plan, rec_hook, &b, err, errlen)) {
		r = -1;
	} else if (!b.oom && rec_ops(d)) {
		b.oom = 1;
	}
	if (!r && !b.oom && resolve(&b))
		b.oom = 1;
	if (b.oom) {
		snprintf(err, errlen, "out of memory");
		r = -1;
	}
	bld_free(&b);
	return r;
}

int dtrace_load_all(struct dtrace *d, struct mmr_trace *const *t, int n, char *err,
		    size_t errlen)
{
	int r[2] = { 0, 0 };

	for (int i = 0; i < n; i++)
		r[i] = dtrace_load(&d[i], t[i], NULL, err, errlen);
	for (int i = 0; i < n; i++) {
		const struct dtrace *other = n == 2 && !r[!i] && !d[!i].replay ? &d[!i] : NULL;

		if (r[i] == DTRACE_NEEDS_PLAN && other)
			r[i] = dtrace_load(&d[i], t[i], &other->plan, err, errlen);
		if (r[i])
			return i + 1;
	}
	return 0;
}

void dtrace_free(struct dtrace *d)
{
	free(d->ops);
	free(d->task_op0);
	free(d->evs);
	free(d->tids);
	plan_free(&d->plan);
	memset(d, 0, sizeof(*d));
}

int dtrace_task_of(const struct dtrace *d, int tid)
{
	for (size_t i = 0; i < d->nr_tids; i++)
		if (d->tids[i].tid == tid)
			return d->tids[i].task;
	return -1;
}

const char *dop_name(const struct dop *o)
{
	struct rop r = { .type = o->type, .nr = o->nr };

	if (o->type == DOP_START)
		return "start";
	if (o->type == DOP_EXIT)
		return "exit";
	return rop_name(&r);
}
