// SPDX-License-Identifier: GPL-2.0
/*
 * Replaying on a kernel that reports memory unlike the recording's, so
 * that each op's events still say what the recording's said:
 *
 * - Before 6.2 a thread caches the rss changes of its own faults and
 *   reports them up to 64 faults later.  There each thread flushes its
 *   cache after every touch and every op: madvise(MADV_DONTNEED) of an
 *   empty page of its own, whose zap calls sync_mm_rss() first
 *   (add_mm_rss_vec()).
 * - Where the recording's kernel gave a read fault on fresh anonymous
 *   memory a page of its own (META anon_read_fault=page: PVM guests and
 *   s390 KVM hosts forbid the zero page) and this one maps the zero page,
 *   such a page is written through /proc/self/mem after the read touch,
 *   or after an op that populated it (mlock, MAP_POPULATE...): a fault in
 *   the kernel, not in user mode, that gives it a page as recorded.  Our
 *   own heap and stack are written through before the first op.
 *
 * Each such call is bracketed by MMR_MARK_HELPER marks (traces/marks.h):
 * diff counts the rss changes in a bracket for the touch or op before it,
 * as the recording's kernel reported them, and nothing else of it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include "exec_int.h"
#include "traces/fields.h"
#include "traces/host.h"
#include "traces/marks.h"
#include "traces/syscalls.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

/* The page whose zap flushes a thread's rss cache; NULL where counters are exact. */
static char *sync_page;
/* The zero page's PFN where this kernel maps it and the recording's did not, else 0. */
static unsigned long long zero_pfn;
/* This process's /proc/self/pagemap and /proc/self/mem (opened by each process). */
static int pagemap_fd = -1, mem_fd = -1;
static pid_t fds_pid;

static void helper(int begin, __u64 what)
{
	syscall(SYS_prctl, MMR_MARK_HELPER, begin, what, 0, 0);
}

static void sync_init(void)
{
	struct utsname u;
	char *p;

	/* MMR_TEST_RSS_FLUSH=1: flush as before 6.2 here too (the tests' way to run it) */
	if (sync_page || uname(&u) ||
	    (mmr_kernel_rss_exact(u.release) && !getenv("MMR_TEST_RSS_FLUSH")))
		return;
	p = mmap(NULL, PL->page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	*(volatile char *)p = 1;	/* its page table stays once it is emptied */
	if (madvise(p, PL->page_size, MADV_DONTNEED)) {
		munmap(p, PL->page_size);
		return;
	}
	sync_page = p;
}

/*
 * Our own private anonymous memory (heap, stack, malloc's mappings) written
 * through: a page of ours that a read mapped to the zero page would take a
 * page at its first write, in whichever op's window that comes.
 */
static void own_memory_populate(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512], perms[8], path[256];
	unsigned long lo, hi;

	while (f && fgets(line, sizeof(line), f)) {
		path[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms, path) < 3)
			continue;
		if (strcmp(perms, "rw-p") || (path[0] && path[0] != '['))
			continue;	/* not private anonymous, or a file's copy */
		madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
	}
	if (f)
		fclose(f);
}

static void zero_init(void)
{
	if (zero_pfn || strcmp(PL->anon_read_fault, "page"))
		return;
	if (mmr_host_read_fault_zero_page(&zero_pfn) != 1) {
		zero_pfn = 0;
		return;
	}
	own_memory_populate();
}

/*
 * How deep a call reaches into a new page of our main thread's stack
 * depends on where the stack starts (the environment's size): 256 KiB of
 * it written before the first op, so that no op's window takes that fault.
 */
#define STACK_PREFAULT (256 << 10)

static __attribute__((noinline)) void stack_prefault(void)
{
	volatile char buf[STACK_PREFAULT];

	for (size_t i = 0; i < sizeof(buf); i += 512)	/* volatile: not optimised away */
		buf[i] = 0;
}

void xk_init(void)
{
	stack_prefault();
	helper(1, 0);	/* our own calls: no snapshot after them */
	zero_init();	/* first: the sync page must stay empty */
	sync_init();
	helper(0, 0);
	if (sync_page)
		syscall(SYS_prctl, MMR_MARK_RSS_SYNC, sync_page, 0, 0, 0);
	if (zero_pfn)
		syscall(SYS_prctl, MMR_MARK_ZERO_FILL, 0, 0, 0, 0);
}

/* This process's pagemap and mem files (a fork's are its own); 0, or -1. */
static int own_fds(void)
{
	if (fds_pid != getpid()) {
		if (pagemap_fd >= 0)
			close(pagemap_fd);
		if (mem_fd >= 0)
			close(mem_fd);
		pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		mem_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
		fds_pid = getpid();
	}
	return pagemap_fd >= 0 && mem_fd >= 0 ? 0 : -1;
}

/* Writes the zero pages of [addr, addr + len) through; how many. */
static int zero_pages_fill(__u64 addr, __u64 len)
{
	__u64 ps = PL->page_size, e[64];
	int n = 0;

	if (!zero_pfn || own_fds())
		return 0;
	for (__u64 a = addr & ~(ps - 1); a < addr + len; a += 64 * ps) {
		ssize_t got = pread(pagemap_fd, e, sizeof(e), (off_t)(a / ps * sizeof(e[0])));

		for (ssize_t i = 0; i < got / 8 && a + i * ps < addr + len; i++) {
			static const char zero;

			if (mmr_pagemap_pfn(e[i]) == zero_pfn &&
			    pwrite(mem_fd, &zero, 1, (off_t)(a + i * ps)) == 1)
				n++;
		}
	}
	return n;
}

/*
 * One bracket of helper calls: the zero pages of [addr, addr + len) written
 * through, the thread's rss cache flushed; the end mark says how many pages.
 */
static void settle(__u64 addr, __u64 len)
{
	int n = 0;

	if (!sync_page && (!zero_pfn || !len))
		return;
	helper(1, 0);
	if (len)
		n = zero_pages_fill(addr, len);
	if (sync_page)
		madvise(sync_page, PL->page_size, MADV_DONTNEED);
	helper(0, n);
}

/*
 * A child starts with the counts its parent really has, and diff starts
 * it from those the parent's last rss_stat reported: a fault between the
 * last flush and the fork (a first write to one of our own pages) would
 * count in the child's first op.  So a fork is preceded by a flush.
 */
void xk_flush(void)
{
	if (sync_page)
		settle(0, 0);
}

void xk_after_touch(__u64 addr, int read)
{
	settle(addr, read ? 1 : 0);
}

/* Does the op populate its range (so that reads there may have mapped the zero page)? */
static int populates(const struct rop *o)
{
	switch (o->type == ROP_SYSCALL ? o->nr : -1) {
	case NR_MLOCK:
	case NR_MLOCK2:
		return 1;
	case NR_MMAP:
		return !!(o->a[3] & (MAP_POPULATE | MAP_LOCKED));
	case NR_MADVISE:
		return o->a[2] == MADV_POPULATE_READ;
	}
	return 0;
}

void xk_after_op(const struct rop *o)
{
	struct piece pc[16];
	__u64 lo, hi;
	int n = 0;

	if (zero_pfn && populates(o) && rop_range(PL, o, &lo, &hi))
		n = pieces(lo, hi - lo, pc, 16);
	if (!n) {
		settle(0, 0);
		return;
	}
	for (int i = 0; i < n; i++)
		settle(pc[i].rep, pc[i].len);
}
