/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record --reclaim-pass: reclaim the traced process's own cgroup v2 group
 * while a held snapshot holds it, so that a second snapshot can show what
 * reclaim's rmap walk made of the pages a VM_LOCKED VMA left unmlocked.
 */
#ifndef MMR_RECLAIM_H
#define MMR_RECLAIM_H
#include <sys/types.h>
#include <linux/types.h>

struct reclaim_pass {
	__u64 passes;		/* memory.reclaim writes made */
	__u64 ns;		/* their time, in all */
	__u64 not_run;		/* held snapshots that wanted one and could not have it */
	char why[320];		/* why the last one could not run; "" if none failed */
	int no_swap;		/* no swap was on: anonymous pages are not scanned */
};

/*
 * Reclaims as much as the cgroup of @tgid holds (memory.current), so that
 * reclaim scans every LRU page charged to it.  0, with the time it took in
 * *@ns, or -1 with rp->why set (the group has no memory.reclaim, ...).
 */
int reclaim_pass_run(struct reclaim_pass *rp, pid_t tgid, __u64 *ns);

#endif
