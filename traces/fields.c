// SPDX-License-Identifier: GPL-2.0
/* The tracepoint fields the engines read, and the rss_stat counters (fields.h). */
#include <stdio.h>
#include <string.h>
#include "fields.h"

#define PAYLOAD_MAX 0xffff	/* mmr_hdr.len is 16 bits */

/*
 * Where each field is looked up, and where it is assumed to lie when the
 * trace's format for its kind does not declare it (the offsets the engines
 * assumed before they read formats); dsize 0: no default, it reads as 0.
 */
static const struct field_spec {
	int kind;
	enum mmr_field f;
	const char *name;
	unsigned short doff, dsize;
} specs[] = {
	{ MMR_K_PAGE_FAULT_USER, F_ADDRESS, "address", 8, 8 },
	{ MMR_K_PAGE_FAULT_USER, F_ERROR_CODE, "error_code", 24, 8 },
	{ MMR_K_PAGE_FAULT_KERNEL, F_ADDRESS, "address", 8, 8 },
	{ MMR_K_PAGE_FAULT_KERNEL, F_ERROR_CODE, "error_code", 24, 8 },
	{ MMR_K_RSS_STAT, F_MEMBER, "member", 0, 0 },
	{ MMR_K_RSS_STAT, F_SIZE, "size", 0, 0 },
	{ MMR_K_LRU_INSERTION, F_PFN, "pfn", 0, 0 },
	{ MMR_K_LRU_INSERTION, F_LRU, "lru", 24, 4 },
	{ MMR_K_PAGE_FREE, F_PFN, "pfn", 0, 0 },
	{ MMR_K_PAGE_FREE, F_ORDER, "order", 0, 0 },
	{ MMR_K_SET_MIGRATION_PTE, F_ADDR, "addr", 8, 8 },
	{ MMR_K_SET_MIGRATION_PTE, F_ORDER, "order", 24, 4 },
	{ MMR_K_REMOVE_MIGRATION_PTE, F_ADDR, "addr", 8, 8 },
	{ MMR_K_REMOVE_MIGRATION_PTE, F_PTE, "pte", 0, 0 },
	{ MMR_K_MMAP_LOCK_START, F_WRITE, "write", 16, 1 },
	{ MMR_K_MMAP_LOCK_ACQUIRED, F_WRITE, "write", 16, 1 },
	{ MMR_K_MMAP_LOCK_ACQUIRED, F_SUCCESS, "success", 17, 1 },
	{ MMR_K_MMAP_LOCK_RELEASED, F_WRITE, "write", 16, 1 },
};

int mmr_format_field(const char *fmt, const char *name, unsigned *off, unsigned *size)
{
	size_t nl = strlen(name);

	for (const char *p = fmt; p && (p = strstr(p, "field:")); p++) {
		const char *semi = strchr(p, ';');

		if (!semi || (size_t)(semi - p) < nl + 7 || strncmp(semi - nl, name, nl) ||
		    (semi[-(long)nl - 1] != ' ' && semi[-(long)nl - 1] != '*'))
			continue;
		if ((sscanf(semi, ";\toffset:%u;\tsize:%u;", off, size) == 2 ||
		     sscanf(semi, "; offset:%u; size:%u;", off, size) == 2) &&
		    *off <= PAYLOAD_MAX && *size <= PAYLOAD_MAX)
			return 0;
	}
	return -1;
}

void mmr_schema_resolve(struct mmr_schema *s, const struct mmr_kind_info *kinds)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		const struct field_spec *sp = &specs[i];
		const struct mmr_kind_info *k = &kinds[sp->kind];
		struct mmr_field_loc *l = &s->loc[sp->kind][sp->f];
		unsigned off, size;

		if (k->present && k->format && !mmr_format_field(k->format, sp->name, &off, &size))
			*l = (struct mmr_field_loc){ off, size, 1 };
		else
			*l = (struct mmr_field_loc){ sp->doff, sp->dsize, 0 };
	}
}

int mmr_schema_has(const struct mmr_schema *s, int kind, enum mmr_field f)
{
	return kind > 0 && kind < MMR_K_NR && s->loc[kind][f].declared;
}

static const struct mmr_field_loc *loc_of(const struct mmr_event *ev, enum mmr_field f)
{
	unsigned kind = ((const struct mmr_common *)ev->data)->type;
	const struct mmr_field_loc *l;

	if (!ev->schema || kind >= MMR_K_NR)
		return NULL;
	l = &ev->schema->loc[kind][f];
	return l->size && l->size <= 8 && l->off + l->size <= ev->h.len ? l : NULL;
}

__u64 mmr_ev_u64(const struct mmr_event *ev, enum mmr_field f)
{
	const struct mmr_field_loc *l = loc_of(ev, f);
	__u64 v = 0;

	if (l)
		memcpy(&v, (const char *)ev->data + l->off, l->size);	/* little endian */
	return v;
}

__s64 mmr_ev_s64(const struct mmr_event *ev, enum mmr_field f)
{
	const struct mmr_field_loc *l = loc_of(ev, f);
	__u64 v = mmr_ev_u64(ev, f);
	unsigned shift = l ? 64 - 8 * l->size : 0;

	return (__s64)(v << shift) >> shift;
}

/* ---- kmem:rss_stat ---------------------------------------------------- */

const char *mmr_rss_name(int member)
{
	static const char *const names[MMR_NR_RSS] = {
		"MM_FILEPAGES", "MM_ANONPAGES", "MM_SWAPENTS", "MM_SHMEMPAGES",
	};

	return member >= 0 && member < MMR_NR_RSS ? names[member] : "?";
}

int mmr_rss_readable(const struct mmr_schema *s)
{
	return mmr_schema_has(s, MMR_K_RSS_STAT, F_MEMBER) &&
	       mmr_schema_has(s, MMR_K_RSS_STAT, F_SIZE);
}

int mmr_ev_rss(const struct mmr_event *ev, long page_size, struct mmr_rss *r)
{
	const struct mmr_common *c = ev->data;
	__s64 member;

	if (c->type != MMR_K_RSS_STAT || !ev->schema || !mmr_rss_readable(ev->schema))
		return -1;
	member = mmr_ev_s64(ev, F_MEMBER);
	if (member < 0 || member >= MMR_NR_RSS)
		return -1;
	r->member = member;
	r->pages = mmr_ev_s64(ev, F_SIZE) / page_size;
	return 0;
}

int mmr_rss_update(struct mmr_rss_counters *c, const struct mmr_event *ev, long page_size,
		   struct mmr_rss_change *ch)
{
	struct mmr_rss r;

	if (mmr_ev_rss(ev, page_size, &r))
		return -1;
	*ch = (struct mmr_rss_change){ r.member, c->pages[r.member], r.pages, c->seen[r.member] };
	c->pages[r.member] = r.pages;
	c->seen[r.member] = 1;
	return 0;
}

/* Whether @release (uname -r) is 6.@minor or later; 0 for an unknown one. */
static int kernel_at_least_6(const char *release, int minor)
{
	int ma = 0, mi = 0;

	if (!release || sscanf(release, "%d.%d", &ma, &mi) != 2)
		return 0;
	return ma > 6 || (ma == 6 && mi >= minor);
}

int mmr_kernel_rss_exact(const char *release)
{
	return kernel_at_least_6(release, 2);
}

int mmr_kernel_status_exact(const char *release)
{
	return kernel_at_least_6(release, 16);
}
