// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the trace format library and of the commands that read
 * traces: round trip, time order, truncated and corrupt traces, JSON
 * output, and the error contract (one line, exit status 2).
 */
#include <fcntl.h>
#include "test.h"
#include "testlib.h"
#include "traces/fields.h"
#include "traces/trace.h"
#include "traces/kinds.h"
#include "tracebuild.h"
#include "traces/json_writer.h"

#define EVENTS_PER_CHUNK 100

/* An mlock enter event with a recognisable argument. */
static void make_event(int i, __u64 ts, struct mmr_hdr *h, struct mmr_sys_enter *e)
{
	memset(h, 0, sizeof(*h));
	memset(e, 0, sizeof(*e));
	h->ts = ts;
	h->mm = 0x1234;
	h->tgid = 100 + i % 3;
	h->cpu = i % 2;
	h->len = sizeof(*e);
	e->c.type = MMR_K_SYS_ENTER;
	e->c.pid = h->tgid;
	e->nr = 149;	/* mlock */
	e->args[0] = 0x10000 + (__u64)i * 4096;
	e->args[1] = i;
}

/* Writes nr_chunks events chunks of EVENTS_PER_CHUNK events; closed or not. */
static int write_trace(const char *path, int nr_chunks, int close_it)
{
	char err[256];
	struct mmr_writer *w = mmr_writer_open(path, err, sizeof(err));
	const char *meta = "format_version=1\nkernel_release=test\nmachine=x86_64\npage_size=4096\n";
	int n = 0;

	if (!w)
		return -1;
	mmr_writer_chunk(w, MMR_CHUNK_META, meta, strlen(meta));
	tb_put_kinds(w);
	for (int c = 0; c < nr_chunks; c++) {
		for (int i = 0; i < EVENTS_PER_CHUNK; i++, n++) {
			struct mmr_hdr h;
			struct mmr_sys_enter e;

			make_event(n, 1000000 + (__u64)n * 1000, &h, &e);
			mmr_writer_event(w, &h, &e);
		}
		mmr_writer_flush(w);
	}
	if (close_it)
		return mmr_writer_close(w, "events=0\ndrops=0\n");
	mmr_writer_flush(w);
	/* leak w on purpose: a recorder killed before closing */
	return 0;
}

static int read_all(const char *path, int *nr, int *in_order, int *args_ok, const char **problem,
		    struct mmr_trace **out)
{
	char err[256];
	struct mmr_trace *t = mmr_trace_open(path, err, sizeof(err));
	struct mmr_event ev;
	__u64 last = 0;

	*nr = 0;
	*in_order = *args_ok = 1;
	if (!t) {
		*problem = strdup(err);
		return -1;
	}
	while (mmr_trace_next(t, &ev) > 0) {
		const struct mmr_sys_enter *e = ev.data;
		int i = (int)((ev.h.ts - 1000000) / 1000);

		*in_order &= ev.h.ts >= last;
		*args_ok &= e->c.type == MMR_K_SYS_ENTER && e->args[0] == 0x10000 + (__u64)i * 4096 &&
			    e->args[1] == (__u64)i && ev.h.tgid == (__u32)(100 + i % 3);
		last = ev.h.ts;
		(*nr)++;
	}
	*problem = mmr_trace_problem(t) ? strdup(mmr_trace_problem(t)) : NULL;
	if (out)
		*out = t;
	else
		mmr_trace_close(t);
	return 0;
}

static void test_round_trip(void)
{
	const char *path = tmp_path("rt.trace"), *problem;
	struct mmr_trace *t;
	int nr, in_order, args_ok;

	if (!ASSERT_EQ(write_trace(path, 5, 1), 0, "write"))
		return;
	if (!ASSERT_EQ(read_all(path, &nr, &in_order, &args_ok, &problem, &t), 0, "open"))
		return;
	ASSERT_EQ(nr, 5 * EVENTS_PER_CHUNK, "events read back");
	ASSERT_TRUE(in_order, "time order");
	ASSERT_TRUE(args_ok, "event contents");
	ASSERT_TRUE(problem == NULL, "no problem on an intact trace");
	ASSERT_TRUE(mmr_trace_closed(t), "closed");
	ASSERT_STRCONTAINS(mmr_trace_meta(t, "kernel_release"), "test", "meta");
	ASSERT_OK_PTR(mmr_trace_kind_by_name(t, "sys_enter"), "kind table");
	mmr_trace_close(t);
}

