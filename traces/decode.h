/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Offline decoding of trace events with libtraceevent, from the format
 * descriptions stored in the trace itself (as trace-cmd does).
 */
#ifndef MMR_DECODE_H
#define MMR_DECODE_H

#include <stdio.h>
#include "json_writer.h"
#include "trace.h"

struct mmr_decoder;

struct mmr_decoder *mmr_decoder_new(const struct mmr_trace *t, char *err, size_t errlen);
void mmr_decoder_free(struct mmr_decoder *d);
/*
 * NULL, or one line on the first format the decoder refused to hand to
 * libtraceevent (see traces/format.c); events of refused kinds print as
 * "(no format ...)" and have no JSON fields.
 */
const char *mmr_decoder_refused(const struct mmr_decoder *d);
/* Print the event's fields with the format's print fmt ("info" part). */
void mmr_decode_info(struct mmr_decoder *d, const struct mmr_event *ev, FILE *f);
/*
 * Write the event's fields as members of the JSON object open in w: strings
 * and arrays as strings, pointers and unsigned 64-bit fields (addresses,
 * PFNs, registers) as hex strings "0x...", other integers as numbers.
 */
void mmr_decode_json_fields(struct mmr_decoder *d, const struct mmr_event *ev, json_writer_t *w);
/* Numeric field by name; returns 0 and sets *val, or -1 if absent. */
int mmr_decode_field(struct mmr_decoder *d, const struct mmr_event *ev, const char *name,
		     unsigned long long *val);

#endif
