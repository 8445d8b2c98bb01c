// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot rules.  Each snapshot S of an mm is judged on its own (mlock
 * state of every page against the VMA's VM_LOCKED, swap PTEs against the
 * range the triggering syscall zapped, VmSwap against the swap PTEs, rss
 * counters against kmem:rss_stat) and against the previous snapshot P of
 * the same mm (pages that vanished or lost their swap entry in between).
 *
 * The kernel's documented exceptions, which are not findings:
 * - PTE-mapped large folios are mlocked only when mlock_pte_range() finds
 *   them wholly inside the VMA; the fault path mlocks small folios only
 *   (mm/rmap.c, "See comments in folio_add_anon_rmap_*()").
 * - The zero page and pages without a struct page are never mlocked.
 * - A page another process munlocks concurrently, or that this process
 *   munlocks or unmaps in another VMA, may be munlocked early and is
 *   re-mlocked by the next reclaim scan (Documentation/mm/unevictable-lru.rst):
 *   it is deferred, not reported.
 * - mlock2(MLOCK_ONFAULT) and mlockall(MCL_ONFAULT) leave pages that were
 *   swapped before the call swapped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check_int.h"

/*
 * Swap types from 24 up are the kernel's own entries (migration, device,
 * hwpoison, PTE markers) on every x86_64 config: MAX_SWAPFILES is 32 minus
 * those, and nobody runs 24 swap devices.
 */
#define REAL_SWAP_TYPES 24

/* A page of another traced mm whose last snapshot still holds (co_index_build()). */
struct co_ent {
	__u64 pfn, addr;
	const struct mm_state *m;
	int locked;		/* in a locked VMA */
};

struct judge {
	struct checker *c;
	struct mm_state *m;
	struct snap *s, *p;	/* this snapshot, the previous one (or NULL) */
	const struct syscall_rec *trig;
	char op[128];
	int held;		/* process stopped and batches drained */
	struct co_ent *co;	/* by PFN, built at the first shared page; NULL: none yet */
	size_t nr_co;
	int co_failed;		/* out of memory: no shared page is judged */
};

static int present(const struct mmr_snap_page *pg)
{
	return !!(pg->pagemap & MMR_PM_PRESENT);
}

static int swapped(const struct mmr_snap_page *pg)
{
	return !present(pg) && (pg->pagemap & MMR_PM_SWAP) && !(pg->pagemap & MMR_PM_GUARD) &&
	       MMR_PM_SWAP_TYPE(pg->pagemap) < REAL_SWAP_TYPES;
}

static __u64 pfn_of(const struct mmr_snap_page *pg)
{
	return present(pg) ? pg->pagemap & MMR_PM_PFN_MASK : ~0ULL;
}

void snap_free(struct snap *s)
{
	if (!s)
		return;
	free(s->vmas);
	free(s->pages);
	free(s);
}

/* ---- lookups -------------------------------------------------------- */

static const struct mmr_snap_page *page_at(const struct snap *s, __u64 addr)
{
	size_t lo = s ? mmr_lower(s->pages, s->nr_pages, sizeof(*s->pages), addr) : 0;

	return s && lo < s->nr_pages && s->pages[lo].addr == addr ? &s->pages[lo] : NULL;
}

/* VMAs are in address order, as smaps lists them (check.c drops a snapshot whose are not). */
static const struct snap_vma *vma_at(const struct snap *s, __u64 addr)
{
	size_t lo = 0, hi = s ? s->nr_vmas : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->vmas[mid].v.end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < (s ? s->nr_vmas : 0) && addr >= s->vmas[lo].v.start ? &s->vmas[lo] : NULL;
}

static int locked(const struct snap_vma *v)
{
	return v && (v->v.flags & MMR_VMA_LOCKED) && !(v->v.flags & (MMR_VMA_IO | MMR_VMA_HUGETLB));
}

int snap_locked_at(const struct snap *s, __u64 addr)
{
	return locked(vma_at(s, addr));
}

static size_t count_of(const __u64 *v, size_t n, __u64 key)
{
	size_t lo = 0, hi = n, c = 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo + c < n && v[lo + c] == key)
		c++;
	return c;
}

/* ---- findings ------------------------------------------------------- */

/*
 * A page finding: the pages one rule finds in one snapshot of an mm are
 * one finding (findings_page), with the evidence of the first; NULL for
 * the rest.
 */
static struct finding *page_finding(struct judge *j, enum verdict v, __u64 addr, __u64 pfn)
{
	struct checker *c = j->c;
	struct finding_at at = { .kind = v, .pid = j->m->tgid, .tid = j->s->tid, .mm = j->m->mm,
				 .ts = j->s->ts, .snapshot = j->s->seq, .op = j->op };

	if (findings_seen(&c->found, v, j->m->mm, addr, pfn)) {
		c->cov[v].repeated++;
		return NULL;
	}
	return findings_page(&c->found, &at, addr, pfn);
}

static void snap_evidence(struct judge *j, struct finding *f)
{
	char t[32];

	finding_evidence(f, "snapshot #%u at %s after %s%s", j->s->seq, ts_str(j->s->ts, t, 32),
			 j->op, j->held ? " (process stopped, LRU/mlock batches drained)" : "");
}

static void page_evidence(struct finding *f, const char *what, const struct mmr_snap_page *pg,
			  const struct snap_vma *v)
{
	finding_evidence(f, "%s: pagemap 0x%016llx%s, kpageflags%s%s%s, mapcount %u; "
			 "VMA 0x%llx-0x%llx%s %s", what, (unsigned long long)pg->pagemap,
			 present(pg) ? " present" : swapped(pg) ? " swapped" : " none",
			 pg->kflags & MMR_PF_MLOCKED ? " mlocked" : " not-mlocked",
			 pg->kflags & MMR_PF_UNEVICTABLE ? " unevictable" : "",
			 pg->kflags & MMR_PF_LARGE ? " large-folio" : "", pg->mapcount,
			 v ? (unsigned long long)v->v.start : 0, v ? (unsigned long long)v->v.end : 0,
			 locked(v) ? " VM_LOCKED" : "", v ? v->v.name : "?");
}

