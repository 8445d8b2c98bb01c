// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the checker on synthetic traces written with the trace
 * library: every verdict, once where the kernel got it wrong (a finding)
 * and once where it got it right or the kernel's documented exception
 * applies (no finding).  Plus the CLI contract of `mmreplay check`.
 */
#include "test.h"
#include "testlib.h"
#include "check/check.h"
#include "check/findings.h"
#include "tracebuild.h"

#define MM 0xabcdef12ULL
#define PID 4242
#define LOCKED_RW (MMR_VMA_READ | MMR_VMA_WRITE | MMR_VMA_LOCKED | MMR_VMA_ANON)
#define RW_ANON (MMR_VMA_READ | MMR_VMA_WRITE | MMR_VMA_ANON)
#define RW_FILE (MMR_VMA_READ | MMR_VMA_WRITE)
#define A 0x7f0000000000ULL
#define PG 4096ULL

struct result {
	int nr[V_NR];
	__u64 first_addr[V_NR], first_pages[V_NR], first_pfn[V_NR];
	__u64 deferred, deferred_by[D_NR], event_checked[V_NR], repeated[V_NR];
	__u64 judged[V_NR];		/* coverage: pages_judged */
	__u64 stranded_by[D_NR];	/* stranded-mlock's deferrals */
	__u64 remlocked, evicted, unreached, no_pass;	/* lost-mlock's reclaim passes */
	char reclaim_note[320];
	char event_note[V_NR][512], snap_note[V_NR][448];
	char op[V_NR][128];
	char problem[200];	/* checker_problem(), or "" */
};

static struct result check_file(const char *path)
{
	struct result res = { 0 };
	struct mmr_trace *t;
	struct checker *c;
	struct mmr_event ev;
	const struct finding *f;
	char err[256];
	int nr;

	t = mmr_trace_open(path, err, sizeof(err));
	if (!ASSERT_OK_PTR(t, "open"))
		return res;
	c = checker_new(t, err, sizeof(err));
	while (mmr_trace_next(t, &ev) == 1)
		checker_event(c, &ev);
	checker_finish(c);
	f = checker_findings(c, &nr);
	for (int i = 0; i < nr; i++) {
		if (!res.nr[f[i].kind]++) {
			res.first_addr[f[i].kind] = f[i].address;
			res.first_pages[f[i].kind] = f[i].nr_pages;
			res.first_pfn[f[i].kind] = f[i].pfn;
			snprintf(res.op[f[i].kind], sizeof(res.op[0]), "%s", f[i].op);
		}
	}
	res.deferred = checker_coverage(c, V_LOST_MLOCK)->deferred;
	memcpy(res.deferred_by, checker_coverage(c, V_LOST_MLOCK)->deferred_by,
	       sizeof(res.deferred_by));
	memcpy(res.stranded_by, checker_coverage(c, V_STRANDED_MLOCK)->deferred_by,
	       sizeof(res.stranded_by));
	res.remlocked = checker_coverage(c, V_LOST_MLOCK)->reclaim_remlocked;
	res.evicted = checker_coverage(c, V_LOST_MLOCK)->reclaim_lost;
	res.unreached = checker_coverage(c, V_LOST_MLOCK)->reclaim_unreached;
	res.no_pass = checker_coverage(c, V_LOST_MLOCK)->reclaim_none;
	snprintf(res.reclaim_note, sizeof(res.reclaim_note), "%s",
		 checker_coverage(c, V_LOST_MLOCK)->reclaim_note);
	for (int v = 0; v < V_NR; v++) {
		res.event_checked[v] = checker_coverage(c, v)->event_checked;
		res.repeated[v] = checker_coverage(c, v)->repeated;
		res.judged[v] = checker_coverage(c, v)->pages_judged;
		snprintf(res.event_note[v], sizeof(res.event_note[v]), "%s",
			 checker_coverage(c, v)->event_note);
		snprintf(res.snap_note[v], sizeof(res.snap_note[v]), "%s",
			 checker_coverage(c, v)->snap_note);
	}
	snprintf(res.problem, sizeof(res.problem), "%s", checker_problem(c) ? : "");
	checker_free(c);
	mmr_trace_close(t);
	return res;
}

static int only(const struct result *r, enum verdict v)
{
	for (int i = 0; i < V_NR; i++)
		if (i != (int)v && r->nr[i])
			return 0;
	return 1;
}

static int clean(const struct result *r)
{
	return only(r, V_NR);
}

static struct mmr_snap_counters st0(void)
{
	return tb_counters(-1, -1, 0);
}

/* After mlock(A, 4 pages): pages with the given kpageflags. */
static struct result mlock_snapshot(const __u32 kflags[4], const __u32 mapcount[4])
{
	const char *path = tmp_path("lost.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	tb_sys(&b, 149, A, 4 * PG, 0, 0, 0, NULL);
	tb_snap(&b, 149, st0());
	tb_vma(&b, A, A + 4 * PG, LOCKED_RW, 0, 0, "");
	for (int i = 0; i < 4; i++)
		tb_page(&b, A + i * PG, TB_PRESENT(0x1000 + i), kflags[i] | MMR_PF_ANON, mapcount[i]);
	tb_snap_end(&b, st0());
	tb_close(&b);
	return check_file(path);
}

static void test_check_lost_mlock_present(void)
{
	const __u32 ok[4] = { MMR_PF_MLOCKED, MMR_PF_MLOCKED, MMR_PF_MLOCKED, MMR_PF_MLOCKED };
	const __u32 bad[4] = { MMR_PF_MLOCKED, 0, 0, MMR_PF_MLOCKED };
	const __u32 one[4] = { 1, 1, 1, 1 };
	struct result r;

	r = mlock_snapshot(ok, one);
	ASSERT_TRUE(clean(&r), "every page mlocked: no finding");
	ASSERT_EQ(r.judged[V_LOST_MLOCK], 4, "the four pages judged");
	r = mlock_snapshot(bad, one);
	ASSERT_EQ(r.judged[V_LOST_MLOCK], 4, "the four pages judged, two wrong");
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "two adjacent unmlocked pages: one finding");
	ASSERT_EQ(r.first_addr[V_LOST_MLOCK], A + PG, "finding address");
	ASSERT_EQ(r.first_pages[V_LOST_MLOCK], 2, "finding covers both pages");
	ASSERT_STRCONTAINS(r.op[V_LOST_MLOCK], "mlock(", "op names the syscall");
	ASSERT_TRUE(only(&r, V_LOST_MLOCK), "nothing else");
}

static void test_check_lost_mlock_exceptions(void)
{
	/* zero page, PTE-mapped large folio, no struct page: never mlocked */
	const __u32 exempt[4] = { MMR_PF_MLOCKED, MMR_PF_ZERO, MMR_PF_LARGE, MMR_PF_NOPAGE };
	const __u32 one[4] = { 1, 1, 1, 1 };
	struct result r = mlock_snapshot(exempt, one);

	ASSERT_TRUE(clean(&r), "documented exceptions are not findings");
	ASSERT_EQ(r.judged[V_LOST_MLOCK], 1, "nor counted as judged");
}

/* A shared page another process munlocked meanwhile may be munlocked early. */
static void test_check_lost_mlock_concurrent_munlock(void)
{
	const char *path = tmp_path("race.trace");
	struct tb b;
	struct result r;

	for (int shared = 1; shared <= 2; shared++) {
		tb_open(&b, path, "6.18.0", PID, MM);
		b.tgid = b.tid = PID + 1;	/* another process munlocks */
		b.mm = MM + 1;
		tb_sys(&b, 150, A, PG, 0, 0, 0, NULL);
		b.tgid = b.tid = PID;
		b.mm = MM;
		tb_sys(&b, 149, A, PG, 0, 0, 0, NULL);
		tb_snap(&b, 149, st0());
		tb_vma(&b, A, A + PG, LOCKED_RW | MMR_VMA_SHARED, 0, 0, "/dev/zero (deleted)");
		tb_page(&b, A, TB_PRESENT(0x2000) | MMR_PM_FILE, 0, shared);
		tb_snap_end(&b, st0());
		tb_close(&b);
		r = check_file(path);
		if (shared == 2) {
			ASSERT_TRUE(clean(&r), "shared page after a concurrent munlock: deferred");
			ASSERT_EQ(r.deferred, 1, "counted as deferred");
			ASSERT_EQ(r.judged[V_LOST_MLOCK], 0, "not as judged");
		} else {
			ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "page only we map: a finding");
		}
	}
}

enum {
	MIG_IN_MLOCK = 1,	/* page 1 mapped back by migration during the mlock */
	MIG_AFTER = 2,		/* ... 10 ms after it returned */
	MIG_OTHER_PAGE = 4,	/* another page mapped back during the mlock */
	MIG_RELOCK = 8,		/* munlock and mlock the range again after that */
	MIG_UNFOLLOWED = 16,	/* no remove_migration_pte: try_to_migrate_one only */
	MOVE_THIS = 32,		/* a move_pages of this process in flight at the snapshot */
	MOVE_OTHER = 64,	/* ... of another traced process */
	MIG_DROPS = 128,	/* the recorder dropped events */
	MIG_MREMAP = 256,	/* the locked range moved by mremap before the snapshot */
	MIG_PASS = 512,		/* a reclaim pass after the snapshot left page 1 unmlocked */
	MIG_PASS_NO_SWAP = 1024,	/* ... with no swap on */
};

#define A2 0x7f2000000000ULL	/* where MIG_MREMAP moves it */

#define MIG_PFN 0x1001ULL	/* page 1's PFN */

/* Another process (explore's perturber) does @what: PID + 1, mm MM + 1. */
static void as_helper(struct tb *b, int on)
{
	b->tgid = b->tid = on ? PID + 1 : PID;
	b->mm = on ? MM + 1 : MM;
}

static void migration_event(struct tb *b, int flags, __u64 pfn)
{
	as_helper(b, 1);
	if (flags & MIG_UNFOLLOWED)
		tb_rmap(b, MMR_K_TRY_TO_MIGRATE_ONE, pfn, A + PG, A + 4 * PG);
	else
		tb_migrated_back(b, A + PG, pfn);
	as_helper(b, 0);
}

/*
 * mlock(A, 4 pages) while pages migrate, then a snapshot in which page 1
 * (PFN MIG_PFN) is present in the VM_LOCKED vma but not mlocked.
 */
static struct result migration_snapshot(int flags)
{
	const char *path = tmp_path("migration.trace");
	__u64 at;
	struct tb b;

	tb_open(&b, path, "6.1.0", PID, MM);
	if (!(flags & MIG_UNFOLLOWED))
		tb_kind(b.w, MMR_K_REMOVE_MIGRATION_PTE, "tracepoint", tb_migration_back_format);
	as_helper(&b, 1);
	tb_sys(&b, 9, 0x10000, PG, 3, 0x22, 0x10000, NULL);	/* the helper is traced */
	as_helper(&b, 0);
	tb_sys_enter(&b, 149, A, 4 * PG, 0);
	if (flags & (MIG_IN_MLOCK | MIG_OTHER_PAGE))
		migration_event(&b, flags, flags & MIG_OTHER_PAGE ? 0x9999 : MIG_PFN);
	tb_sys_exit(&b, 149, 0);
	if (flags & MIG_AFTER) {
		b.ts += 10000000;
		migration_event(&b, flags, MIG_PFN);
	}
	if (flags & MIG_RELOCK) {
		tb_sys(&b, 150, A, 4 * PG, 0, 0, 0, NULL);
		tb_sys(&b, 149, A, 4 * PG, 0, 0, 0, NULL);
	}
	if (flags & MIG_MREMAP)		/* mremap(A, 4 pages, 4 pages, MAYMOVE | FIXED, A2) */
		tb_sys(&b, 25, A, 4 * PG, 4 * PG, 3, A2, NULL);
	if (flags & (MOVE_THIS | MOVE_OTHER)) {
		as_helper(&b, 1);
		tb_sys_enter(&b, 279, flags & MOVE_THIS ? PID : PID + 1, 1, 0);
		as_helper(&b, 0);
	}
	at = flags & MIG_MREMAP ? A2 : A;
	tb_snap(&b, 149, st0());
	tb_vma(&b, at, at + 4 * PG, LOCKED_RW, 0, 0, "");
	for (int i = 0; i < 4; i++)
		tb_page(&b, at + i * PG, TB_PRESENT(0x1000 + i),
			(i == 1 ? 0 : MMR_PF_MLOCKED) | MMR_PF_ANON, 1);
	tb_snap_end(&b, st0());
	if (flags & (MIG_PASS | MIG_PASS_NO_SWAP)) {
		tb_reclaim_snap(&b, 3000, st0());
		tb_vma(&b, at, at + 4 * PG, LOCKED_RW, 0, 0, "");
		for (int i = 0; i < 4; i++)
			tb_page(&b, at + i * PG, TB_PRESENT(0x1000 + i),
				(i == 1 ? 0 : MMR_PF_MLOCKED) | MMR_PF_ANON, 1);
		tb_reclaim_end(&b, st0());
	}
	tb_close_stats(&b, flags & MIG_DROPS ? "events=40\ndrops=5\n" :
		       flags & MIG_PASS_NO_SWAP ? "events=40\ndrops=0\nreclaim_passes=1\n"
		       "reclaim_pass_no_swap=1\n" : "events=40\ndrops=0\nreclaim_passes=1\n");
	return check_file(path);
}

