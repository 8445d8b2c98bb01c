// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>
#include "decode.h"
#include "format.h"

#define RECORD_MAX 0xffff

struct mmr_decoder {
	struct tep_handle *tep;
	struct tep_event *ev[MMR_MAX_KINDS];
	/*
	 * The event being decoded, zero-padded past its end: libtraceevent reads
	 * fields where the format puts them, whatever the record's length.
	 */
	unsigned char rec[RECORD_MAX + 16];
	char refused[256];	/* the first format refused, or "" */
};

/* Parse one kind's format if it passes the check; else say why (first one only). */
static void add_format(struct mmr_decoder *d, const struct mmr_kind_info *k)
{
	struct tep_event *e = NULL;
	char why[200];

	if (mmr_format_check(k->format, why, sizeof(why))) {
		if (d->refused[0])
			return;
		snprintf(d->refused, sizeof(d->refused), "kind %s: format refused: %s", k->name,
			 why);
		for (char *p = d->refused; *p; p++)	/* the kind's name is the trace's too */
			if (!isprint((unsigned char)*p))
				*p = '?';
		return;
	}
	if (tep_parse_format(d->tep, &e, k->format, strlen(k->format), k->system) == 0)
		d->ev[k->id] = e;
}

struct mmr_decoder *mmr_decoder_new(const struct mmr_trace *t, char *err, size_t errlen)
{
	struct mmr_decoder *d = calloc(1, sizeof(*d));
	const char *ps;

	if (!d || !(d->tep = tep_alloc())) {
		snprintf(err, errlen, "out of memory");
		free(d);
		return NULL;
	}
	tep_set_long_size(d->tep, 8);
	ps = mmr_trace_meta(t, "page_size");
	tep_set_page_size(d->tep, ps && atoi(ps) > 0 ? atoi(ps) : 4096);
	for (int id = 1; id < MMR_MAX_KINDS; id++) {
		const struct mmr_kind_info *k = mmr_trace_kind(t, id);

		if (k && k->format[0])
			add_format(d, k);
	}
	return d;
}

const char *mmr_decoder_refused(const struct mmr_decoder *d)
{
	return d->refused[0] ? d->refused : NULL;
}

void mmr_decoder_free(struct mmr_decoder *d)
{
	if (!d)
		return;
	tep_free(d->tep);
	free(d);
}

static struct tep_event *event_of(struct mmr_decoder *d, const struct mmr_event *ev)
{
	const struct mmr_common *c = ev->data;

	return c->type < MMR_MAX_KINDS ? d->ev[c->type] : NULL;
}

/*
 * The record as libtraceevent sees it: a copy in d->rec, which is zero past
 * the event's end, with __data_loc fields zeroed (the recorder never copies
 * their data; a hostile offset would point anywhere).  put_record() zeroes
 * the copy again.
 */
static void fill_record(struct mmr_decoder *d, struct tep_event *e, struct tep_record *rec,
			const struct mmr_event *ev)
{
	memcpy(d->rec, ev->data, ev->h.len);
	for (struct tep_format_field *fl = e->format.fields; fl; fl = fl->next)
		if ((fl->flags & TEP_FIELD_IS_DYNAMIC) && fl->offset >= 0 &&
		    fl->offset + 4 <= RECORD_MAX)
			memset(d->rec + fl->offset, 0, 4);
	memset(rec, 0, sizeof(*rec));
	rec->ts = ev->h.ts;
	rec->cpu = ev->h.cpu;
	rec->size = ev->h.len;
	rec->data = d->rec;
}

static void put_record(struct mmr_decoder *d, struct tep_event *e, const struct mmr_event *ev)
{
	memset(d->rec, 0, ev->h.len);
	for (struct tep_format_field *fl = e->format.fields; fl; fl = fl->next)
		if ((fl->flags & TEP_FIELD_IS_DYNAMIC) && fl->offset >= 0 &&
		    fl->offset + 4 <= RECORD_MAX)
			memset(d->rec + fl->offset, 0, 4);
}

void mmr_decode_info(struct mmr_decoder *d, const struct mmr_event *ev, FILE *f)
{
	struct tep_event *e = event_of(d, ev);
	struct tep_record rec;
	struct trace_seq s;

	if (!e) {
		fprintf(f, "(no format for kind %u)", ((const struct mmr_common *)ev->data)->type);
		return;
	}
	fill_record(d, e, &rec, ev);
	trace_seq_init(&s);
	tep_print_event(d->tep, &s, &rec, "%s", TEP_PRINT_INFO);
	trace_seq_terminate(&s);
	fputs(s.buffer, f);
	trace_seq_destroy(&s);
	put_record(d, e, ev);
}

void mmr_decode_json_fields(struct mmr_decoder *d, const struct mmr_event *ev, json_writer_t *w)
{
	struct tep_event *e = event_of(d, ev);
	struct tep_format_field *fl;

	if (!e)
		return;
	for (fl = e->format.fields; fl; fl = fl->next) {
		const char *p = (const char *)ev->data + fl->offset;

		if ((unsigned)fl->offset + fl->size > ev->h.len)
			continue;
		jsonw_name(w, fl->name);
		if (fl->flags & TEP_FIELD_IS_DYNAMIC) {
			jsonw_string(w, "");
		} else if ((fl->flags & TEP_FIELD_IS_STRING) || (fl->flags & TEP_FIELD_IS_ARRAY)) {
			jsonw_stringn(w, p, fl->size);
		} else {
			unsigned long long v = tep_read_number(d->tep, p, fl->size);

			if ((fl->flags & TEP_FIELD_IS_POINTER) ||
			    (fl->size == 8 && !(fl->flags & TEP_FIELD_IS_SIGNED)))
				jsonw_hex(w, v);	/* may pass 2^53: exact as a string */
			else if (fl->flags & TEP_FIELD_IS_SIGNED)
				jsonw_int(w, fl->size == 4 ? (long long)(int)v :
					  fl->size == 2 ? (long long)(short)v :
					  fl->size == 1 ? (long long)(signed char)v : (long long)v);
			else
				jsonw_uint(w, v);
		}
	}
}

int mmr_decode_field(struct mmr_decoder *d, const struct mmr_event *ev, const char *name,
		     unsigned long long *val)
{
	struct tep_event *e = event_of(d, ev);
	struct tep_format_field *fl = e ? tep_find_field(e, name) : NULL;

	if (!fl || (unsigned)fl->offset + fl->size > ev->h.len)
		return -1;
	*val = tep_read_number(d->tep, (const char *)ev->data + fl->offset, fl->size);
	return 0;
}
