// SPDX-License-Identifier: GPL-2.0
/*
 * Traces are untrusted input.  Each test builds one bad trace (sizes that
 * wrap, short records, hostile format text, a FIFO, a file padded far past
 * its end, impossible header fields), with every checksum valid, runs the
 * real subcommands on it and asserts the exact error line, exit status 2,
 * no crash (a signal exit or a hang), and that what precedes the damage is
 * still shown.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <zlib.h>
#include "test.h"
#include "testlib.h"
#include "traces/trace.h"
#include "tracebuild.h"
#include "traces/format.h"

#define BASE 0x7f1200000000ULL

/* Events in the first events chunk of a base trace (set by build_base). */
static int chunk1_events, all_events;

/* tmp_path(@name), kept (tests free nothing: a test run is short). */
static const char *keep_path(const char *name)
{
	return strdup(tmp_path(name));
}

/* A whole text file, also one whose size stat does not tell (tracefs). */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, (1 << 16) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

/*
 * One process in two events chunks: openat, mmap, faults (chunk 1); mlock,
 * munlock, munmap, exit_group (chunk 2).  @short_kind: append a record of
 * that kind @short_len bytes long at the end of chunk 2 (0: none).
 */
static int build(const char *path, int short_kind, int short_len)
{
	struct tb b;

	if (tb_open(&b, path, "6.1.0", 100, 0xaaa))
		return -1;
	tb_kind(b.w, MMR_K_PAGE_FAULT_USER, "tracepoint", tb_fault_format);
	tb_sys(&b, 257, -100, 0, 2, 0, 3, NULL);		/* openat */
	tb_sys(&b, 9, 0, 4 * 4096, 3, 0x22, BASE, NULL);	/* mmap */
	for (int i = 0; i < 4; i++) {
		tb_fault(&b, BASE + i * 4096, 1);
		tb_rss(&b, 1, i + 1);
	}
	mmr_writer_flush(b.w);
	chunk1_events = mmr_writer_events(b.w);
	tb_sys(&b, 149, BASE, 4 * 4096, 0, 0, 0, NULL);		/* mlock */
	tb_sys(&b, 150, BASE, 4 * 4096, 0, 0, 0, NULL);		/* munlock */
	tb_sys(&b, 11, BASE, 4 * 4096, 0, 0, 0, NULL);		/* munmap */
	tb_sys_enter(&b, 231, 0, 0, 0);
	if (short_kind) {
		unsigned char rec[1024] = { 0 };

		tb_put(&b, short_kind, rec, short_len);
	}
	all_events = mmr_writer_events(b.w);
	return tb_close(&b);
}

/* A base trace in the temp directory (the path is not one of tmp_path's rotating buffers). */
static const char *build_base(const char *name)
{
	const char *path = keep_path(name);

	build(path, 0, 0);
	return path;
}

/* ---- finding and rewriting chunks ------------------------------------------ */

struct chunk_at {
	long off;
	struct mmr_chunk_hdr h;
};

