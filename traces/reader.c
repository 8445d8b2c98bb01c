// SPDX-License-Identifier: GPL-2.0
/*
 * Trace reader: indexes the chunks of a trace at open, keeping every
 * complete, intact chunk (a torn or corrupt one is skipped and reported),
 * then hands out events in time order through a small reorder window.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "trace.h"

/* Ring buffer order is time order up to a few microseconds across CPUs. */
#define REORDER_WINDOW_NS 10000000ULL

struct chunk_ref {
	size_t off;	/* of the chunk header */
};

struct ev_buf {		/* one decompressed events chunk */
	unsigned char *data;
	size_t len;
	int refs;
};

struct heap_ent {
	__u64 ts;
	__u64 seq;
	const unsigned char *h;	/* struct mmr_hdr, not necessarily aligned */
	struct ev_buf *buf;
};

struct mmr_trace {
	unsigned char *map;
	size_t size;
	char *meta;
	char *stats;
	struct mmr_kind_info kinds[MMR_MAX_KINDS];
	struct chunk_ref *ev_chunks;
	int nr_ev_chunks, cap_ev_chunks;
	int nr_chunks;
	int closed;
	char problem[256];
	/* iteration */
	int next_chunk;
	struct heap_ent *heap;
	size_t heap_len, heap_cap;
	__u64 seq, max_ts;
	struct ev_buf *held;	/* buffer of the event last returned */
	void *rec;		/* aligned copy of its payload, if it was not */
};

