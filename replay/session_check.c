// SPDX-License-Identifier: GPL-2.0
/*
 * The session's check of the replay trace: each run checked on its own
 * (runs are delimited by the replay's run marks), and a plain replay
 * compared with the recording: the operations each task replayed, the
 * faults on the same (relocated) pages, and the swap-outs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check/check.h"
#include "traces/fields.h"
#include "session_int.h"

/* ---- fidelity: the replay trace against the plan ---------------------- */

struct fidelity {
	struct replay_fidelity n;
	const struct replay_opts *o;
	__u64 *marks;		/* per task */
	struct { int tid; __u32 op, n, cursor; __u64 rep; int open; } pend[256];
	int nr_pend;
	struct swap_count swap;
};

static int pend_of(struct fidelity *fd, int tid)
{
	for (int i = 0; i < fd->nr_pend; i++)
		if (fd->pend[i].tid == tid)
			return i;
	if (fd->nr_pend == 256)
		return -1;
	fd->pend[fd->nr_pend].tid = tid;
	fd->pend[fd->nr_pend].open = 0;
	return fd->nr_pend++;
}

/*
 * A fault after a touch mark: on the page of the next touch of the run
 * (the mark's replay address is the first's; the run shares its offset).
 */
static void fid_touch(struct fidelity *fd, const struct rplan *p, int i, __u64 page)
{
	typeof(fd->pend[0]) *pd = &fd->pend[i];
	__u64 delta = pd->rep - p->ops[pd->op].a[0];

	if (!pd->rep)
		return;
	for (__u32 k = pd->cursor; k < pd->n; k++) {
		if (p->ops[pd->op + k].a[0] + delta == page) {
			fd->n.touches_faulted++;
			pd->cursor = k + 1;
			pd->open = pd->cursor < pd->n;
			return;
		}
	}
}

static void fid_event(struct fidelity *fd, const struct rplan *p, const struct mmr_event *ev)
{
	const struct mmr_common *c = ev->data;
	int i;

	if (c->type == MMR_K_RSS_STAT) {
		fd->n.swapouts += swap_rise(&fd->swap, ev, p->page_size);
	} else if (c->type == MMR_K_SNAP && ev->h.len >= sizeof(struct mmr_snap)) {
		fd->n.reclaim_passes += !!(((const struct mmr_snap *)ev->data)->flags &
					   MMR_SNAPF_RECLAIM);
	} else if (c->type == MMR_K_SYS_ENTER) {
		const struct mmr_sys_enter *e = ev->data;

		if ((i = pend_of(fd, c->pid)) < 0)
			return;
		if (mark_of(ev, MMR_MARK_OP) && e->args[1] < p->nr_ops) {
			const struct rop *o = &p->ops[e->args[1]];
			__u32 n = e->args[4] > 1 && e->args[1] + e->args[4] <= p->nr_ops ? e->args[4] : 1;

			fd->pend[i] = (typeof(fd->pend[0])){ c->pid, e->args[1], n, 0, e->args[3], 1 };
			fd->marks[o->task] += n;
			fd->n.syscalls += o->type == ROP_SYSCALL;
			fd->n.brks += o->type == ROP_SYSCALL && o->nr == NR_BRK;
			fd->n.touches += o->type == ROP_TOUCH ? n : 0;
		} else if (fd->pend[i].open && p->ops[fd->pend[i].op].type == ROP_SYSCALL) {
			const struct rop *o = &p->ops[fd->pend[i].op];

			fd->n.syscalls_seen += o->nr == e->nr;
			if (o->nr != e->nr && fd->o->verbose)
				replay_say(fd->o, SAY_NOTE, "replay: op %u %s: the replay's first syscall "
					   "was %u", fd->pend[i].op, rop_name(o), e->nr);
			fd->pend[i].open = 0;
		}
	} else if (c->type == MMR_K_PAGE_FAULT_USER || c->type == MMR_K_PAGE_FAULT_KERNEL) {
		__u64 page = mmr_ev_u64(ev, F_ADDRESS) & ~(__u64)(p->page_size - 1);

		if ((i = pend_of(fd, c->pid)) < 0 || !fd->pend[i].open)
			return;
		if (p->ops[fd->pend[i].op].type == ROP_TOUCH)
			fid_touch(fd, p, i, page);
	}
}

static void summarize(struct checker *c, struct run_check *rc)
{
	const struct finding *f;
	int nr;

	checker_finish(c);
	f = checker_findings(c, &nr);
	rc->findings = checker_findings_total(c);
	for (int i = 0; i < nr; i++)
		rc->per_verdict[f[i].kind]++;
	/* events know a page's pfn, not its address */
	if (nr)
		snprintf(rc->first, sizeof(rc->first), "%s, pid %d, %s0x%llx +%llu pages, %s: %.200s",
			 verdict_name(f[0].kind), f[0].pid, !f[0].address && f[0].pfn != ~0ULL ?
			 "pfn " : "", (unsigned long long)(!f[0].address && f[0].pfn != ~0ULL ?
							  f[0].pfn : f[0].address),
			 (unsigned long long)f[0].nr_pages, f[0].op,
			 f[0].nr_evidence ? f[0].evidence[0] : "");
	if (rc->findings && !nr)
		rc->per_verdict[V_RSS_MISMATCH]++;
}

