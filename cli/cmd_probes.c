// SPDX-License-Identifier: GPL-2.0
/* mmreplay probes: what this kernel allows for each event kind, and why not. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include "cmds.h"
#include "record/probes.h"
#include "util.h"

const char usage_probes[] =
	"usage: mmreplay probes [--json]\n\n"
	"For each event kind, the attach point this kernel allows (fentry, else\n"
	"kprobe, else a tracepoint) or why the kind is unavailable: a kind said\n"
	"\"ok\" has had an empty program of its type loaded.  Without CAP_BPF and\n"
	"CAP_PERFMON (or root) none is, and each kind says which is missing;\n"
	"tracepoint kinds also need tracefs readable (its root is mode 0700).\n\n"
	"  -j, --json   print a JSON array of {kind, source, attach, status, doc}\n\n"
	"examples:\n"
	"  mmreplay probes\n"
	"  mmreplay probes --json | jq '.[] | select(.status != \"ok\")'\n";

static void print_plain(const struct probe_plan *plans)
{
	struct utsname u;
	int ok = 0;

	uname(&u);
	printf("kernel %s %s\n", u.release, u.machine);
	printf("%-27s %-10s %-45s %s\n", "KIND", "SOURCE", "ATTACH", "STATUS");
	for (int i = 0; i < mmr_nr_kinds; i++) {
		const struct probe_plan *p = &plans[i];

		ok += p->how != ATTACH_NONE;
		printf("%-27s %-10s %-45s %s\n", p->kind->name, kind_source_name(p->kind->src),
		       p->attach, p->status);
	}
	printf("%d of %d kinds available\n", ok, mmr_nr_kinds);
}

static void print_json(const struct probe_plan *plans, json_writer_t *w)
{
	jsonw_start_array(w);
	jsonw_lines(w, 2, 0);
	for (int i = 0; i < mmr_nr_kinds; i++) {
		const struct probe_plan *p = &plans[i];

		jsonw_start_object(w);
		jsonw_string_field(w, "kind", p->kind->name);
		jsonw_string_field(w, "source", kind_source_name(p->kind->src));
		jsonw_string_field(w, "attach", p->how == ATTACH_NONE ? NULL : p->attach);
		jsonw_bool_field(w, "available", p->how != ATTACH_NONE);
		jsonw_string_field(w, "status", p->status);
		jsonw_string_field(w, "doc", p->kind->doc);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

int cmd_probes(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct probe_plan plans[MMR_K_NR];
	char err[256];
	int json = 0, c;

	while ((c = mmr_getopt("probes", argc, argv, "jh", opts)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': return cmd_help("probes");
		default: return MMR_EXIT_ERROR;
		}
	}
	if (optind < argc) {
		mmr_err("probes: unexpected argument '%s'", argv[optind]);
		return MMR_EXIT_ERROR;
	}
	if (probes_detect(plans, err, sizeof(err))) {
		mmr_err("probes: %s", err);
		return MMR_EXIT_ERROR;
	}
	if (json)
		print_json(plans, mmr_json());
	else
		print_plain(plans);
	return 0;
}
