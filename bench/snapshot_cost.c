// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of one record --snapshot snapshot, by phase.  A child maps VMAS
 * anonymous VMAs of MB MiB each (neighbours differ in protection, so they
 * stay apart); every third is touched, every fourth mlocked.  The parent
 * stops it and takes a snapshot (record/snapshot.c, writing a trace to
 * OUT), SNAPSHOTS times, and prints the median and 99th percentile of the
 * whole and of each phase.
 *
 * With --workload, the same process makes CALLS mlock/munlock pairs on one
 * of its VMAs instead and prints its run time (for `record --snapshot`).
 *
 * usage: snapshot_cost [VMAS] [MB] [SNAPSHOTS] [OUT]   (as root)
 *        snapshot_cost --workload [VMAS] [MB] [CALLS]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "record/snapshot.h"

static const char *const phase_names[SNAP_PHASE_NR] = {
	"hold (SIGSTOP wait)", "drain_batches (migrate_pages)", "stat_refresh",
	"status/meminfo/vmstat", "smaps", "pagemap", "kpageflags/kpagecount",
	"write (after SIGCONT)",
	"other (parse, convert)",
};

/* VMAS VMAs of MB MiB; returns the first.  Exits on failure. */
static char *map_vmas(long vmas, long mb)
{
	long len = mb << 20, ps = sysconf(_SC_PAGESIZE);
	char *base = mmap(NULL, vmas * len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (base == MAP_FAILED)
		exit(1);
	madvise(base, vmas * len, MADV_NOHUGEPAGE);	/* page for page, run to run */
	for (long i = 0; i < vmas; i++) {
		char *v = base + i * len;

		if (i % 3 == 0)
			for (long off = 0; off < len; off += ps)
				v[off] = 1;
		if (i % 4 == 0 && mlock(v, len))
			perror("mlock");
		if (i % 2)
			mprotect(v, len, PROT_READ);
	}
	return base;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int workload(long vmas, long mb, long calls)
{
	char *base = map_vmas(vmas, mb);
	long len = mb << 20;
	char *v = base + 2 * len;	/* untouched, unlocked, read-write */
	double t = now_s();

	for (long i = 0; i < calls; i++) {
		mlock(v, len);
		munlock(v, len);
	}
	printf("calls=%ld seconds=%.6f\n", 2 * calls, now_s() - t);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* Median and 99th percentile of @n values (sorted in place), in ms. */
static void print_row(const char *name, __u64 *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("%-32s %9.3f %9.3f\n", name, v[n / 2] / 1e6, v[(n * 99 + 99) / 100 - 1] / 1e6);
}

static pid_t start_child(long vmas, long mb)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		exit(1);
	pid = fork();
	if (pid == 0) {
		map_vmas(vmas, mb);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1)
		exit(1);
	close(p[0]);
	return pid;
}

int main(int argc, char **argv)
{
	int wl = argc > 1 && !strcmp(argv[1], "--workload");
	char **a = argv + wl, err[256];
	int na = argc - wl;
	long vmas = na > 1 ? atol(a[1]) : 100, mb = na > 2 ? atol(a[2]) : 2;
	int n = na > 3 ? atoi(a[3]) : 200;
	const char *out = na > 4 ? a[4] : "/tmp/snapshot_cost.trace";
	__u64 *cost[SNAP_PHASE_NR + 2];	/* phases, total, held */
	struct snapshots s;
	struct mmr_writer *w;
	pid_t child;

	if (wl)
		return workload(vmas, mb, n);
	w = mmr_writer_open(out, err, sizeof(err));
	if (!w || snapshots_open(&s, w)) {
		fprintf(stderr, "snapshot_cost: %s\n", w ? "cannot open /proc/kpageflags" : err);
		return 1;
	}
	for (int i = 0; i <= SNAP_PHASE_NR + 1; i++)
		cost[i] = calloc(n, sizeof(__u64));
	child = start_child(vmas, mb);
	for (int k = 0; k < n; k++) {
		kill(child, SIGSTOP);
		if (snapshot_take(&s, child, child, 0, 149 /* mlock */, 1))
			return 1;
		for (int i = 0; i < SNAP_PHASE_NR; i++) {
			cost[i][k] = s.phase_ns[i];
			cost[SNAP_PHASE_NR][k] += s.phase_ns[i];
		}
		cost[SNAP_PHASE_NR + 1][k] = s.held_ns;
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	mmr_writer_flush(w);
	printf("snapshots=%d held=%llu vmas=%llu records=%llu bytes_per_snapshot=%llu\n", n,
	       (unsigned long long)(s.held - s.not_held),
	       (unsigned long long)s.records[MMR_K_SNAP_VMA] / n,
	       (unsigned long long)mmr_writer_events(w) / n,
	       (unsigned long long)mmr_writer_bytes(w) / n);
	printf("%-32s %9s %9s\n", "phase", "median_ms", "p99_ms");
	print_row("total", cost[SNAP_PHASE_NR], n);
	print_row("process held (until SIGCONT)", cost[SNAP_PHASE_NR + 1], n);
	for (int i = 0; i < SNAP_PHASE_NR; i++)
		print_row(phase_names[i], cost[i], n);
	snapshots_close(&s);
	mmr_writer_close(w, "");
	unlink(out);
	return 0;
}
