// SPDX-License-Identifier: GPL-2.0
/*
 * The findings list and how findings are spelt: verdict and rss counter
 * names, timestamps.  The checker's rules (check.c, ledger.c, verdicts.c)
 * add to it; it knows nothing of them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "findings.h"

static const char *const verdict_names[V_NR] = {
	"lost-mlock", "stranded-mlock", "skipped-swap-entry", "dropped-cow-swap-entry",
	"rss-counter-mismatch",
};

const char *verdict_name(enum verdict v)
{
	return v < V_NR ? verdict_names[v] : "?";
}

struct finding *findings_add(struct findings *fs, enum verdict v, int pid, __u64 mm, int tid,
			     __u64 ts, __u64 addr, __u64 pfn, const char *op)
{
	struct finding *f;

	fs->total++;
	if (fs->nr == fs->cap) {
		int cap = fs->cap ? fs->cap * 2 : 64;

		if (cap > FINDINGS_MAX)
			cap = FINDINGS_MAX;
		if (cap == fs->cap || !(f = realloc(fs->v, cap * sizeof(*f)))) {
			fs->not_stored++;
			return NULL;
		}
		fs->v = f;
		fs->cap = cap;
	}
	f = &fs->v[fs->nr++];
	memset(f, 0, sizeof(*f));
	f->kind = v;
	f->pid = pid;
	f->tid = tid;
	f->mm = mm;
	f->ts = ts;
	f->address = addr;
	f->nr_pages = addr ? 1 : 0;
	f->pfn = pfn;
	snprintf(f->op, sizeof(f->op), "%s", op);
	return f;
}

void finding_evidence(struct finding *f, const char *fmt, ...)
{
	va_list ap;

	if (!f || f->nr_evidence == FINDING_EVIDENCE)
		return;
	va_start(ap, fmt);
	vsnprintf(f->evidence[f->nr_evidence++], sizeof(f->evidence[0]), fmt, ap);
	va_end(ap);
}

static __u64 mix(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static int seen_grow(struct findings *fs)
{
	size_t cap = fs->seen_cap ? fs->seen_cap * 2 : 1024;
	__u64 *old = fs->seen, *v = calloc(cap, sizeof(*v));

	if (!v)
		return -1;
	for (size_t i = 0; i < fs->seen_cap; i++)
		for (size_t k = old[i] & (cap - 1); old[i]; k = (k + 1) & (cap - 1))
			if (!v[k]) {
				v[k] = old[i];
				break;
			}
	free(old);
	fs->seen = v;
	fs->seen_cap = cap;
	return 0;
}

int findings_seen(struct findings *fs, enum verdict v, __u64 mm, __u64 addr, __u64 pfn)
{
	__u64 h = mix(mix(mix(mm ^ v) ^ addr) ^ pfn) | 1;	/* 0: an empty slot */
	size_t k;

	if (fs->seen_nr >= SEEN_MAX)
		return 0;
	if (fs->seen_nr * 2 >= fs->seen_cap && seen_grow(fs))
		return 0;
	for (k = h & (fs->seen_cap - 1); fs->seen[k]; k = (k + 1) & (fs->seen_cap - 1))
		if (fs->seen[k] == h)
			return 1;
	fs->seen[k] = h;
	fs->seen_nr++;
	return 0;
}

void findings_free(struct findings *fs)
{
	free(fs->seen);
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

const char *ts_str(__u64 ts, char *buf, size_t len)
{
	snprintf(buf, len, "%llu.%06llu", (unsigned long long)ts / 1000000000ULL,
		 (unsigned long long)ts % 1000000000ULL / 1000);
	return buf;
}
