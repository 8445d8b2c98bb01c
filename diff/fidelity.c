// SPDX-License-Identifier: GPL-2.0
/*
 * The fidelity verdict of a replay (see fidelity.h): diff of the recording
 * and the replay's trace, and the ops and touches the replay did not do,
 * each classified against the memory the recorded ops mapped (the scope:
 * rebuilt from the plan, per mm, in the recorded order).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "fidelity.h"

#define MREMAP_DONTUNMAP_ 4
#define MADV_HWPOISON_ 100
#define MADV_SOFT_OFFLINE_ 101

/* ---- the scope: memory the recorded ops mapped, per mm -------------------- */

struct srange {
	__u64 lo, hi;
};

struct smm {
	struct srange *r;
	size_t nr, cap;
	__u64 brk;
};

struct scope {
	struct smm *mms;
	size_t nr_mms, cap_mms;
	int *mm_of;		/* per task: index in mms, -1 before it starts */
	struct { __s64 id; __u64 size; } *shm;	/* shmget: recorded id, size */
	size_t nr_shm, cap_shm;
	int oom;
};

static __u64 page_up(const struct rplan *p, __u64 v)
{
	return (v + p->page_size - 1) & ~(__u64)(p->page_size - 1);
}

static void scope_add(struct scope *s, struct smm *m, __u64 lo, __u64 hi)
{
	if (hi <= lo)
		return;
	if (GROW(m->r, m->cap, m->nr + 1)) {
		s->oom = 1;
		return;
	}
	m->r[m->nr++] = (struct srange){ lo, hi };
}

/* Removes [lo, hi) from m, splitting the ranges it cuts. */
static void scope_cut(struct scope *s, struct smm *m, __u64 lo, __u64 hi)
{
	for (size_t i = 0; i < m->nr; i++) {
		struct srange r = m->r[i];

		if (r.hi <= lo || r.lo >= hi)
			continue;
		m->r[i] = m->r[--m->nr];
		i--;
		if (r.lo < lo)
			scope_add(s, m, r.lo, lo);
		if (r.hi > hi)
			scope_add(s, m, hi, r.hi);
	}
}

static int scope_hits(const struct smm *m, __u64 lo, __u64 hi)
{
	for (size_t i = 0; m && i < m->nr; i++)
		if (m->r[i].lo < hi && m->r[i].hi > lo)
			return 1;
	return 0;
}

/* A new mm for task t: empty, or a copy of mms[from] (fork); from -1: none. */
static struct smm *scope_new_mm(struct scope *s, int t, int from)
{
	struct smm *m, *f;

	if (GROW(s->mms, s->cap_mms, s->nr_mms + 1)) {	/* moves s->mms: index from after */
		s->oom = 1;
		return NULL;
	}
	m = &s->mms[s->nr_mms];
	f = from >= 0 ? &s->mms[from] : NULL;
	if (f && f->nr) {
		m->r = malloc(f->nr * sizeof(*m->r));
		if (!m->r) {
			s->oom = 1;
			return NULL;
		}
		memcpy(m->r, f->r, f->nr * sizeof(*m->r));
		m->nr = m->cap = f->nr;
	}
	m->brk = f ? f->brk : 0;
	s->mm_of[t] = s->nr_mms++;
	return m;
}

static struct smm *scope_mm(struct scope *s, int t)
{
	if (s->mm_of[t] < 0)
		return scope_new_mm(s, t, -1);
	return &s->mms[s->mm_of[t]];
}

static __u64 shm_size(const struct scope *s, __s64 id)
{
	for (size_t i = 0; i < s->nr_shm; i++)
		if (s->shm[i].id == id)
			return s->shm[i].size;
	return 0;
}

/* brk as replay rebuilds it: anonymous memory from the first break on. */
static void scope_brk(struct scope *s, const struct rplan *p, struct smm *m, const struct rop *o)
{
	__u64 lo = page_up(p, m->brk), hi = page_up(p, o->ret);

	if (o->a[0] && m->brk) {
		if (hi > lo)
			scope_add(s, m, lo, hi);
		else
			scope_cut(s, m, hi, lo);
	}
	if (o->ret > 0)
		m->brk = o->ret;
}

