// SPDX-License-Identifier: GPL-2.0
/*
 * Syscalls whose decoded form `mmreplay show` is tested on: an anonymous
 * private read-write mmap, madvise(MADV_PAGEOUT) of it, and a munmap of an
 * unaligned address that fails with EINVAL.  Reports the mapping's address
 * and the munmap's errno.
 */
#include <errno.h>
#include <sys/mman.h>
#include "report.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

int main(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int err;

	if (p == MAP_FAILED)
		die("mmap");
	p[0] = p[ps] = 1;
	if (madvise(p, 2 * ps, MADV_PAGEOUT))
		die("madvise");
	err = munmap(p + 1, ps) ? errno : 0;	/* not page aligned */
	report("addr=%p", (void *)p);
	report("page_size=%ld", ps);
	report("munmap_errno=%d", err);
	munmap(p, 2 * ps);
	return 0;
}