/* The @nth (from 1) chunk of @type in the file. */
static int find_chunk(const char *path, int type, int nth, struct chunk_at *c)
{
	int fd = open(path, O_RDONLY), ret = -1;

	c->off = sizeof(struct mmr_file_hdr);
	while (fd >= 0 && pread(fd, &c->h, sizeof(c->h), c->off) == sizeof(c->h)) {
		if (c->h.type == type && --nth == 0) {
			ret = 0;
			break;
		}
		c->off += sizeof(c->h) + c->h.data_len;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Writes header @h at @off with its header checksum made valid. */
static void put_hdr(const char *path, long off, struct mmr_chunk_hdr *h)
{
	int fd = open(path, O_WRONLY);

	h->hdr_crc = mmr_crc32(h, offsetof(struct mmr_chunk_hdr, hdr_crc));
	if (pwrite(fd, h, sizeof(*h), off) != sizeof(*h))
		printf("  cannot patch %s\n", path);
	close(fd);
}

/* The @nth chunk of @type with its raw_len set to @raw_len (CRCs valid). */
static long set_raw_len(const char *path, int type, int nth, __u32 raw_len)
{
	struct chunk_at c;

	if (find_chunk(path, type, nth, &c))
		return -1;
	c.h.raw_len = raw_len;
	put_hdr(path, c.off, &c.h);
	return c.off;
}

/* The decompressed data of chunk @c; *len set. */
static unsigned char *chunk_data(const char *path, const struct chunk_at *c, size_t *len)
{
	unsigned char *z = malloc(c->h.data_len + 1), *raw = malloc(c->h.raw_len + 1);
	uLongf n = c->h.raw_len;
	int fd = open(path, O_RDONLY);

	if (pread(fd, z, c->h.data_len, c->off + sizeof(c->h)) != c->h.data_len)
		n = 0;
	else if (c->h.flags & MMR_CHUNK_ZLIB)
		uncompress(raw, &n, z, c->h.data_len);
	else
		memcpy(raw, z, n);
	close(fd);
	free(z);
	*len = n;
	return raw;
}

/* Replaces chunk @c by an uncompressed chunk of @len bytes @raw, CRCs valid. */
static void replace_chunk(const char *path, const struct chunk_at *c, const void *raw, size_t len)
{
	char *old = slurp(path), *tmp;
	long size = file_size(path), tail = c->off + sizeof(c->h) + c->h.data_len;
	struct mmr_chunk_hdr h = c->h;
	FILE *f = fopen(path, "w");

	h.flags = 0;
	h.raw_len = h.data_len = len;
	h.data_crc = mmr_crc32(raw, len);
	h.hdr_crc = mmr_crc32(&h, offsetof(struct mmr_chunk_hdr, hdr_crc));
	tmp = old;
	fwrite(tmp, 1, c->off, f);
	fwrite(&h, 1, sizeof(h), f);
	fwrite(raw, 1, len, f);
	fwrite(tmp + tail, 1, size - tail, f);
	fclose(f);
	free(old);
}

/* ---- running the subcommands -------------------------------------------------- */

static const char *good_trace(void)
{
	static const char *path;

	if (!path)
		path = strdup(build_base("good.trace"));
	return path;
}

/* `mmreplay CMD FILE` (diff: against the good trace; export: to a file); its status. */
static int run(const char *cmd, const char *file, const char *out, const char *err)
{
	if (!strcmp(cmd, "diff"))
		return run_cmd(out, err, "timeout 60 %s diff %s %s", mmreplay_bin(), file,
			       good_trace());
	if (!strcmp(cmd, "export"))
		return run_cmd(out, err, "timeout 60 %s export %s --perfetto %s", mmreplay_bin(),
			       file, tmp_path("export.json"));
	if (!strcmp(cmd, "replay"))	/* refused before anything runs */
		return run_cmd(out, err, "timeout 60 %s replay %s -o %s", mmreplay_bin(), file,
			       tmp_path("replay.trace"));
	return run_cmd(out, err, "timeout 60 %s %s %s", mmreplay_bin(), cmd, file);
}

/* The one line `mmreplay CMD` prints for @problem of @file. */
static void error_line(char *buf, size_t len, const char *cmd, const char *file,
		       const char *problem)
{
	if (!strcmp(cmd, "show") || !strcmp(cmd, "info"))
		snprintf(buf, len, "mmreplay: %s: %s\n", file, problem);
	else
		snprintf(buf, len, "mmreplay: %s: %s: %s\n", cmd, file, problem);
}

/*
 * Runs `mmreplay CMD FILE`: exit status 2, stderr exactly @line (one line),
 * no signal; returns the number of lines it printed on stdout.
 */
static int expect_line(const char *cmd, const char *file, const char *line)
{
	const char *out = tmp_path("bad.out"), *err = tmp_path("bad.err");
	int rc = run(cmd, file, out, err), lines;
	char *o = slurp(out), *e = slurp(err);

	if (!ASSERT_EQ(rc, 2, cmd) || !ASSERT_TRUE(!strcmp(e, line), cmd))
		printf("  %s: stderr: %s  expected: %s", cmd, e, line);
	lines = count_lines(o);
	free(o);
	free(e);
	return lines;
}

/* Every reading subcommand: exit 2 and the line for @problem; show prints @shown events. */
static void expect_all(const char *file, const char *problem, int shown)
{
	static const char *cmds[] = { "info", "show", "check", "diff", "export", "replay" };
	char line[1024];

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int lines;

		error_line(line, sizeof(line), cmds[i], file, problem);
		lines = expect_line(cmds[i], file, line);
		if (!strcmp(cmds[i], "show"))
			ASSERT_EQ(lines, shown, "events shown before the damage");
	}
}

/* ---- the bad-input matrix ------------------------------------------------------ */

/* The base trace itself reads cleanly: what the tests below break. */
static void test_base_trace_ok(void)
{
	const char *path = good_trace();
	const char *out = tmp_path("ok.out");
	char *o;

	ASSERT_EQ(run("info", path, NULL, NULL), 0, "info");
	ASSERT_EQ(run("show", path, out, NULL), 0, "show");
	o = slurp(out);
	ASSERT_EQ(count_lines(o), all_events, "show: every event");
	free(o);
	ASSERT_TRUE(run("check", path, NULL, NULL) < 2, "check");
	ASSERT_EQ(run("diff", path, NULL, NULL), 0, "diff");
	ASSERT_EQ(run("export", path, NULL, NULL), 0, "export");
}

/* raw_len 0xffffffff on the header chunk: malloc(raw_len + 1) used to wrap to malloc(0). */
static void test_raw_len_wraps_meta(void)
{
	const char *path = build_base("meta-wrap.trace");
	long off = set_raw_len(path, MMR_CHUNK_META, 1, 0xffffffff);
	char problem[512], line[1024];
	static const char *cmds[] = { "info", "show", "check", "diff", "export", "replay" };

	snprintf(problem, sizeof(problem), "%s: trace has no readable header chunk: corrupt chunk at "
		 "byte %ld (chunk 1): raw_len 4294967295 is over the 16777216-byte chunk limit",
		 path, off);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(cmds[i], "show") || !strcmp(cmds[i], "info"))
			snprintf(line, sizeof(line), "mmreplay: %s\n", problem);
		else
			snprintf(line, sizeof(line), "mmreplay: %s: %s\n", cmds[i], problem);
		expect_line(cmds[i], path, line);
	}
}

