// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel-side perturbations for `replay --explore`: the rmap walks a
 * workload does not ask for, aimed at the pages of one replayed operation.
 *
 *   reclaim   memory.reclaim of the replay's own cgroup v2 group (a private
 *             cgroup2 hierarchy is mounted if none is), else memory.high,
 *             else process_madvise(MADV_PAGEOUT) of exactly those pages
 *   migrate   move_pages of the last 256 of those pages to the other NUMA node
 *   compact   /proc/sys/vm/compact_memory
 *   collapse  process_madvise(MADV_COLLAPSE) of the range
 *
 * What this kernel supports is detected once, in one place
 * (perturb_detect), by trying each on the replay's own memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include "exec_int.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif

static const char *const names[PERTURB_NR] = { "none", "reclaim", "migrate", "compact", "collapse" };

const char *perturb_name(int kind)
{
	return kind >= 0 && kind < PERTURB_NR ? names[kind] : "?";
}

int perturb_kind(const char *name)
{
	for (int k = 1; k < PERTURB_NR; k++)
		if (!strcmp(name, names[k]))
			return k;
	return -1;
}

int perturb_parse(const char *list, unsigned *mask)
{
	char buf[256], *save = NULL;
	int k;

	*mask = 0;
	if (!strcmp(list, "none"))
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		k = perturb_kind(tok);
		if (k < 0)
			return -1;
		*mask |= 1u << k;
	}
	return *mask ? 0 : -1;
}

/* ---- doing it -------------------------------------------------------- */

static struct perturb_caps *CAPS;

static long pmadvise(int pid, __u64 addr, __u64 len, int advice)
{
	struct iovec iov = { (void *)addr, len };
	int fd = syscall(SYS_pidfd_open, pid, 0);
	long r;

	if (fd < 0)
		return -1;
	r = syscall(SYS_process_madvise, fd, &iov, 1, advice, 0);
	close(fd);
	return r;
}

static int cg_file(char *path, size_t len, const char *file)
{
	return snprintf(path, len, "%s/%s", CAPS->cg.path, file);
}

static long cg_read(const char *file)
{
	char path[640], buf[64] = "";
	int fd;

	cg_file(path, sizeof(path), file);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	return strtol(buf, NULL, 10);
}

/* memory.high under the current usage, for a moment: the group reclaims down to it */
static int squeeze_high(__u64 bytes)
{
	char path[640], v[32];
	long cur = cg_read("memory.current");
	int r;

	cg_file(path, sizeof(path), "memory.high");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)(cur > (long)bytes ? cur - bytes : 0));
	r = mmr_write_str(path, v);
	mmr_write_str(path, "max");
	return r;
}

static int reclaim(const struct perturb_target *t)
{
	char path[640], v[32];

	switch (CAPS->reclaim_how) {
	case RECLAIM_CGROUP:
		cg_file(path, sizeof(path), "memory.reclaim");
		snprintf(v, sizeof(v), "%llu", (unsigned long long)t->len);
		mmr_write_str(path, v);	/* EAGAIN when less could be reclaimed: still a walk */
		return 0;
	case RECLAIM_HIGH:
		return squeeze_high(t->len);
	default:
		return pmadvise(t->pid, t->addr, t->len, MADV_PAGEOUT) < 0 ? -1 : 0;
	}
}

/*
 * The last pages of the range (at most a PMD's worth): the ones an mlock()
 * or munlock() walk reaches last, in another page table than its first.
 */
static int migrate(const struct perturb_target *t)
{
	__u64 psz = sysconf(_SC_PAGESIZE), nr = t->len / psz, n = nr > MOVE_MAX ? MOVE_MAX : nr;
	void *pages[MOVE_MAX];

	for (__u64 i = 0; i < n; i++)
		pages[i] = (void *)(t->addr + (nr - n + i) * psz);
	return move_next_node(t->pid, pages, n) < 0 ? -1 : 0;
}

int perturb_do(int kind, const struct perturb_target *t)
{
	switch (kind) {
	case PERTURB_RECLAIM:
		return reclaim(t);
	case PERTURB_MIGRATE:
		return migrate(t);
	case PERTURB_COMPACT:
		return mmr_write_str("/proc/sys/vm/compact_memory", "1");
	case PERTURB_COLLAPSE:
		return pmadvise(t->pid, t->addr & ~((2ULL << 20) - 1),
				(t->len + (2ULL << 20) - 1) & ~((2ULL << 20) - 1), MADV_COLLAPSE) < 0 ?
			-1 : 0;
	}
	return -1;
}

/* ---- what this kernel supports ------------------------------------------ */