static void scope_syscall(struct scope *s, const struct rplan *p, struct smm *m,
			  const struct rop *o)
{
	switch (o->nr) {
	case NR_MMAP:
		if (o->ret >= 0)
			scope_add(s, m, o->ret, o->ret + page_up(p, o->a[1]));
		break;
	case NR_MUNMAP:
		scope_cut(s, m, o->a[0], o->a[0] + page_up(p, o->a[1]));
		break;
	case NR_MREMAP:
		if (o->ret < 0)
			break;
		if (!(o->a[3] & MREMAP_DONTUNMAP_))
			scope_cut(s, m, o->a[0], o->a[0] + page_up(p, o->a[1]));
		scope_add(s, m, o->ret, o->ret + page_up(p, o->a[2]));
		break;
	case NR_BRK:
		scope_brk(s, p, m, o);
		break;
	case NR_SHMGET:
		if (o->ret >= 0 && !GROW(s->shm, s->cap_shm, s->nr_shm + 1))
			s->shm[s->nr_shm].id = o->ret, s->shm[s->nr_shm++].size = o->a[1];
		break;
	case NR_SHMAT:
		if (o->ret >= 0)
			scope_add(s, m, o->ret, o->ret + page_up(p, shm_size(s, o->a[0])));
		break;
	case NR_SHMDT:
		scope_cut(s, m, o->a[0], o->a[0] + p->page_size);
		break;
	}
}

/* What op i does to the scope; threads share their parent's mm, a fork copies it. */
static void scope_op(struct scope *s, const struct rplan *p, __u32 i)
{
	const struct rop *o = &p->ops[i];
	struct smm *m = scope_mm(s, o->task);
	int child = o->extra;

	if (!m)
		return;
	if (o->type == ROP_SYSCALL) {
		scope_syscall(s, p, m, o);
	} else if (o->type == ROP_EXEC) {
		scope_new_mm(s, o->task, -1);
	} else if (o->type == ROP_SPAWN && child >= 0 && child < p->nr_tasks) {
		if (p->tasks[child].thread || p->tasks[child].vm_shared)	/* until it execs */
			s->mm_of[child] = s->mm_of[o->task];
		else
			scope_new_mm(s, child, s->mm_of[o->task]);
	}
}

static void scope_free(struct scope *s)
{
	for (size_t i = 0; i < s->nr_mms; i++)
		free(s->mms[i].r);
	free(s->mms);
	free(s->mm_of);
	free(s->shm);
}

/* ---- the ops the replay did not issue ------------------------------------ */

static int fd_call(const struct rop *o)
{
	return o->nr == NR_FTRUNCATE || o->nr == NR_FALLOCATE ||
	       (o->nr == NR_MMAP && !(o->a[3] & MAP_ANONYMOUS)) || o->nr == NR_OPEN ||
	       o->nr == NR_OPENAT || o->nr == NR_OPENAT2 || o->nr == NR_TRUNCATE;
}

/* Why the replay did not issue op o; in: its range lies in memory a recorded op mapped. */
static int skip_reason(const struct rplan *p, const struct rop *o, int in)
{
	__u64 lo, hi;

	if (o->ret < 0 && (o->nr == NR_MMAP || o->nr == NR_MREMAP || o->nr == NR_SHMGET ||
			   o->nr == NR_SHMAT))
		return FS_FAILED;
	if (o->nr == NR_CLOSE)
		return FS_CLOSE;
	if (o->nr == NR_BRK && !o->a[0])
		return FS_QUERY;
	if (o->nr == NR_OPEN || o->nr == NR_OPENAT || o->nr == NR_OPENAT2)
		return FS_OPEN;
	if (o->nr == NR_MADVISE && (o->a[2] == MADV_HWPOISON_ || o->a[2] == MADV_SOFT_OFFLINE_))
		return FS_REFUSED;
	if (fd_call(o))
		return FS_FD;
	if (rop_range(p, o, &lo, &hi))
		return in ? FS_RANGE : FS_OUTSIDE;
	return FS_OTHER;
}

