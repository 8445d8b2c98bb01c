// SPDX-License-Identifier: GPL-2.0
/*
 * Structure-aware mutator for trace files (traces/FORMAT.md): splits the
 * input into its file header and chunks, mutates one chunk's header fields
 * or its decompressed payload (records, record sizes and fields, the text
 * of META/KIND/STATS chunks and their format files), or the chunk list
 * itself, then recompresses and rewrites valid checksums, so that inputs
 * get past chunk_ok().  Now and then it leaves a checksum wrong, and one
 * time in eight it hands the whole file to libFuzzer's own mutators.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "traces/trace.h"

size_t LLVMFuzzerMutate(unsigned char *data, size_t size, size_t max_size);

#define MAX_CHUNKS 4096
#define MAX_RAW (4u << 20)	/* decompress no more than this */
#define MAX_RECS 65536

struct mchunk {
	struct mmr_chunk_hdr h;
	const unsigned char *stored;	/* data as in the input */
	unsigned char *raw;		/* decompressed, when changed; malloc'd */
	size_t raw_len;
	int dirty;			/* re-encode from raw */
	int keep_raw_len;		/* the header's raw_len was mutated: keep it */
	int short_data;			/* store less than the (re-encoded) data */
	int bad_crc;			/* leave hdr_crc wrong */
};

struct mfile {
	const unsigned char *data;
	size_t size;
	struct mchunk *ch;
	int nr;
	size_t tail_off;		/* bytes after the last whole chunk */
};

static __u64 rng_state;

static __u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static __u32 below(__u32 n)
{
	return n ? rnd() % n : 0;
}

static __u64 interesting(__u64 near)
{
	static const __u64 vals[] = {
		0, 1, 2, 7, 8, 16, 23, 24, 32, 127, 128, 255, 256, 4095, 4096, 4097, 0x7fff,
		0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
		0x100000000ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL,
		0x7f0000000000ULL, 0x7ffffffff000ULL, 0xfffffffffffff000ULL, (__u64)-4095,
		(__u64)-1 - 22,
	};

	switch (below(4)) {
	case 0:
		return near + below(17) - 8;
	case 1:
		return rnd();
	default:
		return vals[below(sizeof(vals) / sizeof(vals[0]))];
	}
}

/* ---- parsing and encoding ---------------------------------------------- */

static int parse(struct mfile *m, const unsigned char *data, size_t size)
{
	size_t off = sizeof(struct mmr_file_hdr);

	memset(m, 0, sizeof(*m));
	m->data = data;
	m->size = size;
	if (size < off || memcmp(data, MMR_FILE_MAGIC, 8))
		return -1;
	m->ch = calloc(MAX_CHUNKS, sizeof(*m->ch));
	if (!m->ch)
		return -1;
	while (m->nr < MAX_CHUNKS && off + sizeof(struct mmr_chunk_hdr) <= size) {
		struct mchunk *c = &m->ch[m->nr];

		memcpy(&c->h, data + off, sizeof(c->h));
		if (c->h.magic != MMR_CHUNK_MAGIC ||
		    c->h.data_len > size - off - sizeof(c->h))
			break;
		c->stored = data + off + sizeof(c->h);
		off += sizeof(c->h) + c->h.data_len;
		m->nr++;
	}
	m->tail_off = off;
	return 0;
}

static void mfile_free(struct mfile *m)
{
	for (int i = 0; i < m->nr; i++)
		free(m->ch[i].raw);
	free(m->ch);
}

/* The chunk's decompressed bytes, in c->raw; -1 if they cannot be had. */
static int decode(struct mchunk *c)
{
	uLongf len = c->h.raw_len;

	if (c->raw)
		return 0;
	if (c->h.flags & MMR_CHUNK_ZLIB && c->h.raw_len > MAX_RAW)
		return -1;
	if (!(c->h.flags & MMR_CHUNK_ZLIB)) {
		len = c->h.data_len;
		c->raw = malloc(len + 1);
		if (!c->raw)
			return -1;
		memcpy(c->raw, c->stored, len);
	} else {
		c->raw = malloc(len + 1);
		if (!c->raw || uncompress(c->raw, &len, c->stored, c->h.data_len) != Z_OK) {
			free(c->raw);
			c->raw = NULL;
			return -1;
		}
	}
	c->raw_len = len;
	c->dirty = 1;
	return 0;
}