/* The chunk number of the chunk at @off (as the reader counts them). */
static int chunk_no(const char *path, long off)
{
	struct chunk_at c = { .off = sizeof(struct mmr_file_hdr) };
	int fd = open(path, O_RDONLY), n = 1;

	while (pread(fd, &c.h, sizeof(c.h), c.off) == sizeof(c.h) && c.off < off) {
		c.off += sizeof(c.h) + c.h.data_len;
		n++;
	}
	close(fd);
	return n;
}

static void raw_len_events(const char *name, __u32 raw_len)
{
	const char *path = build_base(name);
	long off = set_raw_len(path, MMR_CHUNK_EVENTS, 2, raw_len);
	char problem[512];

	snprintf(problem, sizeof(problem), "corrupt chunk at byte %ld (chunk %d): raw_len %u is "
		 "over the 16777216-byte chunk limit", off, chunk_no(path, off), raw_len);
	expect_all(path, problem, chunk1_events);
}

/* The same on an events chunk: it used to segfault or hang show. */
static void test_raw_len_wraps_events(void)
{
	raw_len_events("ev-wrap.trace", 0xffffffff);
}

/* raw_len 0xfffffff0: info used to exit 0 without a word. */
static void test_raw_len_huge_events(void)
{
	raw_len_events("ev-huge.trace", 0xfffffff0);
}

/* raw_len one byte off what the compressed data holds, either way. */
static void test_raw_len_off_by_one(void)
{
	const char *path = build_base("ev-less.trace");
	struct chunk_at c;
	char problem[512];

	find_chunk(path, MMR_CHUNK_EVENTS, 2, &c);
	set_raw_len(path, MMR_CHUNK_EVENTS, 2, c.h.raw_len - 1);
	snprintf(problem, sizeof(problem), "corrupt chunk at byte %ld (chunk %d): bad compressed "
		 "data (zlib: buffer error)", c.off, chunk_no(path, c.off));
	expect_all(path, problem, chunk1_events);

	path = build_base("ev-more.trace");
	set_raw_len(path, MMR_CHUNK_EVENTS, 2, c.h.raw_len + 1);
	snprintf(problem, sizeof(problem), "corrupt chunk at byte %ld (chunk %d): bad compressed "
		 "data (%u bytes, raw_len says %u)", c.off, chunk_no(path, c.off), c.h.raw_len,
		 c.h.raw_len + 1);
	expect_all(path, problem, chunk1_events);
}

/* An uncompressed chunk whose data_len and raw_len disagree. */
static void test_data_len_mismatch(void)
{
	const char *path = build_base("dl.trace");
	struct chunk_at c;
	unsigned char *raw;
	size_t len;
	char problem[512];

	find_chunk(path, MMR_CHUNK_EVENTS, 2, &c);
	raw = chunk_data(path, &c, &len);
	replace_chunk(path, &c, raw, len);
	find_chunk(path, MMR_CHUNK_EVENTS, 2, &c);
	c.h.raw_len -= 8;
	put_hdr(path, c.off, &c.h);
	snprintf(problem, sizeof(problem), "corrupt chunk at byte %ld (chunk %d): data_len %zu "
		 "differs from raw_len %zu in an uncompressed chunk", c.off, chunk_no(path, c.off),
		 len, len - 8);
	expect_all(path, problem, chunk1_events);
	free(raw);
}

/* A syscall record 8 bytes long at the end of its chunk: show and the plan read past it. */
static void test_short_sys_record(void)
{
	const char *path = keep_path("short.trace");
	struct chunk_at c;
	char problem[512];
	size_t len;
	unsigned char *raw;

	build(path, MMR_K_SYS_ENTER, 8);
	find_chunk(path, MMR_CHUNK_EVENTS, 2, &c);
	raw = chunk_data(path, &c, &len);
	snprintf(problem, sizeof(problem), "corrupt chunk at byte %ld (chunk %d): record at offset "
		 "%zu: sys_enter record of 8 bytes, shorter than its %zu-byte minimum", c.off,
		 chunk_no(path, c.off), len - sizeof(struct mmr_hdr) - 8,
		 sizeof(struct mmr_sys_enter));
	expect_all(path, problem, all_events - 1);
	free(raw);
}

