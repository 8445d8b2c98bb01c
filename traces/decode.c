// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>
#include "decode.h"

struct mmr_decoder {
	struct tep_handle *tep;
	struct tep_event *ev[MMR_MAX_KINDS];
};

struct mmr_decoder *mmr_decoder_new(const struct mmr_trace *t, char *err, size_t errlen)
{
	struct mmr_decoder *d = calloc(1, sizeof(*d));

	if (!d || !(d->tep = tep_alloc())) {
		snprintf(err, errlen, "out of memory");
		free(d);
		return NULL;
	}
	tep_set_long_size(d->tep, 8);
	tep_set_page_size(d->tep, atoi(mmr_trace_meta(t, "page_size") ?: "4096"));
	for (int id = 1; id < MMR_MAX_KINDS; id++) {
		const struct mmr_kind_info *k = mmr_trace_kind(t, id);
		struct tep_event *e = NULL;

		if (!k || !k->format[0])
			continue;
		if (tep_parse_format(d->tep, &e, k->format, strlen(k->format), k->system) == 0)
			d->ev[id] = e;
	}
	return d;
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

static void fill_record(struct tep_record *rec, const struct mmr_event *ev)
{
	memset(rec, 0, sizeof(*rec));
	rec->ts = ev->h.ts;
	rec->cpu = ev->h.cpu;
	rec->size = ev->h.len;
	rec->data = (void *)ev->data;
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
	fill_record(&rec, ev);
	trace_seq_init(&s);
	tep_print_event(d->tep, &s, &rec, "%s", TEP_PRINT_INFO);
	trace_seq_terminate(&s);
	fputs(s.buffer, f);
	trace_seq_destroy(&s);
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

			if (fl->flags & TEP_FIELD_IS_POINTER)
				jsonw_stringf(w, "0x%llx", v);
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
