// SPDX-License-Identifier: GPL-2.0
/*
 * Verdicts from events alone, for kernels where the internal hooks attach
 * (fentry or kprobes; the 6.18 host here has neither, a 6.1 guest has both).
 *
 * Swap ledger, per (mm, page address): a swap entry is added when
 * try_to_unmap_one on that address is followed, in the same thread, by
 * MM_SWAPENTS of that mm rising; it is removed by do_swap_page at that
 * address, by a zap over it, by mremap or MADV_FREE over it, and the whole
 * mm's ledger goes at exit_mmap or when MM_SWAPENTS falls below its size
 * (swapoff, or anything else the ledger did not see).  It only ever holds
 * entries that really were installed, so a verdict drawn from it is sound.
 *   - skipped-swap-entry: a zap that must free swap entries (no
 *     zap_details, or even_cows) freed fewer of them (free_swap_and_cache
 *     calls between unmap_page_range's entry and return) than the ledger
 *     held in its range.
 *   - dropped-cow-swap-entry: a zap that must keep them (zap_details
 *     without even_cows: truncate's first pass, hole punch, MADV_REMOVE)
 *     freed any.  On a file mapping a genuine swap entry is a private COW
 *     page, and nothing else calls free_swap_and_cache inside the zap.
 *
 * Mlock ledger, per PFN (head page of a folio): insertions into an
 * evictable LRU, mlock_folio/mlock_new_folio, munlock_folio, migration.
 *   - lost-mlock: munlock_folio (the kernel calls it only for pages of a
 *     VM_LOCKED vma, at munlock or unmap) on a page that entered an
 *     evictable LRU before the munlocking call began and had no mlock event
 *     in the whole trace.  Pages inserted during the call are left alone:
 *     a fault racing with munlock maps them after VM_LOCKED is cleared.
 *   - lost-mlock, at the fault: a traced task's new anonymous folio in a
 *     VM_LOCKED vma (new_anon_rmap, recorded only for those) whose next
 *     event of that task is not mlock_new_folio of it.  6.1
 *     lru_cache_add_inactive_or_unevictable() and 6.18 folio_add_lru_vma()
 *     call it right after page_add_new_anon_rmap()/folio_add_new_anon_rmap()
 *     for such a vma; 6.18's do_swap_page() maps a folio it read without
 *     the swap cache (already on an LRU) without it: a new folio at the
 *     address of the task's swap fault is not judged.
 *   - stranded-mlock: a munlock/munlockall that covered the whole range of
 *     an earlier mlock call of the same mm returned without munlock_folio
 *     on a page that call mlocked, the page still mapped there (no munlock
 *     or migration of it since).
 *   - stranded-mlock, by an rmap walk: a task's folio_referenced_one or
 *     try_to_unmap_one of a page in a private vma, then its mlock_folio of
 *     that page after a munlock/munlockall of that mm munlocked it in
 *     between, and no mlock-family call of that mm locks the address
 *     again.  Both walks test VM_LOCKED under the page table lock, which
 *     munlock's walk takes to munlock the page after clearing VM_LOCKED:
 *     a walk that mlocks after that munlock read the flag too early
 *     (Shakeel Butt's race; tests/kernels/patches/rmap-vs-munlock.patch).
 * A PFN's entry ends when its page is freed (kmem:mm_page_free, recorded
 * for the PFNs the BPF side saw here): the PFN is another page next time,
 * judged on its own events, and an mlock call's record of it is stale.
 * Without that kind in the trace an entry lasts the whole trace.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check_int.h"

#define LRU_UNEVICTABLE 4	/* enum lru_list, the same on 6.1 and 6.18 */
#define VM_SHARED 0x8
#define VM_MAYSHARE 0x80
#define NR_TIDS 1024

struct swap_ent {
	__u64 addr, ts;
};

struct lock_ent {	/* a page an mlock call of this mm mlocked */
	__u64 pfn, start, end, ts;
};

struct mm_ledger {
	struct swap_ent *swap;	/* sorted by addr */
	size_t nr_swap, cap_swap;
	struct lock_ent *locks;
	size_t nr_locks, cap_locks;
};

struct tid_state {
	int tid;
	struct mm_state *new_mm;	/* new_anon_rmap awaiting its mlock_new_folio */
	__u64 new_pfn, new_addr, new_ts;
	__u64 swapin_page;		/* the page of its last swap fault, +1; 0 none */
	struct mm_state *ttu_mm;	/* try_to_unmap_one awaiting MM_SWAPENTS */
	__u64 ttu_addr, ttu_end;
	struct mm_state *zap_mm;	/* unmap_page_range in progress */
	__u64 zap_start, zap_end, zap_ts, zap_freed;
	struct mm_state *walk_mm;	/* its last folio_referenced_one/try_to_unmap_one */
	__u64 walk_pfn, walk_addr, walk_ts;
	size_t zap_expected;
	int zap_must_free, zap_details, zap_even_cows;
};

struct pfn_state {
	__u64 pfn;		/* ~0: free slot */
	__u64 insert_ts;	/* last insertion into an evictable LRU, 0 none */
	__u64 munlock_ts, migrate_ts, ttu_ts;
	__u32 migrate_tid;	/* the task of the last try_to_migrate_one() of it */
	__u32 ttu_tid;		/* and of its last try_to_unmap_one() (reclaim) */
	__u64 migrated_in_ts;	/* mapped back in by remove_migration_pte() */
	__u64 born_ts;		/* freed at (mm_page_free): the state above is since */
	__u64 unlock_ts, unlock_mm;	/* its last munlock_folio by a munlock call, of that mm */
	int ever_locked;
};