/* Events written slightly out of order come back sorted. */
static void test_time_order(void)
{
	const char *path = tmp_path("order.trace");
	char err[256];
	struct mmr_writer *w = mmr_writer_open(path, err, sizeof(err));
	const char *meta = "format_version=1\n";
	__u64 ts[] = { 50, 10, 40, 30, 20, 60, 55, 1000, 990 };
	struct mmr_trace *t;
	struct mmr_event ev;
	__u64 last = 0;
	int n = 0, sorted = 1;

	if (!ASSERT_OK_PTR(w, "writer"))
		return;
	mmr_writer_chunk(w, MMR_CHUNK_META, meta, strlen(meta));
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		struct mmr_hdr h;
		struct mmr_sys_enter e;

		make_event(i, ts[i], &h, &e);
		mmr_writer_event(w, &h, &e);
		if (i == 3)
			mmr_writer_flush(w);	/* across a chunk boundary too */
	}
	mmr_writer_close(w, "");
	t = mmr_trace_open(path, err, sizeof(err));
	if (!ASSERT_OK_PTR(t, "open"))
		return;
	while (mmr_trace_next(t, &ev) > 0) {
		sorted &= ev.h.ts >= last;
		last = ev.h.ts;
		n++;
	}
	ASSERT_EQ(n, 9, "events");
	ASSERT_TRUE(sorted, "sorted by timestamp");
	mmr_trace_close(t);
}

static int copy_prefix(const char *src, const char *dst, long len)
{
	char *buf = malloc(len + 1);
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int ok = in >= 0 && out >= 0 && read(in, buf, len) == len && write(out, buf, len) == len;

	close(in);
	close(out);
	free(buf);
	return ok ? 0 : -1;
}

/* Cut the file anywhere: every complete chunk is still read, and it says so. */
static void test_truncated(void)
{
	const char *full = tmp_path("full.trace"), *cut = tmp_path("cut.trace"), *problem;
	long size, step;
	int nr, in_order, args_ok, bad = 0, checked = 0;

	write_trace(full, 6, 1);
	size = file_size(full);
	step = size / 97 + 1;
	for (long len = size - 1; len > size / 3; len -= step) {
		copy_prefix(full, cut, len);
		if (read_all(cut, &nr, &in_order, &args_ok, &problem, NULL))
			continue;	/* header cut away: nothing to keep */
		checked++;
		bad += !problem || !(strstr(problem, "truncated") || strstr(problem, "no end chunk"));
		bad += nr % EVENTS_PER_CHUNK != 0 || !in_order || !args_ok;
		free((void *)problem);
	}
	ASSERT_GE(checked, 30, "cut points checked");
	ASSERT_EQ(bad, 0, "cut points with a wrong result");
	/* cut just before the END chunk: all events, problem reported */
	copy_prefix(full, cut, size - 1);
	read_all(cut, &nr, &in_order, &args_ok, &problem, NULL);
	ASSERT_EQ(nr, 6 * EVENTS_PER_CHUNK, "all complete chunks kept");
	ASSERT_STRCONTAINS(problem, "truncated at byte", "problem");
}

/* Unclosed trace (recorder killed between chunks): readable, flagged. */
static void test_unclosed(void)
{
	const char *path = tmp_path("unclosed.trace"), *problem;
	int nr, in_order, args_ok;

	write_trace(path, 3, 0);
	read_all(path, &nr, &in_order, &args_ok, &problem, NULL);
	ASSERT_EQ(nr, 3 * EVENTS_PER_CHUNK, "events");
	ASSERT_STRCONTAINS(problem, "no end chunk", "problem");
}

