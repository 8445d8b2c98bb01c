/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record --flight-recorder: the last SIZE bytes of event records, held in
 * memory.  The ring is a row of 64 KiB blocks of whole records; when every
 * block is full, the oldest block is dropped, so the records held always
 * start at a record's first byte and the count of those dropped is exact.
 */
#ifndef MMR_FLIGHT_H
#define MMR_FLIGHT_H

#include <stddef.h>
#include <linux/types.h>
#include "bpf/events.h"

#define FLIGHT_BLOCK (64U << 10)
#define FLIGHT_MIN (4 * FLIGHT_BLOCK)

struct flight_block {
	size_t used;		/* bytes of whole records */
	__u64 records;
};

struct flight {
	unsigned char *mem;	/* nr blocks of FLIGHT_BLOCK bytes */
	struct flight_block *b;
	int nr, first, count;	/* blocks; the oldest in use; how many are */
	__u64 held;		/* records held */
	__u64 overwritten;	/* records dropped from the front */
	__u64 too_big;		/* records larger than a block: never held */
};

/* @size bytes (at least FLIGHT_MIN), rounded down to whole blocks.  -1: errno. */
int flight_init(struct flight *f, size_t size);
void flight_free(struct flight *f);
/*
 * Hand @src's records to @dst (for a write in the background); @src starts
 * again empty, at its size, its count of records too big kept.  -1: errno,
 * neither changed.
 */
int flight_move(struct flight *dst, struct flight *src);
/* Append a copy of one record, dropping the oldest block if need be; -1: larger than a block. */
int flight_put(struct flight *f, const struct mmr_hdr *h, const void *payload);
/* Each record held, oldest first; stops at the first nonzero return of @fn. */
int flight_each(const struct flight *f,
		int (*fn)(const struct mmr_hdr *h, const void *payload, void *ctx), void *ctx);
/* Bytes of records held. */
size_t flight_bytes(const struct flight *f);

#endif