/* ---- lost-mlock ----------------------------------------------------- */

static int in_onfault(const struct mm_state *m, __u64 addr)
{
	if (m->onfault_all)
		return 1;
	for (int i = 0; i < m->nr_onfault; i++)
		if (addr >= m->onfault[i].start && addr < m->onfault[i].end)
			return 1;
	return 0;
}

/*
 * Whether the range @u let go may have held @pfn: its PFNs say so, unless a
 * migration mapped @pfn in since they were read (it may have replaced one
 * of them), or the trace cannot tell migrations.
 */
static int unlock_may_hold(const struct checker *c, const struct unlock_rec *u, __u64 pfn)
{
	if (!u->known || !ledger_follows_migration(c) || count_of(u->pfns, u->nr_pfns, pfn))
		return 1;
	return ledger_mapped_back_ts(c, pfn) >= u->snap_ts;
}

/*
 * A shared page another mm stopped locking or mapping since the previous
 * snapshot (munlock, munmap, mremap, shmdt, exit: munlock_vma_folio() or
 * page_remove_rmap() munlock it there) may lose PG_mlocked although this
 * mm's VMA is still locked: mlock_count only approximates the locked
 * mappings, and unevictable-lru.rst leaves the page to the next reclaim
 * scan.  Only if that mm mapped this very page there: its snapshot before
 * the call says which pages it did, where nothing it did since (a fault in
 * the range, another mm syscall) could have added one; else, and for
 * calls too old to be kept, any shared page.
 */
static int foreign_unlock(const struct judge *j, __u64 pfn)
{
	const struct checker *c = j->c;
	__u64 since = j->p ? j->p->ts : 0, n = c->nr_unlocks;

	for (__u64 k = 0; k < n; k++) {
		const struct unlock_rec *u = &c->unlocks[(n - 1 - k) % UNLOCKS_MAX];

		if (k == UNLOCKS_MAX)
			return 1;	/* more since than are kept */
		if (u->ts < since)
			return 0;
		if (u->mm != j->m->mm && unlock_may_hold(c, u, pfn))
			return 1;
	}
	return 0;
}

/* The unlock record of @r, this mm's munlock or munmap, if it is still kept. */
static const struct unlock_rec *own_unlock(const struct judge *j, const struct syscall_rec *r)
{
	const struct checker *c = j->c;

	for (__u64 k = 0; k < c->nr_unlocks && k < UNLOCKS_MAX; k++) {
		const struct unlock_rec *u = &c->unlocks[(c->nr_unlocks - 1 - k) % UNLOCKS_MAX];

		if (u->mm == j->m->mm && u->ts == r->ts)
			return u;
	}
	return NULL;
}

/*
 * The snapshot follows a munlock or munmap by this mm of another range:
 * a page also mapped there (a shared page; after munmap its mapcount is
 * back to 1) may lose PG_mlocked although this VMA is still locked.
 * mlock_count is only an approximation of the locked mappings (it restarts
 * at each migration, whose remove_migration_pte() mlocks the new page once
 * per VM_LOCKED VMA it maps it in at that moment), and unevictable-lru.rst
 * leaves the page to be mlocked again by the next reclaim scan that finds
 * it in a VM_LOCKED VMA: deferred, as above.  Only if the range held this
 * very page, as the previous snapshot shows where nothing since could have
 * added one (note_unlock()); else any such page.
 */
static int other_vma_unlocked(const struct judge *j, const struct mmr_snap_page *pg)
{
	const struct syscall_rec *r = j->trig;
	const struct unlock_rec *u;

	if (!r || r->ret < 0 || (r->nr != NR_MUNLOCK && r->nr != NR_MUNMAP) ||
	    (pg->addr >= r->args[0] && pg->addr < r->args[0] + r->args[1]))
		return 0;
	u = own_unlock(j, r);
	return !u || unlock_may_hold(j->c, u, pfn_of(pg));
}

/*
 * A page whose migration entry an mlock() walk passes is mapped back by
 * remove_migration_pte() while the walk still marks the vma VM_IO (so that
 * it is not counted twice: mlock_vma_folio() in mm/internal.h, 6.1 and
 * 6.18), and is left unmlocked until a reclaim scan finds it in the
 * VM_LOCKED vma (Documentation/mm/unevictable-lru.rst, "Migrating MLOCKED
 * Pages").  A second mlock() of the range does not walk it again
 * (mlock_fixup() returns early when the flags do not change), so this holds
 * until the range is munlocked or unmapped.  The page is followed to its
 * new PFN by remove_migration_pte's pte: withheld only if that PFN was
 * mapped back while an mlock call still covering the page ran.  The
 * tracepoint fires under the PTE lock right after the page was added, so it
 * may trail the call's exit by an interrupt's length at most.
 */
#define MAPPED_BACK_SLACK_NS 100000ULL

static int mapped_back_in_mlock(const struct judge *j, const struct mmr_snap_page *pg)
{
	__u64 ts = ledger_mapped_back_ts(j->c, pfn_of(pg));

	if (!ts)
		return 0;
	for (size_t i = 0; i < j->m->nr_calls; i++) {
		const struct lock_call *k = &j->m->calls[i];

		if (pg->addr >= k->start && pg->addr < k->end && ts >= k->entry &&
		    ts <= k->exit + MAPPED_BACK_SLACK_NS)
			return 1;
	}
	return 0;
}

/*
 * Where the trace cannot follow pages through migration (no
 * remove_migration_pte pte), the same transient is assumed for every page
 * after any migration since the previous snapshot (try_to_migrate_one, by
 * any traced task: the one migrating need not own the pages) or after an
 * mlock that overlapped one, until the mm's next munlock.
 */
static int migration_unfollowed(const struct judge *j)
{
	return (j->c->last_migrate_ts && j->c->last_migrate_ts >= (j->p ? j->p->ts : 0)) ||
	       j->m->lock_raced;
}

/*
 * A move_pages()/migrate_pages() of this process (explore's perturber) is
 * still moving pages: the snapshot stopped the process's own tasks, not that
 * one, and events of the pages it maps back while the snapshot reads them
 * come after the snapshot in the trace.
 */