/* Each migration rule withholds the page it is about, and nothing else. */
static void test_check_lost_mlock_migration(void)
{
	struct result r;

	r = migration_snapshot(MIG_IN_MLOCK);
	ASSERT_TRUE(clean(&r), "mapped back during the mlock's walk: left unmlocked by design");
	ASSERT_EQ(r.deferred_by[D_MAPPED_BACK_IN_MLOCK], 1, "withheld by mapped_back_in_mlock");
	r = migration_snapshot(0);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "no migration: lost-mlock");
	r = migration_snapshot(MIG_AFTER);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "mapped back after the mlock returned: lost-mlock");
	r = migration_snapshot(MIG_OTHER_PAGE);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "another page migrated during the mlock: lost-mlock");
	ASSERT_EQ(r.deferred, 0, "nothing withheld for another page's migration");
	r = migration_snapshot(MIG_IN_MLOCK | MIG_MREMAP);
	ASSERT_TRUE(clean(&r), "the same, after mremap moved the locked range");
	r = migration_snapshot(MIG_AFTER | MIG_MREMAP);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "mapped back after the mlock, then moved: lost-mlock");
	r = migration_snapshot(MIG_IN_MLOCK | MIG_RELOCK);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "munlocked and mlocked again since: the walk saw it");
	r = migration_snapshot(MIG_UNFOLLOWED | MIG_OTHER_PAGE);
	ASSERT_TRUE(clean(&r), "pages not followed: any migration withholds (the old rule)");
	ASSERT_EQ(r.deferred_by[D_MIGRATION_UNFOLLOWED], 1, "counted as migration_unfollowed");
	r = migration_snapshot(MIG_DROPS | MIG_OTHER_PAGE);
	ASSERT_TRUE(clean(&r), "events dropped: a mapping back may be missing, the old rule");
	ASSERT_EQ(r.deferred_by[D_MIGRATION_UNFOLLOWED], 1, "counted as migration_unfollowed");
	r = migration_snapshot(MOVE_THIS);
	ASSERT_TRUE(clean(&r), "a move_pages of this process in flight: withheld");
	ASSERT_EQ(r.deferred_by[D_MIGRATING_NOW], 1, "counted as migrating_now");
	r = migration_snapshot(MOVE_OTHER);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "a move_pages of another process: lost-mlock");
}

enum { O_OTHER_PAGE = 1, O_FAULT = 2, O_NO_SNAPSHOT = 4, O_BEFORE = 8, O_MIGRATED = 16,
       O_UNFOLLOWED = 32,
       /* a reclaim pass after our second snapshot, and what it left of our page */
       O_PASS_MLOCKED = 64, O_PASS_SWAPPED = 128, O_PASS_UNMLOCKED = 256, O_PASS_GONE = 512 };

/* The format that lets check follow pages through migration, unless @flags say not. */
static void follow_migration(struct tb *b, int flags)
{
	if (!(flags & O_UNFOLLOWED))
		tb_kind(b->w, MMR_K_REMOVE_MIGRATION_PTE, "tracepoint", tb_migration_back_format);
}

#define B 0x7f1000000000ULL	/* the other process's mapping of the shared page */

/* Process O (PID + 1) mlocks its mapping B of a page, snapshots, munlocks B. */
static void other_unlocks(struct tb *b, int flags)
{
	as_helper(b, 1);
	tb_sys(b, 149, B, PG, 0, 0, 0, NULL);
	if (!(flags & O_NO_SNAPSHOT)) {
		tb_snap(b, 149, st0());
		tb_vma(b, B, B + PG, LOCKED_RW | MMR_VMA_SHARED, 0, 0, "/memfd:shared (deleted)");
		tb_page(b, B, TB_PRESENT(flags & O_OTHER_PAGE ? 0x7777 : 0x6000) | MMR_PM_FILE,
			MMR_PF_MLOCKED, 2);
		tb_snap_end(b, st0());
	}
	if (flags & O_FAULT)
		tb_fault(b, B, 1);
	if (flags & O_MIGRATED) {	/* our page migrated, now mapped at B too */
		b->ts += 10000000;	/* long after any mlock */
		tb_migrated_back(b, B, 0x6000);
	}
	tb_sys(b, 150, B, PG, 0, 0, 0, NULL);
	as_helper(b, 0);
}

/* The snapshot after a reclaim pass, if @flags asks for one: our page as it left it. */
static void reclaim_pass(struct tb *b, int flags)
{
	if (!(flags & (O_PASS_MLOCKED | O_PASS_SWAPPED | O_PASS_UNMLOCKED | O_PASS_GONE)))
		return;
	tb_reclaim_snap(b, 3000, st0());
	tb_vma(b, A, A + PG, LOCKED_RW | MMR_VMA_SHARED, 0, 0, "/memfd:shared (deleted)");
	if (flags & O_PASS_MLOCKED)
		tb_page(b, A, TB_PRESENT(0x6000) | MMR_PM_FILE, MMR_PF_MLOCKED, 2);
	if (flags & O_PASS_SWAPPED)
		tb_page(b, A, TB_SWAP(0, 9) | MMR_PM_FILE, 0, 0);
	if (flags & O_PASS_UNMLOCKED)
		tb_page(b, A, TB_PRESENT(0x6000) | MMR_PM_FILE, 0, 2);
	tb_reclaim_end(b, st0());
}

/*
 * Our shared page (PFN 0x6000, mapped twice) is mlocked at one snapshot and
 * not at the next; meanwhile process O munlocked its own mapping B.
 */
static struct result foreign_snapshot(int flags)
{
	const char *path = tmp_path("foreign.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	follow_migration(&b, flags);
	if (flags & O_BEFORE)
		other_unlocks(&b, flags);
	tb_sys(&b, 149, A, PG, 0, 0, 0, NULL);
	tb_snap(&b, 149, st0());
	tb_vma(&b, A, A + PG, LOCKED_RW | MMR_VMA_SHARED, 0, 0, "/memfd:shared (deleted)");
	tb_page(&b, A, TB_PRESENT(0x6000) | MMR_PM_FILE, MMR_PF_MLOCKED, 2);
	tb_snap_end(&b, st0());
	if (!(flags & O_BEFORE))
		other_unlocks(&b, flags);
	tb_sys(&b, 28, A + 64 * PG, PG, 0, 0, 0, NULL);	/* madvise(MADV_NORMAL) elsewhere */
	tb_snap(&b, 28, st0());
	tb_vma(&b, A, A + PG, LOCKED_RW | MMR_VMA_SHARED, 0, 0, "/memfd:shared (deleted)");
	tb_page(&b, A, TB_PRESENT(0x6000) | MMR_PM_FILE, 0, 2);
	tb_snap_end(&b, st0());
	reclaim_pass(&b, flags);
	tb_close(&b);
	return check_file(path);
}

/* Another mm's munlock withholds a shared page only if it mapped that very page there. */
static void test_check_lost_mlock_foreign_unlock(void)
{
	struct result r;

	r = foreign_snapshot(0);
	ASSERT_TRUE(clean(&r), "O munlocked its mapping of this page: may lose PG_mlocked");
	ASSERT_EQ(r.deferred_by[D_SHARED_FOREIGN_UNLOCK], 1, "withheld by shared_foreign_unlock");
	r = foreign_snapshot(O_OTHER_PAGE);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "O munlocked another page: lost-mlock");
	r = foreign_snapshot(O_OTHER_PAGE | O_FAULT);
	ASSERT_TRUE(clean(&r), "O faulted in the range after its snapshot: it may have mapped it");
	r = foreign_snapshot(O_OTHER_PAGE | O_NO_SNAPSHOT);
	ASSERT_TRUE(clean(&r), "no snapshot of O: any shared page");
	r = foreign_snapshot(O_BEFORE);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "O's munlock before our previous snapshot: lost-mlock");
	r = foreign_snapshot(O_OTHER_PAGE | O_MIGRATED);
	ASSERT_TRUE(clean(&r), "our page migrated in since O's snapshot: O may have held it");
	r = foreign_snapshot(O_OTHER_PAGE | O_UNFOLLOWED);
	ASSERT_TRUE(clean(&r), "migrations not followed: O may have held it");
}

/*
 * A large folio's page of a locked VMA, not mlocked: @flags its extra
 * kflags (MMR_PF_PMD), @known whether the snapshot could tell PMD mappings.
 */
static struct result large_snapshot(__u32 flags, int known)
{
	const char *path = tmp_path("large.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	tb_sys(&b, 149, A, 2 * PG, 0, 0, 0, NULL);
	b.end_flags = known ? MMR_SNAPF_PMD_KNOWN : 0;
	tb_snap(&b, 149, st0());
	tb_vma(&b, A, A + 2 * PG, LOCKED_RW, 0, 0, "");
	tb_page(&b, A, TB_PRESENT(0x200000), MMR_PF_ANON | MMR_PF_LARGE | MMR_PF_THP | flags, 1);
	tb_page(&b, A + PG, TB_PRESENT(0x200001),
		MMR_PF_ANON | MMR_PF_LARGE | MMR_PF_THP | MMR_PF_MLOCKED | flags, 1);
	tb_snap_end(&b, st0());
	tb_close(&b);
	return check_file(path);
}

/* A PMD-mapped THP in a locked VMA must be mlocked; a PTE-mapped one need not be. */
static void test_check_lost_mlock_pmd_thp(void)
{
	struct result r;

	r = large_snapshot(0, 1);
	ASSERT_TRUE(clean(&r), "PTE-mapped large folio: exempt");
	ASSERT_TRUE(strstr(r.snap_note[V_LOST_MLOCK], "1 pages exempt (") != NULL, "counted exempt");
	ASSERT_TRUE(strstr(r.snap_note[V_LOST_MLOCK], "0 of them large, where") != NULL,
		    "the snapshot could tell");
	r = large_snapshot(MMR_PF_PMD, 1);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "PMD-mapped THP not mlocked: lost-mlock");
	ASSERT_EQ(r.first_pfn[V_LOST_MLOCK], 0x200000, "that page");
	ASSERT_EQ(r.judged[V_LOST_MLOCK], 2, "both PMD-mapped pages judged");
	r = large_snapshot(0, 0);
	ASSERT_TRUE(clean(&r), "a snapshot that cannot tell: exempt");
	ASSERT_TRUE(strstr(r.snap_note[V_LOST_MLOCK], "1 of them large, where") != NULL,
		    "and counted as such");
}

/*
 * A page withheld as the kernel's mlock_count underestimate is resolved by
 * the reclaim pass after its snapshot: mlocked again is the transient it
 * was; evicted from its VM_LOCKED VMA is a lost mlock.
 */
static void test_check_reclaim_pass(void)
{
	struct result r;

	r = foreign_snapshot(0);
	ASSERT_EQ(r.no_pass, 1, "no pass: withheld with none");
	ASSERT_TRUE(strstr(r.reclaim_note, "recorded without --reclaim-pass") != NULL,
		    "says why there was none");
	r = foreign_snapshot(O_PASS_MLOCKED);
	ASSERT_TRUE(clean(&r), "mlocked again by reclaim: the transient");
	ASSERT_EQ(r.remlocked, 1, "counted as mlocked again");
	ASSERT_EQ(r.no_pass, 0, "the pass followed it");
	ASSERT_EQ(r.deferred_by[D_SHARED_FOREIGN_UNLOCK], 1, "the pass is no snapshot of its own");
	r = foreign_snapshot(O_PASS_SWAPPED);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "swapped out of its VM_LOCKED VMA by reclaim: lost-mlock");
	ASSERT_EQ(r.evicted, 1, "counted as evicted");
	r = foreign_snapshot(O_PASS_GONE);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "dropped from its VM_LOCKED VMA by reclaim: lost-mlock");
	r = foreign_snapshot(O_PASS_UNMLOCKED);
	ASSERT_TRUE(clean(&r), "still not mlocked: reclaim may not have reached it");
	ASSERT_EQ(r.unreached, 1, "counted as not reached");
	r = foreign_snapshot(O_OTHER_PAGE | O_PASS_MLOCKED);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "a finding at its snapshot stays one, whatever the pass");
	ASSERT_EQ(r.remlocked, 0, "only withheld pages are resolved");
	r = migration_snapshot(MIG_IN_MLOCK | MIG_PASS);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "private anon page still unmlocked after reclaim scanned it");
	ASSERT_EQ(r.first_pfn[V_LOST_MLOCK], MIG_PFN, "that page");
	r = migration_snapshot(MIG_IN_MLOCK | MIG_PASS_NO_SWAP);
	ASSERT_TRUE(clean(&r), "no swap: reclaim does not scan anon pages, not judged");
	ASSERT_EQ(r.unreached, 1, "counted as not reached");
}

#define SHARED_RW (LOCKED_RW | MMR_VMA_SHARED)

/*
 * This process maps a memfd page (PFN 0x6000) at A and at B, both locked,
 * munlocks B, and A's page is then not mlocked.
 */
