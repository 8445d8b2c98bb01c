// SPDX-License-Identifier: GPL-2.0
/*
 * A staged item back into its record: the typed program's payload (the
 * kernel's raw tracepoint record, common_type our kind), its fields where
 * the tracepoint's format puts them, as the program's CO-RE offsets do.
 * Fields the engines do not read and an item does not keep (the fault's
 * ip, the folio pointer) are 0.
 */
#include <stdio.h>
#include <string.h>
#include "batch.h"
#include "traces/fields.h"

static const struct {
	int kind, item;
	const char *name;
} fields[BF_NR] = {
	[BF_FAULT_ADDRESS] = { MMR_K_PAGE_FAULT_USER, MMR_ITEM_FAULT, "address" },
	[BF_FAULT_ERROR] = { MMR_K_PAGE_FAULT_USER, MMR_ITEM_FAULT, "error_code" },
	[BF_RSS_MM_ID] = { MMR_K_RSS_STAT, MMR_ITEM_RSS, "mm_id" },
	[BF_RSS_CURR] = { MMR_K_RSS_STAT, MMR_ITEM_RSS, "curr" },
	[BF_RSS_MEMBER] = { MMR_K_RSS_STAT, MMR_ITEM_RSS, "member" },
	[BF_RSS_SIZE] = { MMR_K_RSS_STAT, MMR_ITEM_RSS, "size" },
	[BF_LRU_PFN] = { MMR_K_LRU_INSERTION, MMR_ITEM_LRU, "pfn" },
	[BF_LRU_LRU] = { MMR_K_LRU_INSERTION, MMR_ITEM_LRU, "lru" },
	[BF_LRU_FLAGS] = { MMR_K_LRU_INSERTION, MMR_ITEM_LRU, "flags" },
};

static const int item_kind[MMR_ITEM_LRU + 1] = {
	[MMR_ITEM_FAULT] = MMR_K_PAGE_FAULT_USER,
	[MMR_ITEM_RSS] = MMR_K_RSS_STAT,
	[MMR_ITEM_LRU] = MMR_K_LRU_INSERTION,
};

int batch_layout_init(struct batch_layout *l, char *const *formats, char *why, size_t len)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < BF_NR; i++) {
		unsigned off, size, end;
		unsigned short *pl = &l->len[fields[i].item];

		if (!formats[fields[i].kind])
			continue;	/* not recorded: none of its items come */
		if (mmr_format_field(formats[fields[i].kind], fields[i].name, &off, &size) ||
		    !size || size > 8 || off + size > MMR_RAW_MAX) {
			snprintf(why, len, "its tracepoint's format has no field %s of 1 to 8 bytes",
				 fields[i].name);
			return -1;
		}
		l->f[i] = (struct batch_field){ off, size };
		end = (off + size + 7) & ~7U;	/* as the typed program reserves it */
		*pl = end > *pl ? end : *pl;
	}
	return 0;
}

static void put(unsigned char *p, const struct batch_field *f, __u64 v)
{
	memcpy(p + f->off, &v, f->size);	/* little endian: the low bytes */
}

size_t batch_item_record(const struct batch_layout *l, const struct mmr_hdr *h,
			 const struct mmr_batch *b, const struct mmr_item *it, void *rec)
{
	unsigned item = it->word >> MMR_ITEM_SHIFT;
	__u64 word = it->word & MMR_ITEM_MASK;
	struct mmr_hdr *rh = rec;
	unsigned char *p = (unsigned char *)(rh + 1);
	struct mmr_common c = b->c;

	if (item < MMR_ITEM_FAULT || item > MMR_ITEM_LRU || !l->len[item])
		return 0;
	*rh = *h;
	rh->ts = h->ts + it->dt;
	rh->len = l->len[item];
	memset(p, 0, rh->len);
	c.type = item_kind[item];
	memcpy(p, &c, sizeof(c));
	switch (item) {
	case MMR_ITEM_FAULT:
		put(p, &l->f[BF_FAULT_ADDRESS], word);
		put(p, &l->f[BF_FAULT_ERROR], it->info);
		break;
	case MMR_ITEM_RSS:	/* only the task's own counters are staged: curr */
		/* the mm's hash, as the typed programs put it (nothing reads mm_id) */
		put(p, &l->f[BF_RSS_MM_ID], (__u32)h->mm);
		put(p, &l->f[BF_RSS_CURR], 1);
		put(p, &l->f[BF_RSS_MEMBER], it->info);
		/* the counter is signed (a bad rss-counter state shows below 0) */
		put(p, &l->f[BF_RSS_SIZE], (__u64)(((__s64)(word << (64 - MMR_ITEM_SHIFT)) >>
						      (64 - MMR_ITEM_SHIFT)) << 12));
		break;
	case MMR_ITEM_LRU:
		put(p, &l->f[BF_LRU_PFN], word);
		put(p, &l->f[BF_LRU_LRU], it->info & 0xff);
		put(p, &l->f[BF_LRU_FLAGS], it->info >> 8);
		break;
	}
	return sizeof(*rh) + rh->len;
}
