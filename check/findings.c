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

void findings_free(struct findings *fs)
{
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

const char *ts_str(__u64 ts, char *buf, size_t len)
{
	snprintf(buf, len, "%llu.%06llu", (unsigned long long)ts / 1000000000ULL,
		 (unsigned long long)ts % 1000000000ULL / 1000);
	return buf;
}