static struct result own_unlock_snapshot(int flags)
{
	const char *path = tmp_path("own-unlock.trace");
	__u64 pb = flags & O_OTHER_PAGE ? 0x7777 : 0x6000;
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	follow_migration(&b, flags);
	tb_sys(&b, 149, A, PG, 0, 0, 0, NULL);
	tb_sys(&b, 149, B, PG, 0, 0, 0, NULL);
	if (!(flags & O_NO_SNAPSHOT)) {
		tb_snap(&b, 149, st0());
		tb_vma(&b, A, A + PG, SHARED_RW, 0, 0, "/memfd:shared (deleted)");
		tb_page(&b, A, TB_PRESENT(0x6000) | MMR_PM_FILE, MMR_PF_MLOCKED, 2);
		tb_vma(&b, B, B + PG, SHARED_RW, 0, 0, "/memfd:shared (deleted)");
		tb_page(&b, B, TB_PRESENT(pb) | MMR_PM_FILE, MMR_PF_MLOCKED, 2);
		tb_snap_end(&b, st0());
	}
	if (flags & O_FAULT)
		tb_fault(&b, B, 1);
	tb_sys(&b, 150, B, PG, 0, 0, 0, NULL);
	tb_snap(&b, 150, st0());
	tb_vma(&b, A, A + PG, SHARED_RW, 0, 0, "/memfd:shared (deleted)");
	tb_page(&b, A, TB_PRESENT(0x6000) | MMR_PM_FILE, 0, 2);
	tb_vma(&b, B, B + PG, SHARED_RW & ~MMR_VMA_LOCKED, 0, 0, "/memfd:shared (deleted)");
	tb_page(&b, B, TB_PRESENT(pb) | MMR_PM_FILE, 0, 2);
	tb_snap_end(&b, st0());
	tb_close(&b);
	return check_file(path);
}

/* Our munlock of another range withholds a page only if that range held the same page. */
static void test_check_lost_mlock_other_range(void)
{
	struct result r;

	r = own_unlock_snapshot(0);
	ASSERT_TRUE(clean(&r), "the munlocked range held this page too: may lose PG_mlocked");
	ASSERT_EQ(r.deferred_by[D_OTHER_RANGE_UNLOCKED], 1, "withheld by other_range_unlocked");
	r = own_unlock_snapshot(O_OTHER_PAGE);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "it held another page: lost-mlock");
	r = own_unlock_snapshot(O_OTHER_PAGE | O_FAULT);
	ASSERT_TRUE(clean(&r), "a fault there since the snapshot: it may have held this one");
	r = own_unlock_snapshot(O_OTHER_PAGE | O_NO_SNAPSHOT);
	ASSERT_TRUE(clean(&r), "no snapshot before: any shared page");
	r = own_unlock_snapshot(O_OTHER_PAGE | O_UNFOLLOWED);
	ASSERT_TRUE(clean(&r), "migrations not followed: it may have held this one");
}

static struct result swapped_locked(int onfault, int was_present)
{
	const char *path = tmp_path("swapped.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	if (was_present) {
		tb_sys(&b, 325, A, 2 * PG, onfault, 0, 0, NULL);
		tb_snap(&b, 325, st0());
		tb_vma(&b, A, A + 2 * PG, LOCKED_RW, 0, 0, "");
		tb_page(&b, A, TB_PRESENT(0x3000), MMR_PF_MLOCKED | MMR_PF_ANON, 1);
		tb_snap_end(&b, st0());
	}
	tb_sys(&b, 325, A, 2 * PG, onfault, 0, 0, NULL);	/* mlock2 */
	tb_snap(&b, 325, tb_counters(-1, -1, 1));
	tb_vma(&b, A, A + 2 * PG, LOCKED_RW, 0, 0, "");
	tb_page(&b, A, TB_SWAP(0, 77), 0, 0);
	tb_snap_end(&b, tb_counters(-1, -1, 1));
	tb_close(&b);
	return check_file(path);
}

static void test_check_lost_mlock_swapped(void)
{
	struct result r;

	r = swapped_locked(0, 0);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "swapped page of a locked VMA");
	r = swapped_locked(1, 0);
	ASSERT_TRUE(clean(&r), "MLOCK_ONFAULT keeps pages swapped before the lock");
	r = swapped_locked(1, 1);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "MLOCK_ONFAULT page that was mlocked, then swapped");
}

enum { FAIL_HERE = 1, FAIL_ELSEWHERE = 2, RELOCKED = 4, LATER_CALL = 8 };

/* mlock(A, 2 pages), perhaps failed; a snapshot finds page A swapped out in the locked vma. */
static struct result failed_lock(int flags)
{
	const char *path = tmp_path("failed-lock.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	tb_sys(&b, 149, A, 2 * PG, 0, 0, flags & FAIL_HERE ? -12 : 0, NULL);
	if (flags & FAIL_ELSEWHERE)
		tb_sys(&b, 149, A + 64 * PG, 2 * PG, 0, 0, -12, NULL);
	if (flags & RELOCKED)
		tb_sys(&b, 149, A, 2 * PG, 0, 0, 0, NULL);
	if (flags & LATER_CALL)		/* the failure is no longer the last syscall */
		tb_sys(&b, 28, A + 64 * PG, PG, 0, 0, 0, NULL);	/* madvise(MADV_NORMAL) */
	tb_snap(&b, 149, tb_counters(-1, -1, 1));
	tb_vma(&b, A, A + 2 * PG, LOCKED_RW, 0, 0, "");
	tb_page(&b, A, TB_SWAP(0, 77), 0, 0);
	tb_snap_end(&b, tb_counters(-1, -1, 1));
	tb_close(&b);
	return check_file(path);
}

/* A failed mlock leaves swapped pages out in its own range only, until the range is locked again. */
static void test_check_lost_mlock_failed_lock(void)
{
	struct result r;

	r = failed_lock(FAIL_HERE);
	ASSERT_TRUE(clean(&r), "the mlock of the page's range failed: may stay swapped");
	ASSERT_EQ(r.deferred_by[D_LOCK_FAILED], 1, "counted as lock_failed");
	r = failed_lock(FAIL_HERE | LATER_CALL);
	ASSERT_TRUE(clean(&r), "still so after another syscall");
	r = failed_lock(FAIL_ELSEWHERE);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "an mlock of another range failed: lost-mlock");
	r = failed_lock(FAIL_HERE | RELOCKED);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "locked again since, which populates: lost-mlock");
}

static struct result vanished(int munmap_between)
{
	const char *path = tmp_path("vanished.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	tb_sys(&b, 149, A, 2 * PG, 0, 0, 0, NULL);
	tb_snap(&b, 149, st0());
	tb_vma(&b, A, A + 2 * PG, LOCKED_RW, 0, 0, "");
	tb_page(&b, A, TB_PRESENT(0x4000), MMR_PF_MLOCKED | MMR_PF_ANON, 1);
	tb_page(&b, A + PG, TB_PRESENT(0x4001), MMR_PF_MLOCKED | MMR_PF_ANON, 1);
	tb_snap_end(&b, st0());
	if (munmap_between)
		tb_sys(&b, 11, A + PG, PG, 0, 0, 0, NULL);
	tb_sys(&b, 149, A, PG, 0, 0, 0, NULL);
	tb_snap(&b, 149, st0());
	tb_vma(&b, A, A + 2 * PG, LOCKED_RW, 0, 0, "");
	tb_page(&b, A, TB_PRESENT(0x4000), MMR_PF_MLOCKED | MMR_PF_ANON, 1);
	tb_snap_end(&b, st0());
	tb_close(&b);
	return check_file(path);
}

enum { ORDERED, VMAS_SWAPPED, PAGES_SWAPPED, PAGE_OUTSIDE };

/*
 * Two held snapshots of five VMAs of two pages each, 4 pages apart; the
 * fourth is locked, and its second page vanishes in the second snapshot,
 * which @disorder writes out of order (as no recorder does).
 */
static struct result vanished_among(int disorder)
{
	const char *path = tmp_path("vanished-among.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	for (int snap = 0; snap < 2; snap++) {
		int odd = snap ? disorder : ORDERED;

		tb_sys(&b, 149, A + 12 * PG, 2 * PG, 0, 0, 0, NULL);
		tb_snap(&b, 149, st0());
		for (int k = 0; k < 5; k++) {
			int v = odd == VMAS_SWAPPED && k >= 3 ? 7 - k : k;
			__u64 at = A + v * 4 * PG, pfn = 0x4000 + v * 2;
			__u32 fl = v == 3 ? MMR_PF_MLOCKED | MMR_PF_ANON : MMR_PF_ANON;
			/* the second page's offset: swapped, outside, or vanished */
			long second = odd == PAGES_SWAPPED && v == 1 ? -1 :
				      odd == PAGE_OUTSIDE && v == 4 ? 2 : snap && v == 3 ? 0 : 1;

			tb_vma(&b, at, at + 2 * PG, v == 3 ? LOCKED_RW : RW_ANON, 0, 0, "");
			if (second < 0)
				tb_page(&b, at + PG, TB_PRESENT(pfn + 1), fl, 1);
			tb_page(&b, at, TB_PRESENT(pfn), fl, 1);
			if (second > 0)
				tb_page(&b, at + second * PG, TB_PRESENT(pfn + 1), fl, 1);
		}
		tb_snap_end(&b, st0());
	}
	tb_close(&b);
	return check_file(path);
}

/* A snapshot's VMAs are looked up by address: they must be in order, or it is not judged. */
static void test_check_snapshot_order(void)
{
	static const char *const what[] = { "VMAs out of order", "pages out of order",
					    "a page outside its VMA" };
	struct result r = vanished_among(ORDERED);
	char err[512], *text;

	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "the fourth VMA's vanished page: lost-mlock");
	ASSERT_EQ(r.first_addr[V_LOST_MLOCK], A + 12 * PG + PG, "at its address");
	ASSERT_EQ(r.problem[0], 0, "no problem in order");
	for (int d = VMAS_SWAPPED; d <= PAGE_OUTSIDE; d++) {
		r = vanished_among(d);
		ASSERT_TRUE(clean(&r), what[d - 1]);
		ASSERT_STRCONTAINS(r.problem, "1 snapshots not judged", what[d - 1]);
	}
	snprintf(err, sizeof(err), "%s", tmp_path("order.err"));
	ASSERT_EQ(run_cmd(NULL, err, "%s check %s", mmreplay_bin(), tmp_path("vanished-among.trace")),
		  2, "mmreplay check: exit 2");
	text = slurp(err);
	ASSERT_EQ(count_lines(text), 1, "one error line");
	ASSERT_STRCONTAINS(text, "out of order", "saying why");
	free(text);
}

static void test_check_lost_mlock_vanished(void)
{
	struct result r;

	r = vanished(0);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "locked page gone with no munmap/munlock");
	ASSERT_EQ(r.first_addr[V_LOST_MLOCK], A + PG, "the page that vanished");
	r = vanished(1);
	ASSERT_TRUE(clean(&r), "munmap in between explains it");
}

