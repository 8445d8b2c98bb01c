// SPDX-License-Identifier: GPL-2.0
/*
 * A process exits (exit_group) while its thread still works on its own
 * mapping, as xz -T2 does: the thread is killed without a call of its own,
 * and whichever thread drops the mm last tears it down.
 * usage: exit_while_busy
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include "report.h"

#define PAGES 64

static volatile int ready;

static void *worker(void *arg)
{
	size_t pg = getpagesize();
	char *p = mmap(NULL, PAGES * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	for (;;) {			/* busy on its pages until the exit kills it */
		for (size_t i = 0; i < PAGES; i++)
			p[i * pg]++;
		ready = 1;
	}
	return arg;
}

int main(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	pthread_t t;

	if (pthread_create(&t, NULL, worker, NULL))
		die("pthread_create");
	while (!ready)
		;
	nanosleep(&ts, NULL);
	report("pages=%d", PAGES);
	exit(0);
}
