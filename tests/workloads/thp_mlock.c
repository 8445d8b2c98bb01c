// SPDX-License-Identifier: GPL-2.0
/*
 * An mlocked transparent huge page, mapped by a PMD and then by PTEs: maps
 * 4 MiB, asks for THP (MADV_HUGEPAGE) on its aligned 2 MiB, writes it and
 * mlocks it, calls madvise(MADV_NORMAL) on a page beside it (a snapshot
 * call that changes nothing), splits the PMD (mprotect of its first page,
 * and back), calls it again, then munlocks.  Reports thp=1 if the 2 MiB
 * were one huge folio when mlocked (kpageflags: THP), pmd_mapped=1 if
 * pagemap's PAGEMAP_SCAN saw it mapped by a PMD (6.7+; -1 where it cannot).
 * usage: thp_mlock
 */
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/types.h>
#include "report.h"

#define HUGE (2UL << 20)

struct region {
	__u64 start, end, categories;
};

struct scan_arg {
	__u64 size, flags, start, end, walk_end, vec, vec_len, max_pages;
	__u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};

/* 1 if [p, p + HUGE) is mapped by a PMD, 0 if not, -1 if pagemap cannot say */
static int pmd_mapped(char *p)
{
	struct region r[4];
	struct scan_arg a = { .size = sizeof(a), .start = (__u64)p, .end = (__u64)p + HUGE,
			      .vec = (__u64)r, .vec_len = 4, .category_mask = 1 << 6,
			      .return_mask = 1 << 6 };
	int fd = open("/proc/self/pagemap", O_RDONLY);
	long n = fd < 0 ? -1 : ioctl(fd, _IOWR('f', 16, struct scan_arg), &a);

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return -1;
	return n == 1 && r[0].start == (__u64)p && r[0].end == (__u64)p + HUGE;
}

int main(void)
{
	char *raw = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (raw == MAP_FAILED)
		die("mmap");
	p = (char *)(((unsigned long)raw + HUGE - 1) & ~(HUGE - 1));
	madvise(p, HUGE, MADV_HUGEPAGE);
	memset(p, 1, HUGE);
	if (mlock(p, HUGE))
		die("mlock");
	report("addr=0x%lx", (unsigned long)p);
	report("thp=%d", !!(kpageflags_of(p) & (1ULL << 22)));
	report("pmd_mapped=%d", pmd_mapped(p));
	madvise(p == raw ? p + HUGE : raw, getpagesize(), MADV_NORMAL);
	mprotect(p, getpagesize(), PROT_READ);
	mprotect(p, getpagesize(), PROT_READ | PROT_WRITE);
	report("pmd_mapped_after_split=%d", pmd_mapped(p));
	madvise(p == raw ? p + HUGE : raw, getpagesize(), MADV_NORMAL);
	munlock(p, HUGE);
	return 0;
}
