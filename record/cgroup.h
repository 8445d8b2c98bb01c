/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A cgroup v2 group of its own, with the memory controller, for a process
 * mmreplay runs: replay's own process (explore's reclaim perturbation) and
 * a command `record --reclaim-pass` runs.  Its name starts "mmreplay-",
 * which is how the reclaim pass knows the group holds nothing else.
 */
#ifndef MMR_CGROUP_H
#define MMR_CGROUP_H
#include <stddef.h>
#include <sys/types.h>

#define MMR_CGROUP_PREFIX "mmreplay-"

struct mmr_cgroup {
	char path[512];		/* the group's directory; "" if none */
	char root[512];		/* the hierarchy's root, where the process came from */
	char mounted[512];	/* a private cgroup2 mount made for it, or "" */
	int adopted;		/* it was in its own group already (record's): not ours to remove */
};

/*
 * Makes group mmreplay-@pid under the cgroup2 root (mounting one in
 * @scratch if none is) and moves @pid into it, or adopts that group if
 * @pid is in it already (record --reclaim-pass made it for its command):
 * 0, or -1 with why in @why.
 */
int mmr_cgroup_own(struct mmr_cgroup *g, pid_t pid, const char *scratch, char *why, size_t len);
/*
 * Moves @pid (if not 0) back to the root, removes the group (if it is
 * empty) and a private mount.
 */
void mmr_cgroup_release(struct mmr_cgroup *g, pid_t pid);
/* The first cgroup2 mount into @root, "" if none. */
void mmr_cgroup_root(char *root, size_t len);
/* The group of @pid in the cgroup2 hierarchy ("/a/b", /proc/PID/cgroup): 0, or -1. */
int mmr_cgroup_of(pid_t pid, char *group, size_t len);
/* Writes @s to file @path: 0, or -1 (errno set). */
int mmr_write_str(const char *path, const char *s);

#endif