const char *mmr_kv_get(const char *text, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);

		if (llen > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			size_t vlen = llen - klen - 1;

			if (vlen >= len)
				vlen = len - 1;
			memcpy(buf, p + klen + 1, vlen);
			buf[vlen] = 0;
			return buf;
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

static char *kv_dup(const char *text, const char *key)
{
	char buf[4096];

	return mmr_kv_get(text, key, buf, sizeof(buf)) ? strdup(buf) : strdup("");
}

static void add_problem(struct mmr_trace *t, const char *fmt, size_t off)
{
	if (!t->problem[0])
		snprintf(t->problem, sizeof(t->problem), fmt, off);
}

/*
 * The chunk header at off, copied: chunks follow each other with no padding,
 * so a header in the mapping is not aligned.
 */
static struct mmr_chunk_hdr chunk_hdr(const struct mmr_trace *t, size_t off)
{
	struct mmr_chunk_hdr ch;

	memcpy(&ch, t->map + off, sizeof(ch));
	return ch;
}

/* Decompress a chunk's data (at src); returns malloc'd buffer of raw_len bytes. */
static unsigned char *chunk_data(const struct mmr_chunk_hdr *ch, const unsigned char *src)
{
	unsigned char *out = malloc(ch->raw_len + 1);
	uLongf len = ch->raw_len;

	if (!out)
		return NULL;
	if (ch->flags & MMR_CHUNK_ZLIB) {
		if (uncompress(out, &len, src, ch->data_len) != Z_OK || len != ch->raw_len) {
			free(out);
			return NULL;
		}
	} else {
		if (ch->data_len != ch->raw_len) {
			free(out);
			return NULL;
		}
		memcpy(out, src, ch->raw_len);
	}
	out[ch->raw_len] = 0;
	return out;
}

static void kind_info_free(struct mmr_kind_info *k)
{
	free(k->name);
	free(k->system);
	free(k->source);
	free(k->attach);
	free(k->status);
	free(k->format);
}

static void add_kind(struct mmr_trace *t, char *text)
{
	char buf[64];
	const char *fmt;
	struct mmr_kind_info *k;
	int id;

	if (!mmr_kv_get(text, "id", buf, sizeof(buf)))
		return;
	id = atoi(buf);
	if (id <= 0 || id >= MMR_MAX_KINDS)
		return;
	k = &t->kinds[id];
	kind_info_free(k);	/* a later KIND chunk for the same id replaces it */
	k->present = 1;
	k->id = id;
	k->name = kv_dup(text, "name");
	k->system = kv_dup(text, "system");
	k->source = kv_dup(text, "source");
	k->attach = kv_dup(text, "attach");
	k->status = kv_dup(text, "status");
	fmt = strstr(text, "\nformat:\n");
	k->format = strdup(fmt ? fmt + 9 : "");
}

static int chunk_ok(const struct mmr_trace *t, size_t off)
{
	struct mmr_chunk_hdr ch;

	if (off + sizeof(ch) > t->size)
		return 0;
	ch = chunk_hdr(t, off);
	if (ch.magic != MMR_CHUNK_MAGIC)
		return 0;
	if (ch.hdr_crc != mmr_crc32(&ch, offsetof(struct mmr_chunk_hdr, hdr_crc)))
		return 0;
	if (off + sizeof(ch) + ch.data_len > t->size)
		return -1;	/* torn: runs past the end of the file */
	return ch.data_crc == mmr_crc32(t->map + off + sizeof(ch), ch.data_len) ? 1 : 0;
}

/* Next offset at or after @off holding an intact chunk, or t->size. */
static size_t resync(const struct mmr_trace *t, size_t off)
{
	for (; off + sizeof(struct mmr_chunk_hdr) <= t->size; off++)
		if (chunk_ok(t, off) == 1)
			return off;
	return t->size;
}

static int index_chunk(struct mmr_trace *t, size_t off)
{
	struct mmr_chunk_hdr ch = chunk_hdr(t, off);
	char *text;

	t->nr_chunks++;
	if (ch.type == MMR_CHUNK_EVENTS) {
		if (t->nr_ev_chunks == t->cap_ev_chunks) {
			int cap = t->cap_ev_chunks ? 2 * t->cap_ev_chunks : 64;
			void *n = realloc(t->ev_chunks, cap * sizeof(*t->ev_chunks));

			if (!n)
				return -1;
			t->ev_chunks = n;
			t->cap_ev_chunks = cap;
		}
		t->ev_chunks[t->nr_ev_chunks++].off = off;
		return 0;
	}
	text = (char *)chunk_data(&ch, t->map + off + sizeof(ch));
	if (!text) {
		add_problem(t, "corrupt chunk at byte %zu (bad compressed data)", off);
		return 0;
	}
	switch (ch.type) {
	case MMR_CHUNK_META:
		free(t->meta);
		t->meta = text;
		return 0;
	case MMR_CHUNK_KIND:
		add_kind(t, text);
		break;
	case MMR_CHUNK_END:
		t->closed = 1;
		/* fall through */
	case MMR_CHUNK_STATS:
		free(t->stats);
		t->stats = text;
		return 0;
	}
	free(text);
	return 0;
}

/*
 * A chunk's stored bytes are not needed once checked or copied out: unmap
 * them, so that reading a trace costs memory for the reorder window and the
 * index, not for the file.
 */
static void drop_mapped(struct mmr_trace *t, size_t off, size_t len)
{
	size_t psz = sysconf(_SC_PAGESIZE), start = off & ~(psz - 1), end = (off + len) & ~(psz - 1);

	if (end > start)
		madvise((char *)t->map + start, end - start, MADV_DONTNEED);
}

static void index_chunks(struct mmr_trace *t)
{
	size_t off = sizeof(struct mmr_file_hdr);

	while (off < t->size) {
		int ok = chunk_ok(t, off);

		if (ok == 1) {
			struct mmr_chunk_hdr ch = chunk_hdr(t, off);
			size_t len = sizeof(ch) + ch.data_len;

			if (index_chunk(t, off))
				break;
			/* read nothing of the chunk after this: it would map it again */
			if (ch.type == MMR_CHUNK_EVENTS)
				drop_mapped(t, off, len);
			off += len;
			continue;
		}
		if (ok < 0 || off + sizeof(struct mmr_chunk_hdr) > t->size) {
			add_problem(t, "trace truncated at byte %zu (recording interrupted?)", off);
			break;
		}
		add_problem(t, "corrupt chunk at byte %zu (checksum mismatch)", off);
		off = resync(t, off + 1);
	}
	if (!t->closed)
		add_problem(t, "trace has no end chunk after byte %zu (recording interrupted?)",
			    t->size);
}

struct mmr_trace *mmr_trace_open(const char *path, char *err, size_t errlen)
{
	struct mmr_trace *t = calloc(1, sizeof(*t));
	const struct mmr_file_hdr *fh;
	struct stat st;
	int fd;

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	t->size = st.st_size;
	if (t->size < sizeof(*fh)) {
		snprintf(err, errlen, "%s: not an mmreplay trace (too short)", path);
		goto fail;
	}
	t->map = mmap(NULL, t->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (t->map == MAP_FAILED) {
		t->map = NULL;
		snprintf(err, errlen, "cannot map %s: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	fh = (const void *)t->map;
	if (memcmp(fh->magic, MMR_FILE_MAGIC, sizeof(fh->magic))) {
		snprintf(err, errlen, "%s: not an mmreplay trace (bad magic)", path);
		goto fail;
	}
	if (fh->version != MMR_FILE_VERSION) {
		snprintf(err, errlen, "%s: unsupported trace version %u (this mmreplay reads %u)",
			 path, fh->version, MMR_FILE_VERSION);
		goto fail;
	}
	index_chunks(t);
	if (!t->meta) {
		snprintf(err, errlen, "%s: trace has no readable header chunk", path);
		goto fail;
	}
	return t;
fail:
	if (fd >= 0)
		close(fd);
	mmr_trace_close(t);
	return NULL;
}

static void buf_put(struct ev_buf *b)
{
	if (b && --b->refs == 0) {
		free(b->data);
		free(b);
	}
}

static void heap_clear(struct mmr_trace *t)
{
	for (size_t i = 0; i < t->heap_len; i++)
		buf_put(t->heap[i].buf);
	t->heap_len = 0;
	buf_put(t->held);
	t->held = NULL;
}

void mmr_trace_close(struct mmr_trace *t)
{
	if (!t)
		return;
	heap_clear(t);
	free(t->heap);
	for (int i = 0; i < MMR_MAX_KINDS; i++)
		kind_info_free(&t->kinds[i]);
	free(t->ev_chunks);
	free(t->meta);
	free(t->stats);
	free(t->rec);
	if (t->map)
		munmap(t->map, t->size);
	free(t);
}

static int ent_less(const struct heap_ent *a, const struct heap_ent *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

static int heap_push(struct mmr_trace *t, struct heap_ent e)
{
	size_t i;

	if (t->heap_len == t->heap_cap) {
		size_t cap = t->heap_cap ? 2 * t->heap_cap : 4096;
		void *n = realloc(t->heap, cap * sizeof(*t->heap));

		if (!n)
			return -1;
		t->heap = n;
		t->heap_cap = cap;
	}
	i = t->heap_len++;
	while (i && ent_less(&e, &t->heap[(i - 1) / 2])) {
		t->heap[i] = t->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	t->heap[i] = e;
	return 0;
}

static struct heap_ent heap_pop(struct mmr_trace *t)
{
	struct heap_ent top = t->heap[0], last = t->heap[--t->heap_len];
	size_t i = 0, n = t->heap_len;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && ent_less(&t->heap[c + 1], &t->heap[c]))
			c++;
		if (!ent_less(&t->heap[c], &last))
			break;
		t->heap[i] = t->heap[c];
		i = c;
	}
	if (n)
		t->heap[i] = last;
	return top;
}

/* Push the events of the next events chunk; 0 when none is left. */
static int load_chunk(struct mmr_trace *t)
{
	struct mmr_chunk_hdr ch;
	struct ev_buf *b;
	size_t off;

	if (t->next_chunk >= t->nr_ev_chunks)
		return 0;
	off = t->ev_chunks[t->next_chunk++].off;
	ch = chunk_hdr(t, off);
	b = calloc(1, sizeof(*b));
	if (!b)
		return -1;
	b->data = chunk_data(&ch, t->map + off + sizeof(ch));
	b->len = ch.raw_len;
	b->refs = 1;
	drop_mapped(t, off, sizeof(ch) + ch.data_len);
	if (!b->data) {
		add_problem(t, "corrupt chunk at byte %zu (bad compressed data)", off);
		free(b);
		return 1;
	}
	/* records are not padded: a record's len decides the alignment of the next */
	for (size_t p = 0; p + sizeof(struct mmr_hdr) <= b->len;) {
		struct mmr_hdr hdr, *h = &hdr;
		struct heap_ent e = { .seq = t->seq++, .h = b->data + p, .buf = b };

		memcpy(&hdr, b->data + p, sizeof(hdr));
		e.ts = h->ts;
		if (p + sizeof(*h) + h->len > b->len || h->len < sizeof(struct mmr_common)) {
			add_problem(t, "corrupt record in chunk at byte %zu", off);
			break;
		}
		b->refs++;
		if (heap_push(t, e)) {
			b->refs--;
			break;
		}
		if (h->ts > t->max_ts)
			t->max_ts = h->ts;
		p += sizeof(*h) + h->len;
	}
	buf_put(b);
	return 1;
}

/*
 * Readers cast the payload to the record structs: hand out an aligned copy,
 * exactly len bytes (a reader that goes past it is caught as it would be at
 * the end of the chunk's buffer).  Recorders write records of whole 8-byte
 * words, so only a damaged trace needs this.
 */
static int align_payload(struct mmr_trace *t, struct mmr_event *ev)
{
	void *n = realloc(t->rec, ev->h.len);

	if (!n)
		return -1;
	t->rec = n;
	memcpy(t->rec, ev->data, ev->h.len);
	ev->data = t->rec;
	return 1;
}

int mmr_trace_next(struct mmr_trace *t, struct mmr_event *ev)
{
	struct heap_ent e;

	buf_put(t->held);
	t->held = NULL;
	/* Keep a window of events so that late arrivals sort in. */
	while (!t->heap_len || t->heap[0].ts + REORDER_WINDOW_NS > t->max_ts) {
		int r = load_chunk(t);

		if (r < 0)
			return -1;
		if (r == 0)
			break;
	}
	if (!t->heap_len)
		return 0;
	e = heap_pop(t);
	t->held = e.buf;
	memcpy(&ev->h, e.h, sizeof(ev->h));
	ev->data = e.h + sizeof(struct mmr_hdr);
	return (uintptr_t)ev->data % 8 ? align_payload(t, ev) : 1;
}

void mmr_trace_rewind(struct mmr_trace *t)
{
	heap_clear(t);
	t->next_chunk = 0;
	t->seq = 0;
	t->max_ts = 0;
}

const char *mmr_trace_meta(const struct mmr_trace *t, const char *key)
{
	static __thread char buf[4096];

	return mmr_kv_get(t->meta, key, buf, sizeof(buf));
}

const struct mmr_kind_info *mmr_trace_kind(const struct mmr_trace *t, int id)
{
	if (id <= 0 || id >= MMR_MAX_KINDS || !t->kinds[id].present)
		return NULL;
	return &t->kinds[id];
}

const struct mmr_kind_info *mmr_trace_kind_by_name(const struct mmr_trace *t, const char *name)
{
	for (int i = 1; i < MMR_MAX_KINDS; i++)
		if (t->kinds[i].present && !strcmp(t->kinds[i].name, name))
			return &t->kinds[i];
	return NULL;
}

const char *mmr_trace_problem(const struct mmr_trace *t)
{
	return t->problem[0] ? t->problem : NULL;
}

int mmr_trace_closed(const struct mmr_trace *t)
{
	return t->closed;
}

const char *mmr_trace_stats(const struct mmr_trace *t)
{
	return t->stats ? t->stats : "";
}

__u64 mmr_trace_stat(const struct mmr_trace *t, const char *key)
{
	char buf[64];

	return mmr_kv_get(mmr_trace_stats(t), key, buf, sizeof(buf)) ?
		strtoull(buf, NULL, 0) : 0;
}

int mmr_trace_chunks(const struct mmr_trace *t)
{
	return t->nr_chunks;
}

int mmr_format_field(const char *fmt, const char *name, unsigned *off, unsigned *size)
{
	size_t nl = strlen(name);

	for (const char *p = fmt; p && (p = strstr(p, "field:")); p++) {
		const char *semi = strchr(p, ';');

		if (!semi || (size_t)(semi - p) < nl || strncmp(semi - nl, name, nl) ||
		    (semi[-(long)nl - 1] != ' ' && semi[-(long)nl - 1] != '*'))
			continue;
		if (sscanf(semi, ";\toffset:%u;\tsize:%u;", off, size) == 2 ||
		    sscanf(semi, "; offset:%u; size:%u;", off, size) == 2)
			return 0;
	}
	return -1;
}

void *mmr_grow(void *arr, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t n = *cap ? *cap : first ? first : 1;

	if (need <= *cap)
		return arr;
	while (n < need)
		n *= 2;
	arr = realloc(arr, n * size);
	if (arr)
		*cap = n;
	return arr;
}

size_t mmr_lower(const void *base, size_t n, size_t stride, __u64 key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		__u64 k;

		memcpy(&k, (const char *)base + mid * stride, sizeof(k));
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