struct ledger {
	struct tid_state tids[NR_TIDS];
	struct pfn_state *pfns;
	size_t nr_pfns, cap_pfns;
	int have_lru;		/* mm_lru_insertion's pfn and lru are in the trace */
	int have_mpte;		/* remove_migration_pte's pte is */
	int follow_mpte;	/* ... and no event was dropped: every mapping back is seen */
	int have_free;		/* mm_page_free was recorded: entries end at a free */
	int have_new;		/* mlock_new_folio was recorded: new_anon_rmap is judged */
};

/* ---- swap ledger ---------------------------------------------------- */

static struct mm_ledger *mm_ledger(struct mm_state *m)
{
	if (!m->lg)
		m->lg = calloc(1, sizeof(*m->lg));
	return m->lg;
}

/* index of the first entry with addr >= a */
static size_t swap_lower(const struct mm_ledger *l, __u64 a)
{
	return mmr_lower(l->swap, l->nr_swap, sizeof(*l->swap), a);
}

static void swap_add(struct mm_ledger *l, __u64 addr, __u64 ts)
{
	size_t i = swap_lower(l, addr);
	struct swap_ent *n;

	if (i < l->nr_swap && l->swap[i].addr == addr) {
		l->swap[i].ts = ts;
		return;
	}
	n = mmr_grow(l->swap, &l->cap_swap, l->nr_swap + 1, sizeof(*n), 64);
	if (!n)
		return;
	l->swap = n;
	memmove(l->swap + i + 1, l->swap + i, (l->nr_swap - i) * sizeof(*l->swap));
	l->swap[i].addr = addr;
	l->swap[i].ts = ts;
	l->nr_swap++;
}

static void swap_remove(struct mm_ledger *l, __u64 start, __u64 end)
{
	size_t a, b;

	if (!l || !l->nr_swap)	/* l->swap may be NULL: no arithmetic on it */
		return;
	a = swap_lower(l, start);
	b = swap_lower(l, end);
	if (b < l->nr_swap)	/* l->swap may still be NULL: no memmove(NULL, ...) */
		memmove(l->swap + a, l->swap + b, (l->nr_swap - b) * sizeof(*l->swap));
	l->nr_swap -= b - a;
}

static size_t swaps_in(const struct mm_ledger *l, __u64 start, __u64 end)
{
	return l ? swap_lower(l, end) - swap_lower(l, start) : 0;
}

/* ---- per-thread state ----------------------------------------------- */

static struct tid_state *tid_get(struct ledger *lg, int tid, int create)
{
	struct tid_state *t = &lg->tids[(unsigned)tid * 2654435761u % NR_TIDS];

	if (t->tid == tid)
		return t;
	if (!create)
		return NULL;
	memset(t, 0, sizeof(*t));	/* a colliding thread's state is dropped */
	t->tid = tid;
	return t;
}

/* ---- PFN table (open addressing) ------------------------------------ */

static size_t pfn_home(__u64 pfn, size_t cap)
{
	return (size_t)(pfn * 0x9E3779B97F4A7C15ULL >> 20) & (cap - 1);
}

static int pfn_grow(struct ledger *lg)
{
	size_t cap = lg->cap_pfns ? lg->cap_pfns * 2 : 4096;
	struct pfn_state *n = malloc(cap * sizeof(*n)), *old = lg->pfns;

	if (!n)
		return -1;
	for (size_t i = 0; i < cap; i++)
		n[i].pfn = ~0ULL;
	for (size_t i = 0; i < lg->cap_pfns; i++) {
		size_t j;

		if (old[i].pfn == ~0ULL)
			continue;
		for (j = pfn_home(old[i].pfn, cap); n[j].pfn != ~0ULL; j = (j + 1) & (cap - 1))
			;
		n[j] = old[i];
	}
	free(old);
	lg->pfns = n;
	lg->cap_pfns = cap;
	return 0;
}

static struct pfn_state *pfn_get(struct ledger *lg, __u64 pfn, int create)
{
	size_t j;

	if (pfn == ~0ULL)
		return NULL;
	if (create && (lg->nr_pfns + 1) * 2 > lg->cap_pfns && pfn_grow(lg))
		return NULL;
	if (!lg->cap_pfns)
		return NULL;
	for (j = pfn_home(pfn, lg->cap_pfns); lg->pfns[j].pfn != ~0ULL;
	     j = (j + 1) & (lg->cap_pfns - 1))
		if (lg->pfns[j].pfn == pfn)
			return &lg->pfns[j];
	if (!create)
		return NULL;
	memset(&lg->pfns[j], 0, sizeof(lg->pfns[j]));
	lg->pfns[j].pfn = pfn;
	lg->nr_pfns++;
	return &lg->pfns[j];
}

/* ---- setup ---------------------------------------------------------- */

struct ledger *ledger_new(const struct mmr_trace *t)
{
	struct ledger *lg = calloc(1, sizeof(*lg));
	const struct mmr_schema *s = mmr_trace_schema(t);

