// SPDX-License-Identifier: GPL-2.0
/*
 * `mmreplay diff` and `mmreplay export`: the alignment on random arrays;
 * hand-built traces that differ at one known operation in one event kind;
 * a recording against its own replay on this kernel (equivalent); traces
 * of different workloads and bad input refused with one line; the Perfetto
 * JSON parsed and its slices and instants counted against the trace.
 * The recording tests are skipped, with the reason, where BPF cannot load.
 */
#include "test.h"
#include "testlib.h"
#include "reclib.h"
#include "traces/trace.h"
#include "tracebuild.h"
#include "diff/diff.h"
#include "traces/marks.h"
#include "traces/syscalls.h"

#define WORKLOADS ".output/workloads"
#define BASE 0x7f1200000000ULL
#define PAGES 36

/* ---- helpers -------------------------------------------------------------- */

/* Runs `mmreplay ARGS`; stdout and stderr kept in files out/err (copied to the caller). */
static int mmr(char *out, char *err, const char *fmt, const char *a, const char *b,
	       const char *c)
{
	snprintf(out, 512, "%s", tmp_path("cmd.out"));
	snprintf(err, 512, "%s", tmp_path("cmd.err"));
	{
		char args[2048];

		snprintf(args, sizeof(args), fmt, a, b, c);
		return run_cmd(out, err, "%s %s", mmreplay_bin(), args);
	}
}

/* The value of a Python expression over the JSON file at path (d: the document; .gz: gzip). */
static char *py(const char *path, const char *expr)
{
	char out[512];

	snprintf(out, sizeof(out), "%s", tmp_path("py.out"));
	run_cmd(out, NULL, "python3 -c 'import gzip,json,sys; o=gzip.open if sys.argv[1].endswith(\".gz\") "
		"else open; d=json.load(o(sys.argv[1], \"rt\")); print(%s)' %s",
		expr, path);
	{
		char *s = slurp(out);

		s[strcspn(s, "\n")] = 0;
		return s;
	}
}

static int line_of(const char *text, const char *sub)
{
	const char *p = strstr(text, sub);
	int n = 1;

	if (!p)
		return -1;
	for (const char *q = text; q < p; q++)
		n += *q == '\n';
	return n;
}

/* ---- dalign --------------------------------------------------------------- */

static long lcs(const __u32 *a, long n, const __u32 *b, long m)
{
	static long t[41][41];

	for (long i = n; i >= 0; i--)
		for (long j = m; j >= 0; j--)
			t[i][j] = i == n || j == m ? 0 : a[i] == b[j] ? 1 + t[i + 1][j + 1] :
				  t[i + 1][j] > t[i][j + 1] ? t[i + 1][j] : t[i][j + 1];
	return t[0][0];
}

/* Every index of both arrays once, in order, matches on equal tokens, as many as the LCS. */
static void test_diff_align(void)
{
	unsigned seed = 1;

	for (int round = 0; round < 300; round++) {
		__u32 a[40], b[40];
		long n = (seed = seed * 1103515245 + 12345) % 41, m = (seed >> 8) % 41;
		long ia = 0, ib = 0, matches = 0, steps, ok = 1;
		struct dstep *st;

		for (long i = 0; i < n; i++)
			a[i] = (seed = seed * 1103515245 + 12345) >> 16 & 3;
		for (long j = 0; j < m; j++)
			b[j] = round % 3 ? (j < n ? a[j] : 7) ^ ((seed = seed * 1103515245 + 12345) >> 16 & 1 && j % 5 == 0) :
			       (seed = seed * 1103515245 + 12345) >> 16 & 3;
		steps = dalign(a, n, b, m, 1000, &st);
		for (long s = 0; s < steps && ok; s++) {
			if (st[s].i >= 0)
				ok &= st[s].i == ia++;
			if (st[s].j >= 0)
				ok &= st[s].j == ib++;
			if (st[s].i >= 0 && st[s].j >= 0)
				ok &= a[st[s].i] == b[st[s].j], matches++;
		}
		free(st);
		if (!ASSERT_TRUE(ok && ia == n && ib == m, "a valid edit script") ||
		    !ASSERT_EQ(matches, lcs(a, n, b, m), "as many matches as the LCS")) {
			printf("  round %d: n %ld m %ld\n", round, n, m);
			return;
		}
	}
}

/* ---- hand-built traces ------------------------------------------------------ */

/*
 * One process: mmap 36 anonymous pages, write each, MADV_PAGEOUT them (36
 * swap entries), fault one back in, ftruncate a file to 0 (freeing `frees`
 * swap entries), munmap, exit.  no_kind: a kind this trace says it could not
 * record (0: none).
 */
static void build(const char *path, int frees, int no_kind)
{
	struct tb b;

	if (!ASSERT_EQ(tb_open(&b, path, "6.1.0", 100, 0xaaa), 0, "write trace"))
		return;
	tb_kind(b.w, MMR_K_PAGE_FAULT_USER, "tracepoint", tb_fault_format);
	if (no_kind) {
		char kind[256];

		snprintf(kind, sizeof(kind), "id=%d\nname=%s\nsystem=mmreplay\nsource=func\nattach=-\n"
			 "status=kprobes not supported by this kernel\nformat:\n", no_kind,
			 kind_def(no_kind)->name);
		mmr_writer_chunk(b.w, MMR_CHUNK_KIND, kind, strlen(kind));
	}
	tb_sys(&b, NR_OPENAT, -100, 0, 2, 0, 3, NULL);
	tb_sys(&b, NR_MMAP, 0, PAGES * 4096, 3, 0x22, BASE, NULL);
	for (int i = 0; i < PAGES; i++) {
		tb_fault(&b, BASE + i * 4096, 1);
		tb_rss(&b, 1, i + 1);			/* MM_ANONPAGES */
	}
	tb_sys_enter(&b, NR_MADVISE, BASE, PAGES * 4096, 21);	/* MADV_PAGEOUT */
	tb_rss(&b, 2, PAGES);				/* MM_SWAPENTS */
	tb_rss(&b, 1, 0);
	tb_sys_exit(&b, NR_MADVISE, 0);
	tb_fault(&b, BASE, 0);				/* a swap-in */
	tb_swapin(&b, BASE);
	tb_rss(&b, 2, PAGES - 1);
	tb_rss(&b, 1, 1);
	tb_sys_enter(&b, NR_FTRUNCATE, 3, 0, 0);
	for (int i = 0; i < frees; i++)
		tb_free_swap(&b, 0x4000 + i);
	if (frees)
		tb_rss(&b, 2, PAGES - 1 - frees);
	tb_sys_exit(&b, NR_FTRUNCATE, 0);
	tb_sys(&b, NR_MUNMAP, BASE, PAGES * 4096, 0, 0, 0, NULL);
	tb_sys_enter(&b, 231, 0, 0, 0);
	tb_close(&b);
}

