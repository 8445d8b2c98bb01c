// SPDX-License-Identifier: GPL-2.0
/*
 * Private COW of a file, MADV_PAGEOUT of the COWed pages (needs swap), then
 * ftruncate of the file to 0: truncation must zap the private COWed pages
 * beyond EOF too (even_cows), freeing their swap entries.
 * With "punch": fallocate(PUNCH_HOLE) over the whole file instead, which
 * must keep the private COWed pages (swapped or not); the workload reads
 * them back and reports cow_intact=1 if their data survived.
 * usage: cow_pageout_truncate DIR [punch]
 */
#include <string.h>
#include <sys/mman.h>
#include "report.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#define PAGES 16
#define COW_PAGES 8

int main(int argc, char **argv)
{
	long ps = getpagesize();
	size_t len = PAGES * ps;
	char path[4096], *buf, *p;
	int fd, swapped = 0, punch = argc > 2 && !strcmp(argv[2], "punch"), intact = 1;

	snprintf(path, sizeof(path), "%s/mmr-cow-file", argc > 1 ? argv[1] : "/tmp");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open");
	buf = malloc(len);
	memset(buf, 'f', len);
	if (write(fd, buf, len) != (ssize_t)len)
		die("write");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	for (int i = 0; i < COW_PAGES; i++)
		p[i * ps] = 'c';		/* COW: private anonymous copies */
	if (madvise(p, COW_PAGES * ps, MADV_PAGEOUT))
		die("madvise");
	for (int i = 0; i < COW_PAGES; i++)
		swapped += !!(pagemap_entry(p + i * ps) & (1ULL << 62));
	report("page_size=%ld", ps);
	report("addr=0x%lx", (unsigned long)p);
	report("cow_pages=%d", COW_PAGES);
	report("swapped_pages=%d", swapped);
	if (punch) {
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, len))
			die("fallocate");
		for (int i = 0; i < COW_PAGES; i++)
			intact &= p[i * ps] == 'c' && p[i * ps + 1] == 'f';
		report("cow_intact=%d", intact);
	} else if (ftruncate(fd, 0)) {
		die("ftruncate");
	}
	munmap(p, len);
	close(fd);
	unlink(path);
	return 0;
}
