// SPDX-License-Identifier: GPL-2.0
/*
 * Two threads race on the same shared memfd pages: one mlocks and munlocks
 * them in a loop, the other pages them out with MADV_PAGEOUT.  A barrier
 * starts each iteration of both together, so that their calls interleave
 * however busy the machine is.
 * usage: threads_mlock_pageout [ITERATIONS]
 */
#include <pthread.h>
#include <sys/mman.h>
#include "report.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#define PAGES 8

static char *region;
static size_t len;
static int iterations = 50;
static pthread_barrier_t round_start;

static void *locker(void *arg)
{
	for (int i = 0; i < iterations; i++) {
		pthread_barrier_wait(&round_start);
		mlock(region, len);
		munlock(region, len);
	}
	return NULL;
}

static void *pager(void *arg)
{
	for (int i = 0; i < iterations; i++) {
		pthread_barrier_wait(&round_start);
		madvise(region, len, MADV_PAGEOUT);
		for (size_t off = 0; off < len; off += getpagesize())
			region[off]++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int fd = memfd_create("mmr-race", 0);
	pthread_t a, b;

	if (argc > 1)
		iterations = atoi(argv[1]);
	len = PAGES * getpagesize();
	if (fd < 0 || ftruncate(fd, len))
		die("memfd");
	region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (region == MAP_FAILED)
		die("mmap");
	for (size_t off = 0; off < len; off += getpagesize())
		region[off] = 1;
	report("addr=0x%lx", (unsigned long)region);
	report("iterations=%d", iterations);
	pthread_barrier_init(&round_start, NULL, 2);
	pthread_create(&a, NULL, locker, NULL);
	pthread_create(&b, NULL, pager, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	munmap(region, len);
	return 0;
}
