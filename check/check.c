// SPDX-License-Identifier: GPL-2.0
/*
 * The checker's event side: one handle_event switch that keeps, per mm,
 * the rss counters from kmem:rss_stat, the classes of syscalls since the
 * last snapshot and the snapshot being assembled; per thread, its last mm
 * syscall (sysrec.c).  Snapshot rules live in verdicts.c, event ledgers in
 * ledger.c; all three add to the findings list of findings.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "check_int.h"
#include "traces/kinds.h"
#include "traces/marks.h"

const struct finding *checker_findings(const struct checker *c, int *nr)
{
	*nr = c->found.nr;
	return c->found.v;
}

__u64 checker_findings_total(const struct checker *c)
{
	return c->found.total;
}

__u64 checker_findings_not_stored(const struct checker *c)
{
	return c->found.not_stored;
}

__u64 checker_finding_pages_total(const struct checker *c)
{
	return c->found.pages;
}

const struct coverage *checker_coverage(const struct checker *c, enum verdict v)
{
	return &c->cov[v];
}

int checker_unchecked(const struct checker *c)
{
	int n = 0;

	for (int v = 0; v < V_NR; v++)
		n += !c->cov[v].by_snapshots && !c->cov[v].by_events;
	return n;
}

__u64 checker_events(const struct checker *c)
{
	return c->events;
}

__u64 checker_snapshots(const struct checker *c)
{
	return c->snapshots;
}

const char *checker_problem(struct checker *c)
{
	if (!c->snapshots_disordered)
		return NULL;
	snprintf(c->problem, sizeof(c->problem), "%llu snapshots not judged: their VMAs or pages "
		 "are out of order (no recorder writes that)",
		 (unsigned long long)c->snapshots_disordered);
	return c->problem;
}

/* ---- state tables --------------------------------------------------- */

static void mm_release(struct mm_state *m)
{
	snap_free(m->last);
	snap_free(m->cur);
	ledger_mm_free(m->lg);
	free(m->calls);
	free(m->wh);
}

/* A fresh state for mm @mm of @tgid, in place (its hash chain kept). */
static void mm_init(struct mm_state *m, __u64 mm, int tgid)
{
	struct mm_state *next = m->next;

	memset(m, 0, sizeof(*m));
	m->next = next;
	m->mm = mm;
	m->tgid = tgid;
	m->fault_lo = ~0ULL;	/* no fault yet */
}

/*
 * The state of mm @mm.  An mm torn down (exit_mmap) whose address another
 * process's new mm takes has the same hash: seen from another tgid, it is
 * that new mm, and starts afresh (seen: a child's mm at the address its
 * parent's pre-exec mm had).
 */
static struct mm_state *mm_get(struct checker *c, __u64 mm, int tgid)
{
	struct mm_state **head = &c->mms[(mm ^ mm >> 32) % 1024], *m;

