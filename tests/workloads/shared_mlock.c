// SPDX-License-Identifier: GPL-2.0
/*
 * A shared anonymous mapping mlocked by two children, not by the parent:
 * the parent's munlock of its own (unlocked) view leaves the pages
 * mlocked, rightly, since the children still lock them.  Under record
 * --snapshot the parent's snapshot sees mlocked pages in an unlocked VMA,
 * mapped three times: check judges them across the traced processes (the
 * children's snapshots after their mlock still hold, for they make no mm
 * call until told).  Then the children munlock and exit, and the parent
 * munlocks again: nothing is left mlocked.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include "report.h"

#define PAGES 16
#define KIDS 2

static void child(char *p, size_t len, int up, int down)
{
	char c = 0;

	if (mlock(p, len))
		die("mlock");
	if (write(up, "k", 1) != 1 || read(down, &c, 1) != 1)	/* not mm calls */
		die("pipe");
	if (munlock(p, len))
		die("munlock");
	_exit(0);
}

int main(void)
{
	long ps = getpagesize();
	size_t len = PAGES * ps;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int up[2], down[2], status;
	pid_t kids[KIDS];
	char c;

	if (p == MAP_FAILED || pipe(up) || pipe(down))
		die("mmap/pipe");
	for (int i = 0; i < PAGES; i++)
		p[i * ps] = 1;
	for (int i = 0; i < KIDS; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			die("fork");
		if (kids[i] == 0)
			child(p, len, up[1], down[0]);
	}
	for (int i = 0; i < KIDS; i++)
		if (read(up[0], &c, 1) != 1)
			die("read");
	if (munlock(p, len))		/* ours was never locked: the pages stay mlocked */
		die("munlock");
	report("addr=0x%lx", (unsigned long)p);
	report("pages=%d", PAGES);
	if (write(down[1], "gg", KIDS) != KIDS)
		die("write");
	for (int i = 0; i < KIDS; i++)
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			die("waitpid");
	munlock(p, len);
	munmap(p, len);
	return 0;
}