/* Every kind with a struct: one byte short of it is damage, named by kind. */
static void test_short_record_each_kind(void)
{
	static const struct { int kind; size_t size; const char *name; } kinds[] = {
		{ MMR_K_SYS_EXIT, sizeof(struct mmr_sys_exit), "sys_exit" },
		{ MMR_K_SYS_PATH, sizeof(struct mmr_sys_path), "sys_path" },
		{ MMR_K_TASK_FORK, sizeof(struct mmr_task_fork), "task_fork" },
		{ MMR_K_TASK_EXIT, sizeof(struct mmr_task_exit), "task_exit" },
		{ MMR_K_TASK_EXEC, sizeof(struct mmr_task_exec), "task_exec" },
		{ MMR_K_TRY_TO_UNMAP_ONE, sizeof(struct mmr_rmap), "try_to_unmap_one" },
		{ MMR_K_MLOCK_FOLIO, sizeof(struct mmr_mlock), "mlock_folio" },
		{ MMR_K_ZAP_DONE, sizeof(struct mmr_zap), "zap_done" },
		{ MMR_K_UNMAP_MAPPING_RANGE, sizeof(struct mmr_unmap_mapping), "unmap_mapping_range" },
		{ MMR_K_FREE_SWAP_AND_CACHE, sizeof(struct mmr_free_swap), "free_swap_and_cache" },
		{ MMR_K_DO_SWAP_PAGE, sizeof(struct mmr_swap_fault), "do_swap_page" },
		{ MMR_K_FAULT_DONE, sizeof(struct mmr_fault_done), "fault_done" },
		{ MMR_K_SNAP, sizeof(struct mmr_snap), "snapshot" },
		{ MMR_K_SNAP_VMA, sizeof(struct mmr_snap_vma), "snapshot_vma" },
		{ MMR_K_SNAP_PAGES, sizeof(struct mmr_snap_pages), "snapshot_pages" },
		{ MMR_K_SNAP_END, sizeof(struct mmr_snap_end), "snapshot_end" },
		{ MMR_K_RSS_STAT, 4, "kind 8" },	/* a tracepoint: its common header */
	};
	const char *path = keep_path("short-kind.trace");
	char problem[512], line[1024], want[128];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t len = kinds[i].size - (kinds[i].kind == MMR_K_RSS_STAT ? 0 : 1);

		build(path, kinds[i].kind, len);
		if (kinds[i].kind == MMR_K_RSS_STAT)
			snprintf(want, sizeof(want), "its 4-byte payload is shorter than the 8-byte "
				 "common header");
		else
			snprintf(want, sizeof(want), "%s record of %zu bytes, shorter than its "
				 "%zu-byte minimum", kinds[i].name, len, kinds[i].size);
		snprintf(problem, sizeof(problem), "%s", want);
		snprintf(line, sizeof(line), "mmreplay: %s: ", path);
		{
			const char *err = tmp_path("kind.err");
			char *e;
			int rc = run("info", path, NULL, err);

			e = slurp(err);
			ASSERT_EQ(rc, 2, kinds[i].name);
			ASSERT_EQ(count_lines(e), 1, kinds[i].name);
			ASSERT_STRCONTAINS(e, line, kinds[i].name);
			ASSERT_STRCONTAINS(e, problem, kinds[i].name);
			free(e);
		}
	}
}

/* Rewrites chunk 2's records with @edit applied to their bytes; returns the chunk. */
static struct chunk_at edit_records(const char *path, void (*edit)(unsigned char *, size_t *))
{
	struct chunk_at c;
	unsigned char *raw, *big;
	size_t len;

	find_chunk(path, MMR_CHUNK_EVENTS, 2, &c);
	raw = chunk_data(path, &c, &len);
	big = calloc(1, len + 64);
	memcpy(big, raw, len);
	edit(big, &len);
	replace_chunk(path, &c, big, len);
	find_chunk(path, MMR_CHUNK_EVENTS, 2, &c);
	free(raw);
	free(big);
	return c;
}

static void grow_first_len(unsigned char *p, size_t *len)
{
	struct mmr_hdr h;

	memcpy(&h, p, sizeof(h));
	h.len = *len;		/* more than is left */
	memcpy(p, &h, sizeof(h));
}

static void add_stray(unsigned char *p, size_t *len)
{
	*len += 5;
}

