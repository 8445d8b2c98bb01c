// SPDX-License-Identifier: GPL-2.0
/* Facts about the running kernel (host.h). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/types.h>
#include "host.h"
#include "bpf/events.h"

const char *const mmr_thp_files[MMR_THP_NR] = { "enabled", "defrag", "shmem_enabled" };

const char *mmr_host_mode(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	char line[256], *open, *close;

	if (!f)
		return NULL;
	open = fgets(line, sizeof(line), f) ? strchr(line, '[') : NULL;
	fclose(f);
	close = open ? strchr(open, ']') : NULL;
	if (!close)
		return NULL;
	*close = 0;
	snprintf(buf, len, "%s", open + 1);
	return buf;
}

unsigned long long mmr_pagemap_pfn(unsigned long long entry)
{
	return entry & MMR_PM_PRESENT ? entry & MMR_PM_PFN_MASK : 0;
}

unsigned long long mmr_host_pfn(int fd, const void *addr)
{
	uint64_t e = 0;
	long ps = sysconf(_SC_PAGESIZE);

	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)addr / ps * sizeof(e))) != sizeof(e))
		return 0;
	return mmr_pagemap_pfn(e);
}

int mmr_host_read_fault_zero_page(unsigned long long *pfn)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd, r = -1;
	uint64_t a, b;

	if (p == MAP_FAILED)
		return -1;
	(void)*(volatile char *)p;
	(void)*(volatile char *)(p + ps);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		a = mmr_host_pfn(fd, p);
		b = mmr_host_pfn(fd, p + ps);
		if (a && b)
			r = a == b;	/* two reads, one page: the zero page */
		if (r == 1 && pfn)
			*pfn = a;
		close(fd);
	}
	munmap(p, 2 * ps);
	return r;
}