	if (!lg)
		return NULL;
	lg->have_lru = mmr_schema_has(s, MMR_K_LRU_INSERTION, F_PFN) &&
		       mmr_schema_has(s, MMR_K_LRU_INSERTION, F_LRU);
	lg->have_mpte = mmr_schema_has(s, MMR_K_REMOVE_MIGRATION_PTE, F_PTE);
	lg->follow_mpte = lg->have_mpte && !mmr_trace_stat(t, "drops") &&
			  !mmr_trace_stat(t, "overwritten");
	lg->have_free = mmr_schema_has(s, MMR_K_PAGE_FREE, F_PFN) &&
			mmr_schema_has(s, MMR_K_PAGE_FREE, F_ORDER);
	lg->have_new = mmr_trace_kind_ok(t, MMR_K_MLOCK_NEW_FOLIO);
	return lg;
}

void ledger_free(struct ledger *lg)
{
	if (lg)
		free(lg->pfns);
	free(lg);
}

void ledger_mm_free(struct mm_ledger *l)
{
	if (!l)
		return;
	free(l->swap);
	free(l->locks);
	free(l);
}

/* ---- findings ------------------------------------------------------- */

static void ledger_op(struct checker *c, struct mm_state *m, int tid, char *op, size_t len)
{
	describe_syscall(checker_sys(c, tid), op, len);
	if (!strcmp(op, "-"))
		snprintf(op, len, "%s", m && m->exited ? "exit_mmap" : "kernel-internal");
}

/* A finding of @nr pages from the ledgers (a count: not grouped). */
static struct finding *ledger_finding(struct checker *c, enum verdict v, struct mm_state *m,
				      int tid, __u64 ts, __u64 addr, __u64 nr)
{
	char op[128];

	ledger_op(c, m, tid, op, sizeof(op));
	return event_finding(c, v, m, tid, ts, addr, nr, op);
}

/*
 * Page @pfn found from the ledgers: the pages one operation (the syscall
 * @tid is in, or exit_mmap) leaves wrong are one finding; NULL for all
 * but the first.  A kernel-internal one is its own operation.
 */
static struct finding *ledger_page(struct checker *c, enum verdict v, struct mm_state *m,
				   int tid, __u64 ts, __u64 pfn)
{
	const struct syscall_rec *r = checker_sys(c, tid);
	struct finding_at at = { .kind = v, .pid = m ? m->tgid : 0, .tid = tid, .mm = m ? m->mm : 0,
				 .ts = ts, .from_ledger = 1 };
	__u64 ns = c->found.not_stored, nps = c->found.pages_not_stored;
	char op[128];
	struct finding *f;

	ledger_op(c, m, tid, op, sizeof(op));
	at.op = op;
	at.op_ts = r ? r->ts : m && m->exited ? m->exit_ts : ts;
	f = findings_page(&c->found, &at, 0, pfn);
	c->ledger_not_stored += c->found.not_stored - ns;
	c->ledger_pages_not_stored += c->found.pages_not_stored - nps;
	return f;
}

static void zap_judge(struct checker *c, struct tid_state *t, __u64 ts)
{
	struct mm_state *m = t->zap_mm;
	struct mm_ledger *l = m->lg;
	struct finding *f;
	char a[32], b[32];

	if (t->zap_must_free) {
		c->zaps_checked++;
		c->zaps_over_swap += t->zap_expected > 0;
		if (t->zap_freed < t->zap_expected) {
			size_t i = swap_lower(l, t->zap_start);

			f = ledger_finding(c, V_SKIPPED_SWAP, m, t->tid, ts, l->swap[i].addr,
					   t->zap_expected - t->zap_freed);
			finding_evidence(f, "unmap_page_range(0x%llx-0x%llx, details=%d even_cows=%d) "
					 "from %s to %s freed %llu swap entries",
					 (unsigned long long)t->zap_start, (unsigned long long)t->zap_end,
					 t->zap_details, t->zap_even_cows,
					 ts_str(t->zap_ts, a, sizeof(a)), ts_str(ts, b, sizeof(b)),
					 (unsigned long long)t->zap_freed);
			finding_evidence(f, "the swap ledger held %zu there: try_to_unmap_one swapped "
					 "out 0x%llx at %s%s", t->zap_expected,
					 (unsigned long long)l->swap[i].addr,
					 ts_str(l->swap[i].ts, a, sizeof(a)),
					 t->zap_expected > 1 ? ", and more" : "");
		}
	} else {
		c->keep_zaps_checked++;
		if (t->zap_freed) {
			size_t i = swap_lower(l, t->zap_start);
			int known = i < l->nr_swap && l->swap[i].addr < t->zap_end;

			f = ledger_finding(c, V_DROPPED_COW_SWAP, m, t->tid, ts,
					   known ? l->swap[i].addr : t->zap_start, t->zap_freed);
			finding_evidence(f, "unmap_page_range(0x%llx-0x%llx) with zap_details and "
					 "even_cows=0 must keep private COW pages, yet freed %llu swap "
					 "entries (free_swap_and_cache) from %s to %s",
					 (unsigned long long)t->zap_start, (unsigned long long)t->zap_end,
					 (unsigned long long)t->zap_freed,
					 ts_str(t->zap_ts, a, sizeof(a)), ts_str(ts, b, sizeof(b)));
			if (known)
				finding_evidence(f, "the swap ledger held %zu COW pages swapped out "
						 "there, the first at 0x%llx (try_to_unmap_one at %s)",
						 t->zap_expected, (unsigned long long)l->swap[i].addr,
						 ts_str(l->swap[i].ts, a, sizeof(a)));
		}
	}
	/* what is left there is unknown now: forget it rather than guess */
	if (t->zap_must_free || t->zap_freed)
		swap_remove(l, t->zap_start, t->zap_end);
	t->zap_mm = NULL;
}