/* A record whose length runs past its chunk's end, and stray bytes after the last record. */
static void test_record_past_chunk(void)
{
	const char *path = build_base("past.trace");
	struct chunk_at c = edit_records(path, grow_first_len);
	char problem[512];

	snprintf(problem, sizeof(problem), "corrupt chunk at byte %ld (chunk %d): record at offset "
		 "0: its %u-byte payload runs past the chunk's end (%u bytes left)", c.off,
		 chunk_no(path, c.off), c.h.raw_len, c.h.raw_len - 24);
	expect_all(path, problem, chunk1_events);

	path = build_base("stray.trace");
	c = edit_records(path, add_stray);
	snprintf(problem, sizeof(problem), "corrupt chunk at byte %ld (chunk %d): record at offset "
		 "%u: 5 stray bytes after the last record", c.off, chunk_no(path, c.off),
		 c.h.raw_len - 5);
	expect_all(path, problem, all_events);
}

/* A snapshot_pages record whose nr says more pages than it holds. */
static void test_snapshot_pages_nr(void)
{
	const char *path = keep_path("pages.trace");
	struct tb b;
	struct chunk_at c;
	char problem[512];

	tb_open(&b, path, "6.1.0", 100, 0xaaa);
	tb_sys(&b, 9, 0, 4 * 4096, 3, 0x22, BASE, NULL);
	mmr_writer_flush(b.w);
	tb_snap(&b, 149, tb_counters(4, 0, 0));
	tb_vma(&b, BASE, BASE + 4 * 4096, MMR_VMA_READ | MMR_VMA_ANON, 0, 0, "");
	tb_page(&b, BASE, TB_PRESENT(0x100), MMR_PF_ANON, 1);
	b.pages->nr = 2;	/* one page written, two claimed */
	b.pages->seq = b.seq;
	tb_put(&b, MMR_K_SNAP_PAGES, b.pages, sizeof(*b.pages) + sizeof(struct mmr_snap_page));
	tb_close(&b);
	find_chunk(path, MMR_CHUNK_EVENTS, 2, &c);
	snprintf(problem, sizeof(problem), "corrupt chunk at byte %ld (chunk %d): record at offset "
		 "%zu: snapshot_pages record of %zu bytes cannot hold its 2 pages", c.off,
		 chunk_no(path, c.off), 2 * sizeof(struct mmr_hdr) + sizeof(struct mmr_snap) +
		 sizeof(struct mmr_snap_vma), sizeof(struct mmr_snap_pages) +
		 sizeof(struct mmr_snap_page));
	{
		char line[1024];

		error_line(line, sizeof(line), "show", path, problem);
		ASSERT_EQ(expect_line("show", path, line), 4, "records before it shown");
	}
}

/* File header fields set to all ones are refused, each with its own line. */
static void test_file_header_fields(void)
{
	static const struct { size_t off, size; const char *what; } f[] = {
		{ 12, 4, "hdr_size 4294967295, not 32" },
		{ 16, 8, "unknown flags 0xffffffffffffffff" },
		{ 24, 8, "reserved field is 0xffffffffffffffff, not 0" },
	};
	static const char *cmds[] = { "info", "show", "check", "diff", "export", "replay" };
	char line[1024], problem[512];

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		const char *path = build_base("hdr.trace");
		unsigned char ones[8];
		int fd = open(path, O_WRONLY);

		memset(ones, 0xff, sizeof(ones));
		if (pwrite(fd, ones, f[i].size, f[i].off) != (ssize_t)f[i].size)
			printf("  cannot patch\n");
		close(fd);
		snprintf(problem, sizeof(problem), "%s: bad file header: %s", path, f[i].what);
		for (size_t j = 0; j < sizeof(cmds) / sizeof(cmds[0]); j++) {
			if (!strcmp(cmds[j], "show") || !strcmp(cmds[j], "info"))
				snprintf(line, sizeof(line), "mmreplay: %s\n", problem);
			else
				snprintf(line, sizeof(line), "mmreplay: %s: %s\n", cmds[j], problem);
			expect_line(cmds[j], path, line);
		}
	}
}

/* A FIFO used to hang in open(2); a device is refused too. */
static void test_fifo_and_device(void)
{
	const char *fifo = keep_path("fifo.trace");
	char line[1024];

	if (!ASSERT_EQ(mkfifo(fifo, 0600), 0, "mkfifo"))
		return;
	snprintf(line, sizeof(line), "mmreplay: %s: is a FIFO, not a trace file (traces are "
		 "regular files)\n", fifo);
	expect_line("info", fifo, line);
	expect_line("show", fifo, line);
	snprintf(line, sizeof(line), "mmreplay: check: %s: is a FIFO, not a trace file (traces "
		 "are regular files)\n", fifo);
	expect_line("check", fifo, line);
	snprintf(line, sizeof(line), "mmreplay: /dev/null: is a device, not a trace file (traces "
		 "are regular files)\n");
	expect_line("info", "/dev/null", line);
}