static void detect_reclaim(struct perturb_caps *c, const char *scratch)
{
	char why[256] = "", path[640];
	long page = sysconf(_SC_PAGESIZE);
	char *buf;

	if (!mmr_cgroup_own(&c->cg, getpid(), scratch, why, sizeof(why))) {
		snprintf(path, sizeof(path), "%s/memory.reclaim", c->cg.path);
		c->reclaim_how = access(path, W_OK) ? RECLAIM_HIGH : RECLAIM_CGROUP;
		snprintf(c->how[PERTURB_RECLAIM], sizeof(c->how[0]), "%s of the replay's cgroup",
			 c->reclaim_how == RECLAIM_CGROUP ? "memory.reclaim" : "memory.high");
		return;
	}
	buf = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf[0] = 1;
	c->reclaim_how = RECLAIM_PAGEOUT;
	if (pmadvise(getpid(), (__u64)buf, page, MADV_PAGEOUT) < 0)
		snprintf(c->why[PERTURB_RECLAIM], sizeof(c->why[0]), "%s; process_madvise: %s",
			 why, strerror(errno));
	else
		snprintf(c->how[PERTURB_RECLAIM], sizeof(c->how[0]),
			 "process_madvise(MADV_PAGEOUT) of the op's pages (%s)", why);
	munmap(buf, page);
}

static void detect_collapse(struct perturb_caps *c)
{
	size_t huge = 2 << 20;
	char *raw = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *buf = (char *)(((unsigned long)raw + huge - 1) & ~(huge - 1));

	buf[0] = 1;
	if (pmadvise(getpid(), (__u64)buf, huge, MADV_COLLAPSE) < 0 && errno == EINVAL)
		snprintf(c->why[PERTURB_COLLAPSE], sizeof(c->why[0]),
			 "MADV_COLLAPSE refused (needs Linux 6.1 and transparent hugepages)");
	else
		snprintf(c->how[PERTURB_COLLAPSE], sizeof(c->how[0]),
			 "process_madvise(MADV_COLLAPSE) of the op's 2 MiB ranges");
	munmap(raw, 2 * huge);
}

/* What a kind's offsets span before its op (exec.c's perturb_start: 2 costs). */
static void append_window(char *how, size_t len, __u64 us)
{
	size_t l = strlen(how);

	snprintf(how + l, len - l, ", from up to %llu ms before the op",
		 (unsigned long long)(2 * us + 999) / 1000);
}

/*
 * How long each kind takes here, on MOVE_MAX pages of our own (as many as
 * migrate moves of an op's), rounded up to a power of two microseconds (so
 * that a replay's offsets do not change with small differences in speed): a
 * perturbation started that long before an op is still at work when it
 * begins.  Under TCG that is hundreds of milliseconds.  Calibrated on fewer
 * pages than it acts on, a migration of an op's pages had not yet unmapped
 * its first page when the earliest offset ran out, in every trial of some
 * recordings (6.1 under TCG, 64 pages calibrated, 256 moved).
 */
static void calibrate(struct perturb_caps *c)
{
	size_t page = sysconf(_SC_PAGESIZE), len = MOVE_MAX * page;
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct perturb_target t = { getpid(), (__u64)buf, len };

	if (buf == MAP_FAILED)
		return;
	for (int k = 1; k < PERTURB_NR; k++) {
		__u64 t0, us = 8;

		if (!(c->ok & 1u << k))
			continue;
		memset(buf, 1, len);
		t0 = mmr_clock_ns();
		perturb_do(k, &t);
		while (us < (mmr_clock_ns() - t0) / 1000 && us < (1u << 24))
			us <<= 1;
		c->cost_ns[k] = us * 1000;
		append_window(c->how[k], sizeof(c->how[k]), us);
	}
	munmap(buf, len);
}

void perturb_detect(struct perturb_caps *c, unsigned want, const char *scratch)
{
	memset(c, 0, sizeof(*c));
	CAPS = c;
	if (want & 1u << PERTURB_RECLAIM)
		detect_reclaim(c, scratch);
	if (nr_nodes() < 2)
		snprintf(c->why[PERTURB_MIGRATE], sizeof(c->why[0]), "one NUMA node");
	else
		snprintf(c->how[PERTURB_MIGRATE], sizeof(c->how[0]),
			 "move_pages of the op's pages to the next node");
	if (access("/proc/sys/vm/compact_memory", W_OK))
		snprintf(c->why[PERTURB_COMPACT], sizeof(c->why[0]),
			 "no /proc/sys/vm/compact_memory (CONFIG_COMPACTION)");
	else
		snprintf(c->how[PERTURB_COMPACT], sizeof(c->how[0]), "/proc/sys/vm/compact_memory");
	if (want & 1u << PERTURB_COLLAPSE)
		detect_collapse(c);
	for (int k = 1; k < PERTURB_NR; k++)
		if (c->how[k][0] && (want & 1u << k))
			c->ok |= 1u << k;
	calibrate(c);
}

/*
 * The replay in a group of its own even when no run reclaims, so that
 * record --reclaim-pass can reclaim it after a snapshot; nothing if none
 * can be had (the recorder says why).
 */
void perturb_own_cgroup(struct perturb_caps *c, const char *scratch)
{
	char why[256];

	if (!c->cg.path[0])
		mmr_cgroup_own(&c->cg, getpid(), scratch, why, sizeof(why));
}

/* The replay leaves its group and the group goes; so does a private hierarchy. */
void perturb_cleanup(struct perturb_caps *c)
{
	mmr_cgroup_release(&c->cg, getpid());
}