/* The plan op id of the first op named name (for the expected report). */
static long op_id(const char *path, int nr)
{
	struct mmr_trace *t;
	struct rplan p;
	char err[256];
	long id = -1;

	t = mmr_trace_open(path, err, sizeof(err));
	if (!t || plan_build(t, &p, err, sizeof(err)))
		return -1;
	for (size_t i = 0; i < p.nr_ops && id < 0; i++)
		if (p.ops[i].type == ROP_SYSCALL && p.ops[i].nr == nr)
			id = i;
	plan_free(&p);
	mmr_trace_close(t);
	return id;
}

/* A frees 36 swap entries in its ftruncate, B none: one op, one kind, the verdict first. */
static void test_diff_one_op_differs(void)
{
	char a[512], b[512], out[512], err[512], want[320], *text, *v;
	long id;
	int rc;

	snprintf(a, sizeof(a), "%s", tmp_path("frees36.trace"));
	snprintf(b, sizeof(b), "%s", tmp_path("frees0.trace"));
	build(a, 36, 0);
	build(b, 0, 0);
	id = op_id(a, NR_FTRUNCATE);
	rc = mmr(out, err, "diff %s %s", a, b, "");
	text = slurp(out);
	printf("%s", text);
	ASSERT_EQ(rc, 1, "exit status: different");
	ASSERT_EQ(line_of(text, "different: 1 operation differs"), 3, "the outcome after the two names");
	snprintf(want, sizeof(want), "  A frees 36 swap entries on ftruncate (op %ld, task 0); B frees 0\n",
		 id);
	ASSERT_EQ(line_of(text, want), 4, "the verdict comes first");
	snprintf(want, sizeof(want), "  A's MM_SWAPENTS changes by -36 on ftruncate (op %ld, task 0); "
		 "B's by 0\nnote: A's kernel (6.1.0) caches each thread's rss changes (before "
		 "6.2) and reports them in batches", id);
	ASSERT_EQ(line_of(text, want), 5, "then the rss counter it moved, then how rss is reported");
	snprintf(want, sizeof(want), "as far as that cache explains\n\nop %ld", id);
	ASSERT_STRCONTAINS(text, want, "then the op");
	snprintf(want, sizeof(want), "\nop %ld ftruncate, task 0:\n  only in A:\n"
		 "    36 x free_swap_and_cache swap\n    1 x rss_stat MM_SWAPENTS -36\n"
		 "  only in B: -\n", id);
	ASSERT_STRCONTAINS(text, want, "the op, with the events only in A");
	ASSERT_STRCONTAINS(text, "    - free_swap_and_cache swap (x36)\n      sys_exit = 0\n"
			   "    - rss_stat MM_SWAPENTS -36\n", "the sequence");
	snprintf(want, sizeof(want), "\n  %-28s %10d %10d  *\n", "free_swap_and_cache", 36, 0);
	ASSERT_STRCONTAINS(text, want, "the summary row, marked");
	free(text);

	rc = mmr(out, err, "diff --json %s %s", a, b, "");
	ASSERT_EQ(rc, 1, "--json exit status");
	v = py(out, "len(d[\"differences\"]), d[\"differences\"][0][\"name\"], d[\"differences\"][0][\"op\"], "
		    "d[\"differences\"][0][\"only_a\"], d[\"differences\"][0][\"only_b\"], d[\"equivalent\"]");
	snprintf(want, sizeof(want), "1 ftruncate %ld [{'event': 'free_swap_and_cache swap', "
		 "'kind': 'free_swap_and_cache', 'count': 36}, {'event': 'rss_stat MM_SWAPENTS -36', "
		 "'kind': 'rss_stat', 'count': 1}] [] False", id);
	ASSERT_TRUE(!strcmp(v, want), "--json: the same difference");
	if (strcmp(v, want))
		printf("  got %s\n  want %s\n", v, want);
	free(v);
	v = py(out, "d[\"verdicts\"][0]");
	ASSERT_STRCONTAINS(v, "A frees 36 swap entries on ftruncate", "--json: the same verdict");
	free(v);
	rc = mmr(out, err, "diff %s %s --context 0", b, a, "");
	text = slurp(out);
	ASSERT_EQ(rc, 1, "the other way round");
	ASSERT_STRCONTAINS(text, "A frees 0 swap entries on ftruncate", "B frees them");
	ASSERT_TRUE(!strstr(text, "      munmap"), "--context 0: no context lines");
	free(text);
}

/* Kinds one trace could not record are left out, and said so. */
static void test_diff_left_out(void)
{
	char a[512], b[512], out[512], err[512], *text, *v;
	int rc;

	snprintf(a, sizeof(a), "%s", tmp_path("all.trace"));
	snprintf(b, sizeof(b), "%s", tmp_path("noswapin.trace"));
	build(a, 8, 0);
	build(b, 8, MMR_K_DO_SWAP_PAGE);
	rc = mmr(out, err, "diff %s %s", a, b, "");
	text = slurp(out);
	printf("%s", text);
	ASSERT_EQ(rc, 0, "equivalent in what both recorded");
	ASSERT_STRCONTAINS(text, "left out (recorded by one trace only): do_swap_page (A)",
			   "names the kind left out");
	free(text);
	rc = mmr(out, err, "diff -j %s %s", a, b, "");
	v = py(out, "d[\"left_out\"], d[\"equivalent\"]");
	ASSERT_TRUE(!strcmp(v, "[{'kind': 'do_swap_page', 'recorded_by': 'A'}] True"), "--json left_out");
	free(v);
}

