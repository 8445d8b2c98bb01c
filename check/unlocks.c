// SPDX-License-Identifier: GPL-2.0
/*
 * The munlocks and rmap visits in flight: check.c writes the rings as the
 * events come (note_unlock(), on_rmap_visit()), verdicts.c asks them why
 * a page may still be mlocked (unlock_pending()).
 */
#include <stdlib.h>
#include "check_int.h"

/*
 * What mm @m showed in [start, end) at its last snapshot, if that is all it
 * mapped there now: the snapshot held the process, and since then no mm
 * syscall completed and no fault landed in the range.
 */
static int unlock_pfns(struct unlock_rec *u, const struct mm_state *m)
{
	const struct snap *s = m ? m->last : NULL;
	__u64 *v;

	if (!s || !(s->flags & MMR_SNAPF_HELD) || m->syscalls_since ||
	    (m->fault_lo <= m->fault_hi && m->fault_lo < u->end && m->fault_hi >= u->start))
		return 0;
	if (!(v = malloc((s->nr_pages + 1) * sizeof(*v))))
		return 0;
	for (size_t i = 0; i < s->nr_pages; i++) {
		const struct mmr_snap_page *pg = &s->pages[i];

		if (pg->addr >= u->start && pg->addr < u->end && (pg->pagemap & MMR_PM_PRESENT))
			v[u->nr_pfns++] = pg->pagemap & MMR_PM_PFN_MASK;
	}
	qsort(v, u->nr_pfns, sizeof(*v), cmp_u64);
	u->pfns = v;
	u->snap_ts = s->ts;
	return 1;
}

/*
 * Mm @mm (state @m, NULL if never seen) stopped locking or mapping
 * [start, end) at @ts: a shared page of another mm that was mlocked only
 * through it may lose PG_mlocked (verdicts.c, foreign_unlock()).
 */
void note_unlock(struct checker *c, __u64 mm, const struct mm_state *m, __u64 start,
			__u64 end, __u64 ts, int moved)
{
	struct unlock_rec *u = &c->unlocks[c->nr_unlocks++ % UNLOCKS_MAX];

	free(u->pfns);
	*u = (struct unlock_rec){ .mm = mm, .ts = ts, .start = start, .end = end,
				  .exit = c->cur_ts, .cpu_moved = moved };
	u->known = unlock_pfns(u, m);
}

#define RMAP_RUN_NS 1000000ULL	/* rmap visits this close, of one mm, are one run */

/*
 * An rmap visit of [start, start + len) in @mm at @ts: it joins the newest
 * run when that is of the same mm and ended less than RMAP_RUN_NS before
 * (wider, so sound); a visit counts until RMAP_RUN_NS after it began.
 */
static void note_reclaim(struct checker *c, __u64 mm, __u64 start, __u64 len, __u64 ts)
{
	struct reclaim_rec *r = &c->reclaims[(c->nr_reclaims - 1) % RECLAIMS_MAX];

	if (c->nr_reclaims && r->mm == mm && ts - r->exit < RMAP_RUN_NS) {
		r->start = start < r->start ? start : r->start;
		r->end = start + len > r->end ? start + len : r->end;
		r->exit = ts + RMAP_RUN_NS;
		return;
	}
	r = &c->reclaims[c->nr_reclaims++ % RECLAIMS_MAX];
	*r = (struct reclaim_rec){ .mm = mm, .start = start, .end = start + len, .entry = ts,
				   .exit = ts + RMAP_RUN_NS };
}

void on_rmap_visit(struct checker *c, const struct mmr_event *ev)
{
	const struct mmr_rmap *e = ev->data;

	if (ev->h.len >= sizeof(*e))
		note_reclaim(c, ev->h.mm, e->address,
			     (e->nr_pages ? e->nr_pages : 1) * (__u64)c->page_size, ev->h.ts);
}

/* An rmap visit of @addr in @mm overlapped @u in time. */
static int raced_reclaim(const struct checker *c, const struct unlock_rec *u, __u64 mm,
			 __u64 addr)
{
	__u64 nr = c->nr_reclaims < RECLAIMS_MAX ? c->nr_reclaims : RECLAIMS_MAX;

	for (__u64 k = 0; k < nr; k++) {
		const struct reclaim_rec *r = &c->reclaims[k];

		if (r->mm == mm && addr >= r->start && addr < r->end && r->entry <= u->exit &&
		    u->ts <= r->exit)
			return 1;
	}
	return 0;
}

/*
 * Two ways a correct kernel leaves a page mlocked after the munlock of its
 * range returned (6.1 and 6.18 mm/mlock.c, mm/rmap.c):
 * - munlock_folio() (munlock_page() in 6.1) queues the page on this CPU's
 *   mlock batch, and only __munlock_folio(), when the batch is drained,
 *   clears PG_mlocked.  mlock_vma_pages_range() ends with lru_add_drain(),
 *   which drains the CPU it runs on: if the task moved to another CPU
 *   during the walk, the pages queued before wait for that CPU's next drain.
 *   Seen: the call entered on one CPU and returned on another.
 * - reclaim that found the VMA still VM_LOCKED under the page table lock
 *   re-mlocks the page ("Restore the mlock which got missed" in
 *   try_to_unmap_one(), folio_referenced_one()); its batch drained before
 *   the munlock's leaves mlock_count one too high.  Seen: an rmap visit of
 *   the page during the munlock (hooks needed).  MADV_PAGEOUT cannot do
 *   this: it skips VM_LOCKED VMAs (can_madv_lru_vma()) under mmap_lock,
 *   which munlock holds for writing.
 */
enum defer_rule unlock_pending(const struct checker *c, const struct mm_state *m, __u64 addr)
{
	__u64 nu = c->nr_unlocks < UNLOCKS_MAX ? c->nr_unlocks : UNLOCKS_MAX;
	enum defer_rule why = D_NR;

	for (__u64 i = 0; i < nu; i++) {
		const struct unlock_rec *u = &c->unlocks[i];

		if (u->mm != m->mm || addr < u->start || addr >= u->end)
			continue;
		if (u->cpu_moved)
			return D_MUNLOCK_BATCH_ELSEWHERE;
		if (raced_reclaim(c, u, m->mm, addr))
			why = D_UNLOCK_RACED_RECLAIM;
	}
	return why;
}
