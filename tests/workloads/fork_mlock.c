// SPDX-License-Identifier: GPL-2.0
/*
 * Fork of an mlocked process: the child does not inherit the mlock
 * (VM_LOCKED is cleared in the child), COWs a few pages and exits; the
 * parent munlocks and exits.  Half the pages exist before the mlock (the
 * mlock_pte_range walk mlocks them), half are populated by mlock itself
 * (new pages, mlocked as they are added: mlock_new_folio).
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include "report.h"

#define PAGES 8

int main(void)
{
	long ps = getpagesize();
	size_t len = PAGES * ps;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int status;
	pid_t child;

	if (p == MAP_FAILED)
		die("mmap");
	for (int i = 0; i < PAGES / 2; i++)
		p[i * ps] = 1;
	if (mlock(p, len))
		die("mlock");
	report("page_size=%ld", ps);
	report("addr=0x%lx", (unsigned long)p);
	report("parent=%d", getpid());
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		for (int i = 0; i < PAGES / 2; i++)
			p[i * ps] = 2;		/* COW in the child */
		_exit(0);
	}
	report("child=%d", child);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
		die("waitpid");
	munlock(p, len);
	munmap(p, len);
	return 0;
}
