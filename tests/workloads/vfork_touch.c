// SPDX-License-Identifier: GPL-2.0
/*
 * posix_spawn's way (make, sh and python spawn so): a child made with
 * CLONE_VM | CLONE_VFORK runs in its parent's mm until it execs, so the
 * pages it writes before the exec are the parent's, and the parent's
 * munmap of them frees them.  Each round maps 2 * TOUCHED pages and, as
 * make -j2 does, starts two vfork children before waiting for either: each
 * writes TOUCHED of the pages and execs /bin/true.  The parent resumes as
 * a child releases its mm, before its exec is traced, so its next vfork
 * may come first in the recording.  Then it unmaps the pages.  With
 * NESTED, each child execs this program for one round of its own instead
 * (a vfork child of a vfork child, as make's gcc runs cc1).
 * usage: vfork_touch [ROUNDS [NESTED]]   (default 6 0)
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "report.h"

#define TOUCHED 4

/* A vfork child that writes its TOUCHED pages of @p and execs. */
static pid_t spawn(volatile char *p, size_t pg, int nested, char *self)
{
	pid_t pid = vfork();

	if (pid == 0) {
		for (int i = 0; i < TOUCHED; i++)
			p[i * pg] = 1;	/* in the parent's mm */
		if (nested)
			execl("/proc/self/exe", self, "1", "0", (char *)NULL);
		else
			execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	return pid;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 6, nested = argc > 2 && atoi(argv[2]);
	size_t pg = getpagesize(), len = 2 * TOUCHED * pg;

	for (int r = 0; r < rounds; r++) {
		volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pid_t pid[2];
		int st;

		if (p == MAP_FAILED)
			return 1;
		for (int k = 0; k < 2; k++)
			if ((pid[k] = spawn(p + k * TOUCHED * pg, pg, nested, argv[0])) < 0)
				return 1;
		for (int k = 0; k < 2; k++)
			if (waitpid(pid[k], &st, 0) != pid[k] || !WIFEXITED(st) || WEXITSTATUS(st))
				return 1;
		munmap((void *)p, len);	/* frees the children's pages */
	}
	report("rounds=%d", rounds);
	return 0;
}