/* A flipped byte in one chunk loses that chunk only. */
static void test_corrupt(void)
{
	const char *path = tmp_path("corrupt.trace"), *problem;
	struct mmr_chunk_hdr ch;
	long off = sizeof(struct mmr_file_hdr), target = -1;
	int fd, nr, in_order, args_ok, events_seen = 0;
	char byte;

	write_trace(path, 5, 1);
	fd = open(path, O_RDWR);
	/* find the third events chunk */
	while (pread(fd, &ch, sizeof(ch), off) == sizeof(ch)) {
		if (ch.type == MMR_CHUNK_EVENTS && ++events_seen == 3) {
			target = off + sizeof(ch) + ch.data_len / 2;
			break;
		}
		off += sizeof(ch) + ch.data_len;
	}
	if (!ASSERT_GE(target, 0, "found a chunk")) {
		close(fd);
		return;
	}
	pread(fd, &byte, 1, target);
	byte ^= 0x5a;
	pwrite(fd, &byte, 1, target);
	close(fd);
	read_all(path, &nr, &in_order, &args_ok, &problem, NULL);
	ASSERT_EQ(nr, 4 * EVENTS_PER_CHUNK, "events of intact chunks");
	ASSERT_TRUE(in_order && args_ok, "intact events unchanged");
	ASSERT_STRCONTAINS(problem, "corrupt chunk at byte", "problem");
}

static void test_not_a_trace(void)
{
	const char *path = tmp_path("junk"), *problem = NULL;
	FILE *f = fopen(path, "w");
	int nr, in_order, args_ok;

	fputs("this is not a trace file, not at all\n", f);
	fclose(f);
	ASSERT_EQ(read_all(path, &nr, &in_order, &args_ok, &problem, NULL), -1, "open fails");
	ASSERT_STRCONTAINS(problem, "not an mmreplay trace", "error");
	ASSERT_EQ(read_all("/nonexistent/x", &nr, &in_order, &args_ok, &problem, NULL), -1,
		  "missing file");
	ASSERT_STRCONTAINS(problem, "cannot open", "error");
}

static void test_show_json_parses(void)
{
	const char *path = tmp_path("json.trace"), *out = tmp_path("json.out");
	char *text;
	int rc;

	write_trace(path, 2, 1);
	rc = run_cmd(out, NULL, "%s show --json %s", mmreplay_bin(), path);
	ASSERT_EQ(rc, 0, "show --json exit status");
	rc = run_cmd(NULL, NULL, "python3 -c 'import json,sys; d=json.load(open(\"%s\")); "
		     "assert len(d)==%d, len(d); assert d[0][\"kind\"]==\"sys_enter\"; "
		     "assert d[0][\"syscall\"]==\"mlock\"; assert d[0][\"fields\"][\"arg0\"]==\"0x10000\"'",
		     out, 2 * EVENTS_PER_CHUNK);
	ASSERT_EQ(rc, 0, "JSON parses with the expected events");
	rc = run_cmd(out, NULL, "%s show --json --pid 101 %s", mmreplay_bin(), path);
	text = slurp(out);
	ASSERT_EQ(rc, 0, "show --pid exit status");
	ASSERT_TRUE(!strstr(text, "\"pid\": 100,"), "--pid filters");
	free(text);
}

#define KADDR 0xffff888012345678ULL	/* above 2^53: a double would round it */
#define UADDR 0x7f0000000000ULL
#define JUNK 0xdeadbeefdeadbeefULL	/* what registers past a syscall's arguments hold */

/* A syscall's six registers, entry and exit. */
static void put_sys6(struct tb *b, int nr, const __u64 a[6], long ret)
{
	struct mmr_sys_enter e = { .nr = nr };
	struct mmr_sys_exit x = { .nr = nr, .ret = ret };

	memcpy(e.args, a, sizeof(e.args));
	tb_put(b, MMR_K_SYS_ENTER, &e, sizeof(e));
	tb_put(b, MMR_K_SYS_EXIT, &x, sizeof(x));
}

