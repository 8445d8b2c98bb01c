// SPDX-License-Identifier: GPL-2.0
/*
 * mlock of a shared memfd mapped twice, then munlock of one mapping: the
 * pages stay mlocked through the other mapping until it is unmapped too.
 */
#include <string.h>
#include <sys/mman.h>
#include "report.h"

#define PAGES 16

int main(void)
{
	long ps = getpagesize();
	size_t len = PAGES * ps;
	int fd = memfd_create("mmr-memfd", 0);
	char *a, *b;
	volatile char sum = 0;

	if (fd < 0 || ftruncate(fd, len))
		die("memfd");
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED || b == MAP_FAILED)
		die("mmap");
	for (int i = 0; i < PAGES; i++)
		a[i * ps] = i + 1;		/* one write fault per page of a */
	if (mlock(a, len) || mlock(b, len))
		die("mlock");
	for (int i = 0; i < PAGES; i++)
		sum += b[i * ps];
	if (munlock(b, len))
		die("munlock");
	report("page_size=%ld", ps);
	report("pages=%d", PAGES);
	report("addr_a=0x%lx", (unsigned long)a);
	report("addr_b=0x%lx", (unsigned long)b);
	munmap(b, len);
	munmap(a, len);
	close(fd);
	return sum == 0;
}
