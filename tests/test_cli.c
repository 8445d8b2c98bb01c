// SPDX-License-Identifier: GPL-2.0
/* The command line: help, version and global options, as a user types them. */
#include "test.h"
#include "testlib.h"

static const char *const cmds[] = { "probes", "record", "show", "info", "check", "replay",
				    "diff", "export" };
#define NR_CMDS (int)(sizeof(cmds) / sizeof(cmds[0]))

/* `mmreplay help CMD` and `mmreplay CMD --help` print the same usage, exit 0. */
static void test_cli_help(void)
{
	char want[64];

	for (int i = 0; i < NR_CMDS; i++) {
		char *a, *b;

		ASSERT_EQ(run_cmd(tmp_path("a"), NULL, "%s help %s", mmreplay_bin(), cmds[i]), 0,
			  cmds[i]);
		ASSERT_EQ(run_cmd(tmp_path("b"), NULL, "%s %s --help", mmreplay_bin(), cmds[i]), 0,
			  cmds[i]);
		a = slurp(tmp_path("a"));
		b = slurp(tmp_path("b"));
		snprintf(want, sizeof(want), "usage: mmreplay %s", cmds[i]);
		ASSERT_STRCONTAINS(a, want, "help CMD prints CMD's usage");
		ASSERT_TRUE(!strcmp(a, b), "help CMD == CMD --help");
		free(a);
		free(b);
	}
	ASSERT_EQ(run_cmd(tmp_path("a"), NULL, "%s help", mmreplay_bin()), 0, "help alone");
	ASSERT_EQ(run_cmd(NULL, tmp_path("e"), "%s help nosuch", mmreplay_bin()), 2,
		  "help of an unknown command");
	ASSERT_EQ(run_cmd(NULL, NULL, "grep -c . %s | grep -qx 1", tmp_path("e")), 0,
		  "one error line");
}

static void test_cli_version(void)
{
	char *a, *b;

	ASSERT_EQ(run_cmd(tmp_path("a"), NULL, "%s --version", mmreplay_bin()), 0, "--version");
	ASSERT_EQ(run_cmd(tmp_path("b"), NULL, "%s version", mmreplay_bin()), 0, "version");
	a = slurp(tmp_path("a"));
	b = slurp(tmp_path("b"));
	ASSERT_TRUE(!strncmp(a, "mmreplay ", 9) && count_lines(a) == 1, "one line: mmreplay VERSION");
	ASSERT_TRUE(!strcmp(a, b), "version == --version");
	free(a);
	free(b);
}

/* -v before or after the subcommand, as perf takes it; other unknown options stay errors. */
static void test_cli_verbose_anywhere(void)
{
	ASSERT_EQ(run_cmd(NULL, NULL, "%s -v check --help", mmreplay_bin()), 0, "-v before");
	ASSERT_EQ(run_cmd(NULL, NULL, "%s check -v --help", mmreplay_bin()), 0, "-v after");
	ASSERT_EQ(run_cmd(NULL, NULL, "%s check --verbose --help", mmreplay_bin()), 0,
		  "--verbose after");
	ASSERT_EQ(run_cmd(NULL, NULL, "%s check -z x", mmreplay_bin()), 2, "unknown option");
}

/* The long name "-L, --NAME" gives -L in a usage text, or NULL; caller frees. */
static char *long_of(const char *usage, char letter)
{
	for (const char *l = usage; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *p = l + strspn(l, " ");

		if (p[0] == '-' && p[1] == letter && !strncmp(p + 2, ", --", 4))
			return strndup(p + 6, strcspn(p + 6, " \n"));
	}
	return NULL;
}

/*
 * One meaning per short flag across the subcommands (perf's -o -p -e -q -v
 * among them): every letter a subcommand takes is in its --help as
 * "-L, --NAME", and the same letter has the same NAME everywhere.  A
 * letter counts as taken unless the command says "unknown option '-L'";
 * the unknown option after it stops every command before it acts.
 */
static void test_cli_short_flags(void)
{
	char *meaning[128] = {}, seen[64];
	char letters[] = "abcdefgijklmnopqrstuwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";	/* -h, -v: global */

	for (int i = 0; i < NR_CMDS; i++) {
		char *usage, *err, *name;

		run_cmd(tmp_path("usage"), NULL, "%s %s --help", mmreplay_bin(), cmds[i]);
		usage = slurp(tmp_path("usage"));
		for (char *l = letters; *l; l++) {
			run_cmd(NULL, tmp_path("err"), "%s %s -%c --zz-no-such-option", mmreplay_bin(),
				cmds[i], *l);
			err = slurp(tmp_path("err"));
			snprintf(seen, sizeof(seen), "unknown option '-%c'", *l);
			if (strstr(err, seen)) {
				free(err);
				continue;
			}
			free(err);
			name = long_of(usage, *l);
			snprintf(seen, sizeof(seen), "%s -%c is in --help", cmds[i], *l);
			if (!ASSERT_TRUE(name != NULL, seen))
				continue;
			snprintf(seen, sizeof(seen), "-%c: --%s in %s, --%s elsewhere", *l, name, cmds[i],
				 meaning[(int)*l] ? meaning[(int)*l] : name);
			ASSERT_TRUE(!meaning[(int)*l] || !strcmp(meaning[(int)*l], name), seen);
			if (!meaning[(int)*l])
				meaning[(int)*l] = name;
			else
				free(name);
		}
		free(usage);
	}
	ASSERT_TRUE(meaning['o'] && !strcmp(meaning['o'], "output"), "-o is --output, as in perf");
	ASSERT_TRUE(meaning['p'] && !strcmp(meaning['p'], "pid"), "-p is --pid, as in perf");
	for (int i = 0; i < 128; i++)
		free(meaning[i]);
}

int main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		TEST(test_cli_help),
		TEST(test_cli_version),
		TEST(test_cli_verbose_anywhere),
		TEST(test_cli_short_flags),
	};
	int ret = run_tests(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);

	tmp_cleanup();
	return ret;
}