/* Max RSS (KiB) of `sh -c CMD`, run with output to /dev/null; its status in *rc. */
static long max_rss_kb(const char *cmd, int *rc)
{
	struct rusage ru;
	int st = 0;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &st, 0, &ru) != pid)
		return -1;
	*rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return ru.ru_maxrss;
}

/*
 * A valid trace padded to 1 GiB with zeros (sparse): scanned for the next
 * chunk, it used to cost as much memory as the file.
 */
static void test_padding_memory(void)
{
	const char *path = build_base("padded.trace");
	long size = file_size(path), rss;
	char cmd[1024], line[1024], problem[512];
	int rc = -1;

	if (!ASSERT_EQ(truncate(path, 1L << 30), 0, "pad to 1 GiB"))
		return;
	snprintf(cmd, sizeof(cmd), "exec %s info %s", mmreplay_bin(), path);
	rss = max_rss_kb(cmd, &rc);
	ASSERT_EQ(rc, 2, "info exit status");
	if (!ASSERT_TRUE(rss > 0 && rss < 64 * 1024, "info: max RSS under 64 MiB"))
		printf("  max RSS %ld KiB\n", rss);
	snprintf(cmd, sizeof(cmd), "exec %s show %s", mmreplay_bin(), path);
	rss = max_rss_kb(cmd, &rc);
	ASSERT_EQ(rc, 2, "show exit status");
	if (!ASSERT_TRUE(rss > 0 && rss < 64 * 1024, "show: max RSS under 64 MiB"))
		printf("  max RSS %ld KiB\n", rss);
	snprintf(problem, sizeof(problem), "corrupt chunk at byte %ld (chunk %d): checksum mismatch",
		 size, chunk_no(path, size));
	error_line(line, sizeof(line), "show", path, problem);
	ASSERT_EQ(expect_line("show", path, line), all_events, "every event shown");
	unlink(path);
}

/* ---- format text ------------------------------------------------------------------ */

/* A trace whose rss_stat kind carries @fmt instead of the kernel's format. */
static const char *trace_with_format(const char *name, const char *fmt)
{
	const char *path = build_base(name);
	struct chunk_at c;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	fprintf(m, "id=%d\nname=rss_stat\nsystem=kmem\nsource=tracepoint\nattach=test\n"
		"status=ok\nformat:\n%s", MMR_K_RSS_STAT, fmt);
	fclose(m);
	for (int n = 1; !find_chunk(path, MMR_CHUNK_KIND, n, &c); n++) {
		size_t l;
		unsigned char *raw = chunk_data(path, &c, &l);
		int hit = strstr((char *)raw, "name=rss_stat\n") != NULL;

		free(raw);
		if (hit) {
			replace_chunk(path, &c, text, len);
			break;
		}
	}
	free(text);
	return path;
}

/*
 * A refused format: show prints every event (rss_stat undecoded), then one
 * line, exit 2; export fails with that line; check and diff do not need it.
 */
static void expect_refused(const char *path, const char *why)
{
	const char *out = tmp_path("fmt.out");
	char line[1024], problem[512];
	char *o;

	snprintf(problem, sizeof(problem), "kind rss_stat: format refused: %s", why);
	snprintf(line, sizeof(line), "mmreplay: %s: %s (its events are shown undecoded)\n", path,
		 problem);
	ASSERT_EQ(expect_line("show", path, line), all_events, "show: every event");
	error_line(line, sizeof(line), "export", path, problem);
	expect_line("export", path, line);
	ASSERT_TRUE(run("check", path, NULL, NULL) < 2, "check runs");
	ASSERT_TRUE(run("diff", path, NULL, NULL) < 2, "diff runs");
	ASSERT_EQ(run("info", path, NULL, NULL), 0, "info runs");
	run("show", path, out, NULL);
	o = slurp(out);
	ASSERT_STRCONTAINS(o, "(no format for kind 8)", "undecoded rss_stat");
	free(o);
}

#define COMMON_FIELDS TB_COMMON_FIELDS

/* print fmt "",D/s: libtraceevent divided by zero (SIGFPE). */
static void test_format_division(void)
{
	const char *fmt = "name: rss_stat\nID: 8\nformat:\n" COMMON_FIELDS
		"\tfield:long size;\toffset:24;\tsize:8;\tsigned:1;\n\n"
		"print fmt: \"\",D/s\n";

	expect_refused(trace_with_format("fmt-div.trace", fmt),
		       "print fmt has more arguments than conversions at ',D/s'");
}

/* field:d n[ : a NULL dereference in libtraceevent. */
static void test_format_bad_array(void)
{
	const char *fmt = "name: rss_stat\nID: 8\nformat:\n" COMMON_FIELDS
		"\tfield:d n[\n\nprint fmt: \"\"\n";

	expect_refused(trace_with_format("fmt-arr.trace", fmt),
		       "malformed field line '?field:d n['");
}