/* After munlock of a VMA: a page with @kflags, mapped @mapcount times. */
static struct result after_munlock(__u32 kflags, __u32 mapcount, int also_locked)
{
	const char *path = tmp_path("stranded.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	tb_sys(&b, 150, A, PG, 0, 0, 0, NULL);
	tb_snap(&b, 150, st0());
	tb_vma(&b, A, A + PG, RW_ANON, 0, 0, "");
	tb_page(&b, A, TB_PRESENT(0x5000), kflags | MMR_PF_ANON, mapcount);
	if (also_locked) {
		tb_vma(&b, A + 16 * PG, A + 17 * PG, LOCKED_RW, 0, 0, "");
		tb_page(&b, A + 16 * PG, TB_PRESENT(0x5000), kflags | MMR_PF_ANON, mapcount);
	}
	tb_snap_end(&b, st0());
	tb_close(&b);
	return check_file(path);
}

/*
 * Munlock, then @nr snapshots that each see the same stranded page, and in
 * the last one (if @other) a second stranded page too.
 */
static struct result stranded_again(int nr, int other)
{
	const char *path = tmp_path("stranded-again.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	for (int i = 0; i < nr; i++) {
		tb_sys(&b, 150, A, PG, 0, 0, 0, NULL);
		tb_snap(&b, 150, st0());
		tb_vma(&b, A, A + 64 * PG, RW_ANON, 0, 0, "");
		tb_page(&b, A, TB_PRESENT(0x5000), MMR_PF_MLOCKED | MMR_PF_ANON, 1);
		if (other && i == nr - 1)
			tb_page(&b, A + 32 * PG, TB_PRESENT(0x6000), MMR_PF_MLOCKED | MMR_PF_ANON, 1);
		tb_snap_end(&b, st0());
	}
	tb_close(&b);
	return check_file(path);
}

#define R_PAGEOUT	0x1	/* another thread's MADV_PAGEOUT spans the munlock */
#define R_RMAP		0x2	/* reclaim's try_to_unmap_one visits the page during it */
#define R_PMADVISE	0x4	/* another process's process_madvise(MADV_PAGEOUT) spans it */
#define R_CPU		0x8	/* the munlock returns on another CPU */
#define R_ELSEWHERE	0x10	/* rmap: of another mm; munlock: of another range */
#define R_AFTER		0x20	/* the rmap visit 2 ms after the munlock returned */

/*
 * Thread 1 munlocks A (@flags: while reclaim runs, or moving CPU); then A's
 * page is still mlocked.  Only what concerns that page's munlock explains it.
 */
static struct result munlock_pending(int flags)
{
	const char *path = tmp_path("munlock-pending.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	b.tid = PID + 1;
	if (flags & R_PAGEOUT)
		tb_sys_enter(&b, 28, A, PG, 21);		/* madvise(MADV_PAGEOUT) */
	if (flags & R_PMADVISE) {
		struct mmr_sys_enter e = { .nr = 440, .args = { 3, 0x1000, 1, 21 } };

		b.tgid = b.tid = PID + 100;
		b.mm = MM + 0x1000;
		tb_put(&b, MMR_K_SYS_ENTER, &e, sizeof(e));	/* process_madvise(.., PAGEOUT) */
	}
	b.tgid = b.tid = PID;
	b.mm = MM;
	tb_sys_enter(&b, 150, flags & R_CPU && flags & R_ELSEWHERE ? A + 8 * PG : A, PG, 0);
	if ((flags & R_RMAP) && !(flags & R_AFTER)) {
		b.mm = flags & R_ELSEWHERE ? MM + 0x2000 : MM;
		tb_rmap(&b, MMR_K_TRY_TO_UNMAP_ONE, 0x5000, A, A + PG);
		b.mm = MM;
	}
	b.cpu = flags & R_CPU ? 1 : 0;
	tb_sys_exit(&b, 150, 0);
	if (flags & R_AFTER) {
		b.ts += 2000000;
		tb_rmap(&b, MMR_K_TRY_TO_UNMAP_ONE, 0x5000, A, A + PG);
	}
	b.tid = PID + 1;
	if (flags & R_PAGEOUT)
		tb_sys_exit(&b, 28, 0);
	if (flags & R_PMADVISE) {
		b.tgid = b.tid = PID + 100;
		b.mm = MM + 0x1000;
		tb_sys_exit(&b, 440, 0);
		b.mm = MM;
		b.tgid = PID;
	}
	b.tid = PID;
	tb_snap(&b, 150, st0());
	tb_vma(&b, A, A + 16 * PG, RW_ANON, 0, 0, "");
	tb_page(&b, A, TB_PRESENT(0x5000), MMR_PF_MLOCKED | MMR_PF_ANON, 1);
	tb_snap_end(&b, st0());
	tb_close(&b);
	return check_file(path);
}

/* A page left mlocked after its munlock is withheld only for a cause about that munlock. */
static void test_check_stranded_mlock_pending(void)
{
	static const struct { int flags; enum defer_rule rule; const char *what; } cases[] = {
		{ R_CPU, D_MUNLOCK_BATCH_ELSEWHERE, "its munlock moved CPU: another batch holds it" },
		{ R_RMAP, D_UNLOCK_RACED_RECLAIM, "reclaim visited it during the munlock" },
		{ R_CPU | R_ELSEWHERE, D_NR, "a munlock of another range moved CPU" },
		{ R_RMAP | R_ELSEWHERE, D_NR, "reclaim visited another mm's page" },
		{ R_RMAP | R_AFTER, D_NR, "reclaim visited it 2 ms after the munlock" },
		{ R_PAGEOUT, D_NR, "MADV_PAGEOUT skips VM_LOCKED VMAs under mmap_lock" },
		{ R_PMADVISE, D_NR, "and so does process_madvise" },
		{ 0, D_NR, "nothing explains it" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = munlock_pending(cases[i].flags);
		int found = cases[i].rule == D_NR;

		ASSERT_EQ(r.nr[V_STRANDED_MLOCK], found, cases[i].what);
		ASSERT_TRUE(only(&r, V_STRANDED_MLOCK), "nothing else");
		ASSERT_EQ(r.stranded_by[D_MUNLOCK_BATCH_ELSEWHERE],
			  cases[i].rule == D_MUNLOCK_BATCH_ELSEWHERE, "munlock_batch_elsewhere");
		ASSERT_EQ(r.stranded_by[D_UNLOCK_RACED_RECLAIM],
			  cases[i].rule == D_UNLOCK_RACED_RECLAIM, "unlock_raced_reclaim");
	}
}

/* One stranded page is one finding, however many later snapshots still see it. */
static void test_check_stranded_mlock_once(void)
{
	struct result r;

	r = stranded_again(3, 0);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 1, "reported at the first snapshot only");
	ASSERT_EQ(r.repeated[V_STRANDED_MLOCK], 2, "two repeats counted");
	r = stranded_again(3, 1);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 2, "a new page at a later snapshot is reported");
	ASSERT_EQ(r.first_pfn[V_STRANDED_MLOCK], 0x5000, "the first one first");
}

/*
 * A page the snapshot read while it kept moving (MMR_PF_MOVED: its pagemap
 * entry changed after its flags were read, in the last read again too) has
 * flags that may be another page's: neither lost nor stranded, counted.
 */
static void test_check_snapshot_page_moved(void)
{
	const __u32 moved[4] = { MMR_PF_MLOCKED, MMR_PF_MOVED, MMR_PF_MOVED, MMR_PF_MLOCKED };
	const __u32 one[4] = { 1, 1, 1, 1 };
	struct result r = mlock_snapshot(moved, one);

	ASSERT_TRUE(clean(&r), "moving pages of a locked VMA, not mlocked: no lost-mlock");
	ASSERT_STRCONTAINS(r.snap_note[V_LOST_MLOCK], "2 pages not judged: still moving",
			   "counted in lost-mlock's coverage");
	r = after_munlock(MMR_PF_MLOCKED | MMR_PF_UNEVICTABLE | MMR_PF_MOVED, 1, 0);
	ASSERT_TRUE(clean(&r), "a moving page read as mlocked after munlock: no stranded-mlock");
	ASSERT_STRCONTAINS(r.snap_note[V_STRANDED_MLOCK], "1 pages not judged: still moving",
			   "counted in stranded-mlock's coverage");
}

static void test_check_stranded_mlock_page(void)
{
	struct result r;

	r = after_munlock(MMR_PF_MLOCKED | MMR_PF_UNEVICTABLE, 1, 0);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 1, "mlocked page, no locked mapping");
	ASSERT_TRUE(only(&r, V_STRANDED_MLOCK), "nothing else");
	r = after_munlock(MMR_PF_UNEVICTABLE, 1, 0);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 1, "private anon page left unevictable");
	r = after_munlock(0, 1, 0);
	ASSERT_TRUE(clean(&r), "munlocked page");
	r = after_munlock(MMR_PF_MLOCKED, 2, 0);
	ASSERT_TRUE(clean(&r), "also mapped by an untraced mm: not judged");
	r = after_munlock(MMR_PF_MLOCKED, 2, 1);
	ASSERT_TRUE(clean(&r), "also mapped by a locked VMA of ours");
}

enum { CO_LOCKED = 1, CO_CALL_SINCE = 2, CO_UNTRACED = 4, CO_OTHER_PFN = 8, CO_FAULT_SINCE = 16,
       CO_CALL_OPEN = 32, CO_CPU_MOVED = 64, CO_FAULT_ELSEWHERE = 128, CO_REUSED_MM = 256 };

/*
 * The page model across mms.  Page 0x5000 is mlocked and mapped twice:
 * once by another mm (pid PID + 1) at B, whose held snapshot after its own munlock
 * shows it, and once by us, at A, in a VMA we just munlocked.  CO_LOCKED:
 * its VMA is locked; CO_CALL_SINCE, CO_FAULT_SINCE, CO_CALL_OPEN: it made
 * an mm call, took a fault in its locked VMA, or is inside a call since its
 * snapshot; CO_FAULT_ELSEWHERE: a fault outside its locked VMAs;
 * CO_REUSED_MM: an exited process's mm had the same address (and hash);
 * CO_UNTRACED: kpagecount 3; CO_OTHER_PFN: its snapshot shows another page;
 * CO_CPU_MOVED: its munlock returned on another CPU (munlock_batch_elsewhere).
 */
static struct result shared_after_munlock(int flags)
{
	const char *path = tmp_path("stranded-shared.trace");
	__u32 count = flags & CO_UNTRACED ? 3 : 2;
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	if (flags & CO_REUSED_MM) {	/* a process whose mm had the other's address */
		b.tgid = b.tid = PID + 2, b.mm = MM + 0x1000;
		tb_sys(&b, 9, 0, PG, 3, 0x22, B, NULL);
		tb_exit_mmap(&b);
	}
	b.tgid = b.tid = PID + 1, b.mm = MM + 0x1000;
	tb_sys_enter(&b, 150, B, PG, 0);
	b.cpu = flags & CO_CPU_MOVED ? 1 : 0;
	tb_sys_exit(&b, 150, 0);
	b.cpu = 0;
	tb_snap(&b, 150, st0());
	/* pages of its own first, their PFNs above the shared one: the index sorts them */
	tb_vma(&b, B - 16 * PG, B - 8 * PG, LOCKED_RW, 0, 0, "");
	for (int i = 0; i < 3; i++)
		tb_page(&b, B - 16 * PG + i * PG, TB_PRESENT(0x7000 + i * 0x1000),
			MMR_PF_MLOCKED | MMR_PF_UNEVICTABLE | MMR_PF_ANON, 1);
	tb_vma(&b, B, B + PG, flags & CO_LOCKED ? LOCKED_RW : RW_ANON, 0, 0, "");
	if (flags & CO_OTHER_PFN)
		tb_page(&b, B, TB_PRESENT(0x6000), MMR_PF_ANON, 1);
	else
		tb_page(&b, B, TB_PRESENT(0x5000), MMR_PF_MLOCKED | MMR_PF_ANON, count);
	tb_vma(&b, B + 8 * PG, B + 16 * PG, LOCKED_RW, 0, 0, "");	/* holds no copy of it */
	tb_snap_end(&b, st0());
	if (flags & CO_CALL_SINCE)
		tb_sys(&b, 10, B, PG, 1, 0, 0, NULL);	/* mprotect */
	if (flags & CO_FAULT_SINCE)
		tb_fault(&b, B + 8 * PG, 1);	/* in its locked VMA */
	if (flags & CO_FAULT_ELSEWHERE)
		tb_fault(&b, B, 1);
	if (flags & CO_CALL_OPEN) {
		struct mmr_sys_enter e = { .nr = 149, .args = { B, PG } };

		tb_put(&b, MMR_K_SYS_ENTER, &e, sizeof(e));
	}
	b.tgid = b.tid = PID, b.mm = MM;
	tb_sys(&b, 150, A, PG, 0, 0, 0, NULL);
	tb_snap(&b, 150, st0());
	tb_vma(&b, A, A + PG, RW_ANON, 0, 0, "");
	tb_page(&b, A, TB_PRESENT(0x5000), MMR_PF_MLOCKED | MMR_PF_ANON, count);
	tb_snap_end(&b, st0());
	tb_close(&b);
	return check_file(path);
}

