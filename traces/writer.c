// SPDX-License-Identifier: GPL-2.0
/*
 * Trace writer: a file header, then self-checking chunks written with one
 * write(2) each, so that a recording killed at any moment leaves every
 * chunk before the last one complete on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "trace.h"

#define EVENTS_BUF_SIZE (256 << 10)

struct mmr_writer {
	int fd;
	unsigned char *buf;	/* pending records */
	size_t used;
	unsigned char *zbuf;	/* compressed chunk: header + data */
	size_t zcap;
	z_stream zs;		/* deflate state, reset for each chunk */
	int zs_ready;
	__u64 bytes;
	__u64 events;
};

__u32 mmr_crc32(const void *data, size_t len)
{
	return crc32(0L, data, len);
}

static int write_all(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = write(fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		c += n;
		len -= n;
	}
	return 0;
}

struct mmr_writer *mmr_writer_open(const char *path, char *err, size_t errlen)
{
	struct mmr_file_hdr fh = { .version = MMR_FILE_VERSION, .hdr_size = sizeof(fh) };
	struct mmr_writer *w = calloc(1, sizeof(*w));

	if (!w)
		goto oom;
	w->buf = malloc(EVENTS_BUF_SIZE);
	w->zcap = sizeof(struct mmr_chunk_hdr) + compressBound(EVENTS_BUF_SIZE);
	w->zbuf = malloc(w->zcap);
	if (!w->buf || !w->zbuf)
		goto oom;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		goto fail;
	}
	memcpy(fh.magic, MMR_FILE_MAGIC, sizeof(fh.magic));
	if (write_all(w->fd, &fh, sizeof(fh))) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		close(w->fd);
		goto fail;
	}
	w->bytes = sizeof(fh);
	return w;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (w) {
		free(w->buf);
		free(w->zbuf);
		free(w);
	}
	return NULL;
}

/*
 * compress2() at level 1, on a stream kept from chunk to chunk: the same
 * bytes, but compress2() allocates ~270 KiB of state per call, which
 * glibc maps and unmaps each time (about half of a record --snapshot
 * snapshot's writing, bench/snapshot-cost).
 */
static int deflate_chunk(struct mmr_writer *w, unsigned char *out, uLongf *zlen,
			 const void *data, size_t len)
{
	if (!w->zs_ready && deflateInit(&w->zs, 1) != Z_OK)
		return -1;
	if (w->zs_ready && deflateReset(&w->zs) != Z_OK)
		return -1;
	w->zs_ready = 1;
	w->zs.next_in = (Bytef *)data;
	w->zs.avail_in = len;
	w->zs.next_out = out;
	w->zs.avail_out = *zlen;
	if (deflate(&w->zs, Z_FINISH) != Z_STREAM_END)
		return -1;
	*zlen = w->zs.total_out;
	return 0;
}

/* Compress (when it pays) and write one chunk in a single write(2). */
static int put_chunk(struct mmr_writer *w, int type, const void *data, size_t len)
{
	struct mmr_chunk_hdr *ch;
	size_t need = sizeof(*ch) + compressBound(len);
	uLongf zlen;
	unsigned char *out;

	if (len > MMR_CHUNK_MAX) {	/* a reader would refuse it */
		errno = EFBIG;
		return -1;
	}
	if (need > w->zcap) {
		unsigned char *n = realloc(w->zbuf, need);

		if (!n)
			return -1;
		w->zbuf = n;
		w->zcap = need;
	}
	ch = (struct mmr_chunk_hdr *)w->zbuf;
	out = w->zbuf + sizeof(*ch);
	zlen = w->zcap - sizeof(*ch);
	memset(ch, 0, sizeof(*ch));
	ch->magic = MMR_CHUNK_MAGIC;
	ch->type = type;
	ch->raw_len = len;
	if (len >= 64 && !deflate_chunk(w, out, &zlen, data, len) && zlen < len) {
		ch->flags = MMR_CHUNK_ZLIB;
		ch->data_len = zlen;
	} else {
		memcpy(out, data, len);
		ch->data_len = len;
	}
	ch->data_crc = mmr_crc32(out, ch->data_len);
	ch->hdr_crc = mmr_crc32(ch, offsetof(struct mmr_chunk_hdr, hdr_crc));
	if (write_all(w->fd, w->zbuf, sizeof(*ch) + ch->data_len))
		return -1;
	w->bytes += sizeof(*ch) + ch->data_len;
	return 0;
}

int mmr_writer_chunk(struct mmr_writer *w, int type, const void *data, size_t len)
{
	/* Keep chunks in stream order: pending events go first. */
	if (mmr_writer_flush(w))
		return -1;
	return put_chunk(w, type, data, len);
}

int mmr_writer_flush(struct mmr_writer *w)
{
	int ret = 0;

	if (w->used)
		ret = put_chunk(w, MMR_CHUNK_EVENTS, w->buf, w->used);
	w->used = 0;
	return ret;
}

int mmr_writer_event(struct mmr_writer *w, const struct mmr_hdr *h, const void *payload)
{
	size_t need = sizeof(*h) + h->len;

	if (w->used + need > EVENTS_BUF_SIZE && mmr_writer_flush(w))
		return -1;
	memcpy(w->buf + w->used, h, sizeof(*h));
	memcpy(w->buf + w->used + sizeof(*h), payload, h->len);
	w->used += need;
	w->events++;
	return 0;
}

int mmr_writer_close(struct mmr_writer *w, const char *end_text)
{
	int ret = mmr_writer_chunk(w, MMR_CHUNK_END, end_text, strlen(end_text));

	if (close(w->fd))
		ret = -1;
	if (w->zs_ready)
		deflateEnd(&w->zs);
	free(w->buf);
	free(w->zbuf);
	free(w);
	return ret;
}

__u64 mmr_writer_bytes(const struct mmr_writer *w)
{
	return w->bytes;
}

__u64 mmr_writer_events(const struct mmr_writer *w)
{
	return w->events;
}

__u64 mmr_clock_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (__u64)t.tv_sec * 1000000000ULL + t.tv_nsec;
}