/*
 * Process 100 maps 16 pages and starts task 101, a thread (or, with @fork,
 * a process of its own); each writes 8 of the pages.  Their rss_stat
 * events report MM_ANONPAGES moving by @main and @child pages.
 */
static void build_spawn(const char *path, int main, int child, int fork)
{
	struct mmr_task_fork f = { .parent_tid = 100, .parent_tgid = 100, .child_tid = 101,
				   .child_tgid = fork ? 101 : 100, .child_mm = fork ? 0xbbb : 0xaaa };
	struct tb b;

	if (!ASSERT_EQ(tb_open(&b, path, "6.18.0", 100, 0xaaa), 0, "write trace"))
		return;
	tb_kind(b.w, MMR_K_PAGE_FAULT_USER, "tracepoint", tb_fault_format);
	tb_rss(&b, 1, 0);		/* the counter's first value: later ones are changes */
	tb_sys(&b, NR_MMAP, 0, 16 * 4096, 3, 0x22, BASE, NULL);
	tb_put(&b, MMR_K_TASK_FORK, &f, sizeof(f));
	for (int i = 0; i < 8; i++)
		tb_fault(&b, BASE + i * 4096, 1);
	tb_rss(&b, 1, main);
	b.tid = 101;
	if (fork)
		b.tgid = 101, b.mm = 0xbbb;
	for (int i = 8; i < 16; i++)
		tb_fault(&b, BASE + i * 4096, 1);
	tb_rss(&b, 1, fork ? child : main + child);
	tb_sys_enter(&b, 60, 0, 0, 0);			/* exit */
	b.tid = b.tgid = 100;
	b.mm = 0xaaa;
	tb_sys(&b, NR_MUNMAP, BASE, 16 * 4096, 0, 0, 0, NULL);
	tb_sys_enter(&b, 231, 0, 0, 0);
	tb_close(&b);
}

/*
 * Which thread's rss_stat reports a change of their mm's counters is a race:
 * two threads' ops whose rss changes only moved between them are equivalent
 * (and said to be normalised); not if the sum differs, nor across processes.
 */
static void test_diff_thread_rss_moved(void)
{
	char a[512], b[512], out[512], err[512], *text, *v;

	snprintf(a, sizeof(a), "%s", tmp_path("rss-a.trace"));
	snprintf(b, sizeof(b), "%s", tmp_path("rss-b.trace"));
	build_spawn(a, 8, 8, 0);
	build_spawn(b, 10, 6, 0);
	ASSERT_EQ(mmr(out, err, "diff %s %s", a, b, ""), 0, "threads: equivalent");
	text = slurp(out);
	ASSERT_STRCONTAINS(text, "normalised: 2 operations of threads of one mm differ only in "
			   "which thread's rss_stat reported a change", "says so");
	free(text);
	ASSERT_EQ(mmr(out, err, "diff --json %s %s", a, b, ""), 0, "--json: equivalent");
	v = py(out, "d[\"ops\"][\"normalised_thread_rss\"], d[\"ops\"][\"differ\"]");
	ASSERT_TRUE(!strcmp(v, "2 0"), "--json: 2 normalised, none differ");
	free(v);

	build_spawn(b, 10, 5, 0);
	ASSERT_EQ(mmr(out, err, "diff %s %s", a, b, ""), 1, "threads, one page fewer: different");
	text = slurp(out);
	ASSERT_STRCONTAINS(text, "different: 2 operations differ", "both ops shown");
	ASSERT_TRUE(!strstr(text, "normalised:"), "nothing normalised");
	free(text);

	build_spawn(a, 8, 8, 1);
	build_spawn(b, 10, 6, 1);
	ASSERT_EQ(mmr(out, err, "diff %s %s", a, b, ""), 1, "two processes: different");
	text = slurp(out);
	ASSERT_TRUE(!strstr(text, "normalised:"), "processes: nothing normalised");
	free(text);
}

/*
 * Process 100 maps and writes 8 pages, then dies: by exit_group (@killed
 * 0), or killed by a signal (1), with sched_process_exit before its
 * teardown as on 6.18.  The teardown unmaps the 8 pages.  (On 6.1 the
 * exit is traced after exit_mm(), and the zap's rss changes come before
 * any sign of the death: there they still count for the last op.)
 */
static void build_death(const char *path, int killed)
{
	struct mmr_task_exit x = { .tid = 100, .exit_code = 13, .group_dead = 1 };
	struct tb b;

	if (!ASSERT_EQ(tb_open(&b, path, "6.18.0", 100, 0xaaa), 0, "write trace"))
		return;
	tb_kind(b.w, MMR_K_PAGE_FAULT_USER, "tracepoint", tb_fault_format);
	tb_rss(&b, 1, 0);
	tb_sys(&b, NR_MMAP, 0, 8 * 4096, 3, 0x22, BASE, NULL);
	for (int i = 0; i < 8; i++)
		tb_fault(&b, BASE + i * 4096, 1);
	tb_rss(&b, 1, 8);
	if (killed)
		tb_put(&b, MMR_K_TASK_EXIT, &x, sizeof(x));
	else
		tb_sys_enter(&b, 231, 0, 0, 0);
	tb_rss(&b, 1, 0);		/* exit_mmap's zap, then its tracepoint */
	tb_exit_mmap(&b);
	tb_close(&b);
}

/* A task killed by a signal tears its mm down in its exit, as exit_group's does, not in its last op. */
static void test_diff_killed_task(void)
{
	char a[512], b[512], out[512], err[512];

	snprintf(a, sizeof(a), "%s", tmp_path("exit-group.trace"));
	snprintf(b, sizeof(b), "%s", tmp_path("killed.trace"));
	build_death(a, 0);
	build_death(b, 1);
	ASSERT_EQ(mmr(out, err, "diff %s %s", a, b, ""), 0, "killed: equivalent to exit_group");
}

