// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness over everything that reads a trace: info (plain,
 * --json), show (-v, --json), check --json, diff (plain and --json) of the
 * input against a recording linked in (fuzz/ref_trace.S), export (which runs the checker again and prints its findings),
 * and the replay plan (plan_build, plan_pairs, plan_targets, rop_range).
 * One pass of each kind: each pass costs a trace open, and show and export
 * a libtraceevent parse of every format.  The subcommands' own functions are called, not main():
 * they return, and their printing code reads the records too.
 *
 * The reader takes a path and maps it, so each input is written to one
 * memfd per process and opened as /proc/self/fd/N.  Output goes to
 * /dev/null (MMR_FUZZ_VERBOSE=1 keeps stderr).
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include "cli/cmds.h"
#include "replay/replay.h"
#include "traces/trace.h"
#include "cli/util.h"

#define FUZZ_MAX_PAIRS 64

/* the other side of diff: fuzz/corpus/plain.trace (fuzz/ref_trace.S) */
extern const unsigned char fuzz_ref_trace[];
extern const unsigned long fuzz_ref_trace_len;

static int mem_fd = -1;
static char trace_path[64];
static char ref_path[64];
static char json_path[64];

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MMR_ASAN 1
#include <sanitizer/asan_interface.h>

void __asan_report_store_n(void *addr, size_t size);
#endif
#endif

/*
 * The harness is linked with -Wl,--wrap=uncompress, so the trace reader's
 * uncompress() calls come here.  zlib is not instrumented, so ASan does not
 * see it write past its destination; check the destination the way ASan's
 * interceptors check memcpy's, then let zlib do the work.
 */
int __wrap_uncompress(Bytef *dest, uLongf *dest_len, const Bytef *src, uLong src_len);

int __wrap_uncompress(Bytef *dest, uLongf *dest_len, const Bytef *src, uLong src_len)
{
#ifdef MMR_ASAN
	void *bad = *dest_len ? __asan_region_is_poisoned(dest, *dest_len) : NULL;

	if (bad)
		__asan_report_store_n(bad, 1);
#endif
	return uncompress2(dest, dest_len, src, &src_len);
}

/* cmd_help() lives in cli/main.c, which is not linked in. */
int cmd_help(const char *name)
{
	return 0;
}

static void quiet(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	FILE *f;

	if (fd < 0)
		return;
	dup2(fd, STDOUT_FILENO);
	close(fd);
	if (getenv("MMR_FUZZ_VERBOSE"))
		return;
	/* the sanitizers and libFuzzer keep fd 2; the code under test gets /dev/null */
	f = fopen("/dev/null", "w");
	if (f)
		stderr = f;
}

static int put_file(int fd, const unsigned char *data, size_t size)
{
	size_t done = 0;

	if (ftruncate(fd, 0))
		return -1;
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, done);

		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* A memfd holding size bytes at data, as a path the reader opens. */
static int memfd_path(const char *name, const unsigned char *data, size_t size, char *path,
		      size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0 || put_file(fd, data, size)) {
		perror("trace_fuzz: memfd");
		abort();
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	mem_fd = memfd_path("trace_fuzz", NULL, 0, trace_path, sizeof(trace_path));
	memfd_path("trace_fuzz_ref", fuzz_ref_trace, fuzz_ref_trace_len, ref_path,
		   sizeof(ref_path));
	snprintf(json_path, sizeof(json_path), "/dev/shm/trace_fuzz.%d.json", getpid());
	quiet();
	return 0;
}

/* Runs one subcommand function as the CLI would, with fresh getopt state. */
static void run_cmd(int (*cmd)(int, char **), int verbose, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	va_start(ap, verbose);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	optind = 0;
	mmr_verbose = verbose;
	cmd(argc, argv);
	fflush(stdout);
	mmr_verbose = 0;
}

/* What replay does with a trace before running anything: the plan and its pairs. */
static void run_plan(void)
{
	struct rpair pairs[FUZZ_MAX_PAIRS];
	__u32 targets[FUZZ_MAX_PAIRS];
	struct mmr_trace *t;
	struct rplan p;
	char err[512];

	t = mmr_trace_open(trace_path, err, sizeof(err));
	if (!t)
		return;
	if (!plan_build(t, &p, err, sizeof(err))) {
		plan_pairs(&p, 1000000, pairs, FUZZ_MAX_PAIRS);
		plan_targets(&p, targets, FUZZ_MAX_PAIRS);
		for (size_t i = 0; i < p.nr_ops; i++) {
			__u64 lo, hi;

			rop_range(&p, &p.ops[i], &lo, &hi);
			rop_name(&p.ops[i]);
		}
		plan_free(&p);
	}
	mmr_trace_close(t);
}

static void run_all(void)
{
	char *f = trace_path;

	run_cmd(cmd_info, 0, "info", f, NULL);
	run_cmd(cmd_info, 0, "info", "--json", f, NULL);
	run_cmd(cmd_show, 1, "show", f, NULL);
	run_cmd(cmd_show, 0, "show", "--json", f, NULL);
	run_cmd(cmd_check, 0, "check", "--json", f, NULL);
	run_cmd(cmd_diff, 0, "diff", f, ref_path, NULL);
	run_cmd(cmd_diff, 0, "diff", "--json", ref_path, f, NULL);
	run_cmd(cmd_export, 0, "export", f, "--perfetto", json_path, NULL);
	unlink(json_path);
	run_plan();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (mem_fd < 0)
		LLVMFuzzerInitialize(NULL, NULL);
	if (put_file(mem_fd, data, size))
		return 0;
	run_all();
	return 0;
}
