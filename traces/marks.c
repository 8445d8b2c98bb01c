// SPDX-License-Identifier: GPL-2.0
/* Decoding the replay's marks (marks.h). */
#include "marks.h"
#include "syscalls.h"

int mark_what(__u64 arg5, int *type, int *nr)
{
	if (arg5 >> 48 != 0x4d4d)
		return -1;
	*type = arg5 & 0xff;
	*nr = (arg5 >> 8) & 0xffff;
	return 0;
}

const struct mmr_sys_enter *mark_of(const struct mmr_event *ev, __u64 which)
{
	const struct mmr_sys_enter *e = ev->data;

	if (ev->h.len < sizeof(*e) || e->c.type != MMR_K_SYS_ENTER)
		return NULL;
	return e->nr == NR_PRCTL && e->args[0] == which ? e : NULL;
}