/*
 * A recording on 6.18 (rss_stat as each fault maps a page) and its replay
 * on 6.1, whose threads cache their rss changes: process 100 maps 8 pages
 * (op 0), writes them (ops 1-8), unmaps them (op 9).  With @flushed the
 * replay announces its sync page and flushes the cache there after the
 * touches (reporting @pages of them); without, the munmap's zap flushes it
 * first.
 */
#define SYNC_PAGE 0x7f0000001000ULL

static void tb_mark(struct tb *b, __u32 id, __u32 n, __u64 rep, int type, int nr)
{
	struct mmr_sys_enter e = { .nr = NR_PRCTL,
				   .args = { MMR_MARK_OP, id, 0, rep, n, MMR_MARK_WHAT(type, nr) } };

	tb_put(b, MMR_K_SYS_ENTER, &e, sizeof(e));
}

/* A replay's helper bracket (replay/xkernel.c) that wrote @filled pages through. */
static void tb_helper(struct tb *b, int begin, __u64 filled)
{
	struct mmr_sys_enter e = { .nr = NR_PRCTL, .args = { MMR_MARK_HELPER, begin, filled } };

	tb_put(b, MMR_K_SYS_ENTER, &e, sizeof(e));
}

static void tb_flush(struct tb *b, long pages)
{
	tb_helper(b, 1, 0);
	tb_sys_enter(b, NR_MADVISE, SYNC_PAGE, 4096, 4);	/* MADV_DONTNEED */
	tb_rss(b, 1, pages);
	tb_sys_exit(b, NR_MADVISE, 0);
	tb_helper(b, 0, 0);
}

/* Opens the trace and maps the 8 pages (op 0); a replay announces itself with mark @which (0: none). */
static int eight_pages_open(struct tb *b, const char *path, const char *release, int replay,
			    __u64 which, __u64 arg)
{
	if (!ASSERT_EQ(tb_open(b, path, release, 100, 0xaaa), 0, "write trace"))
		return -1;
	tb_kind(b->w, MMR_K_PAGE_FAULT_USER, "tracepoint", tb_fault_format);
	tb_rss(b, 1, 0);
	if (replay && which) {
		struct mmr_sys_enter e = { .nr = NR_PRCTL, .args = { which, arg } };

		tb_put(b, MMR_K_SYS_ENTER, &e, sizeof(e));
	}
	if (replay)
		tb_mark(b, 0, 1, 0, ROP_SYSCALL, NR_MMAP);
	tb_sys(b, NR_MMAP, 0, 8 * 4096, 3, 0x22, BASE, NULL);
	if (replay)
		tb_mark(b, 1, 8, BASE, ROP_TOUCH, 0);
	return 0;
}

/*
 * Unmaps the 8 pages (op 9; @flush: the zap first reports that many
 * cached; @left: pages its zap leaves counted) and exits.
 */
static void eight_pages_close(struct tb *b, int replay, long flush, long left)
{
	if (replay)
		tb_mark(b, 9, 1, BASE, ROP_SYSCALL, NR_MUNMAP);
	tb_sys_enter(b, NR_MUNMAP, BASE, 8 * 4096, 0);
	if (flush)
		tb_rss(b, 1, flush);
	tb_rss(b, 1, left);
	tb_sys_exit(b, NR_MUNMAP, 0);
	tb_sys_enter(b, 231, 0, 0, 0);
	tb_close(b);
}

static void build_split(const char *path, int replay, int flushed, long pages)
{
	struct tb b;

	if (eight_pages_open(&b, path, replay ? "6.1.0" : "6.18.0", replay,
			     flushed ? MMR_MARK_RSS_SYNC : 0, SYNC_PAGE))
		return;
	for (int i = 0; i < 8; i++) {
		tb_fault(&b, BASE + i * 4096, 1);
		if (!replay)
			tb_rss(&b, 1, i + 1);
	}
	if (replay && flushed)
		tb_flush(&b, pages);
	/* not flushed, the munmap's zap flushes the cache first (and leaves 8 - @pages) */
	eight_pages_close(&b, replay, replay && !flushed ? 8 : 0, replay && !flushed ? 8 - pages : 0);
}

/*
 * A replay on a kernel that caches rss per thread, flushed at the end of
 * each op, reports each op's changes in it: equivalent to the recording,
 * and said so.  Not flushed, the touches' pages show up in the munmap; a
 * flush that reports a page fewer is a difference.
 */
static void test_diff_split_rss_flushed(void)
{
	char a[512], b[512], out[512], err[512], *text, *v;

	snprintf(a, sizeof(a), "%s", tmp_path("split-rec.trace"));
	snprintf(b, sizeof(b), "%s", tmp_path("split-rep.trace"));
	build_split(a, 0, 0, 0);
	build_split(b, 1, 1, 8);
	ASSERT_EQ(mmr(out, err, "diff %s %s", a, b, ""), 0, "flushed: equivalent");
	text = slurp(out);
	ASSERT_STRCONTAINS(text, "note: B's kernel (6.1.0) caches each thread's rss changes "
			   "(before 6.2): its replay flushed the cache after every touch and "
			   "operation", "says how B reports rss");
	free(text);
	ASSERT_EQ(mmr(out, err, "diff --json %s %s", a, b, ""), 0, "--json: equivalent");
	v = py(out, "d[\"a\"][\"rss_exact\"], d[\"b\"][\"rss_exact\"], d[\"b\"][\"rss_flushed_per_op\"], "
		    "len(d[\"notes\"])");
	ASSERT_TRUE(!strcmp(v, "True False True 1"), "--json: B flushed, one note");
	if (strcmp(v, "True False True 1"))
		printf("  got %s\n", v);
	free(v);

	/* not flushed: the touches' pages show in the munmap (touches fold into the mmap) */
	build_split(b, 1, 0, 8);
	ASSERT_EQ(mmr(out, err, "diff %s %s", a, b, ""), 0, "not flushed: equivalent, late");
	text = slurp(out);
	ASSERT_STRCONTAINS(text, "normalised: 2 operations differ only in rss changes that a "
			   "kernel before 6.2 reported late", "says so");
	ASSERT_STRCONTAINS(text, "as far as that cache explains", "and how B reports rss");
	free(text);
	ASSERT_EQ(mmr(out, err, "diff --json %s %s", a, b, ""), 0, "--json: equivalent");
	v = py(out, "d[\"ops\"][\"normalised_late_rss\"], d[\"ops\"][\"differ\"]");
	ASSERT_TRUE(!strcmp(v, "2 0"), "--json: 2 normalised late, none differ");
	free(v);
	/* its zap leaves a page counted: the cache cannot explain that */
	build_split(b, 1, 0, 7);
	ASSERT_EQ(mmr(out, err, "diff %s %s", a, b, ""), 1, "not flushed, a page left: different");
	text = slurp(out);
	ASSERT_TRUE(!strstr(text, "reported late"), "nothing normalised");
	free(text);

	build_split(b, 1, 1, 7);
	ASSERT_EQ(mmr(out, err, "diff %s %s", a, b, ""), 1, "flushed, a page fewer: different");
}

