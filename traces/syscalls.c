// SPDX-License-Identifier: GPL-2.0
/* The syscall table of syscalls.h, and lookups in it. */
#include <stddef.h>
#include <string.h>
#include "syscalls.h"

static const struct syscall_def syscalls[] = {
#define MMR_SYSCALL_LIST_(...) { __VA_ARGS__ }
#define MMR_SYSCALL_DEF_(NAME, name, nr, fd, path, flags, args)                \
	{ nr, #name, fd, path, flags, MMR_SYSCALL_LIST_ args },
	MMR_SYSCALLS(MMR_SYSCALL_DEF_)
#undef MMR_SYSCALL_DEF_
#undef MMR_SYSCALL_LIST_
};

#define NR_SYSCALLS (int)(sizeof(syscalls) / sizeof(syscalls[0]))

const struct syscall_def *syscall_def(int nr)
{
	for (int i = 0; i < NR_SYSCALLS; i++)
		if (syscalls[i].nr == nr)
			return &syscalls[i];
	return NULL;
}

const struct syscall_def *syscall_def_at(int i)
{
	return i >= 0 && i < NR_SYSCALLS ? &syscalls[i] : NULL;
}

const char *syscall_name(int nr)
{
	const struct syscall_def *d = syscall_def(nr);

	return d ? d->name : NULL;
}

int syscall_nr(const char *name)
{
	for (int i = 0; i < NR_SYSCALLS; i++)
		if (!strcmp(syscalls[i].name, name))
			return syscalls[i].nr;
	return -1;
}
