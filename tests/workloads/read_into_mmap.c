// SPDX-License-Identifier: GPL-2.0
/*
 * What sort, python and most programs do with a buffer: map anonymous
 * memory and read() a file into it.  The kernel's copy_to_user takes the
 * faults that allocate the pages (page_fault_kernel, no user fault); a
 * write() from memory never touched makes it fault in kernel mode to read.
 * usage: read_into_mmap [DIR]   (DIR for the file, default /tmp)
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "report.h"

#define FILE_PAGES 12
#define BUF_PAGES 32

int main(int argc, char **argv)
{
	size_t pg = getpagesize(), len = BUF_PAGES * pg;
	char path[4096], *buf, *src, block[4096];
	int fd, null;

	snprintf(path, sizeof(path), "%s/mmr-read-into-mmap-%d", argc > 1 ? argv[1] : "/tmp",
		 getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open");
	memset(block, 'x', sizeof(block));
	for (int i = 0; i < FILE_PAGES; i++)
		if (write(fd, block, sizeof(block)) != sizeof(block))
			die("write");
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	null = open("/dev/null", O_WRONLY);
	if (buf == MAP_FAILED || src == MAP_FAILED || null < 0)
		die("mmap");
	buf[0] = 1;					/* a user fault first, as sort's */
	if (pread(fd, buf + 1, FILE_PAGES * pg, 0) != (ssize_t)(FILE_PAGES * pg))
		die("pread");				/* kernel-mode write faults */
	buf[len - 1] = 1;
	for (int i = 0; i < 4; i++)			/* kernel-mode read faults */
		if (write(fd, src + i * pg, 1) != 1)
			die("write from fresh memory");
	report("kernel_write_pages=%d", FILE_PAGES);
	if (munmap(src, 4 * pg) || munmap(buf, len))
		die("munmap");
	close(null);
	close(fd);
	unlink(path);
	return 0;
}
