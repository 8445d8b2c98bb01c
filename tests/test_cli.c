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

int main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		TEST(test_cli_help),
		TEST(test_cli_version),
		TEST(test_cli_verbose_anywhere),
	};
	int ret = run_tests(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);

	tmp_cleanup();
	return ret;
}
