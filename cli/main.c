// SPDX-License-Identifier: GPL-2.0
/* mmreplay: record, check, replay and diff Linux mm activity. */
#include <stdio.h>
#include <string.h>
#include "cmds.h"
#include "util.h"

#ifndef MMR_VERSION
#define MMR_VERSION "unknown"
#endif

static const struct mmr_cmd cmds[] = {
	{ "probes", cmd_probes, "what this kernel lets mmreplay record, and why not", usage_probes },
	{ "record", cmd_record, "record a task tree's mm activity into a trace file", usage_record },
	{ "show", cmd_show, "print the events of a trace, one per line or as JSON", usage_show },
	{ "info", cmd_info, "print a trace's header, probe coverage and drop counts", usage_info },
	{ "check", cmd_check, "flag lost/stranded mlock, skipped swap entries, rss mismatches",
	  usage_check },
	{ "replay", cmd_replay, "re-execute a recorded workload on this kernel, check it, hunt races",
	  usage_replay },
	{ "diff", cmd_diff, "compare two traces of one workload, operation by operation",
	  usage_diff },
	{ "export", cmd_export, "write a trace (or two) as Perfetto trace-event JSON", usage_export },
	{ "merge", cmd_merge, "combine the partial reports of replay --explore --shard I/N",
	  usage_merge },
	{ "__replay-run", cmd_replay_run, NULL, NULL },	/* the replay process, under record */
	{ "__vm-send", cmd_vm_send, NULL, NULL },	/* in a --kernel guest: /out to the host */
	{ "__watchdog", cmd_watchdog, NULL, NULL },	/* record --snapshot's, on fds 3-5 */
};
#define NR_CMDS (int)(sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mmreplay [-v] COMMAND [ARGS...]\n"
		"       mmreplay help [COMMAND] | --version\n\n"
		"Record a task tree's memory-management activity (mm syscalls, faults,\n"
		"rmap, mlock, swap and zap events) with eBPF into a self-describing trace,\n"
		"check it for lost mlocks and skipped swap entries, replay it, and compare\n"
		"two traces of one workload.\n\n"
		"commands:\n");
	for (int i = 0; i < NR_CMDS; i++)
		if (cmds[i].summary)
			fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f,
		"\nexamples:\n"
		"  mmreplay probes\n"
		"  mmreplay record -o w.trace -- ./workload\n"
		"  mmreplay show w.trace --kind sys_enter\n"
		"  mmreplay record --snapshot -o w.trace -- ./workload && mmreplay check w.trace\n"
		"  mmreplay replay w.trace --explore --trials 20\n"
		"  mmreplay diff w.trace replay.trace\n"
		"  mmreplay export a.trace b.trace --perfetto ab.json\n"
		"\n'mmreplay help COMMAND' or 'mmreplay COMMAND --help' shows a command's options;\n"
		"-v (--verbose) may stand before or after COMMAND.\n");
}

static int version(void)
{
	printf("mmreplay %s\n", MMR_VERSION);
	return 0;
}

/* mmreplay help [COMMAND] */
static int help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (cmd_help(argv[1])) {
		mmr_err("help: unknown command '%s' (see mmreplay --help)", argv[1]);
		return MMR_EXIT_ERROR;
	}
	return 0;
}

int cmd_help(const char *name)
{
	for (int i = 0; i < NR_CMDS; i++) {
		if (!strcmp(cmds[i].name, name) && cmds[i].usage) {
			fputs(cmds[i].usage, stdout);
			return 0;
		}
	}
	return MMR_EXIT_ERROR;
}

/*
 * Whether the command line asks for JSON, seen before the command parses it
 * so that its own option errors come out as JSON too: --json or -j among
 * the arguments of a command that has --json (before a "--").
 */
static int wants_json(int argc, char **argv)
{
	static const char *const with_json[] = { "probes", "record", "show", "info", "check", "replay",
						  "diff", "merge" };
	int has = 0;

	for (size_t i = 0; i < sizeof(with_json) / sizeof(with_json[0]); i++)
		has |= !strcmp(argv[0], with_json[i]);
	if (!has)
		return 0;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			return version();
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			mmr_verbose++;
		} else {
			mmr_err("unknown option '%s' (see mmreplay --help)", argv[i]);
			return MMR_EXIT_ERROR;
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return MMR_EXIT_ERROR;
	}
	if (!strcmp(argv[i], "help"))
		return help(argc - i, argv + i);
	if (!strcmp(argv[i], "version"))
		return version();
	for (int c = 0; c < NR_CMDS; c++)
		if (!strcmp(cmds[c].name, argv[i])) {
			mmr_json_mode(wants_json(argc - i, argv + i));
			return mmr_json_end(cmds[c].run(argc - i, argv + i));
		}
	mmr_err("unknown command '%s' (see mmreplay --help)", argv[i]);
	return MMR_EXIT_ERROR;
}