/* ---- events --------------------------------------------------------- */

/* A reclaim rmap walk over a page of a private vma of traced mm @m: its mlock comes next. */
static void on_walk(struct ledger *lg, struct mm_state *m, const struct mmr_event *ev)
{
	const struct mmr_rmap *r = ev->data;
	struct tid_state *t = tid_get(lg, r->c.pid, 1);

	if (!t)
		return;
	t->walk_mm = r->vm_flags & (VM_SHARED | VM_MAYSHARE) ? NULL : m;
	t->walk_pfn = r->pfn;
	t->walk_addr = r->address & ~0xfffULL;
	t->walk_ts = ev->h.ts;
}

static void on_ttu(struct ledger *lg, struct mm_state *m, const struct mmr_event *ev)
{
	const struct mmr_rmap *r = ev->data;
	struct tid_state *t = tid_get(lg, r->c.pid, 1);
	struct pfn_state *p = pfn_get(lg, r->pfn, 0);

	if (p) {
		p->ttu_ts = ev->h.ts;
		p->ttu_tid = r->c.pid;
	}

	t->ttu_mm = m;
	t->ttu_addr = r->address & ~0xfffULL;
	t->ttu_end = r->vm_end;
}

static void on_zap(struct ledger *lg, struct mm_state *m, const struct mmr_event *ev)
{
	const struct mmr_zap *z = ev->data;
	struct tid_state *t = tid_get(lg, z->c.pid, 1);

	t->zap_mm = m;
	t->zap_start = z->start;
	t->zap_end = z->end;
	t->zap_ts = ev->h.ts;
	t->zap_freed = 0;
	t->zap_details = z->has_details;
	t->zap_even_cows = z->even_cows;
	/* should_zap_cows(): no details, or details->even_cows */
	t->zap_must_free = !z->has_details || z->even_cows;
	t->zap_expected = swaps_in(mm_ledger(m), z->start, z->end);
}

static void on_free_swap(struct ledger *lg, const struct mmr_event *ev)
{
	const struct mmr_free_swap *s = ev->data;
	struct tid_state *t = tid_get(lg, s->c.pid, 0);

	if (t && t->zap_mm)
		t->zap_freed += s->nr ? s->nr : 1;
}

static void on_swap_fault(struct mm_state *m, const struct mmr_event *ev)
{
	const struct mmr_swap_fault *s = ev->data;
	__u64 a = s->address & ~0xfffULL;

	swap_remove(m->lg, a, a + 1);
}

static void new_rmap_judge(struct checker *c, struct tid_state *t, const struct mmr_event *ev);

/* A new folio in a VM_LOCKED vma: its mlock_new_folio must be the task's next event. */
static void on_new_rmap(struct checker *c, struct mm_state *m, const struct mmr_event *ev)
{
	const struct mmr_rmap *r = ev->data;
	struct tid_state *t = tid_get(c->lg, r->c.pid, 1);

	if (!t || !m || !c->lg->have_new)	/* without mlock_new_folio: nothing to judge */
		return;
	if (t->new_mm)		/* the previous one's next event is this one */
		new_rmap_judge(c, t, ev);
	if (t->swapin_page == (r->address >> 12) + 1) {
		c->new_locked_swapin++;	/* 6.18 do_swap_page, SWP_SYNCHRONOUS_IO */
		t->swapin_page = 0;
		return;
	}
	c->new_locked_checked++;
	t->new_mm = m;
	t->new_pfn = r->pfn;
	t->new_addr = r->address;
	t->new_ts = ev->h.ts;
}

static const char *kind_of(const struct checker *c, int type)
{
	const struct mmr_kind_info *k = mmr_trace_kind(c->t, type);

	return k && k->name ? k->name : "another event";
}

/* The task's event after its new_anon_rmap: mlock_new_folio of that folio, or a finding. */
static void new_rmap_judge(struct checker *c, struct tid_state *t, const struct mmr_event *ev)
{
	const struct mmr_common *cm = ev->data;
	const struct mmr_mlock *ml = ev->data;
	struct finding *f;
	char a[32];

	if (cm->type == MMR_K_MLOCK_NEW_FOLIO && ev->h.len >= sizeof(*ml) && ml->pfn == t->new_pfn) {
		t->new_mm = NULL;
		return;
	}
	f = ledger_page(c, V_LOST_MLOCK, t->new_mm, t->tid, t->new_ts, t->new_pfn);
	finding_evidence(f, "new anonymous page at 0x%llx of a VM_LOCKED vma mapped at %s; its "
			 "task's next event was %s, not mlock_new_folio of it", (unsigned long long)
			 t->new_addr, ts_str(t->new_ts, a, sizeof(a)), kind_of(c, cm->type));
	finding_evidence(f, "the kernel calls mlock_new_folio next for such a page (6.1 "
			 "lru_cache_add_inactive_or_unevictable, 6.18 folio_add_lru_vma)");
	t->new_mm = NULL;
}

static void on_lru(struct ledger *lg, const struct mmr_event *ev)
{
	struct pfn_state *p;

	if (!lg->have_lru || mmr_ev_u64(ev, F_LRU) == LRU_UNEVICTABLE)
		return;
	p = pfn_get(lg, mmr_ev_u64(ev, F_PFN), 1);
	if (p)
		p->insert_ts = ev->h.ts;
}