/* A workload's syscalls as the recorder sees them, junk in unused registers. */
static int write_syscall_trace(const char *path)
{
	static const __u64 calls[][7] = {	/* nr, six registers */
		{ 9, 0, 8192, 3, 0x22, -1ULL, 0 },				/* mmap */
		{ 28, UADDR, 8192, 21, JUNK, JUNK, JUNK },			/* madvise */
		{ 11, UADDR + 1, 4096, JUNK, JUNK, JUNK, JUNK },		/* munmap */
		{ 325, UADDR, 4096, 1, JUNK, JUNK, JUNK },			/* mlock2 */
		{ 151, 3, JUNK, JUNK, JUNK, JUNK, JUNK },			/* mlockall */
		{ 3, 3, JUNK, JUNK, JUNK, JUNK, JUNK },				/* close */
		{ 257, -100ULL, UADDR, 02000000, JUNK, JUNK, JUNK },		/* openat */
		{ 285, 3, 0x3, 0, 4096, JUNK, JUNK },				/* fallocate */
		{ 25, UADDR, 4096, 8192, 1, JUNK, JUNK },			/* mremap */
		{ 10, UADDR, 4096, 0, JUNK, JUNK, JUNK },			/* mprotect */
		{ 9, 0, 2 << 20, 3, 0x40022 | (21ULL << 26), -1ULL, 0 },	/* mmap */
		{ 56, 0x1200011, 0, 0, UADDR, 0, JUNK },			/* clone */
	};
	static const long rets[] = { UADDR, 0, -22, -12, -1, 0, 3, 0, UADDR, 0, UADDR, 42 };
	struct tb b;

	if (tb_open(&b, path, "test", 100, KADDR))
		return -1;
	tb_kind(b.w, MMR_K_PAGE_FAULT_USER, "tracepoint", tb_fault_format);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		put_sys6(&b, calls[i][0], calls[i] + 1, rets[i]);
	tb_fault(&b, KADDR, 1);
	return tb_close(&b);
}

/* show prints a syscall as strace does: its own arguments, flags by name, errno names. */
static void test_show_decodes_syscalls(void)
{
	static const char *const want[] = {
		"mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\n",
		"mmap = 0x7f0000000000\n",
		"madvise(0x7f0000000000, 8192, MADV_PAGEOUT)\n",
		"munmap(0x7f0000000001, 4096)\n",
		"munmap = -EINVAL (Invalid argument)\n",
		"mlock2(0x7f0000000000, 4096, MLOCK_ONFAULT)\n",
		"mlock2 = -ENOMEM (Cannot allocate memory)\n",
		"mlockall(MCL_CURRENT|MCL_FUTURE)\n",
		"mlockall = -EPERM (Operation not permitted)\n",
		"close(3)\n",
		"openat(AT_FDCWD, 0x7f0000000000, O_RDONLY|O_CLOEXEC)\n",
		"openat = 3\n",
		"fallocate(3, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0, 4096)\n",
		"mremap(0x7f0000000000, 4096, 8192, MREMAP_MAYMOVE)\n",
		"mprotect(0x7f0000000000, 4096, PROT_NONE)\n",
		"mmap(NULL, 2097152, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|"
		"MAP_HUGE_2MB, -1, 0)\n",
		"clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, NULL, NULL, 0x7f0000000000, 0)\n",
		"clone = 42\n",
	};
	const char *path = tmp_path("sys.trace"), *out = tmp_path("sys.out");
	char *text;

	if (!ASSERT_EQ(write_syscall_trace(path), 0, "write the trace"))
		return;
	ASSERT_EQ(run_cmd(out, NULL, "%s show %s", mmreplay_bin(), path), 0, "show exit status");
	text = slurp(out);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ASSERT_STRCONTAINS(text, want[i], "decoded syscall");
	ASSERT_TRUE(!strstr(text, "deadbeef)"), "no register past a syscall's arguments");
	free(text);
}

/*
 * In show --json and export, 64-bit values that can pass 2^53 (addresses,
 * registers, the mm pointer) are strings, exact for a reader that keeps
 * numbers in doubles; the decoded arguments are strings too.
 */