/* field:0 lines leaked in libtraceevent. */
static void test_format_field_zero(void)
{
	const char *fmt = "name: rss_stat\nID: 8\nformat:\n" COMMON_FIELDS
		"\tfield:0\n\tfield:0\n\nprint fmt: \"\"\n";

	expect_refused(trace_with_format("fmt-zero.trace", fmt),
		       "malformed field line '?field:0'");
}

/* Formats real kernels write for the kinds mmreplay records, and hostile ones. */
static void test_format_check(void)
{
	static const char *good[] = {
		tb_rss_format, tb_lru_format, tb_fault_format, tb_migration_format,
		/* 6.1: mmap_lock with its memcg path */
		"name: mmap_lock_acquire_returned\nID: 12\nformat:\n" COMMON_FIELDS
		"\tfield:struct mm_struct * mm;\toffset:8;\tsize:8;\tsigned:0;\n"
		"\tfield:__data_loc char[] memcg_path;\toffset:16;\tsize:4;\tsigned:0;\n"
		"\tfield:bool write;\toffset:20;\tsize:1;\tsigned:0;\n"
		"\tfield:bool success;\toffset:21;\tsize:1;\tsigned:0;\n\n"
		"print fmt: \"mm=%p memcg_path=%s write=%s success=%s\", REC->mm, "
		"__get_str(memcg_path), REC->write ? \"true\" : \"false\", REC->success ? "
		"\"true\" : \"false\"\n",
		/* 6.18 */
		"name: rss_stat\nID: 8\nformat:\n" COMMON_FIELDS
		"\tfield:unsigned int mm_id;\toffset:8;\tsize:4;\tsigned:0;\n"
		"\tfield:unsigned int curr;\toffset:12;\tsize:4;\tsigned:0;\n"
		"\tfield:int member;\toffset:16;\tsize:4;\tsigned:1;\n"
		"\tfield:long size;\toffset:24;\tsize:8;\tsigned:1;\n\n"
		"print fmt: \"mm_id=%u curr=%d type=%s size=%ldB\", REC->mm_id, REC->curr, "
		"__print_symbolic(REC->member, { 0, \"MM_FILEPAGES\" }, { 1, \"MM_ANONPAGES\" }, "
		"{ 2, \"MM_SWAPENTS\" }, { 3, \"MM_SHMEMPAGES\" }), REC->size\n",
		"name: mm_lru_insertion\nID: 9\nformat:\n" COMMON_FIELDS
		"\tfield:struct folio * folio;\toffset:8;\tsize:8;\tsigned:0;\n"
		"\tfield:unsigned long pfn;\toffset:16;\tsize:8;\tsigned:0;\n"
		"\tfield:enum lru_list lru;\toffset:24;\tsize:4;\tsigned:0;\n"
		"\tfield:unsigned long flags;\toffset:32;\tsize:8;\tsigned:0;\n\n"
		"print fmt: \"folio=%p pfn=0x%lx lru=%d flags=%s%s%s%s%s%s\", REC->folio, REC->pfn, "
		"REC->lru, REC->flags & 0x0001u ? \"M\" : \" \", REC->flags & 0x0002u ? \"a\" : "
		"\"f\", REC->flags & 0x0008u ? \"s\" : \" \", REC->flags & 0x0010u ? \"b\" : \" \", "
		"REC->flags & 0x0020u ? \"d\" : \" \", REC->flags & 0x0040u ? \"B\" : \" \"\n",
		"name: page_fault_user\nID: 7\nformat:\n" COMMON_FIELDS
		"\tfield:unsigned long address;\toffset:8;\tsize:8;\tsigned:0;\n"
		"\tfield:unsigned long ip;\toffset:16;\tsize:8;\tsigned:0;\n"
		"\tfield:unsigned long error_code;\toffset:24;\tsize:8;\tsigned:0;\n\n"
		"print fmt: \"address=%ps ip=%ps error_code=0x%lx\", (void *)REC->address, "
		"(void *)REC->ip, REC->error_code\n",
		"name: exit_mmap\nID: 16\nformat:\n" COMMON_FIELDS
		"\tfield:struct mm_struct * mm;\toffset:8;\tsize:8;\tsigned:0;\n"
		"\tfield:struct maple_tree * mt;\toffset:16;\tsize:8;\tsigned:0;\n\n"
		"print fmt: \"mt_mod %p, DESTROY\", REC->mt\n",
		/* 6.1 as its tracefs writes it: the "\n" of the text as a real newline */
		"name: exit_mmap\nID: 16\nformat:\n" COMMON_FIELDS
		"\tfield:struct mm_struct * mm;\toffset:8;\tsize:8;\tsigned:0;\n"
		"\tfield:struct maple_tree * mt;\toffset:16;\tsize:8;\tsigned:0;\n\n"
		"print fmt: \"mt_mod %p, DESTROY\n\", REC->mt\n",
	};
	static const char *bad[] = {
		"",
		"name: x\nID: 1\nformat:\n" COMMON_FIELDS "\tfield:long v;\toffset:8;\tsize:8;\tsigned:1;\n"
		"\nprint fmt: \"%pM\", REC->v\n",
		"name: x\nID: 1\nformat:\n" COMMON_FIELDS "\tfield:long v;\toffset:8;\tsize:8;\tsigned:1;\n"
		"\nprint fmt: \"%*d\", REC->v\n",
		"name: x\nID: 1\nformat:\n" COMMON_FIELDS "\tfield:long v;\toffset:8;\tsize:8;\tsigned:1;\n"
		"\nprint fmt: \"%d\", REC->v / REC->v\n",
		"name: x\nID: 1\nformat:\n" COMMON_FIELDS "\tfield:long v;\toffset:8;\tsize:8;\tsigned:1;\n"
		"\nprint fmt: \"%d\", REC->w\n",
		"name: x\nID: 1\nformat:\n" COMMON_FIELDS "\tfield:long v;\toffset:65535;\tsize:8;\tsigned:1;\n"
		"\nprint fmt: \"%d\", REC->v\n",
		"name: x\nID: 1\nformat:\n" COMMON_FIELDS "\tfield:long v;\toffset:8;\tsize:3;\tsigned:1;\n"
		"\nprint fmt: \"%d\", REC->v\n",
		"name: x\nID: 1\nformat:\n" COMMON_FIELDS "\tfield:long v;\toffset:8;\tsize:8;\tsigned:1;\n"
		"\nprint fmt: \"%s\", __get_str(v)\n",
		"name: x\nID: 1\nformat:\n" COMMON_FIELDS "\tfield:long v;\toffset:8;\tsize:8;\tsigned:1;\n"
		"\nprint fmt: \"%d\"\n",
		"name: x\nID: 1\nformat:\n\tfield:long v;\toffset:8;\tsize:8;\tsigned:1;\n"
		"\nprint fmt: \"%d\", REC->v\n",
	};
	char why[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!ASSERT_EQ(mmr_format_check(good[i], why, sizeof(why)), 0, "real format accepted"))
			printf("  #%zu: %s\n", i, why);
	for (int i = 0; i < mmr_nr_kinds; i++) {
		char *fmt;

		if (mmr_kinds[i].src == MMR_SRC_TRACEPOINT)
			continue;
		fmt = kind_format(&mmr_kinds[i]);
		if (!ASSERT_EQ(mmr_format_check(fmt, why, sizeof(why)), 0, mmr_kinds[i].name))
			printf("  %s\n", why);
		free(fmt);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!ASSERT_EQ(mmr_format_check(bad[i], why, sizeof(why)), -1, "hostile format refused"))
			printf("  #%zu accepted\n", i);
}