/*
 * Process 100 maps 8 pages (op 0) and reads each (ops 1-8): the
 * recording's kernel gives each read fault a page of its own.  The
 * replay's maps the zero page; with @fill its replay populates each page
 * after the read (reporting @pages of them), announced by its mark.
 */
static void build_zero_fill(const char *path, int replay, int fill, long pages)
{
	struct tb b;

	if (eight_pages_open(&b, path, "6.18.0", replay, fill ? MMR_MARK_ZERO_FILL : 0, 0))
		return;
	for (int i = 0; i < 8; i++) {
		tb_fault(&b, BASE + i * 4096, 0);
		if (!replay) {
			tb_rss(&b, 1, i + 1);
		} else if (fill) {	/* written through /proc/self/mem: no syscall traced */
			tb_helper(&b, 1, 0);
			tb_rss(&b, 1, i < pages ? i + 1 : pages);
			tb_helper(&b, 0, i < pages);
		}
	}
	eight_pages_close(&b, replay, 0, 0);
}

/*
 * Where the recording's read faults got pages and the replay's kernel
 * maps the zero page, the replay's writes through count for the touches'
 * op: equivalent, and said so.  Without them the pages are missing; one
 * page fewer is a difference.
 */
static void test_diff_zero_fill(void)
{
	char a[512], b[512], out[512], err[512], *text;

	snprintf(a, sizeof(a), "%s", tmp_path("zf-rec.trace"));
	snprintf(b, sizeof(b), "%s", tmp_path("zf-rep.trace"));
	build_zero_fill(a, 0, 0, 0);
	build_zero_fill(b, 1, 1, 8);
	ASSERT_EQ(mmr(out, err, "diff %s %s", a, b, ""), 0, "populated: equivalent");
	text = slurp(out);
	ASSERT_STRCONTAINS(text, "note: B's kernel maps the zero page where a read fault's "
			   "recording got a page of its own: its replay wrote those 8 pages through",
			   "says so, with the count");
	free(text);

	build_zero_fill(b, 1, 0, 8);
	ASSERT_EQ(mmr(out, err, "diff %s %s", a, b, ""), 1, "zero pages, not populated: different");
	text = slurp(out);
	ASSERT_STRCONTAINS(text, "A's MM_ANONPAGES changes by +8 on mmap (op 0, task 0); B's by 0",
			   "the read faults' pages are missing");
	free(text);

	build_zero_fill(b, 1, 1, 7);
	ASSERT_EQ(mmr(out, err, "diff %s %s", a, b, ""), 1, "one page fewer populated: different");
}

/* ---- recordings on this kernel --------------------------------------------- */

static int record(const char *trace, const char *workload)
{
	char err[512];
	int rc;

	snprintf(err, sizeof(err), "%s", tmp_path("record.err"));
	rc = run_cmd(NULL, err, "%s record -q -o %s -- %s/%s", mmreplay_bin(), trace, WORKLOADS,
		     workload);
	if (rc) {
		char *e = slurp(err);

		printf("  record %s: %s", workload, e);
		free(e);
	}
	return rc;
}

static int replay(const char *trace, const char *out)
{
	char err[512];
	int rc;

	snprintf(err, sizeof(err), "%s", tmp_path("replay.err"));
	rc = run_cmd(NULL, err, "%s replay -o %s %s", mmreplay_bin(), out, trace);
	if (rc) {
		char *e = slurp(err);

		printf("  replay: %s", e);
		free(e);
	}
	return rc;
}

/* A recording against its own replay here: equivalent, having compared real events. */
static void recording_vs_replay(const char *workload, int tasks)
{
	char x[512], r[512], out[512], err[512], *text, *v;
	int rc;

	snprintf(x, sizeof(x), "%s/%s.trace", tmp_path(""), workload);
	snprintf(r, sizeof(r), "%s/%s-replay.trace", tmp_path(""), workload);
	if (!ASSERT_EQ(record(x, workload), 0, "record") || !ASSERT_EQ(replay(x, r), 0, "replay"))
		return;
	rc = mmr(out, err, "diff %s %s", x, r, "");
	text = slurp(out);
	printf("%s", text);
	ASSERT_EQ(rc, 0, "exit status: equivalent");
	ASSERT_EQ(line_of(text, "equivalent: "), 3, "says so");
	free(text);
	rc = mmr(out, err, "diff --json %s %s", x, r, "");
	ASSERT_EQ(rc, 0, "--json exit status");
	v = py(out, "d[\"equivalent\"], d[\"a\"][\"tasks\"], d[\"b\"][\"replay\"], "
		    "d[\"ops\"][\"only_a\"] + d[\"ops\"][\"only_b\"], "
		    "[s[\"a\"] for s in d[\"summary\"] if s[\"kind\"] == \"page_fault_user\"][0] >= 8, "
		    "d[\"ops\"][\"aligned\"] - d[\"ops\"][\"not_compared\"] >= 15");
	{
		char want[128];

		snprintf(want, sizeof(want), "True %d True 0 True True", tasks);
		ASSERT_TRUE(!strcmp(v, want), "--json: equivalent, every op aligned, faults and ops compared");
		if (strcmp(v, want))
			printf("  got %s, want %s\n", v, want);
	}
	free(v);
}

