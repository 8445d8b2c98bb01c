/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli/: the mmreplay command: option parsing, dispatch (main.c's table) and
 * printing.  The top layer: it may include every folder; nothing includes
 * it but the tests.  Only cli/ exits.
 */
#ifndef MMR_CMDS_H
#define MMR_CMDS_H

#include "traces/json_writer.h"

struct mmr_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage;	/* full help text, with examples */
};

int cmd_probes(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_replay_run(int argc, char **argv);	/* the replay's own process, under record */
int cmd_watchdog(int argc, char **argv);	/* record --snapshot's (record/watchdog.c) */
int cmd_vm_send(int argc, char **argv);	/* in a --kernel guest: /out to the host */
int cmd_diff(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_merge(int argc, char **argv);	/* replay --explore --shard's parts, as one report */

struct checker;
struct mmr_trace;
/* check's report of a finished checker, as text or as one JSON object */
void check_print_plain(const struct checker *c);
void check_print_json(const struct checker *c, json_writer_t *w);
/* 0 clean, 1 findings, MMR_EXIT_UNCHECKED no findings but some verdicts not checked */
int check_status(const struct checker *c);

extern const char usage_probes[], usage_record[], usage_show[], usage_info[], usage_check[],
	usage_replay[], usage_diff[], usage_export[], usage_merge[];

struct dtrace;
/*
 * Opens n traces (1 or 2) and reads their ops and events for diff or
 * export; 0, or -1 with one error line printed.  close_traces() either way.
 */
int load_traces(const char *cmd, const char *const *file, int n, struct mmr_trace **t,
		struct dtrace *d);
void close_traces(struct mmr_trace **t, struct dtrace *d, int n);

/* Prints the usage of a subcommand to stdout (for --help). */
int cmd_help(const char *name);

#endif