static int migrating_now(const struct judge *j)
{
	return migration_in_flight_of(j->c, j->m->tgid);
}

/* Why @pg, present and not mlocked in a VM_LOCKED vma, may be so: a rule, or D_NR. */
static enum defer_rule lost_deferral(const struct judge *j, const struct mmr_snap_page *pg)
{
	int shared = pg->mapcount > 1;
	int follow = ledger_follows_migration(j->c) && !j->m->calls_lost;

	if (shared && foreign_unlock(j, pfn_of(pg)))
		return D_SHARED_FOREIGN_UNLOCK;
	if (follow ? mapped_back_in_mlock(j, pg) : migration_unfollowed(j))
		return follow ? D_MAPPED_BACK_IN_MLOCK : D_MIGRATION_UNFOLLOWED;
	if (migrating_now(j))
		return D_MIGRATING_NOW;
	if ((shared || !(pg->kflags & MMR_PF_ANON)) && other_vma_unlocked(j, pg))
		return D_OTHER_RANGE_UNLOCKED;
	return D_NR;
}

static void defer(struct coverage *cov, enum defer_rule r)
{
	cov->deferred++;
	cov->deferred_by[r]++;
}

/* Deferred, and kept for a reclaim pass to resolve (none if it cannot be kept). */
static void withhold(struct judge *j, const struct mmr_snap_page *pg, enum defer_rule why)
{
	struct mm_state *m = j->m;
	struct withheld *w = mmr_grow(m->wh, &m->cap_wh, m->nr_wh + 1, sizeof(*w), 64);

	defer(&j->c->cov[V_LOST_MLOCK], why);
	if (!w) {
		j->c->cov[V_LOST_MLOCK].reclaim_none++;
		return;
	}
	m->wh = w;
	m->wh[m->nr_wh++] = (struct withheld){ pg->addr, why };
}

/*
 * Not mlocked by design: the zero page, a page without a struct page, and
 * a PTE-mapped large folio (6.1's mlock_pte_range() skips one; 6.18's
 * takes only folios wholly inside the range).  A PMD-mapped THP in a
 * VM_LOCKED vma is mlocked like a small page (mlock_pte_range()'s PMD
 * case, and mlock_new_folio() at its fault, 6.1 and 6.18): judged where
 * the snapshot could tell (MMR_SNAPF_PMD_KNOWN).
 */
static int exempt(struct judge *j, const struct mmr_snap_page *pg)
{
	if (pg->kflags & (MMR_PF_ZERO | MMR_PF_NOPAGE)) {
		j->c->exempt_pages++;
		return 1;
	}
	if (!(pg->kflags & MMR_PF_LARGE) || (pg->kflags & MMR_PF_PMD))
		return 0;
	j->c->exempt_pages++;
	j->c->exempt_untold += !(j->s->flags & MMR_SNAPF_PMD_KNOWN);
	return 1;
}

static void lost_present(struct judge *j, const struct snap_vma *v, const struct mmr_snap_page *pg)
{
	struct coverage *cov = &j->c->cov[V_LOST_MLOCK];
	enum defer_rule why;
	struct finding *f;

	if (pg->kflags & MMR_PF_MLOCKED) {
		cov->pages_judged++;
		return;
	}
	if (exempt(j, pg))
		return;
	if ((why = lost_deferral(j, pg)) != D_NR) {
		withhold(j, pg, why);
		return;
	}
	cov->pages_judged++;
	f = page_finding(j, V_LOST_MLOCK, pg->addr, pfn_of(pg));
	snap_evidence(j, f);
	page_evidence(f, "present page of a VM_LOCKED VMA is not mlocked", pg, v);
}

/*
 * The last mlock-family call covering @addr failed.  do_mlock() marks the
 * VMAs VM_LOCKED and then faults the range in (__mm_populate()); when that
 * stops early (-ENOMEM, -EAGAIN: mm/gup.c) the call fails and pages still
 * swapped out stay so in the locked VMA, until a later mlock of the range
 * populates it again (do_mlock() populates even when the flags do not
 * change).
 */
static int last_lock_failed(const struct mm_state *m, __u64 addr)
{
	for (size_t i = m->nr_calls; i-- > 0;)
		if (addr >= m->calls[i].start && addr < m->calls[i].end)
			return m->calls[i].failed;
	return 0;
}

static void lost_swapped(struct judge *j, const struct snap_vma *v, const struct mmr_snap_page *pg)
{
	const struct mmr_snap_page *old = page_at(j->p, pg->addr);
	struct finding *f;

	if (last_lock_failed(j->m, pg->addr)) {
		defer(&j->c->cov[V_LOST_MLOCK], D_LOCK_FAILED);
		return;
	}
	if (in_onfault(j->m, pg->addr) &&
	    !(old && present(old) && locked(vma_at(j->p, pg->addr))))
		return;		/* MLOCK_ONFAULT: swapped before the lock */
	j->c->cov[V_LOST_MLOCK].pages_judged++;
	f = page_finding(j, V_LOST_MLOCK, pg->addr, ~0ULL);
	snap_evidence(j, f);
	page_evidence(f, "page of a VM_LOCKED VMA was swapped out", pg, v);
	if (old)
		page_evidence(f, "previous snapshot", old, vma_at(j->p, pg->addr));
}

/* Present private pages of locked VMAs in P must still be there in S. */
static void lost_vanished(struct judge *j)
{
	struct snap *p = j->p;

	if (!p || !j->held || !(p->flags & MMR_SNAPF_HELD) ||
	    (j->m->ops & (OP_ZAP | OP_TRUNC | OP_EXEC)) || j->c->trunc_count != p->trunc_count)
		return;
	for (size_t i = 0; i < p->nr_vmas; i++) {
		const struct snap_vma *pv = &p->vmas[i];

		if (!locked(pv))
			continue;
		for (size_t k = pv->first; k < pv->first + pv->nr; k++) {
			const struct mmr_snap_page *pg = &p->pages[k];
			const struct snap_vma *v = vma_at(j->s, pg->addr);
			struct finding *f;

			if (!present(pg) || (pg->pagemap & MMR_PM_FILE) || !locked(v) ||
			    page_at(j->s, pg->addr))
				continue;
			j->c->cov[V_LOST_MLOCK].pages_judged++;
			f = page_finding(j, V_LOST_MLOCK, pg->addr, pfn_of(pg));
			snap_evidence(j, f);
			finding_evidence(f, "page of a VM_LOCKED VMA vanished without munlock, munmap "
					 "or truncate since snapshot #%u", p->seq);
			page_evidence(f, "previous snapshot", pg, pv);
		}
	}
}