/* Op ids the replay did not issue (its skipped marks), as a bitmap over the plan. */
static unsigned char *skipped_ids(const struct dtrace *rep, size_t nr_ops)
{
	unsigned char *sk = calloc(nr_ops + 1, 1);

	for (size_t i = 0; sk && i < rep->nr_ops; i++)
		if (rep->ops[i].skipped && rep->ops[i].id < nr_ops)
			sk[rep->ops[i].id] = 1;
	return sk;
}

/* Walks the plan in recorded order: classifies the skipped ops and the touches by scope. */
static int classify(struct fverdict *f, const struct rplan *p, const struct dtrace *rep)
{
	struct scope s = { 0 };
	unsigned char *sk = skipped_ids(rep, p->nr_ops);
	int ret = -1;

	s.mm_of = malloc((p->nr_tasks + 1) * sizeof(*s.mm_of));
	if (!sk || !s.mm_of)
		goto out;
	for (int t = 0; t < p->nr_tasks; t++)
		s.mm_of[t] = -1;
	for (__u32 i = 0; i < p->nr_ops && !s.oom; i++) {
		const struct rop *o = &p->ops[i];
		const struct smm *m = s.mm_of[o->task] >= 0 ? &s.mms[s.mm_of[o->task]] : NULL;
		__u64 lo = 0, hi = 0;
		int in = rop_range(p, o, &lo, &hi) && scope_hits(m, lo, hi);

		if (o->type == ROP_TOUCH) {
			f->touches++;
			f->touches_outside_scope += !in;
		}
		if (sk[i])
			f->skipped[skip_reason(p, o, in)]++;
		scope_op(&s, p, i);
	}
	ret = s.oom ? -1 : 0;
out:
	scope_free(&s);
	free(sk);
	return ret;
}

/* ---- the verdict --------------------------------------------------------- */

const char *fskip_text(int reason)
{
	static const char *const t[FS_NR] = {
		[FS_FAILED] = "failed when recorded: nothing to rebuild",
		[FS_CLOSE] = "closed an fd the replay never opened: no effect on memory",
		[FS_QUERY] = "brk(0), a query: no effect on memory",
		[FS_OPEN] = "opened a file the recording does not name (its fd table could not be "
			    "read): opening maps nothing; the calls on the fd are judged themselves",
		[FS_OUTSIDE] = "on memory no recorded operation mapped (exec's: program image, "
			       "stack, loader): not rebuilt",
		[FS_RANGE] = "on memory a recorded operation mapped, not mapped in the replay",
		[FS_FD] = "on an fd that is no file the replay knows (inherited, a pipe, a socket)",
		[FS_REFUSED] = "never done by a replay (it would poison or offline pages)",
		[FS_OTHER] = "a call replay does not rebuild",
	};

	return reason >= 0 && reason < FS_NR ? t[reason] : "?";
}

const char *fskip_name(int reason)
{
	static const char *const n[FS_NR] = {
		[FS_FAILED] = "failed_when_recorded", [FS_CLOSE] = "close_unknown_fd",
		[FS_QUERY] = "query", [FS_OPEN] = "open_unnamed",
		[FS_OUTSIDE] = "outside_rebuilt_memory", [FS_RANGE] = "range_not_mapped",
		[FS_FD] = "fd_unknown", [FS_REFUSED] = "refused", [FS_OTHER] = "not_rebuilt",
	};

	return reason >= 0 && reason < FS_NR ? n[reason] : "?";
}

int fskip_benign(int reason)
{
	return reason == FS_FAILED || reason == FS_CLOSE || reason == FS_QUERY ||
	       reason == FS_OPEN || reason == FS_OUTSIDE;
}

/* The differences of x, in diff's words: its verdicts, or the ops that differ. */
static void name_differences(struct fverdict *f, const struct ddiff *x)
{
	for (size_t i = 0; i < x->nr_verdicts && f->nr_first < FIDELITY_FIRST; i++)
		snprintf(f->first[f->nr_first++], sizeof(f->first[0]), "%s", x->verdicts[i].text);
	for (size_t i = 0; !x->nr_verdicts && i < x->nr_pairs && f->nr_first < FIDELITY_FIRST; i++) {
		const struct dpair *pr = &x->pairs[i];
		const struct dop *o = pr->a != DOP_NONE ? &x->A->ops[pr->a] : &x->B->ops[pr->b];

		snprintf(f->first[f->nr_first++], sizeof(f->first[0]), "%s of task %u (op %d) %s",
			 dop_name(o), o->task, o->id == DOP_NONE ? -1 : (int)o->id,
			 pr->a == DOP_NONE ? "only in the replay" :
			 pr->b == DOP_NONE ? "only in the recording" : "differs");
	}
}

