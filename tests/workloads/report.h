/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Workloads report what they did as key=value lines to the file named by
 * $MMR_REPORT (if set), so that tests can compare a recording against it.
 */
#ifndef MMR_WORKLOAD_REPORT_H
#define MMR_WORKLOAD_REPORT_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void report(const char *fmt, ...)
{
	const char *path = getenv("MMR_REPORT");
	va_list ap;
	FILE *f;

	if (!path || !(f = fopen(path, "a")))
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static inline void die(const char *what)
{
	perror(what);
	exit(1);
}

/* pagemap entry of a virtual address: bit 63 present, bit 62 swapped. */
static inline uint64_t pagemap_entry(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, ((uintptr_t)addr / getpagesize()) * 8) != 8)
		e = 0;
	close(fd);
	return e;
}

/* /proc/kpageflags of the page at a virtual address, 0 if not present. */
static inline uint64_t kpageflags_of(const void *addr)
{
	uint64_t e = pagemap_entry(addr), f = 0, pfn = e & ((1ULL << 55) - 1);
	int fd;

	if (!(e >> 63) || !pfn || (fd = open("/proc/kpageflags", O_RDONLY)) < 0)
		return 0;
	if (pread(fd, &f, 8, pfn * 8) != 8)
		f = 0;
	close(fd);
	return f;
}

#endif