static void test_diff_replay_mlock_memfd(void)
{
	if (need_bpf())
		recording_vs_replay("mlock_memfd", 1);
}

static void test_diff_replay_fork_mlock(void)
{
	if (need_bpf())
		recording_vs_replay("fork_mlock", 2);
}

static void test_diff_replay_mixed_maps(void)
{
	if (need_bpf())
		recording_vs_replay("mixed_maps", 2);
}

/* An error: exit 2, one line on stderr naming why, nothing on stdout. */
static void assert_refused(const char *fmt, const char *a, const char *b, const char *why)
{
	char out[512], err[512], *o, *e;
	int rc = mmr(out, err, fmt, a, b, "");

	o = slurp(out);
	e = slurp(err);
	ASSERT_EQ(rc, 2, "exit status 2");
	ASSERT_EQ(count_lines(e), 1, "one error line");
	ASSERT_STRCONTAINS(e, why, "says why");
	if (strstr(fmt, "--json")) {	/* and on stdout as {"error": "..."} */
		ASSERT_TRUE(!strncmp(o, "{\"error\": \"", 11) && !strcmp(o + strlen(o) - 3, "\"}\n"),
			    "--json: the error as one JSON object");
		ASSERT_STRCONTAINS(o, why, "--json: says why");
	} else {
		ASSERT_EQ(strlen(o), 0, "no report");
	}
	if (rc != 2 || count_lines(e) != 1)
		printf("  %s / %s: %s%s", a, b, e, o);
	free(o);
	free(e);
}

/* Traces of two programs, or a replay of one against the other: refused in one line. */
/*
 * The hot tracepoints' typed programs (tp_btf) and the classic ones
 * (MMREPLAY_NO_TP_BTF) build the same records: two recordings of one
 * workload, one each way, diff as equivalent and check alike.
 */
/* Two recordings of one workload: diff says equivalent, check the same of both, nothing wrong. */
static void assert_same_results(const char *a, const char *b)
{
	char out[512], err[512], *text;
	int rc, check_a;

	rc = mmr(out, err, "diff %s %s", a, b, "");
	text = slurp(out);
	if (rc)
		printf("%s", text);
	ASSERT_EQ(rc, 0, "diff: equivalent");
	free(text);
	check_a = mmr(out, err, "check %s", a, "", "");
	text = slurp(out);
	rc = mmr(out, err, "check %s", b, "", "");
	if (rc != check_a)
		printf("A: %s", text);
	free(text);
	ASSERT_EQ(rc, check_a, "check says the same of both");
	ASSERT_TRUE(check_a == 0 || check_a == 3, "and finds nothing wrong");
}

static void test_diff_typed_vs_classic(void)
{
	char a[512], b[512], out[512], err[512], *info;
	int rc;

	if (!need_bpf())
		return;
	snprintf(a, sizeof(a), "%s", tmp_path("typed.trace"));
	snprintf(b, sizeof(b), "%s", tmp_path("classic.trace"));
	if (!ASSERT_EQ(record(a, "fork_mlock"), 0, "record, typed"))
		return;
	setenv("MMREPLAY_NO_TP_BTF", "1", 1);
	rc = record(b, "fork_mlock");
	unsetenv("MMREPLAY_NO_TP_BTF");
	if (!ASSERT_EQ(rc, 0, "record, classic"))
		return;
	mmr(out, err, "info %s", a, "", "");
	info = slurp(out);
	if (!strstr(info, "tp_btf:page_fault_user")) {
		test_skip("this kernel takes no typed page_fault_user program (see `record --list`)");
		free(info);
		return;
	}
	ASSERT_STRCONTAINS(info, "tp_btf:mm_lru_insertion", "the typed LRU program took over");
	/* 6.2+: its own per-CPU sum, the offsets learned from a per-CPU map */
	ASSERT_STRCONTAINS(info, "tp_btf:rss_stat", "the typed rss_stat program ran");
	ASSERT_STRCONTAINS(info, "events_mm_lru_insertion=", "and recorded");
	free(info);
	mmr(out, err, "info %s", b, "", "");
	info = slurp(out);
	ASSERT_STRCONTAINS(info, "tracepoint:exceptions:page_fault_user", "the classic one, asked for");
	free(info);
	assert_same_results(a, b);
}

/*
 * record's default (the hot events staged in the kernel, written back one
 * by one) against --no-coalesce, with snapshots: the same check and diff
 * results, workload by workload.
 */
