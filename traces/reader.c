// SPDX-License-Identifier: GPL-2.0
/*
 * Trace reader.  A trace is untrusted input: every size read from the file is
 * checked against what holds it before it is used.  The file is read (not
 * mapped) one chunk at a time, twice: once at open, checking every chunk's
 * checksums and keeping the text chunks, and then for the events, handed out
 * in time order through a small reorder window; the records of an events
 * chunk are checked then (or by check_events() if they were not all read).
 * A torn or corrupt chunk is skipped and reported; the first problem in the
 * file is kept as one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#if defined(__has_include)
#if __has_include(<sanitizer/asan_interface.h>)
#include <sanitizer/asan_interface.h>	/* no-ops unless built with ASan */
#endif
#endif
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif
#include "fields.h"
#include "trace.h"

/* Decompressed events held for reordering, at most (hostile timestamps). */
#define REORDER_MAX_BYTES (64ULL << 20)
#define CHUNK_HDR sizeof(struct mmr_chunk_hdr)
#define SCAN_WINDOW (1 << 20)	/* reads this large cost little per byte */
#define PAYLOAD_MAX 0xffff	/* mmr_hdr.len is 16 bits */

struct ev_buf {		/* one decompressed events chunk */
	unsigned char *data;
	size_t len, cap;	/* cap: bytes allocated at data */
	int refs;
};

/*
 * A run of records of one chunk whose timestamps do not decrease, from its
 * head record at pos to end: the reorder heap holds runs, not records, so
 * that records already in order (nearly all) cost no heap work.
 */
struct run {
	__u64 ts;	/* of the head record */
	__u64 seq;	/* of the head record, in reading order */
	size_t pos, end;	/* in buf */
	struct ev_buf *buf;
};

/* Where a walk through the chunks is: the next offset, chunks passed. */
struct cursor {
	__u64 off;
	int n;
};

struct mmr_trace {
	int fd;
	__u64 size;
	unsigned char *zbuf;	/* stored bytes of the chunk last checked */
	size_t zcap;
	unsigned char *scan;	/* SCAN_WINDOW bytes, to resynchronise */
	char *meta;
	char *stats;
	struct mmr_kind_info kinds[MMR_MAX_KINDS];
	int nr_chunks;
	int nr_events_chunks;	/* intact, seen at open */
	int events_read;	/* of them inflated by the reading since the rewind */
	int events_checked;	/* the records of every one checked */
	int closed;
	char problem[320];
	__u64 problem_at;	/* the byte of the file it is about */
	int damaged;		/* a corrupt chunk, not only a torn end */
	/* iteration */
	struct cursor cur;
	struct run *heap;
	size_t heap_len, heap_cap;
	__u64 seq, max_ts, held_bytes;
	unsigned char *ev_data;	/* aligned copy of the event last returned */
	struct ev_buf *spare;	/* the last buffer freed, for the next chunk */
	struct mmr_schema schema;	/* resolved from the kinds once they are read */
	z_stream zs;		/* raw inflate, reset for each chunk */
	int zs_ready;
};

