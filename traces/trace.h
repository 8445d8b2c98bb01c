/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace file library: the writer used by `record` and the reader used by
 * every other subcommand.  The format is documented in traces/FORMAT.md.
 *
 * traces/ is the bottom layer with bpf/ and vm/: the trace format, the
 * schema every engine reads it through (kinds.h, syscalls.h, marks.h), the
 * JSON writer.  It includes bpf/events.h and nothing above it.
 */
#ifndef MMR_TRACE_H
#define MMR_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "bpf/events.h"
#include "traces/grow.h"

#define MMR_FILE_MAGIC "MMRTRACE"
#define MMR_FILE_VERSION 1
#define MMR_CHUNK_MAGIC 0x4b48434dU /* "MCHK" little endian */

enum mmr_chunk_type {
	MMR_CHUNK_META = 1,	/* text: key=value lines */
	MMR_CHUNK_KIND = 2,	/* text: key=value lines, then "format:" and a format file */
	MMR_CHUNK_EVENTS = 3,	/* records: struct mmr_hdr + payload, repeated */
	MMR_CHUNK_STATS = 4,	/* text: cumulative counters (drops per CPU, events) */
	MMR_CHUNK_END = 5,	/* text: final summary; marks a cleanly closed trace */
};

#define MMR_CHUNK_ZLIB 0x1
/*
 * Largest chunk, decompressed: the writer's events chunks are 256 KiB, its
 * text chunks a few KiB.  A reader refuses a chunk that claims more, so that
 * reading costs memory in proportion to a chunk, never to a file.
 */
#define MMR_CHUNK_MAX (16U << 20)

struct mmr_file_hdr {
	char magic[8];
	__u32 version;
	__u32 hdr_size;
	__u64 flags;
	__u64 reserved;
};

struct mmr_chunk_hdr {
	__u32 magic;
	__u16 type;
	__u16 flags;
	__u32 raw_len;	/* bytes after decompression */
	__u32 data_len;	/* bytes stored after this header */
	__u32 data_crc;	/* crc32 of the stored bytes */
	__u32 hdr_crc;	/* crc32 of the 20 bytes above */
};

/* ---- writer --------------------------------------------------------- */

struct mmr_writer;

struct mmr_writer *mmr_writer_open(const char *path, char *err, size_t errlen);
int mmr_writer_chunk(struct mmr_writer *w, int type, const void *data, size_t len);
/* Append one record; flushes an events chunk when the buffer is full. */
int mmr_writer_event(struct mmr_writer *w, const struct mmr_hdr *h, const void *payload);
int mmr_writer_flush(struct mmr_writer *w);
int mmr_writer_close(struct mmr_writer *w, const char *end_text);
__u64 mmr_writer_bytes(const struct mmr_writer *w);
__u64 mmr_writer_events(const struct mmr_writer *w);

/* ---- reader --------------------------------------------------------- */

/* struct: our BPF record; tracepoint: copied raw; func: fentry/kprobe; recorder: /proc */
enum mmr_kind_source { MMR_SRC_STRUCT, MMR_SRC_TRACEPOINT, MMR_SRC_FUNC, MMR_SRC_RECORDER };

struct mmr_kind_info {
	int present;
	int id;
	char *name;	/* e.g. "sys_enter", "rss_stat" */
	char *system;	/* e.g. "mmreplay", "kmem" */
	char *source;	/* "struct", "tracepoint", "func" */
	char *attach;	/* attach point used, or "-" */
	char *status;	/* "ok" or why it was unavailable */
	char *format;	/* ftrace-style format text */
};

/*
 * An event as the reader hands it out: its record checked against its kind's
 * minimum size (sizeof its struct in events.h; snapshot_pages: its pages too),
 * and data copied to an 8-byte aligned buffer, so that a consumer may cast it
 * to the kind's struct.
 */
struct mmr_schema;

struct mmr_event {
	struct mmr_hdr h;
	const void *data;	/* h.len bytes, starts with struct mmr_common */
	const struct mmr_schema *schema;	/* its trace's fields (fields.h) */
};

/*
 * How far out of time order a reader takes records (it sorts within this
 * window): ring buffer order is time order up to microseconds across CPUs,
 * and a staged event (record's coalescing) comes a few ms late at most;
 * the recorder counts any later than this (late_events).
 */
#define MMR_REORDER_WINDOW_NS 10000000ULL
#define MMR_MAX_KINDS 256
#define MMR_MAX_CPUS 1024

struct mmr_trace;

/*
 * Opens a regular file and reads it through once, checking every chunk; NULL
 * with err set (one line, naming the file) if it is not a trace at all.
 */
struct mmr_trace *mmr_trace_open(const char *path, char *err, size_t errlen);
void mmr_trace_close(struct mmr_trace *t);
const char *mmr_trace_meta(const struct mmr_trace *t, const char *key);
const struct mmr_kind_info *mmr_trace_kind(const struct mmr_trace *t, int id);
/* Kind @id was recorded: in the trace, its status "ok..." (not a reason it is missing). */
int mmr_trace_kind_ok(const struct mmr_trace *t, int id);
const struct mmr_kind_info *mmr_trace_kind_by_name(const struct mmr_trace *t, const char *name);
/* 1: *ev filled (valid until the next call); 0: end of events. Time-ordered. */
int mmr_trace_next(struct mmr_trace *t, struct mmr_event *ev);
void mmr_trace_rewind(struct mmr_trace *t);
/*
 * Problems found while reading: NULL if the trace is complete and intact,
 * else one line (the first problem), e.g. "trace truncated at byte 1234
 * (chunk 9 runs past the end of the file; recording interrupted?)" or
 * "corrupt chunk at byte 1234 (chunk 9): ...".  Every intact chunk, and the
 * records of a damaged events chunk before its first bad one, are still read.
 * All damage is found by the time this or mmr_trace_damaged() answers: the
 * checksums when the trace is opened, the records of the events chunks as
 * they are read (or then, if they were not all read).
 */
const char *mmr_trace_problem(struct mmr_trace *t);
/* 1 if a chunk is corrupt (damage), 0 if intact or only torn at its end */
int mmr_trace_damaged(struct mmr_trace *t);
int mmr_trace_closed(const struct mmr_trace *t);	/* END chunk seen */
const char *mmr_trace_stats(const struct mmr_trace *t);	/* last STATS/END text */
/* Value of "key=N" in the last stats text, 0 if absent. */
__u64 mmr_trace_stat(const struct mmr_trace *t, const char *key);
int mmr_trace_chunks(const struct mmr_trace *t);
/* Where the tracepoint fields lie in this trace's records (fields.h). */
const struct mmr_schema *mmr_trace_schema(const struct mmr_trace *t);
/* Index of the first of n elements (sorted, each starting with its __u64 key) >= key. */
size_t mmr_lower(const void *base, size_t n, size_t stride, __u64 key);

/* Small helpers shared by the writer, reader and tests. */
__u32 mmr_crc32(const void *data, size_t len);
/* Value of key in "key=value\n" text, copied to buf; NULL if absent. */
const char *mmr_kv_get(const char *text, const char *key, char *buf, size_t len);

/* Now on the clock of a trace's timestamps (CLOCK_MONOTONIC, as bpf_ktime_get_ns()), in ns. */
__u64 mmr_clock_ns(void);

#endif /* MMR_TRACE_H */