/* This kernel's own format files for the tracepoints mmreplay records, if tracefs is there. */
static void test_format_this_kernel(void)
{
	int seen = 0;
	char why[256];

	for (int i = 0; i < mmr_nr_kinds; i++) {
		const struct kind_def *k = &mmr_kinds[i];
		char path[256], *raw, *fmt;

		if (k->src != MMR_SRC_TRACEPOINT)
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s/format", k->tp_cat,
			 k->tp_name);
		if (access(path, R_OK))
			continue;
		raw = read_text(path);
		fmt = raw ? kind_tp_format(k, raw) : NULL;	/* as a trace stores it */
		if (!ASSERT_TRUE(fmt != NULL, k->name) ||
		    !ASSERT_EQ(mmr_format_check(fmt, why, sizeof(why)), 0, k->name))
			printf("  %s: %s\n", path, fmt ? why : "no ID line");
		free(fmt);
		free(raw);
		seen++;
	}
	if (!seen)
		test_skip("no tracefs at /sys/kernel/tracing");
}

int main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		TEST(test_base_trace_ok),
		TEST(test_raw_len_wraps_meta),
		TEST(test_raw_len_wraps_events),
		TEST(test_raw_len_huge_events),
		TEST(test_raw_len_off_by_one),
		TEST(test_data_len_mismatch),
		TEST(test_short_sys_record),
		TEST(test_short_record_each_kind),
		TEST(test_record_past_chunk),
		TEST(test_snapshot_pages_nr),
		TEST(test_file_header_fields),
		TEST(test_fifo_and_device),
		TEST(test_padding_memory),
		TEST(test_format_division),
		TEST(test_format_bad_array),
		TEST(test_format_field_zero),
		TEST(test_format_check),
		TEST(test_format_this_kernel),
	};
	int ret = run_tests(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);

	tmp_cleanup();
	return ret;
}