static void test_check_stranded_mlock_shared(void)
{
	static const struct {
		int flags, found;
		const char *what;
	} cases[] = {
		{ 0, 1, "every mapping traced, none locked: stranded-mlock" },
		{ CO_LOCKED, 0, "the other maps it in a locked VMA" },
		{ CO_CALL_SINCE, 0, "the other made an mm call since its snapshot" },
		{ CO_FAULT_SINCE, 0, "the other took a fault in a locked VMA since its snapshot" },
		{ CO_FAULT_ELSEWHERE, 1, "a fault outside its locked VMAs changes nothing" },
		{ CO_REUSED_MM, 1, "its mm took the address of one that exited: a new mm" },
		{ CO_CALL_OPEN, 0, "the other is inside an mlock" },
		{ CO_UNTRACED, 0, "kpagecount 3: an untraced mapper" },
		{ CO_OTHER_PFN, 0, "the other's snapshot shows another page there" },
		{ CO_CPU_MOVED, 0, "the other's munlock moved CPU: its batch may hold the page" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = shared_after_munlock(cases[i].flags);

		ASSERT_EQ(r.nr[V_STRANDED_MLOCK], cases[i].found, cases[i].what);
		ASSERT_TRUE(only(&r, V_STRANDED_MLOCK), "nothing else");
		if (cases[i].found) {
			ASSERT_EQ(r.first_pfn[V_STRANDED_MLOCK], 0x5000, "its pfn");
			ASSERT_EQ(r.first_addr[V_STRANDED_MLOCK], A, "found in our snapshot");
			/* the other's own snapshot came before ours: not judged there */
			ASSERT_STRCONTAINS(r.snap_note[V_STRANDED_MLOCK], "1 shared mlocked pages "
					   "judged across traced mms, 1 not", "counted");
		} else if (cases[i].flags == CO_LOCKED) {
			ASSERT_STRCONTAINS(r.snap_note[V_STRANDED_MLOCK], "1 shared mlocked pages "
					   "judged", "judged: rightly mlocked");
		} else {
			ASSERT_STRCONTAINS(r.snap_note[V_STRANDED_MLOCK], "0 shared mlocked pages "
					   "judged", "counted as not judged");
		}
	}
}

static struct result meminfo(long base, long final, long cleared)
{
	const char *path = tmp_path("meminfo.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	tb_global(&b, MMR_SNAP_REASON_BASELINE, base, 5, 0);
	tb_rss(&b, 1, 3);
	tb_rss(&b, 1, 0);
	tb_exit_mmap(&b);
	tb_global(&b, MMR_SNAP_REASON_END, final, 5 + cleared, 0);
	tb_close(&b);
	return check_file(path);
}

static void test_check_stranded_mlock_meminfo(void)
{
	struct result r;

	r = meminfo(100, 100, 0);
	ASSERT_TRUE(clean(&r), "Mlocked back at its baseline");
	r = meminfo(100, 108, 0);
	ASSERT_TRUE(clean(&r), "system-wide Mlocked drift is a coverage note, not a finding");
	r = meminfo(100, 100, 3);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 1, "unevictable_pgs_cleared rose");
}

static struct result dontneed(__u64 swapped_at, long advice)
{
	const char *path = tmp_path("dontneed.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	tb_sys(&b, 28, A, 4 * PG, advice, 0, 0, NULL);
	tb_snap(&b, 28, tb_counters(-1, -1, 1));
	tb_vma(&b, A, A + 8 * PG, RW_ANON, 0, 0, "");
	tb_page(&b, swapped_at, TB_SWAP(0, 12), 0, 0);
	tb_snap_end(&b, tb_counters(-1, -1, 1));
	tb_close(&b);
	return check_file(path);
}

static void test_check_skipped_swap_dontneed(void)
{
	struct result r;

	r = dontneed(A + 2 * PG, 4);
	ASSERT_EQ(r.nr[V_SKIPPED_SWAP], 1, "swap PTE inside the MADV_DONTNEED range");
	ASSERT_TRUE(only(&r, V_SKIPPED_SWAP), "nothing else");
	r = dontneed(A + 5 * PG, 4);
	ASSERT_TRUE(clean(&r), "swap PTE outside the range");
	r = dontneed(A + 2 * PG, 21);
	ASSERT_TRUE(clean(&r), "MADV_PAGEOUT does not zap");
}

static struct result truncate_to(__u64 size, __u32 vma_flags)
{
	const struct mmr_file_id file = { .ino = 77, .dev = 0x800001, .valid = 1 };
	const char *path = tmp_path("truncate.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	tb_sys(&b, 77, 3, size, 0, 0, 0, &file);
	tb_snap(&b, 77, tb_counters(-1, -1, 1));
	tb_vma(&b, A, A + 4 * PG, vma_flags, 77, 0, "/tmp/f");
	tb_page(&b, A + 2 * PG, TB_SWAP(0, 99), 0, 0);	/* file offset 8192 */
	tb_snap_end(&b, tb_counters(-1, -1, 1));
	tb_close(&b);
	return check_file(path);
}

static void test_check_skipped_swap_truncate(void)
{
	struct result r;

	r = truncate_to(PG, RW_FILE);
	ASSERT_EQ(r.nr[V_SKIPPED_SWAP], 1, "COWed swap PTE beyond the new EOF");
	ASSERT_STRCONTAINS(r.op[V_SKIPPED_SWAP], "ftruncate(", "op");
	r = truncate_to(3 * PG, RW_FILE);
	ASSERT_TRUE(clean(&r), "swap PTE below the new EOF");
}

static struct result vmswap_on(const char *release, long vm_swap, __u64 second)
{
	const char *path = tmp_path("vmswap.trace");
	struct tb b;

	tb_open(&b, path, release, PID, MM);
	tb_sys(&b, 11, A + 8 * PG, PG, 0, 0, 0, NULL);
	tb_snap(&b, 11, tb_counters(-1, -1, vm_swap));
	tb_vma(&b, A, A + 4 * PG, RW_ANON, 0, 0, "");
	tb_page(&b, A, TB_SWAP(0, 5), 0, 0);
	tb_page(&b, A + PG, second, 0, 0);
	tb_snap_end(&b, tb_counters(-1, -1, vm_swap));
	tb_close(&b);
	return check_file(path);
}

static struct result vmswap(long vm_swap, __u64 second)
{
	return vmswap_on("6.18.0", vm_swap, second);
}

static void test_check_skipped_swap_vmswap(void)
{
	struct result r;

	r = vmswap_on("6.15.0", 3, TB_SWAP(0, 6));
	ASSERT_TRUE(clean(&r), "6.15's VmSwap leaves out the per-CPU part: not compared");
	ASSERT_STRCONTAINS(r.snap_note[V_SKIPPED_SWAP], "before 6.16", "the note says why");
	r = vmswap_on("6.16.0", 3, TB_SWAP(0, 6));
	ASSERT_EQ(r.nr[V_SKIPPED_SWAP], 1, "6.16's VmSwap is exact: compared");

	r = vmswap(2, TB_SWAP(0, 6));
	ASSERT_TRUE(clean(&r), "VmSwap equals the swap PTEs");
	r = vmswap(3, TB_SWAP(0, 6));
	ASSERT_EQ(r.nr[V_SKIPPED_SWAP], 1, "VmSwap counts an entry no PTE holds (munmap skipped it)");
	r = vmswap(1, TB_SWAP(29, 6));
	ASSERT_TRUE(clean(&r), "a migration entry is not a swap entry");
}

static struct result punch(__u64 after)
{
	const struct mmr_file_id file = { .ino = 88, .dev = 0x800001, .valid = 1 };
	const char *path = tmp_path("punch.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	tb_sys(&b, 28, A, 4 * PG, 21, 0, 0, NULL);	/* MADV_PAGEOUT */
	tb_snap(&b, 28, tb_counters(-1, -1, 1));
	tb_vma(&b, A, A + 4 * PG, RW_FILE, 88, 0, "/tmp/g");
	tb_page(&b, A + PG, TB_SWAP(0, 40), 0, 0);
	tb_page(&b, A + 2 * PG, TB_PRESENT(0x6000) | MMR_PM_FILE, 0, 2);	/* page cache */
	tb_snap_end(&b, tb_counters(-1, -1, 1));
	tb_sys(&b, 285, 3, 3, 0, 4 * PG, 0, &file);	/* fallocate PUNCH_HOLE|KEEP_SIZE */
	tb_snap(&b, 285, tb_counters(-1, -1, after ? 1 : 0));
	tb_vma(&b, A, A + 4 * PG, RW_FILE, 88, 0, "/tmp/g");
	if (after)
		tb_page(&b, A + PG, after, 0, 0);
	tb_snap_end(&b, tb_counters(-1, -1, after ? 1 : 0));
	tb_close(&b);
	return check_file(path);
}

static void test_check_dropped_cow_swap(void)
{
	struct result r;

	r = punch(TB_SWAP(0, 40));
	ASSERT_TRUE(clean(&r), "private swapped COW page kept; page cache page zapped");
	r = punch(0);
	ASSERT_EQ(r.nr[V_DROPPED_COW_SWAP], 1, "hole punch dropped the COWed swap entry");
	ASSERT_EQ(r.first_addr[V_DROPPED_COW_SWAP], A + PG, "at the COWed page");
	ASSERT_TRUE(only(&r, V_DROPPED_COW_SWAP), "nothing else");
}

static struct result rss_exit_of(long last_swap, long after, const char *stats)
{
	const char *path = tmp_path("rss.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	tb_rss(&b, 2, 3);
	tb_rss(&b, 2, last_swap);
	tb_exit_mmap(&b);
	if (after)
		tb_rss(&b, 1, after);	/* a later mm at the same address */
	tb_close_stats(&b, stats);
	return check_file(path);
}

static struct result rss_exit_reused(long last_swap, long after)
{
	return rss_exit_of(last_swap, after, "events=3\ndrops=0\n");
}

static struct result rss_exit(long last_swap)
{
	return rss_exit_reused(last_swap, 0);
}

static void test_check_rss_at_exit(void)
{
	struct result r;

	r = rss_exit(0);
	ASSERT_TRUE(clean(&r), "MM_SWAPENTS back at 0");
	r = rss_exit(2);
	ASSERT_EQ(r.nr[V_RSS_MISMATCH], 1, "MM_SWAPENTS left at 2 after exit_mmap");
	r = rss_exit_reused(0, 7);
	ASSERT_TRUE(clean(&r), "judged at exit_mmap: a later mm at the same address is not this one");
	r = rss_exit_of(2, 0, "events=9\ndrops=1\n");
	ASSERT_TRUE(clean(&r), "events dropped: a stale count is no finding");
	ASSERT_STRCONTAINS(r.event_note[V_RSS_MISMATCH], "findings are withheld", "the note says so");
	r = rss_exit_of(2, 0, "events=3\ndrops=0\nrss_unattributed=4\n");
	ASSERT_TRUE(clean(&r), "remote changes with mm_id 0: a count they may have changed is no finding");
	ASSERT_STRCONTAINS(r.event_note[V_RSS_MISMATCH], "4 remote changes had kmem:rss_stat mm_id 0",
			   "the note says how many");
	ASSERT_STRCONTAINS(r.event_note[V_RSS_MISMATCH], "its 1 findings are withheld",
			   "and how many findings it withheld");
}

enum { RSS_THREADS = 1, RSS_DROPS = 2 };

/*
 * MM_ANONPAGES at 10 and MM_FILEPAGES at 5 by rss_stat, then a held
 * snapshot whose status says @status_anon and @status_file; with
 * RSS_THREADS a second thread of the mm made the last change and the call;
 * with RSS_DROPS the recorder dropped an event.
 */
static struct result rss_snapshot_of(const char *release, long status_anon, long status_file,
				     int flags)
{
	const char *path = tmp_path("rss_snap.trace");
	struct tb b;

	tb_open(&b, path, release, PID, MM);
	tb_rss(&b, 0, 5);
	tb_rss(&b, 1, 9);
	if (flags & RSS_THREADS)
		b.tid = PID + 1;
	tb_rss(&b, 1, 10);
	tb_sys(&b, 150, A, PG, 0, 0, 0, NULL);
	tb_snap(&b, 150, tb_counters(status_anon, status_file, 0));
	tb_snap_end(&b, tb_counters(status_anon, status_file, 0));
	tb_close_stats(&b, flags & RSS_DROPS ? "events=9\ndrops=1\n" : "events=9\ndrops=0\n");
	return check_file(path);
}

static struct result rss_snapshot(const char *release, long status_anon)
{
	return rss_snapshot_of(release, status_anon, 5, 0);
}

static void test_check_rss_snapshot(void)
{
	struct result r;

	r = rss_snapshot("6.18.0", 10);
	ASSERT_TRUE(clean(&r), "rss_stat agrees with status");
	r = rss_snapshot("6.18.0", 12);
	ASSERT_EQ(r.nr[V_RSS_MISMATCH], 1, "rss_stat disagrees with status");
	r = rss_snapshot("6.1.0", 12);
	ASSERT_TRUE(clean(&r), "6.1 caches rss per thread: not compared");
	r = rss_snapshot("6.15.0", 12);
	ASSERT_TRUE(clean(&r), "6.15's status leaves out the per-CPU part: not compared");
	ASSERT_STRCONTAINS(r.event_note[V_RSS_MISMATCH], "before 6.16", "the note says why");
	r = rss_snapshot("6.16.0", 12);
	ASSERT_EQ(r.nr[V_RSS_MISMATCH], 1, "6.16's status is exact: compared");
	r = rss_snapshot_of("6.18.0", 10, 5, RSS_THREADS);
	ASSERT_TRUE(clean(&r), "two threads: agrees");
	r = rss_snapshot_of("6.18.0", 12, 5, RSS_THREADS);
	ASSERT_EQ(r.nr[V_RSS_MISMATCH], 1, "two threads: judged like one");
	r = rss_snapshot_of("6.18.0", 10, 7, 0);
	ASSERT_EQ(r.nr[V_RSS_MISMATCH], 1, "MM_FILEPAGES is compared too");
	r = rss_snapshot_of("6.18.0", 12, 5, RSS_DROPS);
	ASSERT_TRUE(clean(&r), "events dropped: not held against status");
}

/* Exit status and JSON of the command; a truncated trace is an error. */
/* ---- event ledgers (no snapshots; a 6.1 kernel with kprobes) -------- */

#define KSWAPD 77
#define P1 0x5000ULL
#define P2 0x5001ULL

enum { SWAPIN_FIRST = 1, KSWAPD_OUT = 2, TTU_FAILS = 4, DROPS = 8 };

/*
 * Two COWed pages of a private file mapping swapped out, then ftruncate:
 * the zap (even_cows) must free both swap entries; it frees @freed.
 */
static struct result ledger_truncate(int freed, int flags)
{
	const char *path = tmp_path("ledger-trunc.trace");
	struct tb b;

	tb_open(&b, path, "6.1.0", PID, MM);
	for (int i = 0; i < 2; i++) {
		if (flags & KSWAPD_OUT)
			b.tid = KSWAPD;
		tb_rmap(&b, MMR_K_TRY_TO_UNMAP_ONE, P1 + i, A + i * PG, A + 8 * PG);
		if (!(flags & TTU_FAILS))
			tb_rss(&b, 2, i + 1);
		b.tid = PID;
	}
	if (flags & SWAPIN_FIRST)
		tb_swapin(&b, A + 4);
	tb_sys_enter(&b, 77, 3, 0, 0);
	tb_zap(&b, MMR_K_UNMAP_PAGE_RANGE, A, A + 8 * PG, 1, 1);
	for (int i = 0; i < freed; i++)
		tb_free_swap(&b, 0x200 + i);
	tb_rss(&b, 2, (flags & TTU_FAILS ? 0 : 2) - freed);
	tb_zap(&b, MMR_K_ZAP_DONE, A, A + 8 * PG, 1, 1);
	tb_sys_exit(&b, 77, 0);
	tb_close_stats(&b, flags & DROPS ? "events=40\ndrops=5\n" : "events=40\ndrops=0\n");
	return check_file(path);
}

static void test_check_ledger_skipped_swap(void)
{
	struct result r;

	r = ledger_truncate(2, 0);
	ASSERT_TRUE(clean(&r), "the truncate freed both swap entries");
	ASSERT_EQ(r.event_checked[V_SKIPPED_SWAP], 1, "one zap judged");
	ASSERT_TRUE(strstr(r.event_note[V_SKIPPED_SWAP], "1 over swapped pages") != NULL,
		    "the note counts it");
	r = ledger_truncate(0, 0);
	ASSERT_EQ(r.nr[V_SKIPPED_SWAP], 1, "the zap skipped the swap entries");
	ASSERT_EQ(r.first_addr[V_SKIPPED_SWAP], A, "at the first swapped page");
	ASSERT_EQ(r.first_pages[V_SKIPPED_SWAP], 2, "both");
	ASSERT_TRUE(strstr(r.op[V_SKIPPED_SWAP], "ftruncate") != NULL, "op is the ftruncate");
	ASSERT_TRUE(only(&r, V_SKIPPED_SWAP), "nothing else");
	r = ledger_truncate(1, 0);
	ASSERT_EQ(r.first_pages[V_SKIPPED_SWAP], 1, "one of two skipped");
	r = ledger_truncate(1, SWAPIN_FIRST);
	ASSERT_TRUE(clean(&r), "a page swapped back in before the zap is not expected");
	r = ledger_truncate(0, KSWAPD_OUT);
	ASSERT_EQ(r.nr[V_SKIPPED_SWAP], 1, "swap-outs by kswapd are learned too");
	r = ledger_truncate(0, TTU_FAILS);
	ASSERT_TRUE(clean(&r), "try_to_unmap_one without MM_SWAPENTS rising installs nothing");
	r = ledger_truncate(0, DROPS);
	ASSERT_TRUE(clean(&r), "dropped events: ledger findings withheld");
	ASSERT_TRUE(strstr(r.event_note[V_SKIPPED_SWAP], "withheld") != NULL, "and said so");
}

/* A swapped COW page, then a hole punch (zap_details, even_cows=0) freeing @freed. */
static struct result ledger_punch(int freed)
{
	const char *path = tmp_path("ledger-punch.trace");
	struct tb b;

	tb_open(&b, path, "6.1.0", PID, MM);
	tb_rmap(&b, MMR_K_TRY_TO_UNMAP_ONE, P1, A + PG, A + 8 * PG);
	tb_rss(&b, 2, 1);
	tb_sys_enter(&b, 285, 3, 3, 0);
	tb_zap(&b, MMR_K_UNMAP_PAGE_RANGE, A, A + 4 * PG, 1, 0);
	for (int i = 0; i < freed; i++)
		tb_free_swap(&b, 0x300);
	tb_zap(&b, MMR_K_ZAP_DONE, A, A + 4 * PG, 1, 0);
	tb_sys_exit(&b, 285, 0);
	tb_close(&b);
	return check_file(path);
}

static void test_check_ledger_dropped_cow_swap(void)
{
	struct result r;

	r = ledger_punch(0);
	ASSERT_TRUE(clean(&r), "the punch kept the COWed swap entry");
	ASSERT_EQ(r.event_checked[V_DROPPED_COW_SWAP], 1, "one keep-zap judged");
	r = ledger_punch(1);
	ASSERT_EQ(r.nr[V_DROPPED_COW_SWAP], 1, "the punch freed it");
	ASSERT_EQ(r.first_addr[V_DROPPED_COW_SWAP], A + PG, "at the COWed page");
	ASSERT_TRUE(strstr(r.op[V_DROPPED_COW_SWAP], "fallocate") != NULL, "op is the fallocate");
	ASSERT_TRUE(only(&r, V_DROPPED_COW_SWAP), "nothing else");
}

enum { NEW_MLOCKED = 1, NEW_OTHER_PFN = 2, NEW_SWAPIN = 4, NEW_SWAPIN_ELSEWHERE = 8,
       NEW_RSS_BETWEEN = 16, NEW_OTHER_TASK_BETWEEN = 32, NEW_SECOND = 64, NEW_ENDS = 128,
       NEW_NO_MLOCK_KIND = 256 };

/*
 * A fault maps new page P1 at A into a VM_LOCKED vma (new_anon_rmap); the
 * kernel's next step for that task is mlock_new_folio(P1) (NEW_MLOCKED).
 * NEW_OTHER_PFN: it mlocks another folio; NEW_SWAPIN(_ELSEWHERE): a swap
 * fault at A (elsewhere) came first; NEW_RSS_BETWEEN, _OTHER_TASK_BETWEEN:
 * an rss_stat, another task's event in between; NEW_SECOND: a second new
 * page P2 mapped and mlocked after P1; NEW_ENDS: the trace ends there;
 * NEW_NO_MLOCK_KIND: mlock_new_folio could not be recorded.
 */
static struct result new_locked_page(int flags)
{
	const char *path = tmp_path("ledger-new.trace");
	struct tb b;

	tb_open(&b, path, "6.1.0", PID, MM);
	if (flags & NEW_NO_MLOCK_KIND) {	/* replaces the ok one */
		char kind[256];

		snprintf(kind, sizeof(kind), "id=%d\nname=mlock_new_folio\nsystem=mmreplay\n"
			 "source=func\nattach=-\nstatus=kprobes not supported\nformat:\n",
			 MMR_K_MLOCK_NEW_FOLIO);
		mmr_writer_chunk(b.w, MMR_CHUNK_KIND, kind, strlen(kind));
	}
	if (flags & (NEW_SWAPIN | NEW_SWAPIN_ELSEWHERE))
		tb_swapin(&b, flags & NEW_SWAPIN ? A + 0x123 : A + 8 * PG);
	tb_rmap(&b, MMR_K_NEW_ANON_RMAP, P1, A, A + 4 * PG);
	if (flags & NEW_ENDS) {
		tb_close(&b);
		return check_file(path);
	}
	if (flags & NEW_RSS_BETWEEN)
		tb_rss(&b, 1, 1);
	if (flags & NEW_OTHER_TASK_BETWEEN) {
		b.tid = PID + 1;
		tb_lru(&b, P2, 0);
		b.tid = PID;
	}
	if (flags & NEW_SECOND) {
		tb_rmap(&b, MMR_K_NEW_ANON_RMAP, P2, A + PG, A + 4 * PG);
		tb_mlock(&b, MMR_K_MLOCK_NEW_FOLIO, P2, 1);
	}
	if (flags & (NEW_MLOCKED | NEW_OTHER_PFN))
		tb_mlock(&b, MMR_K_MLOCK_NEW_FOLIO, flags & NEW_OTHER_PFN ? P2 : P1, 1);
	tb_lru(&b, flags & NEW_MLOCKED ? P2 : P1, 0);
	tb_close(&b);
	return check_file(path);
}

static void test_check_ledger_new_locked_page(void)
{
	static const struct { int flags, lost; const char *what; } cases[] = {
		{ NEW_MLOCKED, 0, "mlock_new_folio next: clean" },
		{ 0, 1, "an LRU insertion next, no mlock_new_folio: lost-mlock" },
		{ NEW_OTHER_PFN, 1, "mlock_new_folio of another folio next: lost-mlock" },
		{ NEW_SWAPIN, 0, "swapped in at its address (6.18 do_swap_page): not judged" },
		{ NEW_SWAPIN_ELSEWHERE, 1, "a swap fault elsewhere exempts nothing: lost-mlock" },
		{ NEW_MLOCKED | NEW_RSS_BETWEEN, 0, "an rss_stat in between: still next" },
		{ NEW_MLOCKED | NEW_OTHER_TASK_BETWEEN, 0, "another task's event in between: "
		  "still next" },
		{ NEW_SECOND | NEW_MLOCKED, 1, "a second new page mapped first: lost-mlock" },
		{ NEW_ENDS, 0, "the trace ends after it: not judged" },
		{ NEW_NO_MLOCK_KIND, 0, "mlock_new_folio not recorded: not judged" },
	};
	struct result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = new_locked_page(cases[i].flags);
		ASSERT_EQ(r.nr[V_LOST_MLOCK], cases[i].lost, cases[i].what);
		ASSERT_TRUE(only(&r, V_LOST_MLOCK), cases[i].what);
		if (cases[i].lost)
			ASSERT_EQ(r.first_pfn[V_LOST_MLOCK], P1, "the new page's pfn");
	}
	r = new_locked_page(NEW_MLOCKED);
	ASSERT_TRUE(strstr(r.event_note[V_LOST_MLOCK], "1 new pages of VM_LOCKED vmas checked") !=
		    NULL, r.event_note[V_LOST_MLOCK]);
	r = new_locked_page(NEW_SWAPIN);
	ASSERT_TRUE(strstr(r.event_note[V_LOST_MLOCK], "0 new pages of VM_LOCKED vmas checked "
			   "for mlock_new_folio (1 more swapped in") != NULL, r.event_note[V_LOST_MLOCK]);
	r = new_locked_page(NEW_NO_MLOCK_KIND);
	ASSERT_TRUE(strstr(r.event_note[V_LOST_MLOCK], "not checked from events "
			   "(mlock_new_folio: kprobes not supported") != NULL, r.event_note[V_LOST_MLOCK]);
}

enum { MLOCKED_ONCE = 1, INSERTED_DURING = 2, LARGE = 4 };

/* Page P1 entered an evictable LRU, then munlock of its range munlocks it. */
static struct result ledger_munlock(int flags)
{
	const char *path = tmp_path("ledger-lost.trace");
	struct tb b;

	tb_open(&b, path, "6.1.0", PID, MM);
	if (!(flags & INSERTED_DURING))
		tb_lru(&b, P1, 0);
	if (flags & MLOCKED_ONCE)
		tb_mlock(&b, MMR_K_MLOCK_FOLIO, P1, 1);
	tb_sys_enter(&b, 150, A, 4 * PG, 0);
	if (flags & INSERTED_DURING)
		tb_lru(&b, P1, 0);	/* a fault racing with the munlock */
	tb_mlock(&b, MMR_K_MUNLOCK_FOLIO, P1, flags & LARGE ? 0 : 1);
	tb_sys_exit(&b, 150, 0);
	tb_close(&b);
	return check_file(path);
}

static void test_check_ledger_lost_mlock(void)
{
	struct result r;

	r = ledger_munlock(0);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "munlocked page never mlocked");
	ASSERT_EQ(r.first_pfn[V_LOST_MLOCK], P1, "its pfn");
	ASSERT_TRUE(strstr(r.op[V_LOST_MLOCK], "munlock") != NULL, "op is the munlock");
	ASSERT_TRUE(only(&r, V_LOST_MLOCK), "nothing else");
	r = ledger_munlock(MLOCKED_ONCE);
	ASSERT_TRUE(clean(&r), "mlocked, then munlocked");
	ASSERT_EQ(r.event_checked[V_LOST_MLOCK], 1, "one page judged");
	r = ledger_munlock(INSERTED_DURING);
	ASSERT_TRUE(clean(&r), "inserted while the munlock ran: a racing fault, by design");
	r = ledger_munlock(LARGE);
	ASSERT_TRUE(clean(&r), "PTE-mapped large folios are left alone");
}

enum { SAME_TASK = 1, NO_MIGRATION = 2, MUNLOCKED_SINCE = 4 };

/*
 * P1 entered an evictable LRU and was never mlocked; another process (a
 * write to compact_memory or memory.reclaim: no syscall the recording
 * sees) unmaps it for migration (@walk: try_to_migrate_one) or reclaim
 * (try_to_unmap_one), then munlocks it, as 6.1's page_remove_rmap() does
 * when an mlock() set VM_LOCKED during the walk.  Just outside the rule:
 * no such walk over P1, or one by another task, or a munlock of P1 since.
 */
static struct result ledger_rmap_walk(int walk, int flags)
{
	const char *path = tmp_path("ledger-compact.trace");
	struct tb b;

	tb_open(&b, path, "6.1.0", PID, MM);
	tb_lru(&b, P1, 0);
	b.tgid = b.tid = PID + 1, b.mm = MM + 0x1000;	/* the compacting process */
	if (!(flags & NO_MIGRATION)) {
		b.tid = flags & SAME_TASK ? PID + 1 : PID + 2;
		tb_rmap(&b, walk, P1, A + PG, A + 4 * PG);
		b.tid = PID + 1;
	}
	if (flags & MUNLOCKED_SINCE)
		tb_mlock(&b, MMR_K_MUNLOCK_FOLIO, P1, 1);
	tb_mlock(&b, MMR_K_MUNLOCK_FOLIO, P1, 1);
	tb_close(&b);
	return check_file(path);
}

static void test_check_ledger_compaction_munlock(void)
{
	struct result r;

	r = ledger_rmap_walk(MMR_K_TRY_TO_MIGRATE_ONE, SAME_TASK);
	ASSERT_TRUE(clean(&r), "the migrating task's own munlock of the page: by design");
	r = ledger_rmap_walk(MMR_K_TRY_TO_MIGRATE_ONE, NO_MIGRATION);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "no migration of the page: lost-mlock");
	r = ledger_rmap_walk(MMR_K_TRY_TO_MIGRATE_ONE, 0);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "migrated by another task: lost-mlock");
	r = ledger_rmap_walk(MMR_K_TRY_TO_MIGRATE_ONE, SAME_TASK | MUNLOCKED_SINCE);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "munlocked again after its migration's munlock");
}