/* Replaces c->raw with len bytes at buf (which it takes over). */
static void set_raw(struct mchunk *c, unsigned char *buf, size_t len)
{
	free(c->raw);
	c->raw = buf;
	c->raw_len = len;
	c->dirty = 1;
}

static size_t put(unsigned char *out, size_t pos, size_t max, const void *p, size_t len)
{
	if (pos > max || len > max - pos)
		return max + 1;
	memcpy(out + pos, p, len);
	return pos + len;
}

/* One chunk, re-encoded if changed, with valid checksums unless bad_crc. */
static size_t put_chunk(unsigned char *out, size_t pos, size_t max, struct mchunk *c)
{
	struct mmr_chunk_hdr h = c->h;
	const unsigned char *data = c->stored;
	unsigned char *z = NULL;
	uLongf zlen;

	if (c->dirty) {
		data = c->raw;
		zlen = compressBound(c->raw_len);
		if ((h.flags & MMR_CHUNK_ZLIB) && (z = malloc(zlen)) &&
		    compress2(z, &zlen, c->raw, c->raw_len, 1) == Z_OK) {
			data = z;
		} else {
			h.flags &= ~MMR_CHUNK_ZLIB;
			zlen = c->raw_len;
		}
		if (!c->keep_raw_len)
			h.raw_len = c->raw_len;
		if (c->short_data)
			zlen = below(zlen);
		h.data_len = zlen;
		h.data_crc = mmr_crc32(data, zlen);
	} else {
		zlen = h.data_len;
	}
	h.hdr_crc = mmr_crc32(&h, offsetof(struct mmr_chunk_hdr, hdr_crc)) ^ (c->bad_crc ? 1 : 0);
	pos = put(out, pos, max, &h, sizeof(h));
	pos = put(out, pos, max, data, zlen);
	free(z);
	return pos;
}

static size_t encode(struct mfile *m, unsigned char *out, size_t max)
{
	size_t pos = put(out, 0, max, m->data, sizeof(struct mmr_file_hdr));

	for (int i = 0; i < m->nr; i++)
		pos = put_chunk(out, pos, max, &m->ch[i]);
	return put(out, pos, max, m->data + m->tail_off, m->size - m->tail_off);
}

/* ---- chunk headers and the chunk list ----------------------------------- */

static void mutate_header(struct mchunk *c)
{
	switch (below(6)) {
	case 0:
		c->h.raw_len = interesting(c->h.raw_len);
		c->keep_raw_len = 1;
		break;
	case 1:	/* less data than the chunk held: cut compressed or text data */
		if (!decode(c))
			c->short_data = 1;
		break;
	case 2:
		c->h.type = below(4) ? 1 + below(6) : interesting(c->h.type);
		break;
	case 3:
		c->h.flags ^= below(2) ? MMR_CHUNK_ZLIB : 1u << below(16);
		break;
	case 4:
		c->bad_crc = 1;
		break;
	default:
		c->h.raw_len = 0xffffffff - below(2);
		c->keep_raw_len = 1;
		break;
	}
}