static int is_run_mark(const struct mmr_event *ev, long *run)
{
	const struct mmr_sys_enter *e = mark_of(ev, MMR_MARK_RUN);

	if (!e)
		return 0;
	*run = e->args[1];
	return 1;
}

/*
 * One pass over the replay trace: a checker per run; the last run's checker
 * is kept (for a plain replay it is the whole report).  It ends at the mark
 * of a run past nr_runs: one a signal cut short, not counted.
 */
static int check_runs(const struct replay_opts *o, struct mmr_trace *t, const struct rplan *p,
		      struct run_check *rc, int nr_runs, struct fidelity *fd, struct checker **last)
{
	struct checker *c;
	struct mmr_event ev;
	char err[256];
	long run = 0, next;

	c = checker_new(t, err, sizeof(err));
	if (!c) {
		replay_say(o, SAY_ERROR, "replay: %s", err);
		return -1;
	}
	while (mmr_trace_next(t, &ev) == 1) {
		if (is_run_mark(&ev, &next) && next >= nr_runs)
			break;
		if (is_run_mark(&ev, &next) && next != run) {
			summarize(c, &rc[run]);
			checker_free(c);
			c = checker_new(t, err, sizeof(err));
			if (!c)
				return -1;
			run = next;
		}
		checker_event(c, &ev);
		if (fd)
			fid_event(fd, p, &ev);
	}
	summarize(c, &rc[run]);
	*last = c;
	return 0;
}

static int tasks_complete(const struct rplan *p, const struct fidelity *fd)
{
	int n = 0;

	for (int t = 0; t < p->nr_tasks; t++)
		n += fd->marks[t] == p->tasks[t].nr_ops;
	return n;
}

int replay_outcome_span(const struct replay_outcome *out)
{
	return out->cell_ran ? out->nr_runs : out->nr_ran;
}

/*
 * The exit status of what was checked: 2 a run failed, 1 findings, 5 the
 * budget ended before every run ran, 0 clean.
 */
int replay_outcome_status(const struct replay_opts *o, const struct replay_outcome *out)
{
	int any = 0, errors = 0, n = o->explore ? replay_outcome_span(out) : 1;

	for (int r = 0; r < n; r++) {
		any |= out->rc[r].findings != 0;
		errors |= out->res[r].err[0] != 0;
	}
	return errors ? 2 : any ? 1 : out->incomplete ? REPLAY_EXIT_INCOMPLETE : 0;
}

int replay_check(const struct replay_opts *o, const struct rplan *p, const struct rrun_set *rs,
		 struct replay_outcome *out)
{
	struct fidelity fd = { .o = o };
	char err[256];
	int plain = !o->explore, ret = -1;

	replay_progress_say(o, "check", rs->nr_runs, out->nr_ran);
	out->rc = calloc(rs->nr_runs + 1, sizeof(*out->rc));
	fd.marks = calloc(p->nr_tasks + 1, sizeof(*fd.marks));
	if (!out->rc || !fd.marks) {
		replay_say(o, SAY_ERROR, "replay: out of memory");
		goto out;
	}
	if (out->nr_ran) {
		out->trace = mmr_trace_open(o->out, err, sizeof(err));
		if (!out->trace) {
			replay_say(o, SAY_ERROR, "replay: %s", err);
			goto out;
		}
		if (check_runs(o, out->trace, p, out->rc, out->nr_ran, plain ? &fd : NULL, &out->last))
			goto out;
	}
	fd.n.tasks_complete = tasks_complete(p, &fd);
	out->fid = fd.n;
	out->report = 1;
	out->unchecked = out->last && checker_unchecked(out->last);
	out->status = replay_outcome_status(o, out);
	ret = 0;
out:
	free(fd.marks);
	free(fd.swap.mms);
	return ret;
}

int replay_near_miss(const struct rstats *st)
{
	return st->perturbed > 0 && st->perturb_at_ns < (__s64)st->op_ns &&
	       st->perturb_at_ns + (__s64)st->perturb_ns > 0;
}

struct cell_tally cell_tally(const struct replay_opts *o, const struct rrun_set *rs,
			     const struct replay_outcome *out, int cell)
{
	const struct run_check *rc = out->rc;
	const struct run_result *res = out->res;
	struct cell_tally n = { .repro = -1 };
	int span = replay_outcome_span(out);

	for (int r = cell, t = 0; r < span && !n.stopped; r += rs->nr_pairs, t++) {
		if (out->cell_ran && t >= out->cell_ran[cell])
			break;
		n.n++;
		n.perturbed += res[r].st.perturbed > 0;
		n.near += replay_near_miss(&res[r].st);
		n.errors += res[r].err[0] != 0;
		if (!rc[r].findings)
			continue;
		n.k++;
		n.stopped = o->stop_after && n.k >= o->stop_after;
		if (n.repro < 0)
			n.repro = r;
		for (int v = 0; v < V_NR; v++)
			n.per[v] += rc[r].per_verdict[v] != 0;
	}
	wilson95(n.k, n.n, &n.lo, &n.hi);
	return n;
}
