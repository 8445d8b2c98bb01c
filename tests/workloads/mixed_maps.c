// SPDX-License-Identifier: GPL-2.0
/*
 * Every kind of mapping replay rebuilds, in one process and a forked child:
 * a shared and a private mapping of a file (ftruncate, msync, a punched
 * hole), anonymous memory grown by mremap and mprotected, a SysV shm
 * segment, the heap grown by brk; mlock and munlock on each; the child
 * writes to the shared file pages and its COW copy of the anonymous ones.
 * usage: mixed_maps [DIR]   (DIR for the file, default /tmp)
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include "report.h"

#define PAGES 8

static void touch(char *p, size_t len, int write)
{
	for (size_t off = 0; off < len; off += getpagesize())
		if (write)
			p[off]++;
		else
			(void)*(volatile char *)(p + off);
}

static void child(char *shared, char *anon, size_t len)
{
	touch(shared, len, 1);
	touch(anon, len, 1);
	if (mlock(anon, len) || munlock(anon, len))
		die("child mlock");
	_exit(0);
}

int main(int argc, char **argv)
{
	size_t ps = getpagesize(), len = PAGES * ps;
	char path[256], *shared, *priv, *anon, *seg, *heap;
	int fd, shm, status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/mmr-mixed-%d", argc > 1 ? argv[1] : "/tmp", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, len))
		die("file");
	shared = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	priv = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	anon = mmap(NULL, len / 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED || priv == MAP_FAILED || anon == MAP_FAILED)
		die("mmap");
	touch(shared, len, 1);
	touch(priv, len, 0);
	if (msync(shared, len, MS_SYNC) || mlock(shared, len) || munlock(shared, len))
		die("shared");
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2 * ps, 2 * ps))
		die("punch");
	touch(anon, len / 2, 1);
	anon = mremap(anon, len / 2, len, MREMAP_MAYMOVE);
	if (anon == MAP_FAILED)
		die("mremap");
	touch(anon, len, 1);
	if (mprotect(anon, len / 2, PROT_READ) || mlock(anon, len) || munlock(anon, len) ||
	    mprotect(anon, len / 2, PROT_READ | PROT_WRITE))
		die("anon");
	shm = shmget(IPC_PRIVATE, len, IPC_CREAT | 0600);
	seg = shm < 0 ? (void *)-1 : shmat(shm, NULL, 0);
	if (seg == (void *)-1)
		die("shm");
	touch(seg, len, 1);
	if (mlock(seg, len) || munlock(seg, len) || shmdt(seg) || shmctl(shm, IPC_RMID, NULL))
		die("shm lock");
	heap = sbrk(0);
	if (sbrk(len) == (void *)-1)
		die("sbrk");
	touch(heap, len, 1);
	pid = fork();
	if (pid == 0)
		child(shared, anon, len);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status)
		die("child");
	if (munmap(shared, len) || munmap(priv, len) || munmap(anon, len))
		die("munmap");
	close(fd);
	unlink(path);
	report("pages=%d", PAGES);
	return 0;
}