static void test_json_addresses_are_strings(void)
{
	const char *path = tmp_path("sysj.trace"), *out = tmp_path("sysj.out");
	const char *pf = tmp_path("sysj.perfetto");
	int rc;

	if (!ASSERT_EQ(write_syscall_trace(path), 0, "write the trace"))
		return;
	ASSERT_EQ(run_cmd(out, NULL, "%s show --json %s", mmreplay_bin(), path), 0, "show --json");
	rc = run_cmd(NULL, NULL, "python3 -c 'import json; d=json.load(open(\"%s\")); "
		     "m=d[0]; assert m[\"mm\"]==\"0x%llx\", m; "
		     "assert m[\"args\"]==[\"NULL\",\"8192\",\"PROT_READ|PROT_WRITE\","
		     "\"MAP_PRIVATE|MAP_ANONYMOUS\",\"-1\",\"0\"], m; "
		     "assert m[\"fields\"][\"arg4\"]==\"0xffffffffffffffff\", m; "
		     "assert d[5][\"result\"]==\"-EINVAL\", d[5]; "
		     "f=[e for e in d if e[\"kind\"]==\"page_fault_user\"][0]; "
		     "assert f[\"fields\"][\"address\"]==\"0x%llx\", f'",
		     out, KADDR, KADDR);
	ASSERT_EQ(rc, 0, "show --json: addresses, registers and mm are exact strings");
	ASSERT_EQ(run_cmd(NULL, NULL, "%s export %s -o %s", mmreplay_bin(), path, pf), 0, "export");
	rc = run_cmd(NULL, NULL, "python3 -c 'import json; d=json.load(open(\"%s\")); "
		     "f=[e for e in d[\"traceEvents\"] if e.get(\"name\")==\"page_fault_user\"][0]; "
		     "assert f[\"args\"][\"address\"]==\"0x%llx\", f'", pf, KADDR);
	ASSERT_EQ(rc, 0, "export: an event's address is an exact string");
}

static void test_show_truncated_exit(void)
{
	const char *full = tmp_path("sf.trace"), *cut = tmp_path("sc.trace");
	const char *out = tmp_path("sc.out"), *err = tmp_path("sc.err");
	char *o, *e;
	int rc;

	write_trace(full, 3, 1);
	copy_prefix(full, cut, file_size(full) - 10);
	rc = run_cmd(out, err, "%s show %s", mmreplay_bin(), cut);
	o = slurp(out);
	e = slurp(err);
	ASSERT_EQ(rc, 2, "exit status");
	ASSERT_EQ(count_lines(o), 3 * EVENTS_PER_CHUNK, "events of complete chunks printed");
	ASSERT_EQ(count_lines(e), 1, "one error line");
	ASSERT_STRCONTAINS(e, "truncated", "error text");
	free(o);
	free(e);
}

/* The writer's text for one sequence of calls, into a memstream; caller frees. */
static char *jsonw_text(void (*emit)(json_writer_t *w))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_writer_t *w = jsonw_new(f);

	emit(w);
	jsonw_destroy(&w);
	fclose(f);
	return buf;
}

static void emit_nested(json_writer_t *w)
{
	jsonw_start_object(w);
	jsonw_string_field(w, "s", "a\"b\\c\nd\te\x01\x7f");
	jsonw_uint_field(w, "u", 18446744073709551615ULL);
	jsonw_int_field(w, "i", -5);
	jsonw_bool_field(w, "t", true);
	jsonw_null_field(w, "n");
	jsonw_string_field(w, "empty", NULL);
	jsonw_name(w, "a");
	jsonw_start_array(w);
	jsonw_lines(w, 2, 0);
	jsonw_uint(w, 1);
	jsonw_start_object(w);
	jsonw_end_object(w);
	jsonw_start_array(w);
	jsonw_end_array(w);
	jsonw_end_array(w);
	jsonw_break(w, 1);
	jsonw_stringf_field(w, "mm", "0x%x", 255);
	jsonw_end_object(w);
}

static void emit_error_in_array(json_writer_t *w)
{
	jsonw_start_array(w);
	jsonw_uint(w, 1);
	jsonw_start_object(w);
	jsonw_name(w, "x");
	jsonw_error(w, "bad \"x\"");
}

static void emit_error_alone(json_writer_t *w)
{
	jsonw_error(w, "no");
}