/* Does an mlock-family call of @m, completed or in flight, lock @addr? */
static int locks_addr(struct checker *c, const struct mm_state *m, __u64 addr)
{
	for (size_t i = 0; i < m->nr_calls; i++)
		if (m->calls[i].start <= addr && addr < m->calls[i].end)
			return 1;
	return m->calls_lost || mm_locking(c, m);
}

/*
 * mlock_folio of @p by task @t whose last rmap walk was over @p in a
 * private vma: stranded if a munlock call of that mm munlocked @p after
 * the walk began and nothing locks the address again.
 */
static void walk_mlock(struct checker *c, const struct tid_state *t, const struct pfn_state *p,
		       const struct mmr_event *ev)
{
	struct finding *f;
	char a[32], b[32];

	if (!t || !t->walk_mm || t->walk_pfn != p->pfn)
		return;
	c->walk_mlocks_checked++;
	if (p->unlock_ts <= t->walk_ts || p->unlock_mm != t->walk_mm->mm ||
	    locks_addr(c, t->walk_mm, t->walk_addr))
		return;
	f = ledger_page(c, V_STRANDED_MLOCK, t->walk_mm, t->tid, ev->h.ts, p->pfn);
	finding_evidence(f, "mlock_folio at %s by an rmap walk over 0x%llx that began at %s",
			 ts_str(ev->h.ts, a, sizeof(a)), (unsigned long long)t->walk_addr,
			 ts_str(t->walk_ts, b, sizeof(b)));
	finding_evidence(f, "a munlock of that mm munlocked the page at %s, in between, and no "
			 "mlock call locks it again: the walk read VM_LOCKED outside the page "
			 "table lock", ts_str(p->unlock_ts, a, sizeof(a)));
}

/* mlock_folio or mlock_new_folio by @tid: note it against its mlock call */
static void on_mlock(struct checker *c, struct mm_state *m, const struct mmr_event *ev)
{
	const struct mmr_mlock *e = ev->data;
	struct pfn_state *p = pfn_get(c->lg, e->pfn, 1);
	const struct syscall_rec *r = checker_sys(c, e->c.pid);
	struct mm_ledger *l;
	struct lock_ent *le;

	if (!p)
		return;
	p->ever_locked = 1;
	walk_mlock(c, tid_get(c->lg, e->c.pid, 0), p, ev);
	if (!e->nr_pages || !m || !r || r->done || (r->nr != NR_MLOCK && r->nr != NR_MLOCK2) ||
	    !(l = mm_ledger(m)))
		return;		/* large folio, or not inside an mlock(range) call */
	if (!(le = mmr_grow(l->locks, &l->cap_locks, l->nr_locks + 1, sizeof(*le), 64)))
		return;
	l->locks = le;
	le = &l->locks[l->nr_locks++];
	le->pfn = e->pfn;
	le->start = r->args[0] & ~0xfffULL;
	le->end = r->args[0] + r->args[1];
	le->ts = ev->h.ts;
}

/*
 * An rmap walk that unmapped @p at @ts in task @by is the one munlocking
 * it in task @tid: since that task's syscall began or, in a syscall the
 * recording does not see (a write to compact_memory or memory.reclaim,
 * kcompactd, kswapd), since the page's last munlock.
 */
static int unmapped_by(const struct pfn_state *p, __u64 ts, __u32 by, __u32 tid, __u64 since)
{
	return ts && (ts >= since || (by == tid && ts > p->munlock_ts));
}

/*
 * This munlock is the unmapping rmap walk's of @p: try_to_migrate_one()
 * (migration, compaction) or try_to_unmap_one() (reclaim).  Both test
 * VM_LOCKED under the page table lock before they unmap, but
 * page_remove_rmap() tests it again after (6.1 mm/rmap.c: munlock_vma_page),
 * without mmap_lock, so an mlock() that sets it in between makes the walk
 * munlock a page it never mlocked.  Seen in 6.1 guests under explore:
 * with compaction, try_to_migrate_one of a vma without VM_LOCKED, mlock()
 * taking mmap_lock, then munlock_folio of that page by the compacting
 * task; with memory.reclaim, the same with try_to_unmap_one (the
 * perturber's task, 0.1 ms after the mlock() began).
 */
static int rmap_walk_munlock(const struct pfn_state *p, __u32 tid, __u64 since)
{
	return unmapped_by(p, p->migrate_ts, p->migrate_tid, tid, since) ||
	       unmapped_by(p, p->ttu_ts, p->ttu_tid, tid, since);
}

