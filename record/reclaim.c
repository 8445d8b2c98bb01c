// SPDX-License-Identifier: GPL-2.0
/*
 * The reclaim pass of a held snapshot.  From 6.1 a folio's mlock_count may
 * underestimate its VM_LOCKED mappings (a munlock by another mm, a page
 * migrated while an mlock walked its range), and the kernel relies on
 * reclaim to put such a page back: folio_referenced_one() and
 * try_to_unmap_one() mlock a folio they find mapped in a VM_LOCKED vma
 * instead of aging or unmapping it (mm/rmap.c in 6.1 and 6.18;
 * Documentation/mm/unevictable-lru.rst).  Asking memory.reclaim for all
 * the group holds makes reclaim scan every LRU page charged to it (it
 * cannot reclaim that much, and retries down to priority 0), so such a
 * page is either mlocked afterwards or, if the kernel is wrong, evicted.
 * Anonymous pages are scanned only when swap is on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "traces/trace.h"
#include "cgroup.h"
#include "reclaim.h"

/* ROOT/GROUP/memory.reclaim under the cgroup2 mount, if writable: 0, or -1. */
static int reclaim_file(const char *group, char *file, size_t len)
{
	char root[400];

	mmr_cgroup_root(root, sizeof(root));
	snprintf(file, len, "%s%.1000s/memory.reclaim", root, group);
	return root[0] && !access(file, W_OK) ? 0 : -1;
}

static int swap_on(void)
{
	char line[256];
	FILE *f = fopen("/proc/swaps", "re");
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n++;
	if (f)
		fclose(f);
	return n > 1;		/* a header line, then one per swap area */
}

static long long group_current(const char *reclaim)
{
	char file[3200], buf[32] = "";
	int fd;

	snprintf(file, sizeof(file), "%.*s/memory.current",
		 (int)(strrchr(reclaim, '/') - reclaim), reclaim);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return atoll(buf);
}

/* Not run: why, unless an earlier reason (the group could not be made) says more. */
static int fail(struct reclaim_pass *rp, const char *why, const char *group)
{
	if (!rp->why[0])
		snprintf(rp->why, sizeof(rp->why), "%s%.150s", why, group);
	rp->not_run++;
	return -1;
}

int reclaim_pass_run(struct reclaim_pass *rp, pid_t tgid, __u64 *ns)
{
	char group[1024], file[3200], v[32];
	const char *base;
	long long cur;
	__u64 t0;
	int fd;

	if (mmr_cgroup_of(tgid, group, sizeof(group)))
		return fail(rp, "no cgroup v2 group for the process", "");
	base = strrchr(group, '/');
	if (strncmp(base ? base + 1 : group, MMR_CGROUP_PREFIX, strlen(MMR_CGROUP_PREFIX)))
		return fail(rp, "its group is not one mmreplay made for it (it may hold other "
			    "processes): ", group);
	if (reclaim_file(group, file, sizeof(file)))
		return fail(rp, "no writable memory.reclaim (it needs a cgroup of its own, "
			    "with the memory controller) for its group ", group);
	cur = group_current(file);
	if (cur <= 0)
		return fail(rp, "no memory.current for its group ", group);
	rp->no_swap = !swap_on();
	snprintf(v, sizeof(v), "%lld", cur);
	t0 = mmr_clock_ns();
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(rp, "cannot open memory.reclaim of its group ", group);
	/* EAGAIN: less than asked could be reclaimed, which is the point */
	if (write(fd, v, strlen(v)) < 0 && errno != EAGAIN) {
		close(fd);
		return fail(rp, "memory.reclaim refused the write for its group ", group);
	}
	close(fd);
	*ns = mmr_clock_ns() - t0;
	rp->ns += *ns;
	rp->passes++;
	return 0;
}