static void test_diff_coalesced_vs_not(void)
{
	/*
	 * those whose two uncoalesced recordings diff equal, on a busy machine too:
	 * not threads_mlock_pageout (its threads race: 2 of 3 differ), nor
	 * shared_mlock (a kernel-mode fault at its fork comes or not: 2 of 5)
	 */
	static const char *const workloads[] = { "fork_mlock", "mlock_memfd", "cow_pageout_truncate",
						 "mlock_rules", "mixed_maps" };
	char a[512], b[512], out[512], err[512], *info;

	if (!need_bpf())
		return;
	snprintf(a, sizeof(a), "%s", tmp_path("coalesced.trace"));
	snprintf(b, sizeof(b), "%s", tmp_path("uncoalesced.trace"));
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		const char *w = workloads[i];

		printf("  %s\n", w);
		if (!ASSERT_EQ(run_cmd(tmp_path("coalesced.json"), NULL, "%s record -q -s --json -o %s "
				       "-- %s/%s", mmreplay_bin(), a, WORKLOADS, w), 0,
			       "record, coalesced") ||
		    !ASSERT_EQ(run_cmd(NULL, NULL, "%s record -q -s --no-coalesce -o %s -- %s/%s",
				       mmreplay_bin(), b, WORKLOADS, w), 0, "record, not"))
			return;
		info = slurp(tmp_path("coalesced.json"));
		ASSERT_TRUE(info && !strstr(info, "\"staged_events\": 0,") &&
			    strstr(info, "\"staged_events\": "), "its summary counts them");
		ASSERT_STRCONTAINS(info, "\"late_events\": 0", "and no late one");
		free(info);
		mmr(out, err, "info %s", a, "", "");
		info = slurp(out);
		ASSERT_STRCONTAINS(info, "staged_events=", "the default staged events");
		ASSERT_TRUE(!strstr(info, "late_events="), "none came late");
		free(info);
		mmr(out, err, "info %s", b, "", "");
		info = slurp(out);
		ASSERT_TRUE(!strstr(info, "staged_events="), "--no-coalesce staged none");
		free(info);
		assert_same_results(a, b);
	}
}

static void test_diff_different_workloads(void)
{
	char m[512], f[512], r[512];

	if (!need_bpf())
		return;
	snprintf(m, sizeof(m), "%s", tmp_path("w-memfd.trace"));
	snprintf(f, sizeof(f), "%s", tmp_path("w-fork.trace"));
	snprintf(r, sizeof(r), "%s", tmp_path("w-memfd-replay.trace"));
	if (!ASSERT_EQ(record(m, "mlock_memfd"), 0, "record") ||
	    !ASSERT_EQ(record(f, "fork_mlock"), 0, "record") || !ASSERT_EQ(replay(m, r), 0, "replay"))
		return;
	assert_refused("diff %s %s", m, f, "do not record the same workload: A runs mlock_memfd, "
		       "B runs fork_mlock");
	assert_refused("diff %s %s", r, f, "do not record the same workload: A's op");
	assert_refused("diff --json %s %s", f, r, "do not record the same workload");
}

static void test_diff_bad_input(void)
{
	char a[512], cut[512];

	snprintf(a, sizeof(a), "%s", tmp_path("good.trace"));
	snprintf(cut, sizeof(cut), "%s", tmp_path("cut.trace"));
	build(a, 1, 0);
	run_cmd(NULL, NULL, "head -c %ld %s > %s", file_size(a) * 2 / 3, a, cut);
	assert_refused("diff %s %s", a, "/nonexistent.trace", "/nonexistent.trace");
	assert_refused("diff --json %s %s", a, "/nonexistent.trace", "/nonexistent.trace");
	assert_refused("diff %s %s --json", a, cut, "cut.trace: ");
	assert_refused("diff %s %s", "/etc/passwd", a, "not an mmreplay trace");
	assert_refused("diff %s %s", a, cut, "cut.trace: ");
	assert_refused("diff %s %s --frobnicate", a, a, "frobnicate");
	assert_refused("diff %s %s", a, "", "two trace files are needed");
	assert_refused("diff %s %s --context x", a, a, "bad --context");
	assert_refused("export %s %s", a, "", "-o OUT.json is needed");
	assert_refused("export %s --perfetto %s", a, "/proc/no/such.json", "cannot write");
}

/* ---- export ------------------------------------------------------------------ */

/*
 * Counts from `mmreplay show --json`, computed apart from export: the ops a
 * recording's plan has besides touches (returned mm syscalls replay rebuilds,
 * failed opens excepted; forks; execs), a replay's op marks that are not
 * touches, and every event that is not a syscall record.
 */
static const char count_py[] =
	"import json,sys\n"
	"ev=json.load(open(sys.argv[1]))\n"
	"rebuilt={'open','close','mmap','mprotect','munmap','brk','mremap','msync','madvise',"
	"'shmget','shmat','shmctl','shmdt','truncate','ftruncate','mlock','munlock','mlockall',"
	"'munlockall','migrate_pages','openat','move_pages','fallocate','memfd_create','mlock2','openat2'}\n"
	"marks=[e for e in ev if e['kind']=='sys_enter' and int(e['fields']['arg0'],0)==0x4d4d5250]\n"
	"if marks:\n"
	"  ops=sum(1 for e in marks if (int(e['fields']['arg5'],0)>>48)!=0x4d4d or (int(e['fields']['arg5'],0)&0xff)!=1)\n"
	"else:\n"
	"  ops=sum(1 for e in ev if e['kind']=='sys_exit' and e['syscall'] in rebuilt and not "
	"(e['syscall'].startswith('open') and e['fields']['ret']<0))\n"
	"  ops+=sum(1 for e in ev if e['kind'] in ('task_fork','task_exec'))\n"
	"inst=sum(1 for e in ev if e['kind'] not in ('sys_enter','sys_exit','sys_path'))\n"
	"print(ops, inst)\n";

static char *counts_of(const char *trace)
{
	char script[512], js[512], out[512];
	FILE *f;

	snprintf(script, sizeof(script), "%s", tmp_path("count.py"));
	snprintf(js, sizeof(js), "%s", tmp_path("show.json"));
	snprintf(out, sizeof(out), "%s", tmp_path("count.out"));
	f = fopen(script, "w");
	if (f) {
		fputs(count_py, f);
		fclose(f);
	}
	run_cmd(js, NULL, "%s show --json %s", mmreplay_bin(), trace);
	run_cmd(out, NULL, "python3 %s %s", script, js);
	{
		char *s = slurp(out);

		s[strcspn(s, "\n")] = 0;
		return s;
	}
}

/* Slices and instants of process pid in an export, as "slices instants". */
static char *exported(const char *json, int pid)
{
	char expr[400];

	snprintf(expr, sizeof(expr), "sum(1 for e in d[\"traceEvents\"] if e[\"pid\"]==%d and "
		 "e[\"ph\"]==\"X\"), sum(1 for e in d[\"traceEvents\"] if e[\"pid\"]==%d and "
		 "e[\"ph\"]==\"i\" and e[\"cat\"]==\"event\")", pid, pid);
	return py(json, expr);
}