/* The same race with reclaim: seen under explore's memory.reclaim in a 6.1 guest. */
static void test_check_ledger_reclaim_munlock(void)
{
	struct result r;

	r = ledger_rmap_walk(MMR_K_TRY_TO_UNMAP_ONE, SAME_TASK);
	ASSERT_TRUE(clean(&r), "the reclaiming task's own munlock of the page it unmapped: by design");
	ASSERT_EQ(r.event_checked[V_LOST_MLOCK], 1, "and the munlock is counted as checked");
	r = ledger_rmap_walk(MMR_K_TRY_TO_UNMAP_ONE, NO_MIGRATION);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "no unmap of the page: lost-mlock");
	r = ledger_rmap_walk(MMR_K_TRY_TO_UNMAP_ONE, 0);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "unmapped by another task: lost-mlock");
	r = ledger_rmap_walk(MMR_K_TRY_TO_UNMAP_ONE, SAME_TASK | MUNLOCKED_SINCE);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "munlocked again after its unmap's munlock");
}

enum { WK_BEFORE = 1, WK_SHARED = 2, WK_RELOCKED = 4, WK_LOCKING = 8, WK_OTHER_PFN = 16,
       WK_TTU = 32, WK_LATE = 64 };

/*
 * P1 of a locked private vma is on an evictable LRU.  Reclaim (task
 * KSWAPD of another process) begins an rmap walk of it (folio_referenced_one,
 * or with WK_TTU try_to_unmap_one); munlock of the range munlocks it; then
 * the walk mlocks it: the stale VM_LOCKED of rmap-vs-munlock.patch.  Just
 * inside the rules: the walk's mlock before the munlock's (WK_BEFORE), a
 * shared vma (an untraced locked mapper may be the walk's), the range
 * locked again by a completed mlock (WK_RELOCKED) or one in flight in
 * another thread (WK_LOCKING), the walk's last page another (WK_OTHER_PFN),
 * the walk begun after the munlock (WK_LATE: it saw no VM_LOCKED here, so
 * its mlock is for another mapper's vma).
 */