/* Smallest payload of each kind: its struct in events.h; others 8 bytes. */
static const struct {
	unsigned short min;
	const char *name;
} kind_min[MMR_K_NR] = {
	[MMR_K_SYS_ENTER] = { sizeof(struct mmr_sys_enter), "sys_enter" },
	[MMR_K_SYS_EXIT] = { sizeof(struct mmr_sys_exit), "sys_exit" },
	[MMR_K_SYS_PATH] = { sizeof(struct mmr_sys_path), "sys_path" },
	[MMR_K_TASK_FORK] = { sizeof(struct mmr_task_fork), "task_fork" },
	[MMR_K_TASK_EXIT] = { sizeof(struct mmr_task_exit), "task_exit" },
	[MMR_K_TASK_EXEC] = { sizeof(struct mmr_task_exec), "task_exec" },
	[MMR_K_TRY_TO_UNMAP_ONE] = { sizeof(struct mmr_rmap), "try_to_unmap_one" },
	[MMR_K_FOLIO_REFERENCED_ONE] = { sizeof(struct mmr_rmap), "folio_referenced_one" },
	[MMR_K_TRY_TO_MIGRATE_ONE] = { sizeof(struct mmr_rmap), "try_to_migrate_one" },
	[MMR_K_MLOCK_FOLIO] = { sizeof(struct mmr_mlock), "mlock_folio" },
	[MMR_K_MUNLOCK_FOLIO] = { sizeof(struct mmr_mlock), "munlock_folio" },
	[MMR_K_MLOCK_NEW_FOLIO] = { sizeof(struct mmr_mlock), "mlock_new_folio" },
	[MMR_K_UNMAP_PAGE_RANGE] = { sizeof(struct mmr_zap), "unmap_page_range" },
	[MMR_K_ZAP_PAGE_RANGE_SINGLE] = { sizeof(struct mmr_zap), "zap_page_range_single" },
	[MMR_K_ZAP_DONE] = { sizeof(struct mmr_zap), "zap_done" },
	[MMR_K_UNMAP_MAPPING_PAGES] = { sizeof(struct mmr_unmap_mapping), "unmap_mapping_pages" },
	[MMR_K_UNMAP_MAPPING_RANGE] = { sizeof(struct mmr_unmap_mapping), "unmap_mapping_range" },
	[MMR_K_FREE_SWAP_AND_CACHE] = { sizeof(struct mmr_free_swap), "free_swap_and_cache" },
	[MMR_K_DO_SWAP_PAGE] = { sizeof(struct mmr_swap_fault), "do_swap_page" },
	[MMR_K_FAULT_DONE] = { sizeof(struct mmr_fault_done), "fault_done" },
	[MMR_K_SNAP] = { sizeof(struct mmr_snap), "snapshot" },
	[MMR_K_SNAP_VMA] = { sizeof(struct mmr_snap_vma), "snapshot_vma" },
	[MMR_K_SNAP_PAGES] = { sizeof(struct mmr_snap_pages), "snapshot_pages" },
	[MMR_K_SNAP_END] = { sizeof(struct mmr_snap_end), "snapshot_end" },
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

/*
 * Keeps the first problem only, the one about the earliest byte @at of the
 * file: one line for the user.  (Records are checked after the checksums of
 * later chunks.)  A problem that starts "corrupt" is damage (a chunk written
 * whole that is wrong), not the torn end of an interrupted recording.
 */
__attribute__((format(printf, 3, 4)))
static void add_problem(struct mmr_trace *t, __u64 at, const char *fmt, ...)
{
	va_list ap;

	t->damaged |= !strncmp(fmt, "corrupt", 7);
	if (t->problem[0] && t->problem_at <= at)
		return;
	t->problem_at = at;
	va_start(ap, fmt);
	vsnprintf(t->problem, sizeof(t->problem), fmt, ap);
	va_end(ap);
}

static int read_at(const struct mmr_trace *t, __u64 off, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(t->fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = 0;	/* the file shrank */
		if (n <= 0)
			return -1;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

enum chunk_state { CH_OK, CH_SHORT, CH_TORN, CH_BAD_HDR, CH_BAD_SIZE, CH_BAD_CRC, CH_IO };

/* Sizes no writer produces, though the header's checksum holds: why, or NULL. */
static const char *bad_sizes(const struct mmr_chunk_hdr *ch, char *why, size_t len)
{
	if (ch->flags & ~MMR_CHUNK_ZLIB)
		snprintf(why, len, "unknown chunk flags 0x%x", ch->flags);
	else if (ch->raw_len > MMR_CHUNK_MAX)
		snprintf(why, len, "raw_len %u is over the %u-byte chunk limit", ch->raw_len,
			 MMR_CHUNK_MAX);
	else if ((ch->flags & MMR_CHUNK_ZLIB) && ch->data_len > compressBound(ch->raw_len))
		snprintf(why, len, "data_len %u is more than zlib makes of raw_len %u",
			 ch->data_len, ch->raw_len);
	else if (!(ch->flags & MMR_CHUNK_ZLIB) && ch->data_len != ch->raw_len)
		snprintf(why, len, "data_len %u differs from raw_len %u in an uncompressed chunk",
			 ch->data_len, ch->raw_len);
	else
		return NULL;
	return why;
}

static int load_stored(struct mmr_trace *t, __u64 off, const struct mmr_chunk_hdr *ch)
{
	if (ch->data_len > t->zcap) {
		unsigned char *n = realloc(t->zbuf, ch->data_len);

		if (!n)
			return -1;
		t->zbuf = n;
		t->zcap = ch->data_len;
	}
	return read_at(t, off + CHUNK_HDR, t->zbuf, ch->data_len);
}

/*
 * Checks the chunk at @off: its header in *ch, and if CH_OK its stored
 * bytes in t->zbuf.  @why says what is wrong with a CH_BAD_SIZE chunk.
 */
static int check_chunk(struct mmr_trace *t, __u64 off, struct mmr_chunk_hdr *ch, char *why,
		       size_t len)
{
	if (t->size - off < CHUNK_HDR)
		return CH_SHORT;
	if (read_at(t, off, ch, sizeof(*ch)))
		return CH_IO;
	if (ch->magic != MMR_CHUNK_MAGIC ||
	    ch->hdr_crc != mmr_crc32(ch, offsetof(struct mmr_chunk_hdr, hdr_crc)))
		return CH_BAD_HDR;
	if (bad_sizes(ch, why, len))
		return CH_BAD_SIZE;
	if (ch->data_len > t->size - off - CHUNK_HDR)
		return CH_TORN;	/* runs past the end of the file */
	if (load_stored(t, off, ch))
		return CH_IO;
	return ch->data_crc == mmr_crc32(t->zbuf, ch->data_len) ? CH_OK : CH_BAD_CRC;
}

/* Next offset at or after @off holding an intact chunk, or t->size. */
static __u64 resync(struct mmr_trace *t, __u64 off)
{
	__u32 magic = MMR_CHUNK_MAGIC;
	struct mmr_chunk_hdr ch;
	char why[128];

	while (t->size - off >= CHUNK_HDR) {
		size_t n = t->size - off < SCAN_WINDOW ? t->size - off : SCAN_WINDOW;
		unsigned char *p = t->scan, *end = t->scan + n;

		if (read_at(t, off, t->scan, n))
			break;
		/* memchr for the magic's first byte: much faster than memmem over padding */
		while ((p = memchr(p, *(unsigned char *)&magic, end - p))) {
			if (end - p >= (long)sizeof(magic) && !memcmp(p, &magic, sizeof(magic)) &&
			    check_chunk(t, off + (p - t->scan), &ch, why, sizeof(why)) == CH_OK)
				return off + (p - t->scan);
			p++;
		}
		off += n - (sizeof(magic) - 1);	/* a magic across the window's end */
	}
	return t->size;
}

/*
 * The next intact chunk from @c: its offset in *at, header in *ch, stored
 * bytes in t->zbuf.  Reports (once) and skips what is torn or corrupt; 0 at
 * the end of the file.
 */
static int next_chunk(struct mmr_trace *t, struct cursor *c, __u64 *at, struct mmr_chunk_hdr *ch)
{
	char why[128];

	while (c->off < t->size) {
		__u64 off = c->off;
		int state = check_chunk(t, off, ch, why, sizeof(why));

		c->n++;
		switch (state) {
		case CH_OK:
			*at = off;
			c->off += CHUNK_HDR + ch->data_len;
			return 1;
		case CH_SHORT:
		case CH_TORN:
			add_problem(t, off, "trace truncated at byte %llu (chunk %d runs past the end of "
				    "the file; recording interrupted?)", (unsigned long long)off, c->n);
			c->off = t->size;
			return 0;
		case CH_IO:
			add_problem(t, off, "cannot read chunk %d at byte %llu: %s", c->n,
				    (unsigned long long)off, errno ? strerror(errno) : "file shrank");
			c->off = t->size;
			return 0;
		case CH_BAD_SIZE:
			add_problem(t, off, "corrupt chunk at byte %llu (chunk %d): %s",
				    (unsigned long long)off, c->n, why);
			break;
		default:
			add_problem(t, off, "corrupt chunk at byte %llu (chunk %d): checksum mismatch",
				    (unsigned long long)off, c->n);
		}
		c->off = resync(t, off + 1);
	}
	return 0;
}

/*
 * Inflates the zlib stream of @len bytes at @in into at most @out_len bytes
 * (*@got of them).  The chunk's CRC-32 already covers the stored bytes, so
 * the stream is read raw after its 2-byte header: zlib's own Adler-32 of
 * the output (12 % of `check`'s time) would check nothing more.  Z_OK once
 * the stream ended, Z_BUF_ERROR if it did not fit or was cut short.
 */
static int inflate_chunk(struct mmr_trace *t, const unsigned char *in, size_t len,
			 unsigned char *out, size_t out_len, size_t *got)
{
	int zr;

	*got = 0;
	if (len < 2 || (in[0] & 0x0f) != Z_DEFLATED || (in[0] << 8 | in[1]) % 31 || (in[1] & 0x20))
		return Z_DATA_ERROR;	/* not a zlib header, or one asking for a dictionary */
	if (!t->zs_ready) {
		if ((zr = inflateInit2(&t->zs, -MAX_WBITS)) != Z_OK)
			return zr;
		t->zs_ready = 1;
	} else if ((zr = inflateReset(&t->zs)) != Z_OK) {
		return zr;
	}
	t->zs.next_in = (unsigned char *)in + 2;
	t->zs.avail_in = len - 2;
	t->zs.next_out = out;
	t->zs.avail_out = out_len;
	zr = inflate(&t->zs, Z_FINISH);
	*got = t->zs.total_out;
	if (zr == Z_STREAM_END)
		return Z_OK;
	return zr == Z_OK ? Z_BUF_ERROR : zr;
}

static void oom_problem(struct mmr_trace *t, __u64 off, int n)
{
	add_problem(t, off, "out of memory reading chunk %d at byte %llu", n, (unsigned long long)off);
}

/* The chunk's data (from t->zbuf), decompressed into @out (raw_len + 1 bytes); -1 if bad. */
static int chunk_into(struct mmr_trace *t, const struct mmr_chunk_hdr *ch, __u64 off, int n,
		      unsigned char *out)
{
	size_t len = ch->raw_len;
	int zr;

	if (!(ch->flags & MMR_CHUNK_ZLIB)) {
		memcpy(out, t->zbuf, ch->raw_len);
	} else if ((zr = inflate_chunk(t, t->zbuf, ch->data_len, out, ch->raw_len, &len)) != Z_OK) {
		add_problem(t, off, "corrupt chunk at byte %llu (chunk %d): bad compressed data (zlib: %s)",
			    (unsigned long long)off, n, zError(zr));
		return -1;
	} else if (len != ch->raw_len) {
		add_problem(t, off, "corrupt chunk at byte %llu (chunk %d): bad compressed data "
			    "(%zu bytes, raw_len says %u)", (unsigned long long)off, n, len,
			    ch->raw_len);
		return -1;
	}
	out[ch->raw_len] = 0;
	return 0;
}

/* The chunk's data (from t->zbuf), decompressed, NUL-terminated; NULL if bad. */
static unsigned char *chunk_raw(struct mmr_trace *t, const struct mmr_chunk_hdr *ch, __u64 off,
				int n)
{
	unsigned char *out = malloc((size_t)ch->raw_len + 1);

	if (!out)
		oom_problem(t, off, n);
	else if (chunk_into(t, ch, off, n, out)) {
		free(out);
		out = NULL;
	}
	return out;
}

static const char *kind_label(unsigned type, char *buf, size_t len)
{
	if (type < MMR_K_NR && kind_min[type].name)
		return kind_min[type].name;
	snprintf(buf, len, "kind %u", type);
	return buf;
}

/* What is wrong with the record at @p (@left bytes to the chunk's end), or NULL. */
static const char *bad_record(const unsigned char *p, size_t left, char *why, size_t len)
{
	struct mmr_snap_pages sp;
	struct mmr_hdr h;
	char name[32];
	size_t min;

	if (left < sizeof(h)) {
		snprintf(why, len, "%zu stray bytes after the last record", left);
		return why;
	}
	memcpy(&h, p, sizeof(h));
	if (h.len > left - sizeof(h)) {
		snprintf(why, len, "its %u-byte payload runs past the chunk's end (%zu bytes left)",
			 h.len, left - sizeof(h));
		return why;
	}
	if (h.len < sizeof(struct mmr_common)) {
		snprintf(why, len, "its %u-byte payload is shorter than the %zu-byte common header",
			 h.len, sizeof(struct mmr_common));
		return why;
	}
	memcpy(&sp.c, p + sizeof(h), sizeof(sp.c));
	min = sp.c.type < MMR_K_NR && kind_min[sp.c.type].min ? kind_min[sp.c.type].min :
	      sizeof(struct mmr_common);
	if (h.len < min) {
		snprintf(why, len, "%s record of %u bytes, shorter than its %zu-byte minimum",
			 kind_label(sp.c.type, name, sizeof(name)), h.len, min);
		return why;
	}
	if (sp.c.type != MMR_K_SNAP_PAGES)
		return NULL;
	memcpy(&sp, p + sizeof(h), sizeof(sp));
	if (sp.nr > (h.len - sizeof(sp)) / sizeof(struct mmr_snap_page)) {
		snprintf(why, len, "snapshot_pages record of %u bytes cannot hold its %u pages",
			 h.len, sp.nr);
		return why;
	}
	return NULL;
}

/* Bytes of well-formed records at the start of an events chunk's data. */
static size_t good_records(struct mmr_trace *t, const unsigned char *data, size_t len, __u64 off,
			   int n)
{
	char why[160];
	size_t pos = 0;

	while (pos < len) {
		struct mmr_hdr h;

		if (bad_record(data + pos, len - pos, why, sizeof(why))) {
			add_problem(t, off, "corrupt chunk at byte %llu (chunk %d): record at offset %zu: %s",
				    (unsigned long long)off, n, pos, why);
			break;
		}
		memcpy(&h, data + pos, sizeof(h));
		pos += sizeof(h) + h.len;
	}
	return pos;
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
	char buf[64], *end;
	const char *fmt;
	struct mmr_kind_info *k;
	long id;

	if (!mmr_kv_get(text, "id", buf, sizeof(buf)))
		return;
	id = strtol(buf, &end, 10);
	if (*end || id <= 0 || id >= MMR_MAX_KINDS)
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

static void index_chunk(struct mmr_trace *t, __u64 off, int n, const struct mmr_chunk_hdr *ch)
{
	unsigned char *raw;

	t->nr_chunks++;
	if (ch->type == MMR_CHUNK_EVENTS) {
		t->nr_events_chunks++;	/* its records are checked when read */
		return;
	}
	raw = chunk_raw(t, ch, off, n);
	if (!raw)
		return;
	switch (ch->type) {
	case MMR_CHUNK_META:
		free(t->meta);
		t->meta = (char *)raw;
		return;
	case MMR_CHUNK_KIND:
		add_kind(t, (char *)raw);
		break;
	case MMR_CHUNK_END:
		t->closed = 1;
		/* fall through */
	case MMR_CHUNK_STATS:
		free(t->stats);
		t->stats = (char *)raw;
		return;
	}
	free(raw);
}

static void index_chunks(struct mmr_trace *t)
{
	struct cursor c = { sizeof(struct mmr_file_hdr), 0 };
	struct mmr_chunk_hdr ch;
	__u64 off;

	while (next_chunk(t, &c, &off, &ch))
		index_chunk(t, off, c.n, &ch);
	if (!t->closed)
		add_problem(t, t->size, "trace has no end chunk after byte %llu (recording interrupted?)",
			    (unsigned long long)t->size);
}

/*
 * Checks the records of every events chunk, as reading the events does,
 * unless that read them all: before anyone learns the trace's problems.
 */
static void check_events(struct mmr_trace *t)
{
	struct cursor c = { sizeof(struct mmr_file_hdr), 0 };
	struct mmr_chunk_hdr ch;
	unsigned char *raw;
	__u64 off;

	if (t->events_checked)
		return;
	while (next_chunk(t, &c, &off, &ch)) {
		if (ch.type != MMR_CHUNK_EVENTS || !(raw = chunk_raw(t, &ch, off, c.n)))
			continue;
		good_records(t, raw, ch.raw_len, off, c.n);
		free(raw);
	}
	t->events_checked = 1;
}

static const char *file_type(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
static int open_regular(struct mmr_trace *t, const char *path, char *err, size_t errlen)
{
	struct stat st;

	t->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (t->fd < 0 || fstat(t->fd, &st)) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: is %s, not a trace file (traces are regular files)",
			 path, file_type(st.st_mode));
		return -1;
	}
	t->size = st.st_size;
	return 0;
}

static int check_file_hdr(struct mmr_trace *t, const char *path, char *err, size_t errlen)
{
	struct mmr_file_hdr fh;

	if (t->size < sizeof(fh) || read_at(t, 0, &fh, sizeof(fh))) {
		snprintf(err, errlen, "%s: not an mmreplay trace (too short)", path);
		return -1;
	}
	if (memcmp(fh.magic, MMR_FILE_MAGIC, sizeof(fh.magic)))
		snprintf(err, errlen, "%s: not an mmreplay trace (bad magic)", path);
	else if (fh.version != MMR_FILE_VERSION)
		snprintf(err, errlen, "%s: unsupported trace version %u (this mmreplay reads %u)",
			 path, fh.version, MMR_FILE_VERSION);
	else if (fh.hdr_size != sizeof(fh))
		snprintf(err, errlen, "%s: bad file header: hdr_size %u, not %zu", path, fh.hdr_size,
			 sizeof(fh));
	else if (fh.flags)
		snprintf(err, errlen, "%s: bad file header: unknown flags 0x%llx", path,
			 (unsigned long long)fh.flags);
	else if (fh.reserved)
		snprintf(err, errlen, "%s: bad file header: reserved field is 0x%llx, not 0", path,
			 (unsigned long long)fh.reserved);
	else
		return 0;
	return -1;
}

struct mmr_trace *mmr_trace_open(const char *path, char *err, size_t errlen)
{
	struct mmr_trace *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->fd = -1;
	if (open_regular(t, path, err, errlen) || check_file_hdr(t, path, err, errlen))
		goto fail;
	t->scan = malloc(SCAN_WINDOW);
	t->ev_data = malloc(PAYLOAD_MAX + 1);
	if (!t->scan || !t->ev_data) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	index_chunks(t);
	mmr_schema_resolve(&t->schema, t->kinds);
	if (!t->meta) {
		check_events(t);
		snprintf(err, errlen, "%s: trace has no readable header chunk%s%s", path,
			 t->problem[0] ? ": " : "", t->problem);
		goto fail;
	}
	mmr_trace_rewind(t);
	return t;
fail:
	mmr_trace_close(t);
	return NULL;
}

static void buf_free(struct ev_buf *b)
{
	if (b)
		free(b->data);
	free(b);
}

/*
 * A buffer of @len bytes and a NUL for an events chunk, held (refs 1):
 * the spare one when it is large enough, so that the chunks of a trace
 * reuse the memory the last one freed.
 */
static struct ev_buf *buf_get(struct mmr_trace *t, size_t len)
{
	struct ev_buf *b = t->spare;

	t->spare = NULL;
	if (!b && !(b = calloc(1, sizeof(*b))))
		return NULL;
	if (b->cap < len + 1) {
		free(b->data);
		b->cap = 0;
		if (!(b->data = malloc(len + 1))) {
			free(b);
			return NULL;
		}
		b->cap = len + 1;
	}
	b->len = len;
	b->refs = 1;
	t->held_bytes += len;
	return b;
}

static void buf_put(struct mmr_trace *t, struct ev_buf *b)
{
	if (b && --b->refs == 0) {
		t->held_bytes -= b->len;
		if (t->spare)
			buf_free(b);
		else
			t->spare = b;
	}
}

static void heap_clear(struct mmr_trace *t)
{
	for (size_t i = 0; i < t->heap_len; i++)
		buf_put(t, t->heap[i].buf);
	t->heap_len = 0;
}

void mmr_trace_close(struct mmr_trace *t)
{
	if (!t)
		return;
	heap_clear(t);
	free(t->heap);
	for (int i = 0; i < MMR_MAX_KINDS; i++)
		kind_info_free(&t->kinds[i]);
	free(t->meta);
	free(t->stats);
	free(t->zbuf);
	free(t->scan);
	free(t->ev_data);
	buf_free(t->spare);
	if (t->zs_ready)
		inflateEnd(&t->zs);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

static int run_less(const struct run *a, const struct run *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

static int heap_push(struct mmr_trace *t, struct run r)
{
	size_t i;

	void *n = mmr_grow(t->heap, &t->heap_cap, t->heap_len + 1, sizeof(*t->heap), 64);

	if (!n)
		return -1;
	t->heap = n;
	i = t->heap_len++;
	while (i && run_less(&r, &t->heap[(i - 1) / 2])) {
		t->heap[i] = t->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	t->heap[i] = r;
	return 0;
}

/* Puts @top in the heap's top slot and sifts it down to its place. */
static void heap_sift(struct mmr_trace *t, struct run top)
{
	size_t i = 0, n = t->heap_len;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && run_less(&t->heap[c + 1], &t->heap[c]))
			c++;
		if (!run_less(&t->heap[c], &top))
			break;
		t->heap[i] = t->heap[c];
		i = c;
	}
	t->heap[i] = top;
}

/* Is the top run still before its children (nearly always)? */
static int top_in_place(const struct mmr_trace *t)
{
	const struct run *h = t->heap;

	return (t->heap_len < 2 || run_less(&h[0], &h[1])) &&
	       (t->heap_len < 3 || run_less(&h[0], &h[2]));
}

/* The top run's head record (@len bytes) was handed out: its next one, or none. */
static void run_advance(struct mmr_trace *t, size_t len)
{
	struct run *top = &t->heap[0];

	top->pos += len;
	if (top->pos == top->end) {
		struct ev_buf *b = top->buf;

		if (--t->heap_len)
			heap_sift(t, t->heap[t->heap_len]);
		buf_put(t, b);
		return;
	}
	memcpy(&top->ts, top->buf->data + top->pos, sizeof(top->ts));
	top->seq++;
	if (!top_in_place(t))
		heap_sift(t, *top);
}

/* Push the records of @b from @pos to @end, the first of them number @seq. */
static int push_run(struct mmr_trace *t, struct ev_buf *b, size_t pos, size_t end, __u64 seq)
{
	struct run r = { .seq = seq, .pos = pos, .end = end, .buf = b };

	memcpy(&r.ts, b->data + pos, sizeof(r.ts));
	if (heap_push(t, r))
		return -1;
	b->refs++;
	return 0;
}

/* Push the @len bytes of checked records in @b, run by run; -1 if out of memory. */
static int push_records(struct mmr_trace *t, struct ev_buf *b, size_t len)
{
	__u64 first = t->seq, prev = 0;
	size_t start = 0;

	for (size_t p = 0; p < len;) {
		struct mmr_hdr h;

		memcpy(&h, b->data + p, sizeof(h));
		if (p > start && h.ts < prev) {
			if (push_run(t, b, start, p, first))
				return -1;
			start = p;
			first = t->seq;
		}
		t->seq++;
		prev = h.ts;
		if (h.ts > t->max_ts)
			t->max_ts = h.ts;
		p += sizeof(h) + h.len;
	}
	return start < len ? push_run(t, b, start, len, first) : 0;
}

/* Push the events of the next events chunk; 0 when none is left. */
static int load_chunk(struct mmr_trace *t)
{
	struct mmr_chunk_hdr ch;
	struct ev_buf *b;
	__u64 off;
	int ret;

	do {
		if (!next_chunk(t, &t->cur, &off, &ch)) {
			/* read from the start: every events chunk, unless one was out of memory */
			t->events_checked |= t->events_read == t->nr_events_chunks;
			return 0;
		}
	} while (ch.type != MMR_CHUNK_EVENTS);
	b = buf_get(t, ch.raw_len);
	if (!b) {
		oom_problem(t, off, t->cur.n);
		return 1;
	}
	t->events_read++;
	if (chunk_into(t, &ch, off, t->cur.n, b->data)) {
		buf_put(t, b);
		return 1;
	}
	ret = push_records(t, b, good_records(t, b->data, b->len, off, t->cur.n));
	buf_put(t, b);
	return ret ? -1 : 1;
}

/* Is the earliest event held still within the reorder window of the latest? */
static int need_more(const struct mmr_trace *t)
{
	if (!t->heap_len)
		return 1;
	return t->max_ts - t->heap[0].ts < MMR_REORDER_WINDOW_NS && t->held_bytes < REORDER_MAX_BYTES;
}

/*
 * Under ASan the bytes of ev_data past the event's payload are poisoned, so
 * that a reader going past a record's end is caught (the fuzzer, fuzz/), as
 * it would be at the end of a malloc'd record.  Nothing otherwise.
 */
static void expose_payload(struct mmr_trace *t, size_t len)
{
	ASAN_UNPOISON_MEMORY_REGION(t->ev_data, PAYLOAD_MAX + 1);
	ASAN_POISON_MEMORY_REGION(t->ev_data + len, PAYLOAD_MAX + 1 - len);
}

int mmr_trace_next(struct mmr_trace *t, struct mmr_event *ev)
{
	const unsigned char *rec;

	/* Keep a window of events so that late arrivals sort in. */
	while (need_more(t)) {
		int r = load_chunk(t);

		if (r < 0)
			return -1;
		if (r == 0)
			break;
	}
	if (!t->heap_len)
		return 0;
	rec = t->heap[0].buf->data + t->heap[0].pos;
	memcpy(&ev->h, rec, sizeof(ev->h));
	expose_payload(t, ev->h.len);
	memcpy(t->ev_data, rec + sizeof(ev->h), ev->h.len);
	ev->data = t->ev_data;
	ev->schema = &t->schema;
	run_advance(t, sizeof(ev->h) + ev->h.len);
	return 1;
}

void mmr_trace_rewind(struct mmr_trace *t)
{
	heap_clear(t);
	t->cur.off = sizeof(struct mmr_file_hdr);
	t->cur.n = 0;
	t->seq = 0;
	t->max_ts = 0;
	t->events_read = 0;
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

int mmr_trace_kind_ok(const struct mmr_trace *t, int id)
{
	const struct mmr_kind_info *k = mmr_trace_kind(t, id);

	return k && k->status && !strncmp(k->status, "ok", 2);
}

const struct mmr_kind_info *mmr_trace_kind_by_name(const struct mmr_trace *t, const char *name)
{
	for (int i = 1; i < MMR_MAX_KINDS; i++)
		if (t->kinds[i].present && !strcmp(t->kinds[i].name, name))
			return &t->kinds[i];
	return NULL;
}

int mmr_trace_damaged(struct mmr_trace *t)
{
	check_events(t);
	return t->damaged;
}

const char *mmr_trace_problem(struct mmr_trace *t)
{
	check_events(t);
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

const struct mmr_schema *mmr_trace_schema(const struct mmr_trace *t)
{
	return &t->schema;
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
