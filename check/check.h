/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The checker: turns a trace into verdicts (lost-mlock, stranded-mlock,
 * skipped-swap-entry, dropped-cow-swap-entry, rss-counter-mismatch).
 * Events go in one at a time, in time order; memory is bounded by the live
 * mms, their last snapshot and the pending syscalls, not by the trace.
 *
 * check/ is an engine: it includes traces/ and bpf/, never cli/ or another
 * engine; cli/cmd_check.c prints its results.
 */
#ifndef MMR_CHECK_H
#define MMR_CHECK_H

#include <stdint.h>
#include "traces/trace.h"
#include "findings.h"

struct checker;

struct checker *checker_new(const struct mmr_trace *t, char *err, size_t errlen);
void checker_free(struct checker *c);
void checker_event(struct checker *c, const struct mmr_event *ev);
void checker_finish(struct checker *c);

const struct finding *checker_findings(const struct checker *c, int *nr);
/* Findings, each a group of pages (struct finding), incl. ones not stored. */
__u64 checker_findings_total(const struct checker *c);
/* Findings counted in the total but not stored: past FINDINGS_MAX, or out of memory. */
__u64 checker_findings_not_stored(const struct checker *c);
/* The pages of all findings, incl. ones not stored. */
__u64 checker_finding_pages_total(const struct checker *c);
const struct coverage *checker_coverage(const struct checker *c, enum verdict v);
/* Verdicts neither source could judge: no snapshots, and an event kind it needs missing. */
int checker_unchecked(const struct checker *c);
__u64 checker_events(const struct checker *c);
__u64 checker_snapshots(const struct checker *c);
/* What in the trace could not be judged because it is malformed, in a line; NULL: nothing. */
const char *checker_problem(struct checker *c);

#endif
