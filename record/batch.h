/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Staged hot events (MMR_CFG_COALESCE, bpf/events.h): a batch record of
 * the ring buffer, or a CPU's stage the recorder empties itself, turned
 * back into the records the typed programs make one by one.
 */
#ifndef MMR_RECORD_BATCH_H
#define MMR_RECORD_BATCH_H

#include <linux/types.h>
#include "bpf/events.h"

/* Where a typed program puts its fields: offsets and sizes from the tracepoint's format. */
struct batch_field {
	unsigned short off, size;
};

enum { BF_FAULT_ADDRESS, BF_FAULT_ERROR, BF_RSS_MM_ID, BF_RSS_CURR, BF_RSS_MEMBER, BF_RSS_SIZE,
       BF_LRU_PFN, BF_LRU_LRU, BF_LRU_FLAGS, BF_NR };

struct batch_layout {
	struct batch_field f[BF_NR];
	unsigned short len[MMR_ITEM_LRU + 1];	/* payload bytes, by item kind */
};

/*
 * The layout from the formats of page_fault_user, rss_stat and
 * mm_lru_insertion (by kind id; NULL: the kind is not recorded, and no
 * item of it can be turned back): 0, or -1 naming in @why the field a
 * format does not declare.
 */
int batch_layout_init(struct batch_layout *l, char *const *formats, char *why, size_t len);

/*
 * Item @i of a batch (header @h, its batch @b) as the record its typed
 * program would have made, into @rec (hdr and payload, at least
 * sizeof(struct mmr_hdr) + MMR_RAW_MAX bytes): its size, or 0 if the item
 * is of no kind known.
 */
size_t batch_item_record(const struct batch_layout *l, const struct mmr_hdr *h,
			 const struct mmr_batch *b, const struct mmr_item *it, void *rec);

#endif
