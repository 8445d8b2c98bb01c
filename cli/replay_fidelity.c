// SPDX-License-Identifier: GPL-2.0
/* The fidelity verdict of a replay, as the replay report prints it (see replay_fidelity.h). */
#include <stdio.h>
#include <string.h>
#include "replay_fidelity.h"
#include "util.h"

void replay_fidelity_check(struct fidelity_report *rf, const struct replay_opts *o,
			   const struct run_result *r)
{
	memset(rf, 0, sizeof(*rf));
	rf->recording = o->trace;
	rf->replay = o->out;
	rf->paired = o->pair_a >= 0;
	rf->checked = !fidelity_check(&rf->v, o->trace, o->out, &r->st, r->err, rf->err,
				      sizeof(rf->err));
}

static unsigned long long benign_skips(const struct fverdict *v)
{
	unsigned long long n = 0;

	for (int r = 0; r < FS_NR; r++)
		n += fskip_benign(r) ? v->skipped[r] : 0;
	return n;
}

static void plain_skips(const struct fverdict *v)
{
	for (int r = 0; r < FS_NR; r++)
		if (v->skipped[r])
			printf("  not issued: %zu operation%s %s%s\n", v->skipped[r],
			       v->skipped[r] == 1 ? "" : "s", fskip_text(r),
			       fskip_benign(r) ? "" : "  *");
}

void replay_fidelity_plain(const struct fidelity_report *rf)
{
	const struct fverdict *v = &rf->v;

	printf("fidelity to the recording (as mmreplay diff %s %s compares them):\n",
	       rf->recording, rf->replay);
	if (!rf->checked) {
		printf("not checked: %s\n", rf->err);
		return;
	}
	if (!v->no_common)
		printf("  operations: %zu of the recording's %zu compared equivalent, %zu differ "
		       "(%zu raced another task's call when recorded; %zu only in the recording, "
		       "%zu only in the replay)\n", v->equivalent, v->ops, v->differ,
		       v->differ_raced, v->only_rec, v->only_rep);
	for (int i = 0; i < v->nr_first; i++)
		printf("    %s\n", v->first[i]);
	if (v->normalised)
		printf("  normalised: %zu of those equivalent differ only in which thread's rss_stat "
		       "reported a change of their mm's counters (a race); each counter's net "
		       "change agrees\n", v->normalised);
	if (v->normalised_late)
		printf("  normalised: %zu of those equivalent differ only in rss changes a kernel "
		       "before 6.2 reported late; the lag fits a thread's cache\n",
		       v->normalised_late);
	for (int i = 0; i < v->nr_notes; i++)
		printf("  note: %s\n", v->notes[i]);
	plain_skips(v);
	printf("  touches: %llu recorded, %llu on memory no recorded operation mapped (not "
	       "rebuilt), %llu outside the replayed mappings elsewhere, %llu hit SIGSEGV/SIGBUS\n",
	       (unsigned long long)v->touches, (unsigned long long)v->touches_outside_scope,
	       (unsigned long long)v->touches_missed, (unsigned long long)v->touches_faulted);
	if (v->faithful)
		printf("faithful: every operation compared is equivalent to the recording; %llu "
		       "operations and %llu touches not replayed, each for a reason above that "
		       "leaves memory as recorded or outside what replay rebuilds\n",
		       benign_skips(v), (unsigned long long)v->touches_outside_scope);
	else
		printf("NOT FAITHFUL: %s\n", v->why);
	if (rf->paired)
		printf("(a --pair trial starts two ops together on purpose: its fidelity does not "
		       "set the exit status)\n");
}

static void json_skips(const struct fverdict *v, json_writer_t *w)
{
	jsonw_name(w, "not_issued");
	jsonw_start_object(w);
	for (int r = 0; r < FS_NR; r++)
		jsonw_uint_field(w, fskip_name(r), v->skipped[r]);
	jsonw_end_object(w);
}

void replay_fidelity_json(const struct fidelity_report *rf, json_writer_t *w)
{
	const struct fverdict *v = &rf->v;

	jsonw_name(w, "fidelity");
	jsonw_start_object(w);
	jsonw_bool_field(w, "checked", rf->checked);
	if (!rf->checked) {
		jsonw_string_field(w, "error", rf->err);
		jsonw_end_object(w);
		return;
	}
	jsonw_bool_field(w, "faithful", v->faithful);
	jsonw_bool_field(w, "sets_exit_status", !rf->paired);
	if (v->faithful)
		jsonw_null_field(w, "why");
	else
		jsonw_string_field(w, "why", v->why);
	jsonw_uint_field(w, "operations", v->ops);
	jsonw_uint_field(w, "equivalent", v->equivalent);
	jsonw_uint_field(w, "differ", v->differ);
	jsonw_uint_field(w, "normalised_thread_rss", v->normalised);
	jsonw_uint_field(w, "normalised_late_rss", v->normalised_late);
	jsonw_name(w, "notes");
	jsonw_start_array(w);
	for (int i = 0; i < v->nr_notes; i++)
		jsonw_string(w, v->notes[i]);
	jsonw_end_array(w);
	jsonw_uint_field(w, "differ_raced", v->differ_raced);
	jsonw_uint_field(w, "only_recording", v->only_rec);
	jsonw_uint_field(w, "only_replay", v->only_rep);
	jsonw_bool_field(w, "lined_up", !v->no_common);
	jsonw_name(w, "differences");
	jsonw_start_array(w);
	for (int i = 0; i < v->nr_first; i++)
		jsonw_string(w, v->first[i]);
	jsonw_end_array(w);
	json_skips(v, w);
	jsonw_u64_field(w, "touches_recorded", v->touches);
	jsonw_u64_field(w, "touches_not_rebuilt", v->touches_outside_scope);
	jsonw_u64_field(w, "touches_missed", v->touches_missed);
	jsonw_u64_field(w, "touches_signalled", v->touches_faulted);
	jsonw_u64_field(w, "unreplayable", v->unreplayable);
	jsonw_end_object(w);
}

int replay_fidelity_status(const struct fidelity_report *rf, int status)
{
	if (status)
		return status;
	if (!rf->checked) {
		mmr_err("replay: fidelity to the recording not checked: %s", rf->err);
		return MMR_EXIT_ERROR;
	}
	return rf->v.faithful || rf->paired ? 0 : MMR_EXIT_UNFAITHFUL;
}