static void mutate_list(struct mfile *m)
{
	int a = below(m->nr), b = below(m->nr);
	struct mchunk tmp;

	switch (below(3)) {
	case 0:	/* swap */
		tmp = m->ch[a];
		m->ch[a] = m->ch[b];
		m->ch[b] = tmp;
		break;
	case 1:	/* delete */
		free(m->ch[a].raw);
		memmove(&m->ch[a], &m->ch[a + 1], (m->nr - a - 1) * sizeof(*m->ch));
		m->nr--;
		break;
	default:	/* duplicate (the copy re-encodes its own raw) */
		if (m->nr >= MAX_CHUNKS || decode(&m->ch[a]))
			return;
		memmove(&m->ch[b + 1], &m->ch[b], (m->nr - b) * sizeof(*m->ch));
		m->nr++;
		if (a > b)
			a++;
		m->ch[b] = m->ch[a];
		m->ch[b].raw = malloc(m->ch[a].raw_len + 1);
		if (!m->ch[b].raw) {
			m->ch[b].dirty = 0;
			return;
		}
		memcpy(m->ch[b].raw, m->ch[a].raw, m->ch[a].raw_len);
		break;
	}
}

/* ---- EVENTS payloads: records -------------------------------------------- */

/* Offsets of the well-framed records in an events payload. */
static int index_recs(const struct mchunk *c, size_t *off, int max)
{
	size_t p = 0;
	int n = 0;

	while (n < max && p + sizeof(struct mmr_hdr) <= c->raw_len) {
		struct mmr_hdr h;

		memcpy(&h, c->raw + p, sizeof(h));
		if (p + sizeof(h) + h.len > c->raw_len)
			break;
		off[n++] = p;
		p += sizeof(h) + h.len;
	}
	return n;
}

/* Grows or shrinks record r's payload to len, keeping the records after it framed. */
static void resize_rec(struct mchunk *c, size_t r, size_t len)
{
	struct mmr_hdr h;
	size_t old, tail;
	unsigned char *n;

	memcpy(&h, c->raw + r, sizeof(h));
	old = h.len;
	if (len > 0xffff)
		len = 0xffff;
	tail = c->raw_len - r - sizeof(h) - old;
	n = malloc(c->raw_len - old + len + 1);
	if (!n)
		return;
	memcpy(n, c->raw, r + sizeof(h) + (old < len ? old : len));
	if (len > old)
		memset(n + r + sizeof(h) + old, below(2) ? 0 : 0xff, len - old);
	memcpy(n + r + sizeof(h) + len, c->raw + r + sizeof(h) + old, tail);
	h.len = len;
	memcpy(n + r, &h, sizeof(h));
	set_raw(c, n, c->raw_len - old + len);
}

/* Copies record src to just before record dst (or drops record dst). */
static void move_rec(struct mchunk *c, size_t src, size_t dst, int drop)
{
	struct mmr_hdr h;
	size_t len;
	unsigned char *n;

	memcpy(&h, c->raw + (drop ? dst : src), sizeof(h));
	len = sizeof(h) + h.len;
	n = malloc(c->raw_len + len + 1);
	if (!n)
		return;
	memcpy(n, c->raw, dst);
	if (drop) {
		memcpy(n + dst, c->raw + dst + len, c->raw_len - dst - len);
		set_raw(c, n, c->raw_len - len);
		return;
	}
	memcpy(n + dst, c->raw + src, len);
	memcpy(n + dst + len, c->raw + dst, c->raw_len - dst);
	set_raw(c, n, c->raw_len + len);
}

static void set_bytes(unsigned char *p, size_t room, __u64 v)
{
	static const size_t widths[] = { 1, 2, 4, 8 };
	size_t w = widths[below(4)];

	if (w > room)
		w = room;
	memcpy(p, &v, w);	/* little endian */
}

