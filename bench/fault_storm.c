// SPDX-License-Identifier: GPL-2.0
/*
 * Fault-heavy workload for the benchmarks: map fresh anonymous memory, touch
 * every page (one fault each), unmap, repeat.  Prints its own run time so
 * that tracer start-up is not counted.
 *
 * With --calls, N madvise(MADV_NORMAL) calls on one page instead: each is
 * five recorded events (its enter and exit, and the mmap_lock's three), at
 * a rate a fault storm cannot reach here, to measure the recorder's own.
 * usage: fault_storm [MB_PER_ROUND] [ROUNDS]
 *        fault_storm --calls N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) + (b.tv_nsec - a->tv_nsec) / 1e9;
}

static int calls(long n)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct timespec a;

	if (p == MAP_FAILED)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		madvise(p, ps, MADV_NORMAL);
	printf("calls=%ld seconds=%.6f\n", n, since(&a));
	return 0;
}

int main(int argc, char **argv)
{
	long mb = argc > 1 ? atol(argv[1]) : 64, rounds = argc > 2 ? atol(argv[2]) : 20;
	long ps = sysconf(_SC_PAGESIZE), len = mb << 20, faults = 0;
	struct timespec a;
	double s;

	if (argc > 2 && !strcmp(argv[1], "--calls"))
		return calls(atol(argv[2]));
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long r = 0; r < rounds; r++) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED)
			return 1;
		madvise(p, len, MADV_NOHUGEPAGE);
		for (long off = 0; off < len; off += ps, faults++)
			p[off] = 1;
		munmap(p, len);
	}
	s = since(&a);
	printf("faults=%ld seconds=%.6f faults_per_s=%.0f\n", faults, s, faults / s);
	return 0;
}