static void check_lost(struct judge *j)
{
	struct coverage *cov = &j->c->cov[V_LOST_MLOCK];

	if (!j->held) {
		cov->snap_skipped++;
		return;
	}
	cov->snap_checked++;
	for (size_t i = 0; i < j->s->nr_vmas; i++) {
		const struct snap_vma *v = &j->s->vmas[i];

		if (!locked(v))
			continue;
		for (size_t k = v->first; k < v->first + v->nr; k++) {
			const struct mmr_snap_page *pg = &j->s->pages[k];

			if (pg->kflags & MMR_PF_MOVED)
				j->c->moved_locked++;	/* its flags may be another page's */
			else if (present(pg))
				lost_present(j, v, pg);
			else if (swapped(pg))
				lost_swapped(j, v, pg);
		}
	}
	lost_vanished(j);
}

/* ---- stranded-mlock ------------------------------------------------- */

/* PFNs (and folio heads) mapped by the snapshot: all, and in locked VMAs. */
static void pfn_sets(const struct snap *s, __u64 **all, size_t *nall, __u64 **lk, size_t *nlk)
{
	*all = malloc((s->nr_pages + 1) * sizeof(__u64));
	*lk = malloc((2 * s->nr_pages + 1) * sizeof(__u64));
	*nall = *nlk = 0;
	if (!*all || !*lk)
		return;
	for (size_t i = 0; i < s->nr_vmas; i++)
		for (size_t k = s->vmas[i].first; k < s->vmas[i].first + s->vmas[i].nr; k++) {
			const struct mmr_snap_page *pg = &s->pages[k];

			if (!present(pg) || (pg->kflags & MMR_PF_MOVED))
				continue;
			(*all)[(*nall)++] = pfn_of(pg);
			if (!locked(&s->vmas[i]))
				continue;
			(*lk)[(*nlk)++] = pfn_of(pg);
			if (pg->kflags & MMR_PF_LARGE)
				(*lk)[(*nlk)++] = pfn_of(pg) - pg->folio_idx;
		}
	qsort(*all, *nall, sizeof(__u64), cmp_u64);
	qsort(*lk, *nlk, sizeof(__u64), cmp_u64);
}

static int stranded_candidate(const struct mmr_snap_page *pg)
{
	if (!present(pg))
		return 0;
	if (pg->kflags & MMR_PF_MLOCKED)
		return 1;
	/* private anon pages are unevictable only while mlocked */
	return (pg->kflags & MMR_PF_UNEVICTABLE) && (pg->kflags & MMR_PF_ANON) &&
	       !(pg->pagemap & MMR_PM_FILE) && !(pg->kflags & MMR_PF_LARGE);
}

/* A thread of @tgid is inside an mm syscall. */
static int call_open(const struct checker *c, int tgid)
{
	for (size_t i = 0; i < sizeof(c->sys) / sizeof(c->sys[0]); i++)
		if (c->sys[i] && c->sys[i]->tgid == tgid && !c->sys[i]->done)
			return 1;
	return 0;
}

/*
 * Whether @m's last snapshot still shows its locked mappings, and all its
 * mappings of a page up to ones a count would miss: taken with the process
 * stopped, and since then no mm syscall of it (mlock, munlock, mmap,
 * mremap, munmap: the only ways VM_LOCKED changes) nor one in flight, and
 * no fault where it could have mapped a page into a locked VMA.  A fault
 * elsewhere, reclaim, migration or exit can only add a mapping that
 * kpagecount shows beyond the count, take one away that it then lacks, or
 * change the PFN: the count no longer adds up, and the page is not judged.
 */
static int snap_still_holds(const struct checker *c, const struct mm_state *m)
{
	return m->last && (m->last->flags & MMR_SNAPF_HELD) && !m->exited && !m->syscalls_since &&
	       !m->fault_locked && !call_open(c, m->tgid);
}

/* What the other traced mms' snapshots show of one page. */
struct co_maps {
	__u32 count;		/* mappings of it, in snapshots that still hold */
	int locked;		/* one of them is in a locked VMA */
	int mms;		/* mms that map it */
	enum defer_rule pending;	/* one's own munlock of it may still be draining */
};

static int cmp_co(const void *a, const void *b)
{
	const struct co_ent *x = a, *y = b;

	if (x->pfn != y->pfn)
		return x->pfn < y->pfn ? -1 : 1;
	return x->m < y->m ? -1 : x->m > y->m;
}

/* Appends @m's present pages, as its last snapshot shows them; -1 if out of memory. */
static int co_index_add(struct judge *j, const struct mm_state *m, size_t *cap)
{
	const struct snap *s = m->last;

	for (size_t v = 0; v < s->nr_vmas; v++) {
		const struct snap_vma *vma = &s->vmas[v];

		for (size_t k = vma->first; k < vma->first + vma->nr; k++) {
			const struct mmr_snap_page *pg = &s->pages[k];
			struct co_ent *n;

			if (!present(pg) || (pg->kflags & MMR_PF_MOVED))	/* a stale PFN */
				continue;
			n = mmr_grow(j->co, cap, j->nr_co + 1, sizeof(*n), 1024);
			if (!n)
				return -1;
			j->co = n;
			j->co[j->nr_co++] = (struct co_ent){ pfn_of(pg), pg->addr, m, locked(vma) };
		}
	}
	return 0;
}