static void on_munlock(struct checker *c, struct mm_state *m, const struct mmr_event *ev)
{
	const struct mmr_mlock *e = ev->data;
	struct pfn_state *p = pfn_get(c->lg, e->pfn, 0);	/* unseen: nothing to judge */
	const struct syscall_rec *r = checker_sys(c, e->c.pid);
	__u64 since = r && !r->done ? r->ts : ev->h.ts;
	struct finding *f;
	char a[32];

	if (!p)
		return;
	if (m && r && !r->done && (r->nr == NR_MUNLOCK || r->nr == NR_MUNLOCKALL)) {
		p->unlock_ts = ev->h.ts;
		p->unlock_mm = m->mm;
	}
	c->munlocks_checked += p->insert_ts != 0;
	/*
	 * try_to_migrate_one() munlocks the old page in every VM_LOCKED vma it
	 * unmaps it from (page_remove_rmap), also one whose mlock() walk has
	 * not reached the page yet: that munlock proves nothing.  Nor does one
	 * of a page migration mapped back while an mlock() walk passed its
	 * migration entry: it is left unmlocked by design, for reclaim to find
	 * (unevictable-lru.rst, "Migrating MLOCKED Pages").
	 */
	if (rmap_walk_munlock(p, e->c.pid, since) || (p->migrated_in_ts && !p->ever_locked))
		c->munlocks_migrating++;
	else if (p->insert_ts && p->insert_ts < since && !p->ever_locked && e->nr_pages) {
		f = ledger_page(c, V_LOST_MLOCK, m, e->c.pid, ev->h.ts, e->pfn);
		finding_evidence(f, "munlock_folio at %s: the kernel munlocks only pages of a "
				 "VM_LOCKED vma", ts_str(ev->h.ts, a, sizeof(a)));
		finding_evidence(f, "this page entered an evictable LRU at %s and no mlock_folio "
				 "or mlock_new_folio was ever seen for it",
				 ts_str(p->insert_ts, a, sizeof(a)));
		p->ever_locked = 1;	/* once */
	}
	p->munlock_ts = ev->h.ts;
}

/* x86_64: the new page's pfn in the pte remove_migration_pte() installed */
#define PTE_PRESENT 0x1ULL
#define PTE_PFN_MASK 0x000ffffffffff000ULL

static void on_migrated_in(struct ledger *lg, const struct mmr_event *ev)
{
	__u64 pte = mmr_ev_u64(ev, F_PTE);
	struct pfn_state *p;

	if (!(pte & PTE_PRESENT))
		return;
	p = pfn_get(lg, (pte & PTE_PFN_MASK) >> 12, 1);
	if (p)
		p->migrated_in_ts = ev->h.ts;
}

#define FREE_ORDER_MAX 18	/* a 1 GiB folio */

/* A page freed: the entries of its PFNs end; it is another page next time. */
static void on_page_free(struct checker *c, const struct mmr_event *ev)
{
	__u64 pfn = mmr_ev_u64(ev, F_PFN), order = mmr_ev_u64(ev, F_ORDER);

	if (order > FREE_ORDER_MAX)
		return;
	c->pfn_frees++;
	for (__u64 i = 0; i < 1ULL << order; i++) {
		struct pfn_state *p = pfn_get(c->lg, pfn + i, 0);

		if (p)
			*p = (struct pfn_state){ .pfn = pfn + i, .born_ts = ev->h.ts };
	}
}

static void on_migrate(struct ledger *lg, const struct mmr_event *ev)
{
	const struct mmr_rmap *r = ev->data;
	struct pfn_state *p = pfn_get(lg, r->pfn, 0);

	if (p) {
		p->migrate_ts = ev->h.ts;
		p->migrate_tid = r->c.pid;
	}
}

void ledger_event(struct checker *c, struct mm_state *m, const struct mmr_event *ev)
{
	const struct mmr_common *cm = ev->data;
	struct ledger *lg = c->lg;
	struct tid_state *t;

	if (!lg)
		return;
	switch (cm->type) {
	case MMR_K_TRY_TO_UNMAP_ONE:
		if (m && ev->h.len >= sizeof(struct mmr_rmap)) {
			on_ttu(lg, m, ev);
			on_walk(lg, m, ev);
		}
		break;
	case MMR_K_FOLIO_REFERENCED_ONE:
		if (m && ev->h.len >= sizeof(struct mmr_rmap))
			on_walk(lg, m, ev);
		break;
	case MMR_K_UNMAP_PAGE_RANGE:
		if (m && ev->h.len >= sizeof(struct mmr_zap))
			on_zap(lg, m, ev);
		break;
	case MMR_K_ZAP_DONE:
		if ((t = tid_get(lg, cm->pid, 0)) && t->zap_mm)
			zap_judge(c, t, ev->h.ts);
		break;
	case MMR_K_FREE_SWAP_AND_CACHE:
		if (ev->h.len >= sizeof(struct mmr_free_swap))
			on_free_swap(lg, ev);
		break;
	case MMR_K_DO_SWAP_PAGE:
		if (m && ev->h.len >= sizeof(struct mmr_swap_fault))
			on_swap_fault(m, ev);
		if (ev->h.len >= sizeof(struct mmr_swap_fault) && (t = tid_get(lg, cm->pid, 1)))
			t->swapin_page = (((const struct mmr_swap_fault *)ev->data)->address >> 12) + 1;
		break;
	case MMR_K_NEW_ANON_RMAP:
		if (ev->h.len >= sizeof(struct mmr_rmap))
			on_new_rmap(c, m, ev);
		break;
	case MMR_K_LRU_INSERTION:
		on_lru(lg, ev);
		break;
	case MMR_K_MLOCK_FOLIO:
	case MMR_K_MLOCK_NEW_FOLIO:
		if (ev->h.len >= sizeof(struct mmr_mlock))
			on_mlock(c, m, ev);
		break;
	case MMR_K_MUNLOCK_FOLIO:
		if (ev->h.len >= sizeof(struct mmr_mlock))
			on_munlock(c, m, ev);
		break;
	case MMR_K_REMOVE_MIGRATION_PTE:
		if (lg->have_mpte)
			on_migrated_in(lg, ev);
		c->last_mapped_back_ts = ev->h.ts;
		break;
	case MMR_K_TRY_TO_MIGRATE_ONE:
		if (ev->h.len >= sizeof(struct mmr_rmap))
			on_migrate(lg, ev);
		c->last_migrate_ts = ev->h.ts;
		break;
	case MMR_K_PAGE_FREE:
		if (lg->have_free)
			on_page_free(c, ev);
		break;
	}
}