static void mutate_fields(struct mchunk *c, size_t r, size_t other)
{
	struct mmr_hdr h, o;
	unsigned char *pl = c->raw + r + sizeof(h);
	size_t at;

	memcpy(&h, c->raw + r, sizeof(h));
	memcpy(&o, c->raw + other, sizeof(o));
	switch (below(7)) {
	case 0:	/* kind */
		if (h.len >= 2)
			set_bytes(pl, 2, below(4) ? below(MMR_K_NR + 2) : interesting(0));
		break;
	case 1:	/* one field, at an aligned or any offset */
		if (h.len) {
			at = below(h.len);
			if (below(2))
				at &= ~7UL;
			set_bytes(pl + at, h.len - at, interesting(0));
		}
		break;
	case 2:	/* a field copied from another record: same pids, addresses, mms */
		if (h.len && o.len) {
			size_t room = h.len < o.len ? h.len : o.len;

			at = below(room) & ~3UL;
			memcpy(pl + at, c->raw + other + sizeof(o) + at, room - at < 8 ? room - at : 8);
		}
		break;
	case 3:
		h.ts = below(2) ? o.ts + below(3) - 1 : interesting(h.ts);
		break;
	case 4:
		h.tgid = below(2) ? o.tgid : interesting(h.tgid);
		h.mm = below(2) ? o.mm : interesting(h.mm);
		break;
	case 5:
		h.cpu = interesting(h.cpu);
		break;
	default:	/* libFuzzer's bytes mutators, in place */
		if (h.len)
			LLVMFuzzerMutate(pl, h.len, h.len);
		break;
	}
	memcpy(c->raw + r, &h, sizeof(h));
}

static void mutate_events(struct mchunk *c)
{
	static size_t off[MAX_RECS];
	int n = index_recs(c, off, MAX_RECS);
	size_t r, other;
	struct mmr_hdr h;

	if (!n) {
		c->raw_len = LLVMFuzzerMutate(c->raw, c->raw_len, c->raw_len);
		return;
	}
	r = off[below(n)];
	other = off[below(n)];
	memcpy(&h, c->raw + r, sizeof(h));
	switch (below(6)) {
	case 0:	/* resize, keeping the framing: short records */
		resize_rec(c, r, below(3) ? below(h.len + 1) : interesting(h.len) & 0xffff);
		break;
	case 1:	/* a lying len: breaks the framing from here */
		h.len = interesting(h.len);
		memcpy(c->raw + r, &h, sizeof(h));
		break;
	case 2:
		move_rec(c, other, r, 0);
		break;
	case 3:
		move_rec(c, 0, r, 1);
		break;
	default:
		mutate_fields(c, r, other);
		break;
	}
}

/* ---- text payloads: META, KIND and its format file, STATS, END ----------- */

static const char *const tokens[] = {
	"field:", "offset:", "size:", "signed:", "format:\n", "print fmt: ", "REC->", "\"", ",",
	"[", "]", "(", ")", "%d", "%s", "%lx", "%p", "%*s", "%.*s", "__data_loc ", "__rel_loc ",
	"char ", "unsigned long ", "struct folio * ", "\n", ";", "\t", "=", "id=", "name=",
	"system=", "source=tracepoint\n", "source=struct\n", "page_size=", "machine=x86_64\n",
	"nr_cpus=", "events=", "drops=", "__print_flags(", "__print_symbolic(", "__get_str(",
	"{ 1, \"a\" }", "? ", " : ", "/", "*", "-", "0", "-1", "4294967295",
	"18446744073709551615", "65536", "\"\",D/s", "field:d n[",
};

/* Inserts, replaces or drops text at a random place; returns the new text. */
static void splice_text(struct mchunk *c, const char *ins, size_t del)
{
	size_t at = below(c->raw_len + 1), il = strlen(ins);
	unsigned char *n;

	if (del > c->raw_len - at)
		del = c->raw_len - at;
	n = malloc(c->raw_len - del + il + 1);
	if (!n)
		return;
	memcpy(n, c->raw, at);
	memcpy(n + at, ins, il);
	memcpy(n + at + il, c->raw + at + del, c->raw_len - at - del);
	set_raw(c, n, c->raw_len - del + il);
}