static struct result ledger_walk(int flags)
{
	const char *path = tmp_path("ledger-walk.trace");
	struct mmr_rmap w = { .pfn = flags & WK_OTHER_PFN ? P2 : P1, .address = A + PG,
			      .vm_start = A, .vm_end = A + 4 * PG, .nr_pages = 1,
			      .vm_flags = 0x2073 | (flags & WK_SHARED ? 0x88 : 0) };
	struct tb b;

	tb_open(&b, path, "6.1.0", PID, MM);
	tb_lru(&b, P1, 0);
	tb_sys_enter(&b, 149, A, 4 * PG, 0);		/* mlock */
	tb_mlock(&b, MMR_K_MLOCK_FOLIO, P1, 1);
	tb_sys_exit(&b, 149, 0);
	b.tid = KSWAPD;
	if (!(flags & WK_LATE))
		tb_put(&b, flags & WK_TTU ? MMR_K_TRY_TO_UNMAP_ONE : MMR_K_FOLIO_REFERENCED_ONE,
		       &w, sizeof(w));
	if (flags & WK_BEFORE)
		tb_mlock(&b, MMR_K_MLOCK_FOLIO, P1, 1);
	b.tid = PID;
	tb_sys_enter(&b, 150, A, 4 * PG, 0);		/* munlock */
	tb_mlock(&b, MMR_K_MUNLOCK_FOLIO, P1, 1);
	tb_sys_exit(&b, 150, 0);
	if (flags & WK_RELOCKED)
		tb_sys(&b, 149, A, 4 * PG, 0, 0, 0, NULL);
	if (flags & WK_LOCKING) {
		b.tid = PID + 1;
		tb_sys_enter(&b, 149, A, 4 * PG, 0);
	}
	b.tid = KSWAPD;
	if (flags & WK_LATE)
		tb_put(&b, MMR_K_FOLIO_REFERENCED_ONE, &w, sizeof(w));
	if (!(flags & WK_BEFORE))
		tb_mlock(&b, MMR_K_MLOCK_FOLIO, P1, 1);
	tb_close(&b);
	return check_file(path);
}

static void test_check_ledger_walk_after_munlock(void)
{
	struct result r;

	r = ledger_walk(0);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 1, "an rmap walk mlocks the page after its munlock");
	ASSERT_EQ(r.first_pfn[V_STRANDED_MLOCK], P1, "its pfn");
	ASSERT_TRUE(only(&r, V_STRANDED_MLOCK), "nothing else");
	r = ledger_walk(WK_TTU);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 1, "try_to_unmap_one's walk too");
	ASSERT_STRCONTAINS(r.event_note[V_STRANDED_MLOCK], "1 mlocks by reclaim's rmap walks",
			   "the coverage counts the walk's mlock");
	r = ledger_walk(WK_BEFORE);
	ASSERT_TRUE(clean(&r), "the walk's mlock before the munlock's munlock: by design");
	r = ledger_walk(WK_SHARED);
	ASSERT_TRUE(clean(&r), "a shared vma: another mapper's locked vma may be the walk's");
	r = ledger_walk(WK_RELOCKED);
	ASSERT_TRUE(clean(&r), "an mlock of the range since the munlock");
	r = ledger_walk(WK_LOCKING);
	ASSERT_TRUE(clean(&r), "an mlock of that mm in flight");
	r = ledger_walk(WK_OTHER_PFN);
	ASSERT_TRUE(clean(&r), "the walk was over another page");
	r = ledger_walk(WK_LATE);
	ASSERT_TRUE(clean(&r), "the walk began after the munlock: its mlock is another vma's");
}

enum { MUNLOCK_P2 = 1, MIGRATE_P2 = 2, PARTIAL = 4 };

/* mlock(A, 4 pages) mlocks P1 and P2; munlock then munlocks P1 and maybe P2. */
static struct result ledger_stranded(int flags)
{
	const char *path = tmp_path("ledger-stranded.trace");
	struct tb b;

	tb_open(&b, path, "6.1.0", PID, MM);
	tb_sys_enter(&b, 149, A, 4 * PG, 0);
	tb_mlock(&b, MMR_K_MLOCK_FOLIO, P1, 1);
	tb_mlock(&b, MMR_K_MLOCK_NEW_FOLIO, P2, 1);
	tb_sys_exit(&b, 149, 0);
	if (flags & MIGRATE_P2)
		tb_rmap(&b, MMR_K_TRY_TO_MIGRATE_ONE, P2, A + PG, A + 4 * PG);
	tb_sys_enter(&b, 150, A, (flags & PARTIAL ? 1 : 4) * PG, 0);
	tb_mlock(&b, MMR_K_MUNLOCK_FOLIO, P1, 1);
	if (flags & MUNLOCK_P2)
		tb_mlock(&b, MMR_K_MUNLOCK_FOLIO, P2, 1);
	tb_sys_exit(&b, 150, 0);
	tb_close(&b);
	return check_file(path);
}

static void test_check_ledger_stranded_mlock(void)
{
	struct result r;

	r = ledger_stranded(0);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 1, "munlock left P2 mlocked");
	ASSERT_EQ(r.first_pfn[V_STRANDED_MLOCK], P2, "its pfn");
	ASSERT_TRUE(only(&r, V_STRANDED_MLOCK), "nothing else");
	r = ledger_stranded(MUNLOCK_P2);
	ASSERT_TRUE(clean(&r), "both munlocked");
	ASSERT_EQ(r.event_checked[V_STRANDED_MLOCK], 2, "two pages judged");
	r = ledger_stranded(MIGRATE_P2);
	ASSERT_TRUE(clean(&r), "P2 migrated away: its new page is not this record's");
	r = ledger_stranded(PARTIAL);
	ASSERT_TRUE(clean(&r), "a munlock of part of the range is not judged");
}

enum { FREED = 1, NO_FREE_KIND = 2, HEAD_OF_LARGE = 4 };

/*
 * PFN lifetime.  P1 lives once as a page mlocked and munlocked, then, if
 * FREED, is freed and comes back as another page: it enters an evictable
 * LRU and a munlock of its range munlocks it, never mlocked in this life.
 * HEAD_OF_LARGE: the free is of an order-2 folio whose head is below P1.
 */
static struct result ledger_reused(int flags)
{
	const char *path = tmp_path("ledger-reused.trace");
	struct tb b;

	tb_open(&b, path, "6.1.0", PID, MM);
	if (!(flags & NO_FREE_KIND))
		tb_page_free_kind(&b);
	tb_lru(&b, P1, 0);
	tb_sys_enter(&b, 149, A, 4 * PG, 0);
	tb_mlock(&b, MMR_K_MLOCK_FOLIO, P1, 1);
	tb_sys_exit(&b, 149, 0);
	tb_sys_enter(&b, 150, A, 4 * PG, 0);
	tb_mlock(&b, MMR_K_MUNLOCK_FOLIO, P1, 1);
	tb_sys_exit(&b, 150, 0);
	if (flags & FREED)
		tb_page_free(&b, flags & HEAD_OF_LARGE ? P1 - 2 : P1, flags & HEAD_OF_LARGE ? 2 : 0);
	tb_lru(&b, P1, 0);
	tb_sys_enter(&b, 150, A + 8 * PG, 4 * PG, 0);
	tb_mlock(&b, MMR_K_MUNLOCK_FOLIO, P1, 1);
	tb_sys_exit(&b, 150, 0);
	tb_close(&b);
	return check_file(path);
}

static void test_check_ledger_pfn_reused_lost(void)
{
	struct result r;

	r = ledger_reused(FREED);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "freed, then another page never mlocked: lost-mlock");
	ASSERT_EQ(r.first_pfn[V_LOST_MLOCK], P1, "its pfn");
	ASSERT_TRUE(only(&r, V_LOST_MLOCK), "nothing else");
	r = ledger_reused(FREED | HEAD_OF_LARGE);
	ASSERT_EQ(r.nr[V_LOST_MLOCK], 1, "freed inside a large folio: lost-mlock");
	r = ledger_reused(0);
	ASSERT_TRUE(clean(&r), "not freed: the same page, mlocked before, is left alone");
	r = ledger_reused(FREED | NO_FREE_KIND);
	ASSERT_TRUE(clean(&r), "no mm_page_free in the trace: a free is not believed");
}

/*
 * mlock(A, 4 pages) mlocks P1 and P2; P2 is freed (FREED) and its PFN is
 * someone else's page; munlock of the range munlocks P1 only.
 */
static struct result ledger_stranded_freed(int flags)
{
	const char *path = tmp_path("ledger-stranded-freed.trace");
	struct tb b;

	tb_open(&b, path, "6.1.0", PID, MM);
	if (!(flags & NO_FREE_KIND))
		tb_page_free_kind(&b);
	tb_sys_enter(&b, 149, A, 4 * PG, 0);
	tb_mlock(&b, MMR_K_MLOCK_FOLIO, P1, 1);
	tb_mlock(&b, MMR_K_MLOCK_NEW_FOLIO, P2, 1);
	tb_sys_exit(&b, 149, 0);
	if (flags & FREED)
		tb_page_free(&b, P2, 0);
	tb_sys_enter(&b, 150, A, 4 * PG, 0);
	tb_mlock(&b, MMR_K_MUNLOCK_FOLIO, P1, 1);
	tb_sys_exit(&b, 150, 0);
	tb_close(&b);
	return check_file(path);
}

static void test_check_ledger_pfn_freed_stranded(void)
{
	struct result r;

	r = ledger_stranded_freed(FREED);
	ASSERT_TRUE(clean(&r), "P2 freed since its mlock: the record of it is stale");
	ASSERT_EQ(r.event_checked[V_STRANDED_MLOCK], 2, "both pages still counted as judged");
	r = ledger_stranded_freed(0);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 1, "P2 not freed: stranded-mlock");
	ASSERT_EQ(r.first_pfn[V_STRANDED_MLOCK], P2, "its pfn");
	r = ledger_stranded_freed(FREED | NO_FREE_KIND);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 1, "no mm_page_free in the trace: stranded-mlock");
}

/*
 * munlock(A, 64 pages) of mm @mm (pid @pid): a snapshot with 32 pages left
 * mlocked, every other page, so no two are contiguous.
 */
static void stranded_every_other(struct tb *b, int pid, __u64 mm, __u64 pfn)
{
	b->tgid = b->tid = pid;
	b->mm = mm;
	tb_sys(b, 150, A, 64 * PG, 0, 0, 0, NULL);
	tb_snap(b, 150, st0());
	tb_vma(b, A, A + 64 * PG, RW_ANON, 0, 0, "");
	for (int i = 0; i < 32; i++)
		tb_page(b, A + 2 * i * PG, TB_PRESENT(pfn + i), MMR_PF_MLOCKED | MMR_PF_ANON, 1);
	tb_snap_end(b, st0());
}

static struct result stranded_grouped(int mms)
{
	const char *path = tmp_path("grouped.trace");
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	for (int i = 0; i < mms; i++) {
		b.seq = 0;	/* both snapshot #1: only the mm tells them apart */
		stranded_every_other(&b, PID + i, MM + i * 0x1000, 0x6000 + i * 0x100);
	}
	tb_close(&b);
	return check_file(path);
}

/* munlock of an mlocked range munlocks none of its 32 pages: one finding. */
static struct result ledger_grouped(int drops)
{
	const char *path = tmp_path("ledger-grouped.trace");
	struct tb b;