	for (m = *head; m; m = m->next) {
		if (m->mm != mm)
			continue;
		if (m->exited && tgid && m->tgid != tgid) {
			mm_release(m);
			mm_init(m, mm, tgid);
		}
		return m;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	mm_init(m, mm, tgid);
	m->next = *head;
	*head = m;
	return m;
}

/* ---- setup ---------------------------------------------------------- */

struct checker *checker_new(const struct mmr_trace *t, char *err, size_t errlen)
{
	struct checker *c = calloc(1, sizeof(*c));
	const char *psz = mmr_trace_meta(t, "page_size");

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->t = t;
	c->page_size = psz ? atol(psz) : 4096;
	if (c->page_size <= 0)
		c->page_size = 4096;
	/* where counters lag (< 6.2), they are compared only at exit */
	c->rss_exact = mmr_kernel_rss_exact(mmr_trace_meta(t, "kernel_release"));
	/* and only there where status rounds them (< 6.16) */
	c->status_exact = mmr_kernel_status_exact(mmr_trace_meta(t, "kernel_release"));
	c->saw_cmd = mmr_trace_meta(t, "command") && *mmr_trace_meta(t, "command");
	c->have_rss = mmr_rss_readable(mmr_trace_schema(t));
	c->rss_unattributed = mmr_trace_stat(t, "rss_unattributed");
	c->reclaim_no_swap = !!mmr_trace_stat(t, "reclaim_pass_no_swap");
	c->lg = ledger_new(t);
	if (!c->lg) {
		snprintf(err, errlen, "out of memory");
		free(c);
		return NULL;
	}
	return c;
}

void checker_free(struct checker *c)
{
	if (!c)
		return;
	for (int i = 0; i < 1024; i++) {
		for (struct mm_state *m = c->mms[i], *n; m; m = n) {
			n = m->next;
			mm_release(m);
			free(m);
		}
		free(c->sys[i]);
	}
	for (int i = 0; i < UNLOCKS_MAX; i++)
		free(c->unlocks[i].pfns);
	findings_free(&c->found);
	ledger_free(c->lg);
	free(c);
}

/* ---- events --------------------------------------------------------- */

static void on_rss(struct checker *c, const struct mmr_event *ev)
{
	const struct mmr_common *cm = ev->data;
	struct mm_state *m;
	struct mmr_rss r;
	__s64 old;

	if (!c->have_rss || !(m = mm_get(c, ev->h.mm, ev->h.tgid)) ||
	    mmr_ev_rss(ev, c->page_size, &r))
		return;
	old = m->rss_known[r.member] ? m->rss[r.member] : -1;
	m->rss[r.member] = r.pages;
	m->rss_known[r.member] = 1;
	if (r.member == MMR_RSS_SWAP)
		ledger_swapents(c, m, cm->pid, old, r.pages);
}

static void add_onfault(struct mm_state *m, __u64 start, __u64 len)
{
	if (m->nr_onfault == (int)(sizeof(m->onfault) / sizeof(m->onfault[0]))) {
		m->onfault_all = 1;	/* too many to track: trust every range */
		return;
	}
	m->onfault[m->nr_onfault].start = start;
	m->onfault[m->nr_onfault++].end = start + len;
}

/*
 * Page range of an mlock-family call, munlock, munmap or mremap (its old
 * range), as the kernel rounds it; shmdt's is not in its arguments: all.
 */
static void call_range(const struct checker *c, const struct syscall_rec *r, __u64 *start,
		       __u64 *end)
{
	__u64 ps = c->page_size;

	if (r->nr == NR_MLOCKALL || r->nr == NR_MUNLOCKALL || r->nr == NR_SHMDT) {
		*start = 0;
		*end = ~0ULL;
		return;
	}
	*start = r->args[0] & ~(ps - 1);
	*end = (r->args[0] + r->args[1] + ps - 1) & ~(ps - 1);
}

/* Appends @k; past LOCK_CALLS_MAX the calls first merge into one that spans them all. */
static void lock_call_push(struct mm_state *m, const struct lock_call *k)
{
	struct lock_call *n;

	if (m->nr_calls == LOCK_CALLS_MAX) {
		for (size_t i = 1; i < m->nr_calls; i++) {
			struct lock_call *a = &m->calls[0], *b = &m->calls[i];

			a->start = a->start < b->start ? a->start : b->start;
			a->end = a->end > b->end ? a->end : b->end;
			a->entry = a->entry < b->entry ? a->entry : b->entry;
			a->exit = a->exit > b->exit ? a->exit : b->exit;
			a->failed |= b->failed;
		}
		m->nr_calls = 1;
	}
	if (!(n = mmr_grow(m->calls, &m->cap_calls, m->nr_calls + 1, sizeof(*n), 16))) {
		m->calls_lost = 1;	/* out of memory: the broad rule from now on */
		return;
	}
	m->calls = n;
	m->calls[m->nr_calls++] = *k;
}

/*
 * Remember an mlock-family call (while its range stays locked) for the rule
 * that a page migration maps back during its walk is left unmlocked (and
 * for lost_swapped(): a failed one).  Merged calls make that rule withhold
 * more, never less.
 */
static void lock_call_add(struct checker *c, struct mm_state *m, const struct syscall_rec *r)
{
	struct lock_call k = { .entry = r->ts, .exit = c->cur_ts, .failed = r->ret < 0 };

	call_range(c, r, &k.start, &k.end);
	lock_call_push(m, &k);
}

/*
 * mremap moved pages of a locked range (VM_LOCKED moves with them): one
 * call over the new range, spanning the times of every call over the old
 * one (wider, so sound).
 */
static void lock_calls_moved(struct checker *c, struct mm_state *m, const struct syscall_rec *r)
{
	__u64 start, end, ps = c->page_size, to = (__u64)r->ret;
	struct lock_call k = { .start = to, .end = (to + r->args[2] + ps - 1) & ~(ps - 1),
			       .entry = ~0ULL };

	call_range(c, r, &start, &end);
	for (size_t i = 0; i < m->nr_calls; i++) {
		const struct lock_call *o = &m->calls[i];

		if (o->end <= start || o->start >= end)
			continue;
		k.entry = o->entry < k.entry ? o->entry : k.entry;
		k.exit = o->exit > k.exit ? o->exit : k.exit;
		k.failed |= o->failed;
	}
	if (k.entry != ~0ULL)
		lock_call_push(m, &k);
}

/* munlock/munmap of a range: the calls wholly inside it no longer lock anything. */
static void lock_calls_drop(struct checker *c, struct mm_state *m, const struct syscall_rec *r)
{
	__u64 start, end;
	size_t k = 0;

	call_range(c, r, &start, &end);
	for (size_t i = 0; i < m->nr_calls; i++)
		if (m->calls[i].start < start || m->calls[i].end > end)
			m->calls[k++] = m->calls[i];
	m->nr_calls = k;
}

static void note_fault(struct mm_state *m, __u64 addr)
{
	m->fault_lo = addr < m->fault_lo ? addr : m->fault_lo;
	m->fault_hi = addr > m->fault_hi ? addr : m->fault_hi;
	if (!m->fault_locked && m->last)
		m->fault_locked = snap_locked_at(m->last, addr);
}

/* What a completed syscall may have done to the pages of its mm. */
static void classify(struct checker *c, struct mm_state *m, const struct syscall_rec *r)
{
	__u64 start, end;
	__u32 op = 0;

	switch (r->nr) {
	case NR_MUNMAP: case NR_MREMAP: case NR_SHMDT:
		op = OP_ZAP;
		call_range(c, r, &start, &end);
		note_unlock(c, m->mm, m, start, end, r->ts, r->cpu != r->exit_cpu);
		if (r->nr == NR_MUNMAP && r->ret == 0)
			lock_calls_drop(c, m, r);
		if (r->nr == NR_MREMAP && r->ret > 0 && (__u64)r->ret != r->args[0])
			lock_calls_moved(c, m, r);
		break;
	case NR_MADVISE:
		if (r->args[2] == MADV_DONTNEED || r->args[2] == MADV_FREE ||
		    r->args[2] == MADV_REMOVE || r->args[2] == MADV_DONTNEED_LOCKED ||
		    r->args[2] >= 100)	/* guard regions */
			op = OP_ZAP;
		if (r->args[2] == MADV_REMOVE)
			c->trunc_count++;
		break;
	case NR_MUNLOCK: case NR_MUNLOCKALL:
		op = OP_UNLOCK;
		m->lock_raced = 0;
		call_range(c, r, &start, &end);
		note_unlock(c, m->mm, m, start, end, r->ts, r->cpu != r->exit_cpu);
		if (r->ret == 0)
			lock_calls_drop(c, m, r);
		if (r->nr == NR_MUNLOCKALL) {
			m->onfault_all = 0;
			m->nr_onfault = 0;
		}
		break;
	case NR_MLOCK: case NR_MLOCKALL: case NR_MLOCK2:
		/* r->ts is the mlock's entry: pages migrated or mapped back during it */
		if (c->last_migrate_ts >= r->ts || c->last_mapped_back_ts >= r->ts ||
		    migration_in_flight(c))
			m->lock_raced = 1;
		lock_call_add(c, m, r);		/* a failed one too: lost_swapped() */
		if (r->ret < 0)
			break;
		if (r->nr == NR_MLOCK2 && (r->args[2] & MLOCK_ONFAULT))
			add_onfault(m, r->args[0], r->args[1]);
		else if (r->nr == NR_MLOCKALL && (r->args[0] & MCL_ONFAULT))
			m->onfault_all = 1;
		break;
	case NR_TRUNCATE: case NR_FTRUNCATE:
		op = OP_TRUNC;
		c->trunc_count++;
		break;
	case NR_FALLOCATE:
		if (r->args[1] & FALLOC_FL_PUNCH_HOLE) {
			op = OP_TRUNC;
			c->trunc_count++;
		}
		break;
	case NR_EXECVE: case NR_EXECVEAT:
		op = OP_EXEC;
		break;
	}
	m->ops_before_last = m->ops;
	m->ops |= op;
	m->syscalls_since++;
	ledger_syscall(c, m, r);
}

static void on_sys(struct checker *c, const struct mmr_event *ev, int type)
{
	const struct mmr_common *cm = ev->data;
	struct syscall_rec *r = checker_sys_slot(c, cm->pid);
	struct mm_state *m;

	if (!r)
		return;
	m = mm_get(c, ev->h.mm, ev->h.tgid);
	if (type == MMR_K_SYS_ENTER && ev->h.len >= sizeof(struct mmr_sys_enter)) {
		const struct mmr_sys_enter *e = ev->data;

		if (m && mark_of(ev, MMR_MARK_PERTURB))
			m->helper = 1;	/* explore's perturber: its mm is not judged */
		c->migrations_open += is_migration_call(e->nr);
		r->nr = e->nr;
		r->cpu = ev->h.cpu;
		r->tgid = ev->h.tgid;
		memcpy(r->args, e->args, sizeof(r->args));
		r->file = e->file;
		r->done = 0;
		r->ret = 0;
		r->ts = ev->h.ts;
		r->path[0] = 0;
	} else if (type == MMR_K_SYS_PATH && ev->h.len >= sizeof(struct mmr_sys_path)) {
		const struct mmr_sys_path *p = ev->data;

		if (p->nr == r->nr)
			snprintf(r->path, sizeof(r->path), "%.*s", MMR_PATH_MAX, p->path);
	} else if (type == MMR_K_SYS_EXIT && ev->h.len >= sizeof(struct mmr_sys_exit)) {
		const struct mmr_sys_exit *x = ev->data;

		if (x->nr != r->nr || r->done)
			return;		/* entry not recorded */
		r->ret = x->ret;
		r->done = 1;
		r->exit_cpu = ev->h.cpu;
		c->migrations_open -= is_migration_call(r->nr);
		if ((m = mm_get(c, ev->h.mm, ev->h.tgid)))
			classify(c, m, r);
	}
}

/* ---- snapshot assembly ---------------------------------------------- */

static void on_global_snap(struct checker *c, const struct mmr_snap *s)
{
	if (s->reason == MMR_SNAP_REASON_BASELINE && !c->have_base) {
		c->base = *s;
		c->have_base = 1;
	} else if (s->reason == MMR_SNAP_REASON_END) {
		c->final = *s;
		c->have_final = 1;
	}
}

static void on_snap(struct checker *c, const struct mmr_event *ev)
{
	const struct mmr_snap *s = ev->data;
	struct mm_state *m;

	if (ev->h.len < sizeof(*s))
		return;
	if (!ev->h.tgid) {
		on_global_snap(c, s);
		return;
	}
	if (!(m = mm_get(c, ev->h.mm, ev->h.tgid)))
		return;
	snap_free(m->cur);
	m->cur = calloc(1, sizeof(*m->cur));
	if (!m->cur)
		return;
	m->cur->seq = s->seq;
	m->cur->reason = s->reason;
	m->cur->flags = s->flags;
	m->cur->reclaim_us = s->reclaim_us;
	m->cur->ts = ev->h.ts;
	m->cur->tid = s->c.pid;
	m->cur->st = s->st;
	m->cur->trunc_count = c->trunc_count;
}

static struct snap *cur_snap(struct checker *c, const struct mmr_event *ev, __u32 seq)
{
	struct mm_state *m = ev->h.tgid ? mm_get(c, ev->h.mm, ev->h.tgid) : NULL;