static void emit_error_held(json_writer_t *w)
{
	jsonw_hold_top(w);
	jsonw_start_object(w);
	jsonw_lines(w, 2, 0);
	jsonw_uint_field(w, "k", 1);
	jsonw_end_object(w);		/* held: the error still goes inside */
	jsonw_error(w, "late");
}

static void emit_held(json_writer_t *w)
{
	jsonw_hold_top(w);
	jsonw_start_array(w);
	jsonw_end_array(w);
}

/* commas, nesting, layout and escaping are the writer's; today's spacing kept */
static void test_json_writer(void)
{
	struct { void (*emit)(json_writer_t *w); const char *want; } cases[] = {
		{ emit_nested, "{\"s\": \"a\\\"b\\\\c\\nd\\te\\u0001\\u007f\", "
			       "\"u\": 18446744073709551615, \"i\": -5, \"t\": true, \"n\": null, "
			       "\"empty\": \"\", \"a\": [\n  1,\n  {},\n  []\n],\n \"mm\": \"0xff\"}\n" },
		{ emit_error_in_array, "[1, {\"x\": null}, {\"error\": \"bad \\\"x\\\"\"}]\n" },
		{ emit_error_alone, "{\"error\": \"no\"}\n" },
		{ emit_error_held, "{\n  \"k\": 1,\n  \"error\": \"late\"\n}\n" },
		{ emit_held, "[]\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = jsonw_text(cases[i].emit);

		if (!ASSERT_TRUE(got && !strcmp(got, cases[i].want), "writer text"))
			printf("  case %zu: got %s  want %s", i, got, cases[i].want);
		free(got);
	}
}

/* show --json of a truncated trace: one document, the error as its last element */
static void test_show_json_error(void)
{
	const char *full = tmp_path("jf.trace"), *cut = tmp_path("jc.trace");
	const char *out = tmp_path("jc.out");
	int rc;

	write_trace(full, 3, 1);
	copy_prefix(full, cut, file_size(full) - 10);
	rc = run_cmd(out, NULL, "%s show --json %s", mmreplay_bin(), cut);
	ASSERT_EQ(rc, 2, "exit status");
	rc = run_cmd(NULL, NULL, "python3 -c 'import json; d=json.load(open(\"%s\")); "
		     "assert len(d)==%d+1, len(d); assert \"truncated\" in d[-1][\"error\"]'",
		     out, 3 * EVENTS_PER_CHUNK);
	ASSERT_EQ(rc, 0, "events of complete chunks, then {\"error\": ...}");
	rc = run_cmd(out, NULL, "%s show --json /nonexistent.trace", mmreplay_bin());
	ASSERT_EQ(rc, 2, "exit status");
	rc = run_cmd(NULL, NULL, "python3 -c 'import json; d=json.load(open(\"%s\")); "
		     "assert list(d)==[\"error\"] and \"cannot open\" in d[\"error\"]'", out);
	ASSERT_EQ(rc, 0, "{\"error\": \"...cannot open...\"} alone");
}

static void expect_error(const char *args, const char *text)
{
	const char *err = tmp_path("cli.err");
	char *e;
	int rc = run_cmd(NULL, err, "%s %s", mmreplay_bin(), args);

	e = slurp(err);
	if (!ASSERT_EQ(rc, 2, args) || !ASSERT_EQ(count_lines(e), 1, args))
		printf("  stderr: %s", e);
	ASSERT_STRCONTAINS(e, text, args);
	free(e);
}

static void test_cli_errors(void)
{
	const char *junk = tmp_path("junk2");
	FILE *f = fopen(junk, "w");

	fputs("MMRTRACX................................", f);
	fclose(f);
	expect_error("--bogus", "unknown option");
	expect_error("frobnicate", "unknown command");
	expect_error("show --frob x", "unknown option");
	expect_error("record -z", "unknown option");
	expect_error("show", "no trace file");
	expect_error("show /nonexistent.trace", "cannot open");
	expect_error("record", "nothing to trace");
	expect_error("record -e nosuchkind -- true", "unknown event kind");
	expect_error("record -p 999999999", "no such process");
	expect_error("record -o /dev/null -- /nonexistent/cmd", "cannot run /nonexistent/cmd");
	expect_error("record -o /dev/null -- no-such-command-mmr", "cannot run no-such-command-mmr");
	{
		char args[600];

		snprintf(args, sizeof(args), "show %s", junk);
		expect_error(args, "not an mmreplay trace");
		snprintf(args, sizeof(args), "info %s", junk);
		expect_error(args, "not an mmreplay trace");
	}
	ASSERT_EQ(run_cmd(NULL, NULL, "%s --help", mmreplay_bin()), 0, "--help");
	ASSERT_EQ(run_cmd(NULL, NULL, "%s record --help", mmreplay_bin()), 0, "record --help");
}

static void test_kind_formats_parse(void)
{
	/* Every struct kind's generated format must describe its struct exactly. */
	for (int i = 0; i < mmr_nr_kinds; i++) {
		const struct kind_def *k = &mmr_kinds[i];
		char *fmt;

		if (k->src == MMR_SRC_TRACEPOINT)
			continue;
		fmt = kind_format(k);
		ASSERT_STRCONTAINS(fmt, "field:int common_pid;\toffset:4;", k->name);
		for (int f = 0; f < k->nr_fields; f++)
			ASSERT_STRCONTAINS(fmt, k->fields[f].name, k->name);
		free(fmt);
	}
}

/*
 * rss_stat laid out as no kernel does (member after size) and
 * mmap_lock_acquire_returned as 6.1 does (a __data_loc memcg_path before
 * write): the schema must read both from the trace's own formats.
 */
static const char odd_rss_format[] =
	"name: rss_stat\nID: 646\nformat:\n"
	TB_COMMON_FIELDS
	"\tfield:unsigned int mm_id;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:long size;\toffset:16;\tsize:8;\tsigned:1;\n"
	"\tfield:int member;\toffset:24;\tsize:4;\tsigned:1;\n\n"
	"print fmt: \"mm_id=%u member=%d size=%ldB\", REC->mm_id, REC->member, REC->size\n";

static const char lock61_format[] =
	"name: mmap_lock_acquire_returned\nID: 420\nformat:\n"
	TB_COMMON_FIELDS
	"\tfield:struct mm_struct * mm;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:__data_loc char[] memcg_path;\toffset:16;\tsize:4;\tsigned:0;\n"
	"\tfield:bool write;\toffset:20;\tsize:1;\tsigned:0;\n"
	"\tfield:bool success;\toffset:21;\tsize:1;\tsigned:0;\n\n"
	"print fmt: \"write=%s success=%s\", REC->write ? \"true\" : \"false\", "
	"REC->success ? \"true\" : \"false\"\n";

static void odd_rss(struct tb *b, int member, long pages, size_t len)
{
	unsigned char rec[32] = { 0 };

	pages *= 4096;
	memcpy(rec + 16, &pages, 8);
	memcpy(rec + 24, &member, 4);
	tb_put(b, MMR_K_RSS_STAT, rec, len);
}

static int write_fields_trace(const char *path)
{
	unsigned char lock[24];
	struct tb b;

	if (tb_open(&b, path, "6.18.0", 100, 0x1000))
		return -1;
	tb_kind(b.w, MMR_K_RSS_STAT, "tracepoint", odd_rss_format);	/* replaces tb_open's */
	tb_kind(b.w, MMR_K_MMAP_LOCK_ACQUIRED, "tracepoint", lock61_format);
	odd_rss(&b, MMR_RSS_ANON, 3, 32);
	odd_rss(&b, MMR_RSS_SWAP, 2, 32);
	odd_rss(&b, MMR_RSS_SWAP, 1, 32);
	odd_rss(&b, -1, 5, 32);
	odd_rss(&b, MMR_RSS_ANON, 7, 20);	/* member and size past its end */
	tb_lru(&b, 0x1234, 4);
	tb_fault(&b, 0xdead000, 1);		/* no format for it: the default layout */
	memset(lock, 0xff, sizeof(lock));
	lock[20] = 1, lock[21] = 0;		/* write, not success; 0xff where 6.18 has them */
	tb_put(&b, MMR_K_MMAP_LOCK_ACQUIRED, lock, sizeof(lock));
	return tb_close(&b);
}

static void test_fields_schema(void)
{
	const char *path = tmp_path("fields.trace");
	struct mmr_rss_counters cnt = { 0 };
	struct mmr_rss_change ch[4];
	const struct mmr_schema *s;
	struct mmr_event ev[10];
	__u64 data[10][8];
	struct mmr_trace *t;
	struct mmr_rss r;
	char err[256];
	int n = 0;

	if (!ASSERT_EQ(write_fields_trace(path), 0, "write") ||
	    !ASSERT_OK_PTR(t = mmr_trace_open(path, err, sizeof(err)), "open"))
		return;
	s = mmr_trace_schema(t);
	ASSERT_TRUE(mmr_rss_readable(s), "rss_stat format declares member and size");
	ASSERT_TRUE(mmr_schema_has(s, MMR_K_LRU_INSERTION, F_LRU), "lru declared");
	ASSERT_TRUE(!mmr_schema_has(s, MMR_K_PAGE_FAULT_USER, F_ADDRESS), "no fault format");
	/* each event's data is the reader's until the next: keep copies */
	while (n < 10 && mmr_trace_next(t, &ev[n]) == 1 && ev[n].h.len <= sizeof(data[n])) {
		memcpy(data[n], ev[n].data, ev[n].h.len);
		ev[n].data = data[n];
		n++;
	}
	if (!ASSERT_EQ(n, 8, "events read"))
		goto out;
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(mmr_rss_update(&cnt, &ev[i], 4096, &ch[i]), 0, "rss_stat decoded");
	ASSERT_TRUE(ch[0].member == MMR_RSS_ANON && ch[0].now == 3 && !ch[0].seen, "anon 3");
	ASSERT_TRUE(ch[1].member == MMR_RSS_SWAP && ch[1].old == 0 && ch[1].now == 2 && !ch[1].seen,
		    "swap 2, first value");
	ASSERT_TRUE(ch[2].old == 2 && ch[2].now == 1 && ch[2].seen, "swap falls from 2 to 1");
	ASSERT_EQ(mmr_ev_s64(&ev[3], F_MEMBER), -1, "member sign-extended");
	ASSERT_EQ(mmr_ev_u64(&ev[3], F_MEMBER), 0xffffffffULL, "member zero-extended");
	ASSERT_EQ(mmr_ev_rss(&ev[3], 4096, &r), -1, "member -1 is no counter");
	ASSERT_EQ(mmr_ev_u64(&ev[4], F_SIZE), 0, "size past the record's end reads 0");
	ASSERT_EQ(mmr_ev_u64(&ev[5], F_PFN), 0x1234, "lru pfn");
	ASSERT_EQ(mmr_ev_u64(&ev[5], F_LRU), 4, "lru list");
	ASSERT_EQ(mmr_ev_u64(&ev[6], F_ADDRESS), 0xdead000, "fault address, default offset");
	ASSERT_EQ(mmr_ev_u64(&ev[6], F_ERROR_CODE), 6, "fault error code, default offset");
	ASSERT_EQ(mmr_ev_u64(&ev[6], F_MEMBER), 0, "a field its kind does not have reads 0");
	ASSERT_EQ(mmr_ev_u64(&ev[7], F_WRITE), 1, "6.1 mmap_lock write, from its format");
	ASSERT_EQ(mmr_ev_u64(&ev[7], F_SUCCESS), 0, "6.1 mmap_lock success, from its format");
out:
	mmr_trace_close(t);
}

int main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		TEST(test_round_trip),
		TEST(test_time_order),
		TEST(test_truncated),
		TEST(test_unclosed),
		TEST(test_corrupt),
		TEST(test_not_a_trace),
		TEST(test_kind_formats_parse),
		TEST(test_fields_schema),
		TEST(test_show_json_parses),
		TEST(test_show_truncated_exit),
		TEST(test_show_decodes_syscalls),
		TEST(test_json_addresses_are_strings),
		TEST(test_cli_errors),
		TEST(test_json_writer),
		TEST(test_show_json_error),
	};
	int ret = run_tests(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);

	tmp_cleanup();
	return ret;
}
