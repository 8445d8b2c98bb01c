/* SPDX-License-Identifier: GPL-2.0 */
/* The event kinds mmreplay knows: where each comes from and how it is described. */
#ifndef MMR_KINDS_H
#define MMR_KINDS_H

#include <stddef.h>
#include <stdio.h>
#include "trace.h"
#include "syscalls.h"

struct field_def {
	const char *ctype;	/* as written in a format file, e.g. "u64" */
	const char *name;	/* may carry an array suffix, e.g. "path[128]" */
	unsigned int offset, size;
	int is_signed;
	const char *print;	/* printf conversion for the print fmt */
};

/* One way to attach a func kind: a kernel function and the programs for it. */
struct func_alt {
	const char *func;
	const char *fentry;	/* program name (fentry or fexit) */
	const char *kprobe;
	const char *kretprobe;	/* NULL if none needed */
};

struct kind_def {
	int id;
	const char *name;
	const char *system;
	enum mmr_kind_source src;
	const char *tp_cat, *tp_name;	/* MMR_SRC_TRACEPOINT; tp_btf for struct kinds */
	const char *prog;		/* program for struct/tracepoint kinds */
	struct func_alt alts[2];	/* MMR_SRC_FUNC */
	const struct field_def *fields;	/* struct/func kinds, after the common header */
	int nr_fields;
	int default_on;
	const char *doc;
	/* tracepoints: a print fmt line to store instead of the kernel's (NULL: its own) */
	const char *tp_print;
};

extern const struct kind_def mmr_kinds[];
extern const int mmr_nr_kinds;

const struct kind_def *kind_def(int id);
/*
 * A tracepoint's format file @raw as a trace stores it: its ID replaced by
 * k->id, its print fmt by k->tp_print if set.  NULL: no ID line, or no memory.
 */
char *kind_tp_format(const struct kind_def *k, const char *raw);
/* "struct", "tracepoint", "func" or "recorder", as stored in a trace */
const char *kind_source_name(enum mmr_kind_source s);
const struct kind_def *kind_def_by_name(const char *name);
/* ftrace-style format text for a struct/func kind; caller frees. */
char *kind_format(const struct kind_def *k);

#endif /* MMR_KINDS_H */