/* The other traced mms' pages whose snapshots still hold, sorted by PFN: once a snapshot. */
static void co_index_build(struct judge *j)
{
	size_t cap = 0;

	if (j->co || j->co_failed)
		return;
	for (size_t i = 0; i < sizeof(j->c->mms) / sizeof(j->c->mms[0]); i++)
		for (const struct mm_state *m = j->c->mms[i]; m; m = m->next)
			if (m != j->m && snap_still_holds(j->c, m) && co_index_add(j, m, &cap)) {
				free(j->co);
				j->co = NULL;
				j->nr_co = 0;
				j->co_failed = 1;
				return;
			}
	if (!j->co && !(j->co = malloc(sizeof(*j->co))))	/* built, empty */
		j->co_failed = 1;
	qsort(j->co, j->nr_co, sizeof(*j->co), cmp_co);
}

static void co_maps_of(struct judge *j, __u64 pfn, struct co_maps *co)
{
	size_t lo = 0, hi;
	const struct mm_state *last = NULL;

	memset(co, 0, sizeof(*co));
	co->pending = D_NR;
	co_index_build(j);
	for (hi = j->nr_co; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;

		if (j->co[mid].pfn < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < j->nr_co && j->co[lo].pfn == pfn; lo++) {
		const struct co_ent *e = &j->co[lo];

		co->count++;
		co->locked |= e->locked;
		co->mms += e->m != last;
		last = e->m;
		if (co->pending == D_NR)
			co->pending = unlock_pending(j->c, e->m, e->addr);
	}
}

/*
 * A page also mapped by other mms: judged by the page model, where the
 * other traced mms' snapshots account for every mapping kpagecount counts
 * and still hold (no untraced mapper, nothing changed since); 1 if it is
 * to be judged, 0 if not (counted why).
 */
static int shared_judged(struct judge *j, const struct mmr_snap_page *pg, __u32 ours,
			 struct co_maps *co)
{
	struct coverage *cov = &j->c->cov[V_STRANDED_MLOCK];

	if (pg->kflags & MMR_PF_LARGE) {	/* kpagecount of a subpage: not its mappings */
		j->c->stranded_unjudged++;
		return 0;
	}
	co_maps_of(j, pfn_of(pg), co);
	if (j->co_failed) {	/* out of memory: no index of the others' pages */
		j->c->stranded_unjudged++;
		return 0;
	}
	if (co->locked) {	/* mapped by a locked VMA of another mm: rightly mlocked */
		j->c->stranded_shared++;
		cov->pages_judged++;
		return 0;
	}
	if (pg->mapcount != ours + co->count) {
		j->c->stranded_unjudged++;	/* an untraced or changed mapper */
		return 0;
	}
	if (co->pending != D_NR) {
		defer(cov, co->pending);
		return 0;
	}
	j->c->stranded_shared++;
	return 1;
}

static void stranded_page(struct judge *j, const struct snap_vma *v, const struct mmr_snap_page *pg,
			  const __u64 *all, size_t nall, const __u64 *lk, size_t nlk)
{
	__u64 pfn = pfn_of(pg);
	__u32 ours = count_of(all, nall, pfn);
	struct co_maps co = { 0 };
	enum defer_rule why;
	struct finding *f;

	if (count_of(lk, nlk, pfn) ||
	    ((pg->kflags & MMR_PF_LARGE) && count_of(lk, nlk, pfn - pg->folio_idx))) {
		j->c->cov[V_STRANDED_MLOCK].pages_judged++;
		return;		/* also mapped by a locked VMA here */
	}
	if (pg->mapcount > ours && !shared_judged(j, pg, ours, &co))
		return;
	if ((why = unlock_pending(j->c, j->m, pg->addr)) != D_NR) {
		defer(&j->c->cov[V_STRANDED_MLOCK], why);
		return;
	}
	j->c->cov[V_STRANDED_MLOCK].pages_judged++;
	f = page_finding(j, V_STRANDED_MLOCK, pg->addr, pfn);
	snap_evidence(j, f);
	page_evidence(f, "page is mlocked but no mapping of it is VM_LOCKED", pg, v);
	if (co.count)
		finding_evidence(f, "its other %u mappings are in %d other traced processes, none "
				 "VM_LOCKED (their last snapshots, unchanged since); kpagecount %u: "
				 "no untraced mapper", co.count, co.mms, pg->mapcount);
}

static void check_stranded(struct judge *j)
{
	struct coverage *cov = &j->c->cov[V_STRANDED_MLOCK];
	__u64 *all, *lk;
	size_t nall, nlk;

	if (!j->held) {
		cov->snap_skipped++;
		return;
	}
	cov->snap_checked++;
	pfn_sets(j->s, &all, &nall, &lk, &nlk);
	for (size_t i = 0; all && lk && i < j->s->nr_vmas; i++) {
		const struct snap_vma *v = &j->s->vmas[i];

		if (locked(v) || (v->v.flags & (MMR_VMA_IO | MMR_VMA_HUGETLB)))
			continue;
		for (size_t k = v->first; k < v->first + v->nr; k++)
			if (j->s->pages[k].kflags & MMR_PF_MOVED)
				j->c->moved_other++;
			else if (stranded_candidate(&j->s->pages[k]))
				stranded_page(j, v, &j->s->pages[k], all, nall, lk, nlk);
			else if (present(&j->s->pages[k]))
				cov->pages_judged++;	/* rightly not mlocked */
	}
	free(all);
	free(lk);
	free(j->co);
	j->co = NULL;
	j->nr_co = 0;
}

/* ---- swap entries --------------------------------------------------- */

static int same_file(const struct snap_vma *v, const struct syscall_rec *r)
{
	if (v->v.flags & MMR_VMA_ANON)
		return 0;
	if (r->file.valid)
		return v->v.ino == r->file.ino && v->v.dev == r->file.dev;
	return r->path[0] == '/' && !strcmp(v->v.name, r->path);
}

static __u64 file_off(const struct snap_vma *v, __u64 addr)
{
	return v->v.pgoff + (addr - v->v.start);
}

static void swap_in_range(struct judge *j, __u64 start, __u64 end, const char *why)
{
	for (size_t k = 0; k < j->s->nr_pages; k++) {
		const struct mmr_snap_page *pg = &j->s->pages[k];
		struct finding *f;

		if (pg->addr < start || pg->addr >= end || !swapped(pg))
			continue;
		f = page_finding(j, V_SKIPPED_SWAP, pg->addr, ~0ULL);
		snap_evidence(j, f);
		page_evidence(f, why, pg, vma_at(j->s, pg->addr));
	}
}

/* Swap PTEs of private mappings beyond the new EOF after a truncate. */
static void swap_beyond_eof(struct judge *j, const struct syscall_rec *r)
{
	__u64 eof = (r->args[1] + j->c->page_size - 1) & ~(__u64)(j->c->page_size - 1);

	for (size_t i = 0; i < j->s->nr_vmas; i++) {
		const struct snap_vma *v = &j->s->vmas[i];

		if ((v->v.flags & MMR_VMA_SHARED) || !same_file(v, r))
			continue;
		for (size_t k = v->first; k < v->first + v->nr; k++) {
			const struct mmr_snap_page *pg = &j->s->pages[k];
			struct finding *f;

			if (!swapped(pg) || file_off(v, pg->addr) < eof)
				continue;
			f = page_finding(j, V_SKIPPED_SWAP, pg->addr, ~0ULL);
			snap_evidence(j, f);
			page_evidence(f, "swap PTE beyond the new EOF of a private mapping", pg, v);
		}
	}
}

/*
 * Why /proc/PID/status cannot be held to the exact counts on this kernel:
 * before 6.2 a task's own faults update the counters through its cached
 * per-task counts (split rss counting, flushed every 64 events), while
 * reclaim by another task (kswapd, memory.reclaim) updates the mm
 * directly; from 6.2 to 6.15 status reads only the shared part of the
 * per-CPU counters (mmr_kernel_status_exact()).  Either way it can be off
 * by dozens of pages without anything being wrong.  NULL: it can be.
 */
static const char *status_inexact(const struct checker *c)
{
	if (!c->rss_exact)
		return "this kernel caches rss per thread (< 6.2)";
	if (!c->status_exact)
		return "/proc/PID/status leaves out the per-CPU part of the rss counters before 6.16";
	return NULL;
}

/* VmSwap against the swap PTEs, where status is exact. */
static void vmswap_matches(struct judge *j)
{
	__s64 ptes = 0;
	struct finding *f;

	if (status_inexact(j->c) || !(j->s->flags & MMR_SNAPF_STABLE) || j->s->st.vm_swap < 0)
		return;
	for (size_t k = 0; k < j->s->nr_pages; k++)
		ptes += swapped(&j->s->pages[k]);
	if (ptes == j->s->st.vm_swap)
		return;
	f = finding_add(j->c, V_SKIPPED_SWAP, j->m, j->s->tid, j->s->ts, 0, ~0ULL,
			ptes > j->s->st.vm_swap ? ptes - j->s->st.vm_swap : j->s->st.vm_swap - ptes,
			j->op);
	if (!f)
		return;
	f->snapshot = j->s->seq;
	snap_evidence(j, f);
	finding_evidence(f, "/proc/PID/status VmSwap = %lld pages, but pagemap shows %lld swap PTEs",
			 (long long)j->s->st.vm_swap, (long long)ptes);
}

static void check_skipped_swap(struct judge *j)
{
	const struct syscall_rec *r = j->trig;
	struct coverage *cov = &j->c->cov[V_SKIPPED_SWAP];

	if (!j->held) {
		cov->snap_skipped++;
		return;
	}
	cov->snap_checked++;
	if (status_inexact(j->c))
		snprintf(cov->snap_note, sizeof(cov->snap_note), "VmSwap not compared with the swap "
			 "PTEs: %s", status_inexact(j->c));
	vmswap_matches(j);
	if (!r || r->ret < 0)
		return;
	if (r->nr == NR_MADVISE && (r->args[2] == MADV_DONTNEED || r->args[2] == MADV_FREE ||
				    r->args[2] == MADV_DONTNEED_LOCKED))
		swap_in_range(j, r->args[0], r->args[0] + r->args[1],
			      "swap PTE left in the range MADV_DONTNEED/MADV_FREE zapped");
	else if (r->nr == NR_TRUNCATE || r->nr == NR_FTRUNCATE)
		swap_beyond_eof(j, r);
}

/* ---- dropped COW swap entries --------------------------------------- */

/* The file range a hole punch (fallocate or MADV_REMOVE) removed. */
static int punched(const struct judge *j, struct syscall_rec *file, __u64 *lo, __u64 *hi)
{
	const struct syscall_rec *r = j->trig;
	__u64 psz = j->c->page_size, off, len;
	const struct snap_vma *v;

	if (!r || r->ret < 0)
		return 0;
	*file = *r;
	if (r->nr == NR_FALLOCATE && (r->args[1] & FALLOC_FL_PUNCH_HOLE)) {
		off = r->args[2];
		len = r->args[3];
	} else if (r->nr == NR_MADVISE && r->args[2] == MADV_REMOVE &&
		   (v = vma_at(j->s, r->args[0]))) {
		off = file_off(v, r->args[0]);
		len = r->args[1];
		file->file.ino = v->v.ino;
		file->file.dev = v->v.dev;
		file->file.valid = 1;
	} else {
		return 0;
	}
	*lo = (off + psz - 1) & ~(psz - 1);	/* partial pages are zeroed, not removed */
	*hi = (off + len) & ~(psz - 1);
	return *lo < *hi;
}

static void check_dropped_cow(struct judge *j)
{
	struct coverage *cov = &j->c->cov[V_DROPPED_COW_SWAP];
	struct syscall_rec file;
	__u64 lo, hi;

	if (!punched(j, &file, &lo, &hi))
		return;
	if (!j->p || !j->held || (j->m->ops_before_last & (OP_ZAP | OP_TRUNC | OP_EXEC)) ||
	    j->c->trunc_count != j->p->trunc_count + 1) {
		cov->snap_skipped++;
		return;
	}
	cov->snap_checked++;
	for (size_t i = 0; i < j->s->nr_vmas; i++) {
		const struct snap_vma *v = &j->s->vmas[i];

		if ((v->v.flags & MMR_VMA_SHARED) || !same_file(v, &file))
			continue;
		for (__u64 a = v->v.start; a < v->v.end; a += j->c->page_size) {
			const struct mmr_snap_page *old = page_at(j->p, a);
			struct finding *f;

			if (file_off(v, a) < lo || file_off(v, a) >= hi || !old || page_at(j->s, a) ||
			    !(swapped(old) || (present(old) && !(old->pagemap & MMR_PM_FILE))))
				continue;
			f = page_finding(j, V_DROPPED_COW_SWAP, a, ~0ULL);
			snap_evidence(j, f);
			finding_evidence(f, "private COW page at file offset 0x%llx is gone: a hole "
					 "punch must keep private copies (even_cows=false)",
					 (unsigned long long)file_off(v, a));
			page_evidence(f, "previous snapshot", old, vma_at(j->p, a));
		}
	}
}

/* ---- rss counters against the snapshot ----------------------------- */

static void check_rss(struct judge *j)
{
	const struct mmr_snap_counters *st = &j->s->st;
	__s64 status[NR_RSS] = { st->rss_file, st->rss_anon, st->vm_swap, st->rss_shmem };
	struct coverage *cov = &j->c->cov[V_RSS_MISMATCH];

	/*
	 * Every counter, of single- and multi-threaded mms alike: rss_stat
	 * sums the per-CPU counters under their lock after each change
	 * (6.2 on), status sums them too (6.16 on), and a held snapshot has
	 * every thread of the group stopped.  On 6.18 this held for every
	 * counter in about 5,400 snapshots of 2- to 4-thread processes
	 * (python, xz and zstd -T2, threads paging out shared memory to swap).
	 */
	if (status_inexact(j->c) || !(j->s->flags & MMR_SNAPF_STABLE) || !j->held) {
		cov->snap_skipped++;
		return;
	}
	cov->snap_checked++;
	for (int i = 0; i < NR_RSS; i++) {
		struct finding *f;

		if (!j->m->rss_known[i] || status[i] < 0 || status[i] == j->m->rss[i])
			continue;
		f = rss_finding(j->c, j->m, j->s->tid, j->s->ts, j->op);
		if (!f)
			continue;
		f->snapshot = j->s->seq;
		snap_evidence(j, f);
		finding_evidence(f, "last kmem:rss_stat %s = %lld pages, /proc/PID/status says %lld",
				 mmr_rss_name(i), (long long)j->m->rss[i], (long long)status[i]);
	}
}

void verdicts_snapshot(struct checker *c, struct mm_state *m, struct snap *s,
		       const struct syscall_rec *trig)
{
	struct judge j = { .c = c, .m = m, .s = s, .p = m->last, .trig = trig };

	if (m->helper)
		return;
	j.held = (s->flags & MMR_SNAPF_HELD) && (s->flags & MMR_SNAPF_DRAINED);
	if (trig)
		describe_syscall(trig, j.op, sizeof(j.op));
	else
		snprintf(j.op, sizeof(j.op), "syscall %u", s->reason);
	check_lost(&j);
	check_stranded(&j);
	check_skipped_swap(&j);
	check_dropped_cow(&j);
	check_rss(&j);
}

/* ---- the reclaim pass --------------------------------------------------- */

void verdicts_unresolved(struct checker *c, struct mm_state *m)
{
	c->cov[V_LOST_MLOCK].reclaim_none += m->nr_wh;
	m->nr_wh = 0;
}

static void reclaim_lost(struct judge *j, const struct withheld *w, const struct snap_vma *v,
			 const struct mmr_snap_page *pg, const char *what)
{
	struct finding *f = page_finding(j, V_LOST_MLOCK, w->addr, pg ? pfn_of(pg) : ~0ULL);

	j->c->cov[V_LOST_MLOCK].reclaim_lost++;
	j->c->cov[V_LOST_MLOCK].pages_judged++;
	finding_evidence(f, "snapshot #%u withheld it (%s); then a reclaim of the process's "
			 "cgroup (%u ms) %s, where reclaim's rmap walk must mlock it "
			 "(folio_referenced_one, try_to_unmap_one)", j->p->seq,
			 defer_rule_text(w->rule), j->s->reclaim_us / 1000, what);
	if (pg)
		page_evidence(f, "after the reclaim pass", pg, v);
	page_evidence(f, "before it", page_at(j->p, w->addr), vma_at(j->p, w->addr));
}

/*
 * Reclaim must have scanned @pg: an anonymous page mapped once, by the
 * process whose group was reclaimed, with swap on.  (A page mapped by
 * others, or a file page, may be charged to another group.)
 */
static int surely_scanned(const struct judge *j, const struct mmr_snap_page *pg)
{
	return !j->c->reclaim_no_swap && (pg->kflags & MMR_PF_ANON) && pg->mapcount == 1;
}

/*
 * A page withheld as a documented transient of the kernel's mlock_count
 * must be mlocked again once reclaim has scanned it in its VM_LOCKED VMA
 * (Documentation/mm/unevictable-lru.rst); evicted, or still not mlocked
 * where reclaim must have scanned it, it was lost.  (Measured on 6.1 in
 * QEMU: a pass re-mlocked all 64 pages the no-mlock-new-page fixture had
 * left unmlocked.)  Still not mlocked where reclaim may not have reached
 * it (charged to another group, or no swap on): not judged.
 */
void verdicts_reclaim(struct checker *c, struct mm_state *m, struct snap *s)
{
	struct judge j = { .c = c, .m = m, .s = s, .p = m->last };
	struct coverage *cov = &c->cov[V_LOST_MLOCK];
	int held = (s->flags & MMR_SNAPF_HELD) && (s->flags & MMR_SNAPF_DRAINED);

	if (!j.p) {
		m->nr_wh = 0;
		return;
	}
	snprintf(j.op, sizeof(j.op), "the reclaim pass after snapshot #%u", j.p->seq);
	j.held = held;
	for (size_t i = 0; i < m->nr_wh; i++) {
		const struct withheld *w = &m->wh[i];
		const struct snap_vma *v = vma_at(s, w->addr);
		const struct mmr_snap_page *pg = page_at(s, w->addr);

		if (!held || !locked(v) || (pg && (pg->kflags & MMR_PF_MOVED)))
			cov->reclaim_unreached++;
		else if (pg && present(pg) && (pg->kflags & MMR_PF_MLOCKED))
			cov->reclaim_remlocked++;
		else if (!pg || swapped(pg))
			reclaim_lost(&j, w, v, pg, "evicted it from its VM_LOCKED VMA");
		else if (present(pg) && surely_scanned(&j, pg))
			reclaim_lost(&j, w, v, pg, "left it unmlocked in its VM_LOCKED VMA");
		else
			cov->reclaim_unreached++;
	}
	m->nr_wh = 0;
}

/* ---- coverage notes ------------------------------------------------- */

/* Why rss findings are withheld when the recorder could not attribute some changes. */
static const char *unattributed_note(struct checker *c)
{
	static char note[160];

	if (!c->rss_unattributed)
		return "";
	snprintf(note, sizeof(note), "; %llu remote changes had kmem:rss_stat mm_id 0 (the kernel "
		 "could not hash pointers yet) and fit any mm, so its %llu findings are withheld",
		 (unsigned long long)c->rss_unattributed, (unsigned long long)c->rss_withheld);
	return note;
}

/* Why no reclaim pass followed some withheld pages: the recorder's word, or its option. */
static void reclaim_note(struct checker *c)
{
	struct coverage *cov = &c->cov[V_LOST_MLOCK];
	const char *stats = mmr_trace_stats(c->t);
	char why[256] = "", buf[32];

	if (!mmr_kv_get(stats, "reclaim_passes", buf, sizeof(buf)))
		snprintf(why, sizeof(why), "recorded without --reclaim-pass");
	else if (!mmr_kv_get(stats, "reclaim_pass_why", why, sizeof(why)))
		snprintf(why, sizeof(why), "%s", mmr_trace_stat(c->t, "reclaim_pass_no_swap") ?
			 "no swap was on" : "none could run");
	snprintf(cov->reclaim_note, sizeof(cov->reclaim_note),
		 "a reclaim pass after their snapshot: %llu mlocked again, %llu evicted or left "
		 "unmlocked (findings), %llu still not mlocked where it may not have reached "
		 "them; %llu with no pass (%s)",
		 (unsigned long long)cov->reclaim_remlocked,
		 (unsigned long long)cov->reclaim_lost,
		 (unsigned long long)cov->reclaim_unreached, (unsigned long long)cov->reclaim_none,
		 cov->reclaim_none ? why : "-");
}

void verdicts_coverage(struct checker *c)
{
	const struct mmr_kind_info *rss = mmr_trace_kind(c->t, MMR_K_RSS_STAT);
	int have_snap = mmr_trace_kind_ok(c->t, MMR_K_SNAP);

	for (int v = 0; v < V_NR; v++) {
		struct coverage *cov = &c->cov[v];

		cov->by_snapshots = have_snap;
		if (!have_snap)
			snprintf(cov->snap_note, sizeof(cov->snap_note),
				 "no snapshots in this trace (record --snapshot)");
		else if (!cov->snap_checked && !cov->snap_skipped)
			snprintf(cov->snap_note, sizeof(cov->snap_note), "no snapshot called for it");
	}
	if (have_snap)
		snprintf(c->cov[V_LOST_MLOCK].snap_note, sizeof(c->cov[0].snap_note),
			 "%llu pages exempt (zero page, no struct page, PTE-mapped large folio; "
			 "%llu of them large, where pagemap could not tell PMD-mapped ones: "
			 "PAGEMAP_SCAN, 6.7+); %llu pages not judged: still moving while a "
			 "snapshot read them", (unsigned long long)c->exempt_pages,
			 (unsigned long long)c->exempt_untold, (unsigned long long)c->moved_locked);
	if (have_snap)
		snprintf(c->cov[V_STRANDED_MLOCK].snap_note, sizeof(c->cov[0].snap_note),
			 "%llu shared mlocked pages judged across traced mms, %llu not (an untraced "
			 "or changed mapper, or large); %llu pages not judged: still moving while "
			 "a snapshot read them; system-wide Mlocked %+lld pages, unevictable_pgs_stranded %+lld (%s; other "
			 "processes move them too: not a finding)",
			 (unsigned long long)c->stranded_shared, (unsigned long long)c->stranded_unjudged,
			 (unsigned long long)c->moved_other, (long long)c->mlocked_delta, (long long)c->stranded_delta,
			 !c->have_final ? "not recorded" : c->all_exited ? "after every traced "
			 "process exited" : "traced processes still alive");
	reclaim_note(c);
	snprintf(c->cov[V_LOST_MLOCK].event_note, sizeof(c->cov[0].event_note),
		 "not checked from events: the per-PFN mlock ledger needs snapshots");
	snprintf(c->cov[V_STRANDED_MLOCK].event_note, sizeof(c->cov[0].event_note),
		 "not checked from events: the per-PFN mlock ledger needs snapshots");
	snprintf(c->cov[V_SKIPPED_SWAP].event_note, sizeof(c->cov[0].event_note),
		 "from events: MM_SWAPENTS must reach 0 at exit (reported as rss-counter-mismatch)");
	snprintf(c->cov[V_DROPPED_COW_SWAP].event_note, sizeof(c->cov[0].event_note),
		 "not checked from events: needs a snapshot before and after the punch");
	c->cov[V_RSS_MISMATCH].by_events = mmr_trace_kind_ok(c->t, MMR_K_RSS_STAT);
	if (!c->cov[V_RSS_MISMATCH].by_events)
		snprintf(c->cov[V_RSS_MISMATCH].event_note, sizeof(c->cov[0].event_note),
			 "kmem:rss_stat not recorded: %s", rss && rss->status ? rss->status : "absent");
	else
		snprintf(c->cov[V_RSS_MISMATCH].event_note, sizeof(c->cov[0].event_note),
			 "kmem:rss_stat counters at exit_mmap%s%s%s%s",
			 status_inexact(c) ? "; not against snapshots: " : ", and every counter against "
			 "/proc/PID/status at each held snapshot", status_inexact(c) ? status_inexact(c) : "",
			 c->drops ? "; events were dropped or overwritten, so its findings are withheld" :
			 "", unattributed_note(c));
}