/* The tracks (pid, tid) whose events are not in time order: "[]" when none. */
#define TRACKS_OUT_OF_ORDER                                                            \
	"[k for k in set((e[\"pid\"], e[\"tid\"]) for e in d[\"traceEvents\"]) "         \
	"if (lambda ts: ts != sorted(ts))([e[\"ts\"] for e in d[\"traceEvents\"] "          \
	"if e[\"ph\"] != \"M\" and (e[\"pid\"], e[\"tid\"]) == k])]"

static void assert_export(const char *json, int pid, const char *trace)
{
	char *want = counts_of(trace), *got = exported(json, pid), *order = py(json, TRACKS_OUT_OF_ORDER);

	ASSERT_TRUE(strlen(want) > 2 && !strcmp(got, want), "slices and instants match the trace");
	printf("  %s: exported %s, trace %s\n", trace, got, want);
	ASSERT_TRUE(!strcmp(order, "[]"), "every track in time order");
	if (strcmp(order, "[]"))
		printf("  tracks out of order: %s\n", order);
	free(want);
	free(got);
	free(order);
}

static void test_export_hand_built(void)
{
	char a[512], out[512], err[512], json[512], *v;
	int rc;

	snprintf(a, sizeof(a), "%s", tmp_path("export.trace"));
	snprintf(json, sizeof(json), "%s", tmp_path("export.json"));
	build(a, 36, 0);
	rc = mmr(out, err, "export %s --perfetto %s", a, json, "");
	ASSERT_EQ(rc, 0, "export exit status");
	v = py(json, "d[\"displayTimeUnit\"], [e[\"name\"] for e in d[\"traceEvents\"] if e[\"ph\"]==\"X\"], "
		     "sum(1 for e in d[\"traceEvents\"] if e[\"name\"]==\"free_swap_and_cache\")");
	ASSERT_TRUE(!strcmp(v, "ns ['openat', 'mmap', 'madvise', 'ftruncate', 'munmap'] 36"),
		    "the ops as slices, the kernel events as instants");
	printf("  %s\n", v);
	free(v);
	assert_export(json, 1, a);
}

/* -o OUT.gz writes gzip (what ui.perfetto.dev opens), the same JSON as -o OUT. */
static void test_export_gzip(void)
{
	char a[512], out[512], err[512], json[512], gz[512], *v;

	snprintf(a, sizeof(a), "%s", tmp_path("export-gz.trace"));
	snprintf(json, sizeof(json), "%s", tmp_path("export-gz.json"));
	snprintf(gz, sizeof(gz), "%s", tmp_path("export-gz.json.gz"));
	build(a, 36, 0);
	ASSERT_EQ(mmr(out, err, "export %s -o %s", a, json, ""), 0, "export -o exit status");
	ASSERT_EQ(mmr(out, err, "export %s --output %s", a, gz, ""), 0, "export --output .gz");
	ASSERT_EQ(run_cmd(NULL, NULL, "gzip -t %s && zcat %s | cmp -s - %s", gz, gz, json), 0,
		  "a gzip file of the same JSON");
	ASSERT_TRUE(file_size(gz) < file_size(json) / 4, "smaller");
	v = py(gz, TRACKS_OUT_OF_ORDER);
	ASSERT_TRUE(!strcmp(v, "[]"), "every track in time order");
	free(v);
	ASSERT_EQ(run_cmd(out, NULL, "%s export --help", mmreplay_bin()), 0, "export --help");
	v = slurp(out);
	ASSERT_STRCONTAINS(v, "-o, --output OUT", "--help documents -o");
	ASSERT_STRCONTAINS(v, ".gz", "--help documents gzip");
	free(v);
}

static void test_export_recording_and_replay(void)
{
	char x[512], r[512], out[512], err[512], json[512], *v;
	int rc;

	if (!need_bpf())
		return;
	snprintf(x, sizeof(x), "%s", tmp_path("e-memfd.trace"));
	snprintf(r, sizeof(r), "%s", tmp_path("e-memfd-replay.trace"));
	snprintf(json, sizeof(json), "%s", tmp_path("ab.json"));
	if (!ASSERT_EQ(record(x, "fork_mlock"), 0, "record") || !ASSERT_EQ(replay(x, r), 0, "replay"))
		return;
	rc = mmr(out, err, "export %s %s --perfetto %s", x, r, json);
	ASSERT_EQ(rc, 0, "export exit status");
	v = py(json, "sorted((e[\"pid\"], e[\"args\"][\"name\"][:6]) for e in d[\"traceEvents\"] "
		     "if e[\"name\"] in (\"process_name\", \"thread_name\") and "
		     "e[\"args\"][\"name\"][:6] != \"thread\")");
	ASSERT_TRUE(!strcmp(v, "[(1, 'A: /tm'), (1, 'task 0'), (1, 'task 1'), (2, 'B: /tm'), "
			    "(2, 'task 0'), (2, 'task 1')]"), "two processes, a track per task in each");
	printf("  %s\n", v);
	free(v);
	assert_export(json, 1, x);
	assert_export(json, 2, r);
}

int main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		TEST(test_diff_align),
		TEST(test_diff_one_op_differs),
		TEST(test_diff_left_out),
		TEST(test_diff_thread_rss_moved),
		TEST(test_diff_killed_task),
		TEST(test_diff_split_rss_flushed),
		TEST(test_diff_zero_fill),
		TEST(test_diff_replay_mlock_memfd),
		TEST(test_diff_replay_fork_mlock),
		TEST(test_diff_replay_mixed_maps),
		TEST(test_diff_typed_vs_classic),
		TEST(test_diff_coalesced_vs_not),
		TEST(test_diff_different_workloads),
		TEST(test_diff_bad_input),
		TEST(test_export_hand_built),
		TEST(test_export_gzip),
		TEST(test_export_recording_and_replay),
	};
	int ret = run_tests(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);

	tmp_cleanup();
	return ret;
}
