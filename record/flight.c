// SPDX-License-Identifier: GPL-2.0
/* The flight recorder's ring of record blocks (flight.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "flight.h"

int flight_init(struct flight *f, size_t size)
{
	memset(f, 0, sizeof(*f));
	if (size < FLIGHT_MIN) {
		errno = EINVAL;
		return -1;
	}
	f->nr = size / FLIGHT_BLOCK;
	/* calloc: pages are touched only as records fill them */
	f->mem = calloc(f->nr, FLIGHT_BLOCK);
	f->b = calloc(f->nr, sizeof(*f->b));
	if (!f->mem || !f->b) {
		flight_free(f);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void flight_free(struct flight *f)
{
	free(f->mem);
	free(f->b);
	f->mem = NULL;
	f->b = NULL;
}

int flight_move(struct flight *dst, struct flight *src)
{
	struct flight fresh;

	if (flight_init(&fresh, (size_t)src->nr * FLIGHT_BLOCK))
		return -1;
	fresh.too_big = src->too_big;
	*dst = *src;
	*src = fresh;
	return 0;
}

static struct flight_block *last_block(struct flight *f)
{
	return f->count ? &f->b[(f->first + f->count - 1) % f->nr] : NULL;
}

/* A fresh block at the end, in place of the oldest when all are in use. */
static struct flight_block *new_block(struct flight *f)
{
	struct flight_block *b;

	if (f->count == f->nr) {
		b = &f->b[f->first];
		f->overwritten += b->records;
		f->held -= b->records;
		f->first = (f->first + 1) % f->nr;
		f->count--;
	}
	f->count++;
	b = last_block(f);
	b->used = 0;
	b->records = 0;
	return b;
}

int flight_put(struct flight *f, const struct mmr_hdr *h, const void *payload)
{
	size_t need = sizeof(*h) + h->len;
	struct flight_block *b = last_block(f);
	unsigned char *p;

	if (need > FLIGHT_BLOCK) {
		f->too_big++;
		return -1;
	}
	if (!b || b->used + need > FLIGHT_BLOCK)
		b = new_block(f);
	p = f->mem + (size_t)(b - f->b) * FLIGHT_BLOCK + b->used;
	memcpy(p, h, sizeof(*h));
	memcpy(p + sizeof(*h), payload, h->len);
	b->used += need;
	b->records++;
	f->held++;
	return 0;
}

int flight_each(const struct flight *f,
		int (*fn)(const struct mmr_hdr *h, const void *payload, void *ctx), void *ctx)
{
	for (int i = 0; i < f->count; i++) {
		int at = (f->first + i) % f->nr;
		const unsigned char *p = f->mem + (size_t)at * FLIGHT_BLOCK;
		size_t off = 0;

		while (off < f->b[at].used) {
			struct mmr_hdr h;
			int ret;

			memcpy(&h, p + off, sizeof(h));	/* records are not aligned */
			ret = fn(&h, p + off + sizeof(h), ctx);
			if (ret)
				return ret;
			off += sizeof(h) + h.len;
		}
	}
	return 0;
}

size_t flight_bytes(const struct flight *f)
{
	size_t n = 0;

	for (int i = 0; i < f->count; i++)
		n += f->b[(f->first + i) % f->nr].used;
	return n;
}
