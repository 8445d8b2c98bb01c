// SPDX-License-Identifier: GPL-2.0
/*
 * posix_spawn's way (make, sh and python spawn so): a child made with
 * CLONE_VM | CLONE_VFORK runs in its parent's mm until it execs, so the
 * pages it writes before the exec are the parent's, and the parent's
 * munmap of them frees them.  Each round maps ROUND_PAGES pages, lets a
 * vfork child write TOUCHED of them and exec /bin/true, waits for it, and
 * unmaps the pages.  With NESTED, the child execs this program for one
 * round of its own instead (a vfork child of a vfork child, as make's gcc
 * runs cc1).
 * usage: vfork_touch [ROUNDS [NESTED]]   (default 6 0)
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "report.h"

#define ROUND_PAGES 8
#define TOUCHED 4

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 6, nested = argc > 2 && atoi(argv[2]);
	size_t pg = getpagesize();

	for (volatile int r = 0; r < rounds; r++) {
		volatile char *p = mmap(NULL, ROUND_PAGES * pg, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pid_t pid;
		int st;

		if (p == MAP_FAILED)
			return 1;
		pid = vfork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			for (int i = 0; i < TOUCHED; i++)
				p[i * pg] = 1;	/* in the parent's mm */
			if (nested)
				execl("/proc/self/exe", argv[0], "1", "0", (char *)NULL);
			else
				execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			return 1;
		munmap((void *)p, ROUND_PAGES * pg);	/* frees the child's TOUCHED pages */
	}
	report("rounds=%d", rounds);
	return 0;
}
