/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MMR_CMDS_H
#define MMR_CMDS_H

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

extern const char usage_probes[], usage_record[], usage_show[], usage_info[], usage_check[];

/* Prints the usage of a subcommand to stdout (for --help). */
int cmd_help(const char *name);

#endif
