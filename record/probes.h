/* SPDX-License-Identifier: GPL-2.0 */
/* Feature detection: what this kernel allows for each event kind, and why not. */
#ifndef MMR_PROBES_H
#define MMR_PROBES_H

#include "traces/kinds.h"

/* ATTACH_PROC: written by the recorder from /proc, no program */
enum attach_how { ATTACH_NONE, ATTACH_TP_BTF, ATTACH_TRACEPOINT, ATTACH_FENTRY, ATTACH_KPROBE,
		  ATTACH_PROC };

struct probe_plan {
	const struct kind_def *kind;
	enum attach_how how;
	const struct func_alt *alt;	/* func kinds: the function chosen */
	char attach[64];		/* e.g. "fentry:mlock_folio", "tracepoint:kmem:rss_stat" */
	char status[256];		/* "ok", or why the kind is unavailable */
	int emit;			/* record its events (else attached only to follow tasks) */
	const char *typed;		/* a tracepoint kind's tp_btf program, if this kernel takes it */
};

/*
 * Turns off kinds that serve only kinds not recorded (mm_page_free and
 * new_anon_rmap, for the mlock hooks): again after the user's choice of kinds.
 */
void probes_drop_unneeded(struct probe_plan *plans);
/* Fills plans[mmr_nr_kinds]. Returns 0, or -1 with a message in err. */
int probes_detect(struct probe_plan *plans, char *err, size_t errlen);
/* Names of the programs that implement a plan (NULL-terminated, up to 2). */
void plan_progs(const struct probe_plan *p, const char *progs[3]);
/* A tracepoint kind back to its classic program (its typed one would not load or learn). */
void probes_untype(struct probe_plan *p);
int ensure_tracefs(void);
const char *tracefs_dir(void);

#endif /* MMR_PROBES_H */