	return m && m->cur && m->cur->seq == seq ? m->cur : NULL;
}

static void on_snap_vma(struct checker *c, const struct mmr_event *ev)
{
	const struct mmr_snap_vma *v = ev->data;
	struct snap_vma *n;
	struct snap *s;

	if (ev->h.len < sizeof(*v) || !(s = cur_snap(c, ev, v->seq)))
		return;
	n = mmr_grow(s->vmas, &s->cap_vmas, s->nr_vmas + 1, sizeof(*n), 32);
	if (!n)
		return;
	s->vmas = n;
	if (v->start >= v->end || (s->nr_vmas && v->start < n[s->nr_vmas - 1].v.end))
		s->disordered = 1;
	s->vmas[s->nr_vmas].v = *v;
	s->vmas[s->nr_vmas].first = s->nr_pages;
	s->vmas[s->nr_vmas++].nr = 0;
}

/* Pages [from, from + nr) of @s ascend, after the ones before, inside the last VMA. */
static int pages_in_order(const struct snap *s, size_t from, size_t nr)
{
	const struct mmr_snap_vma *v = &s->vmas[s->nr_vmas - 1].v;

	for (size_t i = from; i < from + nr; i++)
		if (s->pages[i].addr < v->start || s->pages[i].addr >= v->end ||
		    (i && s->pages[i].addr <= s->pages[i - 1].addr))
			return 0;
	return 1;
}

static void on_snap_pages(struct checker *c, const struct mmr_event *ev)
{
	const struct mmr_snap_pages *p = ev->data;
	struct mmr_snap_page *n;
	struct snap *s;

	if (ev->h.len < sizeof(*p) || !(s = cur_snap(c, ev, p->seq)) || !s->nr_vmas ||
	    sizeof(*p) + (size_t)p->nr * sizeof(p->p[0]) > ev->h.len)
		return;
	n = mmr_grow(s->pages, &s->cap_pages, s->nr_pages + p->nr, sizeof(*n), 2 * p->nr);
	if (!n)
		return;
	s->pages = n;
	memcpy(s->pages + s->nr_pages, p->p, p->nr * sizeof(p->p[0]));
	s->disordered |= !pages_in_order(s, s->nr_pages, p->nr);
	s->nr_pages += p->nr;
	s->vmas[s->nr_vmas - 1].nr += p->nr;
}

static void on_snap_end(struct checker *c, const struct mmr_event *ev)
{
	const struct mmr_snap_end *e = ev->data;
	struct mm_state *m = ev->h.tgid ? mm_get(c, ev->h.mm, ev->h.tgid) : NULL;
	struct syscall_rec *trig;
	struct snap *s;

	if (ev->h.len < sizeof(*e) || !m || !(s = m->cur) || s->seq != e->seq)
		return;
	if (s->disordered) {	/* no recorder writes one: the lookups need order */
		c->snapshots_disordered++;
		snap_free(s);
		m->cur = NULL;
		return;
	}
	s->flags = e->flags;
	if (s->flags & MMR_SNAPF_RECLAIM) {	/* not a state of its own: what reclaim made */
		verdicts_reclaim(c, m, s);
		snap_free(s);
		m->cur = NULL;
		return;
	}
	verdicts_unresolved(c, m);
	trig = checker_sys(c, s->tid);
	if (trig && (!trig->done || trig->nr != s->reason))
		trig = NULL;
	c->snapshots++;
	verdicts_snapshot(c, m, s, trig);
	snap_free(m->last);
	m->last = s;
	m->cur = NULL;
	m->ops = m->ops_before_last = 0;
	m->syscalls_since = 0;
	m->fault_lo = ~0ULL;
	m->fault_hi = 0;
	m->fault_locked = 0;
}

/* At exit_mmap, every counter of the mm it tore down must be back at zero. */
static void rss_at_exit(struct checker *c, struct mm_state *m)
{
	struct coverage *cov = &c->cov[V_RSS_MISMATCH];
	char t[32];

	if (!m->exited)
		return;
	cov->event_checked++;
	for (int i = 0; i < NR_RSS; i++) {
		struct finding *f;

		if (!m->rss_known[i] || !m->rss[i])
			continue;
		f = rss_finding(c, m, 0, m->exit_ts, "exit_mmap");
		finding_evidence(f, "last kmem:rss_stat %s = %lld pages; exit_mmap at %s "
				 "left it non-zero", mmr_rss_name(i), (long long)m->rss[i],
				 ts_str(m->exit_ts, t, sizeof(t)));
	}
}

void checker_event(struct checker *c, const struct mmr_event *ev)
{
	const struct mmr_common *cm = ev->data;
	struct mm_state *m;

	c->events++;
	c->cur_ts = ev->h.ts;
	switch (cm->type) {
	case MMR_K_SYS_ENTER:
	case MMR_K_SYS_EXIT:
	case MMR_K_SYS_PATH:
		on_sys(c, ev, cm->type);
		break;
	case MMR_K_RSS_STAT:
		on_rss(c, ev);
		break;
	case MMR_K_EXIT_MMAP:
		if ((m = mm_get(c, ev->h.mm, ev->h.tgid))) {
			m->exited = 1;
			m->exit_ts = ev->h.ts;
			rss_at_exit(c, m);
			/* its address (so its hash) may be a new mm's from now on */
			memset(m->rss_known, 0, sizeof(m->rss_known));
			ledger_exit_mmap(m);
		}
		note_unlock(c, ev->h.mm, m, 0, ~0ULL, ev->h.ts, 0);
		break;
	case MMR_K_PAGE_FAULT_USER: case MMR_K_PAGE_FAULT_KERNEL:
		if ((m = mm_get(c, ev->h.mm, ev->h.tgid)))
			note_fault(m, mmr_ev_u64(ev, F_ADDRESS));
		break;
	case MMR_K_SNAP:
		on_snap(c, ev);
		break;
	case MMR_K_SNAP_VMA:
		on_snap_vma(c, ev);
		break;
	case MMR_K_SNAP_PAGES:
		on_snap_pages(c, ev);
		break;
	case MMR_K_SNAP_END:
		on_snap_end(c, ev);
		break;
	case MMR_K_FOLIO_REFERENCED_ONE: case MMR_K_TRY_TO_UNMAP_ONE:
		on_rmap_visit(c, ev);
		ledger_event(c, ev->h.mm ? mm_get(c, ev->h.mm, ev->h.tgid) : NULL, ev);
		break;
	case MMR_K_UNMAP_PAGE_RANGE: case MMR_K_ZAP_DONE:
	case MMR_K_FREE_SWAP_AND_CACHE: case MMR_K_DO_SWAP_PAGE: case MMR_K_LRU_INSERTION:
	case MMR_K_MLOCK_FOLIO: case MMR_K_MLOCK_NEW_FOLIO: case MMR_K_MUNLOCK_FOLIO:
	case MMR_K_TRY_TO_MIGRATE_ONE: case MMR_K_REMOVE_MIGRATION_PTE: case MMR_K_PAGE_FREE:
	case MMR_K_NEW_ANON_RMAP:
		ledger_event(c, ev->h.mm ? mm_get(c, ev->h.mm, ev->h.tgid) : NULL, ev);
		break;
	default:
		break;
	}
	if (cm->type != MMR_K_RSS_STAT)
		ledger_event_done(c, ev);
}

/* ---- end of trace --------------------------------------------------- */

static void global_counters(struct checker *c)
{
	struct coverage *cov = &c->cov[V_STRANDED_MLOCK];
	struct finding *f;
	__s64 mlocked, cleared, stranded;

	if (!c->have_base || !c->have_final)
		return;
	mlocked = c->final.mlocked - c->base.mlocked;
	cleared = c->final.pgs_cleared - c->base.pgs_cleared;
	stranded = c->final.pgs_stranded - c->base.pgs_stranded;
	cov->snap_checked++;
	if (cleared > 0) {
		f = finding_add(c, V_STRANDED_MLOCK, NULL, 0, 0, 0, ~0ULL, 0, "free of a mlocked page");
		finding_evidence(f, "/proc/vmstat unevictable_pgs_cleared rose by %lld: pages "
				 "were freed while still mlocked", (long long)cleared);
	}
	/*
	 * Mlocked is system-wide: other processes (here PID 1 holds tens of MB
	 * locked) move it by a few pages while a workload runs, so a rise is
	 * reported in the coverage, not as a finding.
	 */
	c->mlocked_delta = c->all_exited ? mlocked : 0;
	c->stranded_delta = stranded;
}

/*
 * Dropped events leave holes in the ledgers, and so do those a flight
 * recorder overwrote before its first: keep none of their findings.
 */
static void withhold_ledger(struct checker *c)
{
	c->drops = mmr_trace_stat(c->t, "drops") + mmr_trace_stat(c->t, "overwritten");
	if (c->drops)
		c->ledger_withheld += findings_drop_ledger(&c->found, c->ledger_not_stored,
							   c->ledger_pages_not_stored);
}

void checker_finish(struct checker *c)
{
	int all = 1, any = 0;

	for (int i = 0; i < 1024; i++)
		for (struct mm_state *m = c->mms[i]; m; m = m->next) {
			any = 1;
			all &= m->exited || !m->rss_known[0];
		}
	c->all_exited = c->saw_cmd && any && all;
	for (int i = 0; i < 1024; i++)
		for (struct mm_state *m = c->mms[i]; m; m = m->next)
			verdicts_unresolved(c, m);
	global_counters(c);
	withhold_ledger(c);
	verdicts_coverage(c);
	ledger_coverage(c);
}