	tb_open(&b, path, "6.1.0", PID, MM);
	tb_sys_enter(&b, 149, A, 32 * PG, 0);
	for (int i = 0; i < 32; i++)
		tb_mlock(&b, MMR_K_MLOCK_FOLIO, P1 + 2 * i, 1);
	tb_sys_exit(&b, 149, 0);
	tb_sys_enter(&b, 150, A, 32 * PG, 0);
	tb_sys_exit(&b, 150, 0);
	tb_close_stats(&b, drops ? "events=70\ndrops=5\n" : "events=70\ndrops=0\n");
	return check_file(path);
}

static int count_of(const char *text, const char *s)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, s)); p++)
		n++;
	return n;
}

/* The pages one verdict finds for one mm at one point are one finding. */
static void test_check_grouped(void)
{
	char out[512], err[512], *text;
	struct result r;
	int rc;

	r = stranded_grouped(1);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 1, "32 stranded pages of one munlock: one finding");
	ASSERT_EQ(r.first_pages[V_STRANDED_MLOCK], 32, "with 32 pages");
	ASSERT_EQ(r.first_addr[V_STRANDED_MLOCK], A, "the first page's address");
	ASSERT_EQ(r.first_pfn[V_STRANDED_MLOCK], 0x6000, "and pfn");
	ASSERT_TRUE(only(&r, V_STRANDED_MLOCK), "nothing else");
	r = ledger_grouped(0);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 1, "from events too: one finding");
	ASSERT_EQ(r.first_pages[V_STRANDED_MLOCK], 32, "with 32 pages");
	r = ledger_grouped(1);
	ASSERT_TRUE(clean(&r), "dropped events: the group is withheld");
	snprintf(out, sizeof(out), "%s", tmp_path("grouped.out"));
	snprintf(err, sizeof(err), "%s", tmp_path("grouped.err"));
	r = stranded_grouped(2);
	ASSERT_EQ(r.nr[V_STRANDED_MLOCK], 2, "two mms: two findings");
	rc = run_cmd(out, err, "%s check --json %s", mmreplay_bin(), tmp_path("grouped.trace"));
	ASSERT_EQ(rc, 1, "findings: exit 1");
	rc = run_cmd(NULL, err, "python3 -c 'import json,sys; j = json.load(open(sys.argv[1])); "
		     "f = j[\"findings\"]; sys.exit(not (len(f) == 2 and "
		     "j[\"findings_total\"] == 2 and j[\"finding_pages_total\"] == 64 and "
		     "all(x[\"pages\"] == 32 and len(x[\"page_list\"]) == 32 and "
		     "x[\"pages_not_listed\"] == 0 and x[\"page_list\"][0][\"pfn\"] == x[\"pfn\"] and "
		     "x[\"page_list\"][0][\"address\"] == x[\"address\"] and "
		     "x[\"page_list\"][31][\"address\"] == \"0x7f000003e000\" for x in f) and "
		     "f[1][\"page_list\"][31][\"pfn\"] == 0x611f))' %s", out);
	ASSERT_EQ(rc, 0, "json: 2 findings of 32 pages, each listing all 32");
	rc = run_cmd(out, err, "%s check %s", mmreplay_bin(), tmp_path("grouped.trace"));
	ASSERT_EQ(rc, 1, "plain: exit 1");
	text = slurp(out);
	ASSERT_STRCONTAINS(text, "stranded-mlock: pid 4242 tid 4242 at 0x7f0000000000 pfn 0x6000 "
			   "+31 pages", "plain: first page and how many more");
	ASSERT_STRCONTAINS(text, "pages: 0x7f0000000000 pfn 0x6000, 0x7f0000002000 pfn 0x6001, "
			   "0x7f0000004000 pfn 0x6002, 0x7f0000006000 pfn 0x6003, ... (28 more",
			   "plain: the first few pages");
	ASSERT_STRCONTAINS(text, "2 findings, 64 pages", "plain: the totals");
	ASSERT_EQ(count_of(text, "evidence: page is mlocked"), 2, "evidence once per finding");
	free(text);
}

/* On a kernel without the hooks the report says what could not be checked. */
static void test_check_ledger_unavailable(void)
{
	const char *path = tmp_path("ledger-none.trace");
	char kind[256];
	struct result r;
	struct tb b;

	tb_open(&b, path, "6.18.0", PID, MM);
	snprintf(kind, sizeof(kind), "id=%d\nname=try_to_unmap_one\nsystem=mmreplay\n"
		 "source=func\nattach=-\nstatus=kprobes not supported by this kernel\nformat:\n",
		 MMR_K_TRY_TO_UNMAP_ONE);
	mmr_writer_chunk(b.w, MMR_CHUNK_KIND, kind, strlen(kind));	/* replaces the ok one */
	tb_close(&b);
	r = check_file(path);
	ASSERT_TRUE(strstr(r.event_note[V_SKIPPED_SWAP], "not checked from events "
			   "(try_to_unmap_one: kprobes not supported") != NULL,
		    "skipped-swap-entry names the missing hook");
	ASSERT_TRUE(strstr(r.event_note[V_DROPPED_COW_SWAP], "not checked") == NULL,
		    "dropped-cow-swap-entry does not need it");
}

/* A KIND chunk saying @id could not be recorded (replaces the ok one). */
static void kind_missing(struct tb *b, int id, const char *name, const char *why)
{
	char kind[256];

	snprintf(kind, sizeof(kind), "id=%d\nname=%s\nsystem=mmreplay\nsource=func\nattach=-\n"
		 "status=%s\nformat:\n", id, name, why);
	mmr_writer_chunk(b->w, MMR_CHUNK_KIND, kind, strlen(kind));
}

/*
 * No snapshots and no hooks: the verdicts that need them were not checked,
 * so check does not say clean (exit 3, "not-checked" in JSON); with the
 * hooks, events alone judge every verdict and it is clean (exit 0).
 */
static void test_check_unchecked(void)
{
	const char *path = tmp_path("unchecked.trace");
	char out[512], *text;
	struct tb b;
	int rc;

	snprintf(out, sizeof(out), "%s", tmp_path("unchecked.out"));
	for (int hooks = 0; hooks < 2; hooks++) {
		tb_open(&b, path, "6.18.0", PID, MM);
		kind_missing(&b, MMR_K_SNAP, "snapshot", "not recorded (record --snapshot)");
		if (!hooks) {
			kind_missing(&b, MMR_K_MLOCK_FOLIO, "mlock_folio", "kprobes not supported");
			kind_missing(&b, MMR_K_TRY_TO_UNMAP_ONE, "try_to_unmap_one",
				     "kprobes not supported");
			kind_missing(&b, MMR_K_UNMAP_PAGE_RANGE, "unmap_page_range",
				     "kprobes not supported");
		}
		tb_rss(&b, 2, 0);
		tb_exit_mmap(&b);
		tb_close(&b);
		rc = run_cmd(out, NULL, "%s check %s", mmreplay_bin(), path);
		text = slurp(out);
		if (!hooks) {
			ASSERT_EQ(rc, 3, "nothing found, verdicts unchecked: exit 3");
			ASSERT_STRCONTAINS(text, "not checked: lost-mlock, stranded-mlock, "
					   "skipped-swap-entry, dropped-cow-swap-entry (", "names them");
			ASSERT_TRUE(strstr(text, "clean: no findings") == NULL, "never says clean");
		} else {
			ASSERT_EQ(rc, 0, "events judge every verdict: exit 0");
			ASSERT_STRCONTAINS(text, "clean: no findings", "says clean");
			ASSERT_TRUE(strstr(text, "not checked:") == NULL, "no unchecked verdict");
		}
		free(text);
		rc = run_cmd(out, NULL, "%s check --json %s", mmreplay_bin(), path);
		text = slurp(out);
		ASSERT_STRCONTAINS(text, hooks ? "\"result\": \"clean\"" : "\"result\": \"not-checked\"",
				   "json result");
		ASSERT_TRUE((strstr(text, "\"checked\": false") != NULL) == !hooks,
			    "json: per-verdict checked");
		free(text);
	}
}

/* Past FINDINGS_MAX a finding is counted, not stored, and its pages still count. */
static void test_check_findings_cap(void)
{
	struct findings fs = { 0 };
	int extra = 5;

	for (int i = 0; i < FINDINGS_MAX + extra; i++)
		findings_add(&fs, V_LOST_MLOCK, 100, 0x1000, 100, i, 0x10000 + i * 4096ULL, i, 2,
			     "mlock");
	ASSERT_EQ(fs.nr, FINDINGS_MAX, "stored");
	ASSERT_EQ(fs.total, FINDINGS_MAX + extra, "counted");
	ASSERT_EQ(fs.not_stored, extra, "not_stored");
	ASSERT_EQ(fs.pages, 2 * (FINDINGS_MAX + extra), "pages");
	ASSERT_EQ(fs.pages_not_stored, 2 * extra, "pages_not_stored");
	ASSERT_EQ(fs.v[FINDINGS_MAX - 1].ts, FINDINGS_MAX - 1, "the last stored is the last in");
	findings_free(&fs);
}

static void test_check_cli(void)
{
	char out[512], err[512], *text;
	const __u32 bad[4] = { 0, MMR_PF_MLOCKED, MMR_PF_MLOCKED, MMR_PF_MLOCKED };
	const __u32 one[4] = { 1, 1, 1, 1 };
	long size;
	int rc;

	snprintf(out, sizeof(out), "%s", tmp_path("check.out"));
	snprintf(err, sizeof(err), "%s", tmp_path("check.err"));
	rss_exit(0);
	rc = run_cmd(out, err, "%s check %s", mmreplay_bin(), tmp_path("rss.trace"));
	ASSERT_EQ(rc, 0, "clean trace: exit 0");
	ASSERT_STRCONTAINS(slurp(out), "clean: no findings", "report");
	mlock_snapshot(bad, one);
	rc = run_cmd(out, err, "%s check --json %s", mmreplay_bin(), tmp_path("lost.trace"));
	ASSERT_EQ(rc, 1, "findings: exit 1");
	text = slurp(out);
	ASSERT_STRCONTAINS(text, "\"kind\": \"lost-mlock\"", "json finding");
	ASSERT_STRCONTAINS(text, "\"coverage\"", "json coverage");
	free(text);
	/* addresses and mm pointers are strings: jq rounds numbers above 2^53 */
	rc = run_cmd(NULL, err, "python3 -c 'import json,sys; f = json.load(open(sys.argv[1]))"
		     "[\"findings\"]; sys.exit(not f or any(not isinstance(x[k], str) or "
		     "not x[k].startswith(\"0x\") for x in f for k in (\"address\", \"mm\")))' %s",
		     out);
	ASSERT_EQ(rc, 0, "json parses, findings' address and mm are \"0x...\" strings");
	size = file_size(tmp_path("lost.trace"));
	rc = run_cmd(NULL, NULL, "truncate -s %ld %s", size - 10, tmp_path("lost.trace"));
	rc = run_cmd(out, err, "%s check %s", mmreplay_bin(), tmp_path("lost.trace"));
	ASSERT_EQ(rc, 2, "truncated trace: exit 2");
	text = slurp(err);
	ASSERT_EQ(count_lines(text), 1, "one error line");
	free(text);
	rc = run_cmd(out, err, "%s check --bogus x", mmreplay_bin());
	ASSERT_EQ(rc, 2, "unknown option: exit 2");
	rc = run_cmd(out, err, "%s check /nonexistent", mmreplay_bin());
	ASSERT_EQ(rc, 2, "missing file: exit 2");
}

int main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		TEST(test_check_lost_mlock_present),
		TEST(test_check_lost_mlock_exceptions),
		TEST(test_check_snapshot_page_moved),
		TEST(test_check_lost_mlock_concurrent_munlock),
		TEST(test_check_lost_mlock_swapped),
		TEST(test_check_lost_mlock_vanished),
		TEST(test_check_snapshot_order),
		TEST(test_check_stranded_mlock_page),
		TEST(test_check_stranded_mlock_shared),
		TEST(test_check_stranded_mlock_pending),
		TEST(test_check_stranded_mlock_meminfo),
		TEST(test_check_skipped_swap_dontneed),
		TEST(test_check_skipped_swap_truncate),
		TEST(test_check_skipped_swap_vmswap),
		TEST(test_check_dropped_cow_swap),
		TEST(test_check_rss_at_exit),
		TEST(test_check_rss_snapshot),
		TEST(test_check_ledger_skipped_swap),
		TEST(test_check_ledger_dropped_cow_swap),
		TEST(test_check_ledger_lost_mlock),
		TEST(test_check_ledger_new_locked_page),
		TEST(test_check_ledger_compaction_munlock),
		TEST(test_check_ledger_reclaim_munlock),
		TEST(test_check_ledger_walk_after_munlock),
		TEST(test_check_ledger_stranded_mlock),
		TEST(test_check_ledger_pfn_reused_lost),
		TEST(test_check_ledger_pfn_freed_stranded),
		TEST(test_check_ledger_unavailable),
		TEST(test_check_stranded_mlock_once),
		TEST(test_check_grouped),
		TEST(test_check_unchecked),
		TEST(test_check_findings_cap),
		TEST(test_check_lost_mlock_migration),
		TEST(test_check_lost_mlock_failed_lock),
		TEST(test_check_lost_mlock_foreign_unlock),
		TEST(test_check_reclaim_pass),
		TEST(test_check_lost_mlock_pmd_thp),
		TEST(test_check_lost_mlock_other_range),
		TEST(test_check_cli),
	};
	int ret = run_tests(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);

	tmp_cleanup();
	return ret;
}