/* Replaces the number at or after a random place with an interesting one. */
static void swap_number(struct mchunk *c)
{
	size_t at = below(c->raw_len), end;
	char num[32], *n;

	while (at < c->raw_len && (c->raw[at] < '0' || c->raw[at] > '9'))
		at++;
	for (end = at; end < c->raw_len && c->raw[end] >= '0' && c->raw[end] <= '9'; end++)
		;
	if (at == c->raw_len)
		return;
	snprintf(num, sizeof(num), below(4) ? "%llu" : "%lld", (unsigned long long)interesting(0));
	n = malloc(c->raw_len - (end - at) + strlen(num) + 1);
	if (!n)
		return;
	memcpy(n, c->raw, at);
	memcpy(n + at, num, strlen(num));
	memcpy(n + at + strlen(num), c->raw + end, c->raw_len - end);
	set_raw(c, (unsigned char *)n, c->raw_len - (end - at) + strlen(num));
}

static void mutate_text(struct mchunk *c)
{
	size_t max = c->raw_len * 2 + 64;
	unsigned char *n;

	switch (below(4)) {
	case 0:
		splice_text(c, tokens[below(sizeof(tokens) / sizeof(tokens[0]))], below(3) ? 0 : below(8));
		break;
	case 1:
		swap_number(c);
		break;
	default:
		n = malloc(max + 1);
		if (!n)
			return;
		memcpy(n, c->raw, c->raw_len);
		set_raw(c, n, LLVMFuzzerMutate(n, c->raw_len, max));
		break;
	}
}

static void mutate_payload(struct mchunk *c)
{
	if (decode(c))
		return;
	if (c->h.type == MMR_CHUNK_EVENTS && below(8))
		mutate_events(c);
	else
		mutate_text(c);
}

/* ---- entry points --------------------------------------------------------- */

/* Chunks of one type are picked as often as all others: KIND/EVENTS matter most. */
static int pick_chunk(const struct mfile *m)
{
	int want = below(3) ? (below(2) ? MMR_CHUNK_EVENTS : MMR_CHUNK_KIND) : -1;

	for (int tries = 0; want >= 0 && tries < 16; tries++) {
		int i = below(m->nr);

		if (m->ch[i].h.type == want)
			return i;
	}
	return below(m->nr);
}

size_t LLVMFuzzerCustomMutator(unsigned char *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	struct mfile m;
	unsigned char *out;
	size_t len;

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	memset(&m, 0, sizeof(m));
	if (below(8) == 0 || parse(&m, data, size) || !m.nr) {
		if (m.ch)
			mfile_free(&m);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	for (int k = 1 + (below(4) ? 0 : below(4)); k > 0 && m.nr; k--) {
		switch (below(10)) {
		case 0: case 1:
			mutate_header(&m.ch[pick_chunk(&m)]);
			break;
		case 2:
			mutate_list(&m);
			break;
		default:
			mutate_payload(&m.ch[pick_chunk(&m)]);
			break;
		}
	}
	out = malloc(max_size);
	len = out ? encode(&m, out, max_size) : max_size + 1;
	if (len <= max_size)
		memcpy(data, out, len);
	else
		len = LLVMFuzzerMutate(data, size, max_size);
	free(out);
	mfile_free(&m);
	return len;
}

/* Crossover at chunk granularity: a chunk of the second input spliced into the first. */
size_t LLVMFuzzerCustomCrossOver(const unsigned char *d1, size_t s1, const unsigned char *d2,
				 size_t s2, unsigned char *out, size_t max_out, unsigned int seed)
{
	struct mfile a, b;
	size_t len = 0;

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 7;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (parse(&a, d1, s1) || parse(&b, d2, s2) || !a.nr || !b.nr || a.nr >= MAX_CHUNKS) {
		free(a.ch);
		free(b.ch);
		len = s1 < max_out ? s1 : max_out;
		memcpy(out, d1, len);
		return len;
	}
	{
		int at = below(a.nr + 1);

		memmove(&a.ch[at + 1], &a.ch[at], (a.nr - at) * sizeof(*a.ch));
		a.ch[at] = b.ch[below(b.nr)];
		a.nr++;
	}
	len = encode(&a, out, max_out);
	if (len > max_out) {
		len = s1 < max_out ? s1 : max_out;
		memcpy(out, d1, len);
	}
	free(a.ch);
	free(b.ch);
	return len;
}
