// SPDX-License-Identifier: GPL-2.0
/*
 * The cases with documented mlock rules, on which a correct kernel must
 * give no finding: mlock2(MLOCK_ONFAULT) with untouched pages, the zero
 * page in a read-only locked mapping, a THP that mprotect splits into PTE
 * mappings, shared anonymous memory locked in a forked child only, and
 * COW after fork.  Also reports, for ground truth, one locked page's PFN
 * and its kpageflags as this process reads them itself.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "report.h"

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#define THP (2UL << 20)

static uint64_t kpageflags(uint64_t pfn)
{
	uint64_t f = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd >= 0 && pread(fd, &f, 8, pfn * 8) != 8)
		f = 0;
	if (fd >= 0)
		close(fd);
	return f;
}

static void onfault(long ps)
{
	char *p = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || syscall(SYS_mlock2, p, 4 * ps, MLOCK_ONFAULT))
		die("mlock2");
	p[0] = 1;			/* faulted after the lock: mlocked */
	munlock(p, 4 * ps);
	munmap(p, 4 * ps);
}

static void zero_page(long ps)
{
	char *p = mmap(NULL, 4 * ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char c;

	if (p == MAP_FAILED)
		die("mmap");
	c = p[0];			/* maps the zero page */
	(void)c;
	if (mlock(p, 4 * ps))
		die("mlock zero");
	munmap(p, 4 * ps);
}

static void thp_split(long ps)
{
	char *raw = mmap(NULL, 2 * THP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p = (char *)(((uintptr_t)raw + THP - 1) & ~(THP - 1));

	if (raw == MAP_FAILED)
		die("mmap thp");
	madvise(p, THP, MADV_HUGEPAGE);
	memset(p, 3, THP);
	if (mlock(p, THP))
		die("mlock thp");
	mprotect(p + 16 * ps, ps, PROT_READ);	/* PMD split: PTE-mapped large folio */
	munlock(p, THP);
	munmap(raw, 2 * THP);
}

static void shared_anon_fork(long ps)
{
	char *p = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *q = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t pid;

	if (p == MAP_FAILED || q == MAP_FAILED)
		die("mmap shared");
	memset(p, 4, 8 * ps);
	memset(q, 5, 8 * ps);
	if (mlock(q, 8 * ps))		/* COW pages: the child's copy is not locked */
		die("mlock cow");
	pid = fork();
	if (pid == 0) {
		if (mlock(p, 8 * ps))	/* locked in the child only */
			_exit(1);
		q[0] = 6;		/* COW break in the child */
		munlock(p, 8 * ps);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	munlock(q, 8 * ps);
	munmap(p, 8 * ps);
	munmap(q, 8 * ps);
}

static void ground_truth(long ps)
{
	char *p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long nodes = 1;
	uint64_t e;

	if (p == MAP_FAILED)
		die("mmap truth");
	p[0] = 7;
	if (mlock(p, ps))
		die("mlock truth");
	syscall(SYS_migrate_pages, 0, 8 * sizeof(nodes), &nodes, &nodes);	/* drain */
	e = pagemap_entry(p);
	report("truth_addr=0x%lx", (unsigned long)p);
	report("truth_pfn=0x%llx", (unsigned long long)(e & ((1ULL << 55) - 1)));
	report("truth_kpageflags=0x%llx", (unsigned long long)kpageflags(e & ((1ULL << 55) - 1)));
	munlock(p, ps);
	munmap(p, ps);
}

int main(void)
{
	long ps = getpagesize();

	onfault(ps);
	zero_page(ps);
	thp_split(ps);
	shared_anon_fork(ps);
	ground_truth(ps);
	return 0;
}
