// SPDX-License-Identifier: GPL-2.0
/* The command line: help, version and global options, as a user types them. */
#include "test.h"
#include "testlib.h"

static const char *const cmds[] = { "probes", "record", "show", "info", "check", "replay",
				    "diff", "export", "merge" };
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

/* CMD's part of the man page's COMMANDS: from ".TP\n.B CMD\n" to the next command. */
static char *man_section(const char *man, const char *cmd)
{
	char head[64];
	const char *s, *e;

	snprintf(head, sizeof(head), ".TP\n.B %s\n", cmd);
	s = strstr(man, head);
	if (!s)
		return NULL;
	e = strstr(s + strlen(head), "\n.TP\n.B ");
	return strndup(s, e ? (size_t)(e - s) : strlen(s));
}

/*
 * Every long option a --help lists (a line "  -L, --NAME" or "  --NAME")
 * is in the man page, as \-\-NAME, in that command's section.
 */
static void test_cli_man_lists_options(void)
{
	char *man = slurp("man/mmreplay.1"), msg[128];

	if (!ASSERT_TRUE(strstr(man, ".SH COMMANDS"), "man/mmreplay.1 read"))
		return;
	for (int i = 0; i < NR_CMDS; i++) {
		char *usage, *sec = man_section(man, cmds[i]);

		run_cmd(tmp_path("usage"), NULL, "%s %s --help", mmreplay_bin(), cmds[i]);
		usage = slurp(tmp_path("usage"));
		snprintf(msg, sizeof(msg), "man page has a section for %s", cmds[i]);
		ASSERT_TRUE(sec != NULL, msg);
		for (const char *l = usage; sec && *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0)) {
			const char *p = l + strspn(l, " ");
			char want[80] = "\\-\\-", *w = want + 4;

			if (p == l || p[0] != '-')
				continue;
			if (p[1] != '-' && !strncmp(p + 2, ", --", 4))
				p += 4;
			if (strncmp(p, "--", 2) || !(p[2] >= 'a' && p[2] <= 'z'))
				continue;
			for (p += 2; (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-';
			     p++) {
				if (*p == '-')
					*w++ = '\\';
				*w++ = *p;
			}
			*w = 0;
			snprintf(msg, sizeof(msg), "man page, %s: %s", cmds[i], want);
			ASSERT_STRCONTAINS(sec, want, msg);
		}
		free(sec);
		free(usage);
	}
	free(man);
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

/*
 * An option that has no effect without another is an error: exit 2 and one
 * line naming both, before the trace is read; with the other, it is accepted.
 */
static void test_cli_options_need_others(void)
{
	static const struct { const char *args, *msg, *with; } cases[] = {
		{ "--trials 5", "--trials has no effect without --explore", "--explore" },
		{ "-n 5", "--trials has no effect without --explore", "--explore" },
		{ "--pairs 2", "--pairs has no effect without --explore", "--explore" },
		{ "--window 50", "--window has no effect without --explore", "--explore" },
		{ "--perturb migrate", "--perturb has no effect without --explore", "--explore" },
		{ "--shard 1/2", "--shard has no effect without --explore", "--explore" },
		{ "--jobs 2", "--jobs has no effect without --explore", "--explore" },
		{ "--explore --jobs 2 --shard 1/2", "--jobs runs the shards of one explore at once, "
		  "--shard one of them", NULL },
		{ "--explore --jobs 0", "--jobs needs a number of at least 1, not '0'", NULL },
		{ "--mem 1G", "--mem has no effect without --kernel", "--kernel /nonexistent" },
		{ "--cpus 4", "--cpus has no effect without --kernel", "--kernel /nonexistent" },
		{ "--accel tcg", "--accel has no effect without --kernel", "--kernel /nonexistent" },
		{ "--icount 3", "--icount has no effect without --kernel", "--kernel /nonexistent" },
		{ "--modules /m", "--modules has no effect without --kernel", "--kernel /nonexistent" },
		{ "--vmlinux /v", "--vmlinux has no effect without --kernel", "--kernel /nonexistent" },
		{ "--explore --pair 1,2", "--pair replays one trial, --explore many", NULL },
		{ "--explore --order free", "--explore and --pair need --order recorded", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *err;

		ASSERT_EQ(run_cmd(NULL, tmp_path("err"), "%s replay %s %s", mmreplay_bin(),
				  tmp_path("none.trace"), cases[i].args), 2, cases[i].args);
		err = slurp(tmp_path("err"));
		ASSERT_STRCONTAINS(err, cases[i].msg, cases[i].args);
		ASSERT_EQ(count_lines(err), 1, "one line");
		free(err);
		if (!cases[i].with)
			continue;
		run_cmd(NULL, tmp_path("err"), "%s replay %s %s %s", mmreplay_bin(),
			tmp_path("none.trace"), cases[i].args, cases[i].with);
		err = slurp(tmp_path("err"));
		ASSERT_TRUE(!strstr(err, "no effect"), cases[i].with);
		ASSERT_STRCONTAINS(err, "none.trace", "then the trace is what is missing");
		free(err);
	}
}

/* "key   value" line of info's text output, value copied to buf */
static const char *info_line(const char *out, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s ", key);
	p = strstr(out, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	p += strspn(p, " ");
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

/*
 * `mmreplay record -q ARGS` into @trace, which exits @status (the command's,
 * as perf record does), then `info` of it (caller frees).
 */
static char *record_info(const char *trace, const char *args, int status)
{
	ASSERT_EQ(run_cmd(NULL, NULL, "%s record -q -o %s %s", mmreplay_bin(), trace, args), status,
		  args);
	run_cmd(tmp_path("info"), NULL, "%s info %s", mmreplay_bin(), trace);
	return slurp(tmp_path("info"));
}

/*
 * info: duration, the command's exit status (a number, a signal, or "not
 * recorded" with the reason for -p), drops per CPU, -p's command line.
 */
static void test_cli_info(void)
{
	char buf[256], *out;

	if (geteuid()) {
		test_skip("record needs root");
		return;
	}
	out = record_info(tmp_path("e.trace"), "-- sh -c 'sleep 0.2; exit 3'", 3);
	ASSERT_STRCONTAINS(info_line(out, "exit_status", buf, sizeof(buf)), "3", "exit status 3");
	info_line(out, "duration", buf, sizeof(buf));
	ASSERT_TRUE(atof(buf) >= 0.2 && atof(buf) < 30 && strstr(buf, " s"), "duration >= 0.2 s");
	ASSERT_STRCONTAINS(info_line(out, "drops", buf, sizeof(buf)), "0 (0 on each of ",
			   "drops per CPU");
	free(out);
	ASSERT_EQ(run_cmd(NULL, NULL, "%s info --json %s | jq -e '.exit_status == 3 and "
			  ".exit_signal == null and .duration_ns > 200000000 and (.drops_per_cpu | "
			  "length) > 0'", mmreplay_bin(), tmp_path("e.trace")), 0, "info --json");
	out = record_info(tmp_path("k.trace"), "-- sh -c 'kill -9 $$'", 128 + 9);
	ASSERT_STRCONTAINS(info_line(out, "exit_status", buf, sizeof(buf)), "killed by signal 9",
			   "killed");
	free(out);
	/* 3 s: the BPF load took 1.5 s on a loaded 2-CPU host */
	out = record_info(tmp_path("p.trace"), "-p $(sleep 3 >/dev/null & echo $!)", 0);
	ASSERT_STRCONTAINS(info_line(out, "command", buf, sizeof(buf)), "sleep 3",
			   "-p: the command line from /proc");
	ASSERT_STRCONTAINS(info_line(out, "exit_status", buf, sizeof(buf)), "not recorded (-p ",
			   "-p: no exit status, and why");
	free(out);
	/* a -p target that exited (a zombie here: nobody reaped it) is refused, not waited on */
	ASSERT_EQ(run_cmd(NULL, tmp_path("gone.err"), "p=$(sh -c 'sleep 0.01 & echo $!'); "
			  "sleep 0.3; %s record -q -o %s -p $p", mmreplay_bin(), tmp_path("g.trace")),
		  2, "-p of an exited process: exit 2");
	out = slurp(tmp_path("gone.err"));
	ASSERT_TRUE(out && strstr(out, "no such process") && count_lines(out) == 1,
		    "one error line: no such process");
	free(out);
}

/* One count of events, snapshot records included: record's summary, info, show, check. */
static void test_cli_events_agree(void)
{
	char buf[256], want[128], *out;
	long events, snaps;

	if (geteuid()) {
		test_skip("record needs root");
		return;
	}
	ASSERT_EQ(run_cmd(NULL, tmp_path("rec"), "%s record -s -o %s -- sh -c 'sleep 0.1'",
			  mmreplay_bin(), tmp_path("s.trace")), 0, "record --snapshot");
	run_cmd(tmp_path("info"), NULL, "%s info %s", mmreplay_bin(), tmp_path("s.trace"));
	out = slurp(tmp_path("info"));
	events = atol(info_line(out, "events", buf, sizeof(buf)) ?: "0");
	ASSERT_GE(events, 100, "events");
	ASSERT_STRCONTAINS(out, "events_snapshot_vma=", "snapshot records counted");
	free(out);
	snprintf(want, sizeof(want), "recorded %ld events", events);
	out = slurp(tmp_path("rec"));
	ASSERT_STRCONTAINS(out, want, "record's summary: info's events");
	free(out);
	snprintf(want, sizeof(want), "grep -qx %ld", events);
	ASSERT_EQ(run_cmd(NULL, NULL, "%s show %s | wc -l | %s", mmreplay_bin(), tmp_path("s.trace"),
			  want), 0, "show: a line per event, info's events");
	out = slurp(tmp_path("rec"));
	snaps = atol(strstr(out, "snapshots ") ? strstr(out, "snapshots ") + 10 : "-1");
	free(out);
	ASSERT_GE(snaps, 1, "record --snapshot: snapshots of a process");
	snprintf(want, sizeof(want), "coverage (%ld events, %ld snapshots)", events, snaps);
	run_cmd(tmp_path("check"), NULL, "%s check %s", mmreplay_bin(), tmp_path("s.trace"));
	out = slurp(tmp_path("check"));
	ASSERT_STRCONTAINS(out, want, "check: record's events and snapshots");
	free(out);
}

#define NOBODY "setpriv --reuid=65534 --regid=65534 --clear-groups"

/*
 * probes as uid 65534 without capabilities: no kind available, each says
 * the capability it lacks (tracepoint kinds also tracefs's mode, where
 * it is 0700), in text and JSON.
 */
static void test_cli_probes_unprivileged(void)
{
	struct stat st;
	char *out;

	if (geteuid() || run_cmd(NULL, NULL, "command -v setpriv")) {
		test_skip("needs root and setpriv to become uid 65534");
		return;
	}
	ASSERT_EQ(run_cmd(tmp_path("out"), NULL, NOBODY " %s probes", mmreplay_bin()), 0, "probes");
	out = slurp(tmp_path("out"));
	ASSERT_STRCONTAINS(out, "\n0 of ", "no kind available");
	ASSERT_TRUE(!strstr(out, " ok\n") && !strstr(out, " ok ("), "no kind says ok");
	ASSERT_STRCONTAINS(out, "no CAP_BPF / CAP_PERFMON (uid 65534)", "names the capabilities");
	ASSERT_STRCONTAINS(out, "/proc/kpageflags (Permission denied): needs CAP_SYS_ADMIN",
			   "snapshots: names the capability");
	if (!stat("/sys/kernel/tracing", &st) && !(st.st_mode & 077))
		ASSERT_STRCONTAINS(out, "tracefs /sys/kernel/tracing is mode 0700",
				   "tracefs: its mode, not 'unmounted'");
	ASSERT_TRUE(!strstr(out, "not mounted"), "tracefs is mounted");
	free(out);
	ASSERT_EQ(run_cmd(tmp_path("out"), NULL, NOBODY " %s probes --json | jq -e "
			  "'length > 30 and all(.available | not) and "
			  "all(.status | test(\"CAP_BPF|CAP_SYS_ADMIN\"))'", mmreplay_bin()), 0,
		  "--json: none available, each names a capability");
	ASSERT_EQ(run_cmd(tmp_path("out"), NULL, NOBODY " %s probes --json --zz", mmreplay_bin()), 2,
		  "--json: an unknown option");
	ASSERT_EQ(run_cmd(NULL, NULL, "jq -e '.error | test(\"unknown option\")' %s",
			  tmp_path("out")), 0, "--json: the error as {\"error\": ...}");
}

/*
 * With CAP_BPF and CAP_PERFMON but not root (tracefs unreadable), every
 * kind probes calls ok can be recorded.
 */
static void test_cli_probes_ok_records(void)
{
	char *out, kinds[2048] = "";

	if (geteuid() || run_cmd(NULL, NULL, "command -v setpriv")) {
		test_skip("needs root and setpriv to become uid 65534");
		return;
	}
	ASSERT_EQ(run_cmd(tmp_path("ok"), NULL, NOBODY " --inh-caps +bpf,+perfmon --ambient-caps "
			  "+bpf,+perfmon %s probes --json | jq -r '[.[] | select(.available) | "
			  ".kind] | join(\",\")'", mmreplay_bin()), 0, "probes with CAP_BPF");
	out = slurp(tmp_path("ok"));
	snprintf(kinds, sizeof(kinds), "%.*s", (int)strcspn(out, "\n"), out);
	free(out);
	if (!kinds[0]) {
		test_skip("no kind available with CAP_BPF and CAP_PERFMON on this kernel");
		return;
	}
	ASSERT_STRCONTAINS(kinds, "sys_enter", "tp_btf kinds load with CAP_BPF");
	ASSERT_EQ(run_cmd(NULL, tmp_path("err"), "chmod 777 %s && " NOBODY " --inh-caps "
			  "+bpf,+perfmon --ambient-caps +bpf,+perfmon %s record -q -e %s -o %s -- "
			  "/bin/true", tmp_path(""), mmreplay_bin(), kinds, tmp_path("ok.trace")), 0,
		  "record -e (every kind probes said ok)");
}

int main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		TEST(test_cli_help),
		TEST(test_cli_version),
		TEST(test_cli_verbose_anywhere),
		TEST(test_cli_short_flags),
		TEST(test_cli_man_lists_options),
		TEST(test_cli_options_need_others),
		TEST(test_cli_info),
		TEST(test_cli_events_agree),
		TEST(test_cli_probes_unprivileged),
		TEST(test_cli_probes_ok_records),
	};
	int ret = run_tests(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);

	tmp_cleanup();
	return ret;
}