int ledger_follows_migration(const struct checker *c)
{
	return c->lg && c->lg->follow_mpte;
}

__u64 ledger_mapped_back_ts(const struct checker *c, __u64 pfn)
{
	struct pfn_state *p = c->lg ? pfn_get(c->lg, pfn, 0) : NULL;

	return p ? p->migrated_in_ts : 0;
}

/*
 * After any event but rss_stat: a thread's try_to_unmap_one is over once
 * it does else; its new_anon_rmap is judged by what it does next.
 */
void ledger_event_done(struct checker *c, const struct mmr_event *ev)
{
	const struct mmr_common *cm = ev->data;
	struct tid_state *t = c->lg ? tid_get(c->lg, cm->pid, 0) : NULL;

	if (!t)
		return;
	if (cm->type != MMR_K_TRY_TO_UNMAP_ONE)
		t->ttu_mm = NULL;
	if (t->new_mm && !(cm->type == MMR_K_NEW_ANON_RMAP && t->new_ts == ev->h.ts))
		new_rmap_judge(c, t, ev);
}

/* MM_SWAPENTS of @m went from @old to @val in thread @tid. */
void ledger_swapents(struct checker *c, struct mm_state *m, int tid, __s64 old, __s64 val)
{
	struct tid_state *t = c->lg ? tid_get(c->lg, tid, 0) : NULL;
	struct mm_ledger *l = mm_ledger(m);

	if (!l)
		return;
	/*
	 * Inside try_to_unmap_one MM_SWAPENTS only rises, one PTE at a time;
	 * the first event of an mm has no previous value: count it as one.
	 */
	if (t && t->ttu_mm == m && val > old) {
		for (__s64 i = 0; i < (old < 0 ? 1 : val - old) && t->ttu_addr < t->ttu_end; i++) {
			swap_add(l, t->ttu_addr, c->cur_ts);
			t->ttu_addr += c->page_size;
			c->swap_adds++;
		}
	}
	/* entries went without an event we saw (a zap in progress is seen) */
	if (val < (__s64)l->nr_swap && !(t && t->zap_mm == m)) {
		l->nr_swap = 0;
		c->swap_resets++;
	}
}

static void ledger_munlocked(struct checker *c, struct mm_state *m,
			     const struct syscall_rec *r, __u64 start, __u64 end);

/* mlock records of pages no longer mapped in [start, end) */
static void locks_forget(struct mm_ledger *l, __u64 start, __u64 end)
{
	size_t keep = 0;

	for (size_t i = 0; i < l->nr_locks; i++)
		if (l->locks[i].end <= start || l->locks[i].start >= end)
			l->locks[keep++] = l->locks[i];
	l->nr_locks = keep;
}

/* A completed mm syscall of @m. */
void ledger_syscall(struct checker *c, struct mm_state *m, const struct syscall_rec *r)
{
	struct mm_ledger *l = m->lg;
	__u64 start = r->args[0] & ~0xfffULL, end = r->args[0] + r->args[1];

	if (!l)
		return;
	switch (r->nr) {
	case NR_MREMAP:		/* moved PTEs: the old addresses are stale */
		swap_remove(l, start, end);
		locks_forget(l, start, end);
		break;
	case NR_MUNMAP:
		locks_forget(l, start, end);
		break;
	case NR_MADVISE:
		if (r->args[2] == MADV_FREE)
			swap_remove(l, start, end);
		break;
	case NR_MUNLOCK:
		ledger_munlocked(c, m, r, start, end);
		break;
	case NR_MUNLOCKALL:
		ledger_munlocked(c, m, r, 0, ~0ULL);
		break;
	}
}

/* After munlock of [start, end): every page an mlock inside it mlocked was munlocked. */
static void ledger_munlocked(struct checker *c, struct mm_state *m, const struct syscall_rec *r,
		      __u64 start, __u64 end)
{
	struct mm_ledger *l = m->lg;
	size_t keep = 0;
	char a[32];

	if (r->ret < 0)
		return;
	for (size_t i = 0; i < l->nr_locks; i++) {
		struct lock_ent *e = &l->locks[i];
		struct pfn_state *p = pfn_get(c->lg, e->pfn, 0);
		struct finding *f;

		if (e->start < start || e->end > end) {
			l->locks[keep++] = *e;
			continue;
		}
		c->locks_checked++;
		if (!p || p->munlock_ts > e->ts || p->migrate_ts > e->ts || p->insert_ts > e->ts ||
		    p->born_ts > e->ts)
			continue;
		f = ledger_page(c, V_STRANDED_MLOCK, m, r->tid, c->cur_ts, e->pfn);
		finding_evidence(f, "mlock_folio at %s, inside an mlock of 0x%llx-0x%llx by this mm",
				 ts_str(e->ts, a, sizeof(a)), (unsigned long long)e->start,
				 (unsigned long long)e->end);
		finding_evidence(f, "this munlock covered that range and returned at %s without "
				 "munlock_folio on the page (nor was it unmapped or migrated)",
				 ts_str(c->cur_ts, a, sizeof(a)));
	}
	l->nr_locks = keep;
}

