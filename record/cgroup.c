// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include "cgroup.h"

int mmr_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r = -1;

	if (fd >= 0) {
		r = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
		close(fd);
	}
	return r;
}

void mmr_cgroup_root(char *root, size_t len)
{
	char dev[256], dir[4096], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");

	root[0] = 0;
	while (f && fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3)
		if (!strcmp(type, "cgroup2") && !root[0])
			snprintf(root, len, "%.380s", dir);
	if (f)
		fclose(f);
}

int mmr_cgroup_of(pid_t pid, char *group, size_t len)
{
	char file[64], line[512];
	FILE *f;
	int ret = -1;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
	f = fopen(file, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			snprintf(group, len, "%.*s", (int)strcspn(line + 3, "\n"), line + 3);
			ret = 0;
		}
	if (f)
		fclose(f);
	return ret;
}

/* The cgroup2 mount, or a private one in @scratch; "" if none can be had. */
static void cgroup2_root(struct mmr_cgroup *g, const char *scratch)
{
	mmr_cgroup_root(g->root, sizeof(g->root));
	if (g->root[0] || !scratch)
		return;
	snprintf(g->mounted, sizeof(g->mounted), "%.380s/cgroup2", scratch);
	if (mkdir(g->mounted, 0700) || mount("cgroup2", g->mounted, "cgroup2", 0, NULL)) {
		rmdir(g->mounted);
		g->mounted[0] = 0;
		return;
	}
	snprintf(g->root, sizeof(g->root), "%s", g->mounted);
}

static int has_memory(const char *root)
{
	char path[640], ctl[256] = "";
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, ctl, sizeof(ctl) - 1) < 0)
			ctl[0] = 0;
		close(fd);
	}
	return !!strstr(ctl, "memory");
}

/* Is @pid in group mmreplay-@pid (at the top of the hierarchy) already? */
static int in_own_group(pid_t pid)
{
	char group[512], want[64];

	snprintf(want, sizeof(want), "/" MMR_CGROUP_PREFIX "%d", pid);
	return !mmr_cgroup_of(pid, group, sizeof(group)) && !strcmp(group, want);
}

int mmr_cgroup_own(struct mmr_cgroup *g, pid_t pid, const char *scratch, char *why, size_t len)
{
	char path[640], num[32];

	memset(g, 0, sizeof(*g));
	if (in_own_group(pid)) {
		cgroup2_root(g, NULL);
		snprintf(g->path, sizeof(g->path), "%.400s/" MMR_CGROUP_PREFIX "%d", g->root, pid);
		g->adopted = 1;
		return 0;
	}
	cgroup2_root(g, scratch);
	if (!g->root[0])
		return snprintf(why, len, "no cgroup2 hierarchy could be mounted"), -1;
	if (!has_memory(g->root)) {
		snprintf(why, len, "cgroup v2 has no memory controller here");
		mmr_cgroup_release(g, 0);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", g->root);
	mmr_write_str(path, "+memory");
	snprintf(g->path, sizeof(g->path), "%.400s/" MMR_CGROUP_PREFIX "%d", g->root, pid);
	snprintf(num, sizeof(num), "%d", pid);
	snprintf(path, sizeof(path), "%s/cgroup.procs", g->path);
	if (mkdir(g->path, 0755) || mmr_write_str(path, num)) {
		snprintf(why, len, "cannot make or join a cgroup: %s", strerror(errno));
		mmr_cgroup_release(g, 0);
		return -1;
	}
	return 0;
}

void mmr_cgroup_release(struct mmr_cgroup *g, pid_t pid)
{
	char path[640], num[32];

	if (g->path[0] && g->adopted) {
		g->path[0] = 0;
	} else if (g->path[0]) {
		if (pid) {
			snprintf(path, sizeof(path), "%s/cgroup.procs", g->root);
			snprintf(num, sizeof(num), "%d", pid);
			mmr_write_str(path, num);
		}
		rmdir(g->path);
		g->path[0] = 0;
	}
	if (g->mounted[0]) {
		umount2(g->mounted, MNT_DETACH);
		rmdir(g->mounted);
		g->mounted[0] = 0;
	}
}
