// SPDX-License-Identifier: GPL-2.0
/*
 * The bottom of the executor: the state one run shares between its
 * processes (SH), this process's (P) and the plan (PL), and the small
 * helpers every part of a run uses: the clock, the seeded rng, NUMA moves,
 * and how a replayed syscall's result is compared with the recorded one.
 * exec.c, proc.c, perturb.c and explore.c call down to here; nothing here
 * calls up.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "exec_int.h"

struct shared *SH;
struct proc P;
const struct rplan *PL;

__u64 splitmix(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void note_result(__u32 id, const struct rop *o, long ret)
{
	int rec_ok = o->ret >= 0, ok = ret >= 0;
	__u32 n;

	if (rec_ok == ok)
		return;
	COUNT(diverged, 1);
	if (o->flags & ROPF_RACED)
		COUNT(diverged_raced, 1);
	n = atomic_fetch_add(&SH->ndiv, 1);
	if (n < 3)
		snprintf(SH->st.first_divergence[n], sizeof(SH->st.first_divergence[n]),
			 "op %u (task %u) %s: recorded %lld, replay %s", id, o->task, rop_name(o),
			 (long long)o->ret, ok ? "succeeded" : strerror(-ret));
}

void run_oom(void)
{
	SH->oom = 1;
	SH->abort = 1;
}

int nr_nodes(void)
{
	static int n;
	char path[64];

	if (n)
		return n;
	for (n = 1; n < 64; n++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", n);
		if (access(path, F_OK))
			break;
	}
	return n;
}

int move_next_node(int pid, void **pages, int k)
{
	int nodes[MOVE_MAX], status[MOVE_MAX];

	if (k > MOVE_MAX)
		k = MOVE_MAX;
	syscall(SYS_move_pages, pid, k, pages, NULL, status, 0);
	for (int i = 0; i < k; i++)
		nodes[i] = status[i] >= 0 ? (status[i] + 1) % nr_nodes() : 0;
	return syscall(SYS_move_pages, pid, k, pages, nodes, status, 2 /* MPOL_MF_MOVE */) < 0 ?
		-1 : k;
}