void ledger_exit_mmap(struct mm_state *m)
{
	if (m->lg)
		m->lg->nr_swap = m->lg->nr_locks = 0;
}

/* ---- coverage ------------------------------------------------------- */

/* NULL if every kind in @kinds was recorded, else "NAME: why" of the first missing */
static const char *missing(const struct mmr_trace *t, const int *kinds, char *buf, size_t len)
{
	for (; *kinds; kinds++) {
		const struct mmr_kind_info *k = mmr_trace_kind(t, *kinds);

		if (!mmr_trace_kind_ok(t, *kinds)) {
			snprintf(buf, len, "%s: %s", k && k->name ? k->name : "?",
				 k && k->status ? k->status : "not in this trace");
			return buf;
		}
	}
	return NULL;
}

static void note(struct coverage *cov, const char *why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note(struct coverage *cov, const char *why, const char *fmt, ...)
{
	va_list ap;

	cov->by_events = !why;
	if (why) {
		snprintf(cov->event_note, sizeof(cov->event_note), "not checked from events (%s)",
			 why);
		cov->event_checked = 0;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(cov->event_note, sizeof(cov->event_note), fmt, ap);
	va_end(ap);
}

void ledger_coverage(struct checker *c)
{
	static const int swap[] = { MMR_K_TRY_TO_UNMAP_ONE, MMR_K_RSS_STAT, MMR_K_UNMAP_PAGE_RANGE,
				    MMR_K_ZAP_DONE, MMR_K_FREE_SWAP_AND_CACHE, MMR_K_DO_SWAP_PAGE,
				    0 };
	static const int keep[] = { MMR_K_UNMAP_PAGE_RANGE, MMR_K_ZAP_DONE,
				    MMR_K_FREE_SWAP_AND_CACHE, 0 };
	static const int lost[] = { MMR_K_LRU_INSERTION, MMR_K_MLOCK_FOLIO, MMR_K_MLOCK_NEW_FOLIO,
				    MMR_K_MUNLOCK_FOLIO, 0 };
	static const int strand[] = { MMR_K_MLOCK_FOLIO, MMR_K_MUNLOCK_FOLIO,
				      MMR_K_TRY_TO_MIGRATE_ONE, MMR_K_SYS_EXIT, 0 };
	static const int fresh[] = { MMR_K_NEW_ANON_RMAP, MMR_K_MLOCK_NEW_FOLIO, 0 };
	char b[5][160], drop[96] = "", life[96], born[224];

	if (c->drops)
		snprintf(drop, sizeof(drop), "; %llu events were dropped or overwritten, so its %llu findings are "
			 "withheld", (unsigned long long)c->drops,
			 (unsigned long long)c->ledger_withheld);
	c->cov[V_SKIPPED_SWAP].event_checked = c->zaps_checked;
	note(&c->cov[V_SKIPPED_SWAP], missing(c->t, swap, b[0], sizeof(b[0])),
	     "swap ledger: %llu zaps checked, %llu over swapped pages (%llu swap-outs learned, "
	     "%llu resets)%s", (unsigned long long)c->zaps_checked,
	     (unsigned long long)c->zaps_over_swap, (unsigned long long)c->swap_adds,
	     (unsigned long long)c->swap_resets, drop);
	c->cov[V_DROPPED_COW_SWAP].event_checked = c->keep_zaps_checked;
	note(&c->cov[V_DROPPED_COW_SWAP], missing(c->t, keep, b[1], sizeof(b[1])),
	     "%llu zaps that must keep COW pages (zap_details, even_cows=0) checked%s",
	     (unsigned long long)c->keep_zaps_checked, drop);
	if (c->lg && c->lg->have_free)
		snprintf(life, sizeof(life), "; a PFN is a new page after its free (%llu frees)",
			 (unsigned long long)c->pfn_frees);
	else
		snprintf(life, sizeof(life), "; no mm_page_free: a PFN keeps its past");
	if (!missing(c->t, fresh, b[4], sizeof(b[4])))
		snprintf(born, sizeof(born), "; %llu new pages of VM_LOCKED vmas checked for "
			 "mlock_new_folio (%llu more swapped in, not judged)",
			 (unsigned long long)c->new_locked_checked,
			 (unsigned long long)c->new_locked_swapin);
	else
		snprintf(born, sizeof(born), "; new pages of locked vmas not checked (%s)", b[4]);
	c->cov[V_LOST_MLOCK].event_checked = c->munlocks_checked + c->new_locked_checked;
	note(&c->cov[V_LOST_MLOCK], missing(c->t, lost, b[2], sizeof(b[2])),
	     "mlock ledger: %llu munlocked pages with a recorded LRU insertion checked, %llu "
	     "munlocked by migration or reclaim unmapping them not judged%s%s%s", (unsigned long long)c->munlocks_checked,
	     (unsigned long long)c->munlocks_migrating, born, life, drop);
	c->cov[V_STRANDED_MLOCK].event_checked = c->locks_checked + c->walk_mlocks_checked;
	note(&c->cov[V_STRANDED_MLOCK], missing(c->t, strand, b[3], sizeof(b[3])),
	     "mlock ledger: %llu pages of mlock calls checked at munlock, %llu mlocks by "
	     "reclaim's rmap walks against the page's munlock%s",
	     (unsigned long long)c->locks_checked, (unsigned long long)c->walk_mlocks_checked, drop);
}
