// SPDX-License-Identifier: GPL-2.0
/*
 * Race candidates for `replay --explore`: pairs of operations of different
 * tasks on overlapping recorded addresses, close together in time, that a
 * run can start together (nothing else of the second task lies between
 * them).  Forked children keep their parent's addresses, so COW-shared pages
 * pair up across processes too.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "exec_int.h"
#include "session.h"

#define LOOKBACK 512

/* Index of the op before which task t may not be released: its previous op, or its spawn. */
static long before_of(const struct rplan *p, const long *spawn_of, const long *pos, __u32 b)
{
	const struct rtask *t = &p->tasks[p->ops[b].task];

	return pos[b] > 0 ? (long)t->ops[pos[b] - 1] : spawn_of[p->ops[b].task];
}

struct pair_sig {
	__u32 ta, tb;
	__u16 ka, kb;
	__u64 page;
};

static int sig_seen(struct pair_sig *sigs, int n, const struct pair_sig *s)
{
	for (int i = 0; i < n; i++)
		if (!memcmp(&sigs[i], s, sizeof(*s)))
			return 1;
	return 0;
}

static int pairs_scan(const struct rplan *p, __u64 window, const long *spawn_of, const long *pos,
		      struct rpair *out, int max)
{
	struct pair_sig sigs[max > 0 ? max : 1];
	int n = 0;

	for (size_t b = 1; b < p->nr_ops && n < max; b++) {
		const struct rop *ob = &p->ops[b];
		__u64 blo, bhi;

		if (!rop_range(p, ob, &blo, &bhi))
			continue;
		for (size_t a = b; a-- > 0 && b - a <= LOOKBACK;) {
			const struct rop *oa = &p->ops[a];
			__u64 alo, ahi;
			struct pair_sig s;

			if (oa->ts + oa->dur + window < ob->ts)
				break;
			if (oa->task == ob->task || !rop_range(p, oa, &alo, &ahi) ||
			    ahi <= blo || bhi <= alo || before_of(p, spawn_of, pos, b) >= (long)a)
				continue;
			memset(&s, 0, sizeof(s));
			s = (struct pair_sig){ oa->task, ob->task, oa->type << 10 | oa->nr,
					  ob->type << 10 | ob->nr, (alo > blo ? alo : blo) / p->page_size };
			if (sig_seen(sigs, n, &s))
				continue;
			sigs[n] = s;
			out[n++] = (struct rpair){ a, b };
			break;
		}
	}
	return n;
}

int plan_pairs(const struct rplan *p, __u64 window_ns, struct rpair *out, int max)
{
	long *spawn_of = calloc(p->nr_tasks + 1, sizeof(long));
	long *pos = calloc(p->nr_ops + 1, sizeof(long));
	int n = -1;

	if (!spawn_of || !pos)
		goto out;
	for (int t = 0; t < p->nr_tasks; t++) {
		spawn_of[t] = -1;
		for (size_t i = 0; i < p->tasks[t].nr_ops; i++)
			pos[p->tasks[t].ops[i]] = i;
	}
	for (size_t i = 0; i < p->nr_ops; i++)
		if (p->ops[i].type == ROP_SPAWN)
			spawn_of[p->ops[i].extra] = i;
	n = pairs_scan(p, window_ns, spawn_of, pos, out, max);
out:
	free(spawn_of);
	free(pos);
	return n;
}

/*
 * Ops a kernel-side perturbation may race: the calls that lock, unlock,
 * unmap, advise or protect known pages, where a reclaim or migration walk
 * that checks VM_LOCKED or the PTE at the wrong moment goes wrong.  One
 * per task, call and first page.
 */
/* mlock-family calls first, then unmapping and advice, then protection changes */
static int target_rank(const struct rop *o)
{
	switch (o->nr) {
	case NR_MLOCK: case NR_MUNLOCK: case NR_MLOCK2:
		return 0;
	case NR_MUNMAP: case NR_MADVISE: case NR_MREMAP:
		return 1;
	case NR_MPROTECT:
		return 2;
	}
	return -1;
}

int plan_targets(const struct rplan *p, __u32 *out, int max)
{
	struct pair_sig sigs[max > 0 ? max : 1];
	int n = 0;

	for (int rank = 0; rank <= 2; rank++) {
		for (size_t i = 0; i < p->nr_ops && n < max; i++) {
			const struct rop *o = &p->ops[i];
			__u64 lo, hi;
			struct pair_sig s;

			if (o->type != ROP_SYSCALL || target_rank(o) != rank || o->ret < 0 ||
			    !rop_range(p, o, &lo, &hi))
				continue;
			memset(&s, 0, sizeof(s));
			s = (struct pair_sig){ o->task, 0, o->nr, 0, lo / p->page_size };
			if (sig_seen(sigs, n, &s))
				continue;
			sigs[n] = s;
			out[n++] = i;
		}
	}
	return n;
}

__u64 trial_seed(__u64 seed, int pair, int trial)
{
	__u64 s = seed ^ ((__u64)pair << 32) ^ (__u64)trial;

	return splitmix(&s);
}

int rrun_cell(const struct rrun_set *rs, int r, int *trial)
{
	int n = rs->nr_pairs > 0 ? rs->nr_pairs : 1;

	*trial = r / n;
	return r % n;
}

/* z = 1.96: the Wilson score interval, which stays inside [0, 1] for k = 0 or n */
void wilson95(int k, int n, double *lo, double *hi)
{
	const double z = 1.959963985;
	double p, d, c, h;

	if (n <= 0) {
		*lo = 0, *hi = 1;
		return;
	}
	p = (double)k / n;
	d = 1 + z * z / n;
	c = (p + z * z / (2.0 * n)) / d;
	h = z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / d;
	*lo = c - h > 0 ? c - h : 0;
	*hi = c + h < 1 ? c + h : 1;
}