static void compared(struct fverdict *f, const struct ddiff *x)
{
	f->ops = x->aligned + x->only_a;	/* the recording's, as diff counts them */
	f->differ = x->nr_pairs;
	f->only_rec = x->only_a;
	f->only_rep = x->only_b;
	f->equivalent = x->aligned - x->skipped;
	f->normalised = x->rss_moved;
	f->normalised_late = x->rss_late;
	f->nr_notes = ddiff_notes(x, f->notes, DIFF_NOTES_MAX);
	for (size_t i = 0; i < x->nr_pairs; i++) {
		const struct dpair *pr = &x->pairs[i];
		const struct dop *a = pr->a != DOP_NONE ? &x->A->ops[pr->a] : NULL;

		/* aligned, differing, not a pseudo op */
		f->equivalent -= a && pr->b != DOP_NONE && a->type < DOP_START;
		f->differ_raced += a && a->raced;
	}
	name_differences(f, x);
}

static void why(struct fverdict *f, const char *fmt, unsigned long long n, const char *what)
{
	if (!f->why[0] && n)
		snprintf(f->why, sizeof(f->why), fmt, n, what);
}

static void judge(struct fverdict *f, const char *error)
{
	if (error && error[0])
		snprintf(f->why, sizeof(f->why), "the replay failed: %s", error);
	why(f, "%llu operations differ from the recording%s", f->differ, "");
	for (int r = 0; r < FS_NR; r++)
		if (!fskip_benign(r))
			why(f, "%llu operations not issued: %s", f->skipped[r], fskip_text(r));
	why(f, "%llu touches hit SIGSEGV/SIGBUS%s", f->touches_faulted, "");
	why(f, "%llu touches fell outside the replayed mappings%s", f->touches_missed,
	    " on memory a recorded operation mapped");
	why(f, "%llu process_madvise calls not replayable%s", f->unreplayable,
	    " (their iovec is not recorded)");
	f->faithful = !f->why[0];
}

int fidelity_check(struct fverdict *f, const char *recording, const char *replay,
		   const struct rstats *st, const char *error, char *err, size_t errlen)
{
	struct mmr_trace *t[2] = { NULL, NULL };
	const char *path[2] = { recording, replay };
	struct dtrace d[2];
	struct ddiff x;
	int bad, ret = -1;

	memset(f, 0, sizeof(*f));
	memset(d, 0, sizeof(d));
	for (int i = 0; i < 2; i++) {
		t[i] = mmr_trace_open(path[i], err, errlen);
		if (!t[i])
			goto out;
	}
	bad = dtrace_load_all(d, t, 2, err, errlen);
	if (bad)
		goto out;
	if (classify(f, &d[0].plan, &d[1])) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	f->ops = d[0].plan.nr_ops - f->touches;	/* diff's count, when it ran */
	f->unreplayable = d[0].plan.unreplayable;
	f->touches_faulted = st->touch_fault;
	f->touches_missed = st->touch_outside > f->touches_outside_scope ?
			    st->touch_outside - f->touches_outside_scope : 0;
	if (ddiff_run(&x, &d[0], &d[1], err, errlen)) {
		ddiff_free(&x);
		if (!strcmp(err, "out of memory"))
			goto out;
		f->no_common = 1;	/* too few of their ops line up */
		snprintf(f->why, sizeof(f->why), "it does not line up with the recording: %s",
			 err);
	} else {
		compared(f, &x);
		ddiff_free(&x);
	}
	judge(f, error);
	ret = 0;
out:
	for (int i = 0; i < 2; i++) {
		dtrace_free(&d[i]);
		if (t[i])
			mmr_trace_close(t[i]);
	}
	return ret;
}
