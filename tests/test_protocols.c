// SPDX-License-Identifier: GPL-2.0
/*
 * The text files between mmreplay's processes, each written by its writer
 * and read back by its reader: the replay's runs and results
 * (replay/results.c), the guest's command and facts (vm/guest.c) and the
 * MMRFILE stream that brings the guest's /out back (vm/send.c).
 */
#include "test.h"
#include "testlib.h"
#include "replay/results.h"
#include "vm/vm.h"

static void test_runs_round_trip(void)
{
	struct rrun in[3] = { { -1, -1, 1, 0 }, { 4, 9, 0xffffffffffffffffULL, 0 },
			      { 7, -1, 42, PERTURB_MIGRATE } }, *out = NULL;
	unsigned kinds;
	int n;

	ASSERT_EQ(runs_write(tmp_path("runs"), in, 3, 1u << PERTURB_COMPACT), 0, "runs written");
	n = runs_read(tmp_path("runs"), &out, &kinds);
	ASSERT_EQ(kinds, 1u << PERTURB_COMPACT, "the kinds to calibrate read back");
	if (!ASSERT_EQ(n, 3, "every run read back"))
		return;
	for (int i = 0; i < 3; i++)
		ASSERT_TRUE(out[i].a == in[i].a && out[i].b == in[i].b && out[i].seed == in[i].seed &&
			    out[i].perturb == in[i].perturb, "a run reads back as written");
	free(out);
	ASSERT_EQ(runs_write(tmp_path("runs0"), in, 3, 0), 0, "runs without kinds written");
	ASSERT_EQ(runs_read(tmp_path("runs0"), &out, &kinds), 3, "read back");
	ASSERT_EQ(kinds, 0, "no kinds");
	free(out);
	ASSERT_EQ(runs_read(tmp_path("no-such-runs"), &out, NULL), -1, "a missing runs file is -1");
}

static void test_results_round_trip(void)
{
	struct run_result r[2] = { 0 }, back[3];
	struct perturb_caps c = { 0 }, cb;
	FILE *f = fopen(tmp_path("results"), "w");
	int n;

	if (!ASSERT_OK_PTR(f, "results file"))
		return;
	c.ok = 1u << PERTURB_RECLAIM;
	snprintf(c.how[PERTURB_RECLAIM], sizeof(c.how[0]), "process_madvise(MADV_PAGEOUT)");
	snprintf(c.why[PERTURB_MIGRATE], sizeof(c.why[0]), "one NUMA node");
	results_caps_write(f, &c);
	r[0].run = (struct rrun){ -1, -1, 7, 0 };
	r[0].st = (struct rstats){ .ops = 109, .skipped = 3, .touches = 85, .stuck = -1,
				   .perturb_at_ns = -1500, .elapsed_ns = 95000000 };
	snprintf(r[0].st.first_divergence[1], sizeof(r[0].st.first_divergence[1]),
		 "op 5\tmmap: -12\nnot 0");
	r[1].run = (struct rrun){ 3, -1, 9, PERTURB_RECLAIM };
	r[1].st.perturbed = 1;
	snprintf(r[1].err, sizeof(r[1].err), "stuck at op 12\twaiting");
	ASSERT_EQ(results_write(f, &r[0]), 0, "first run written");
	ASSERT_EQ(results_write(f, &r[1]), 0, "second run written");
	fclose(f);

	memset(back, 0, sizeof(back));
	n = results_read(tmp_path("results"), back, 3);
	if (!ASSERT_EQ(n, 2, "both runs read back, past the #perturb lines"))
		return;
	ASSERT_TRUE(back[0].run.a == -1 && back[0].run.seed == 7 && back[0].st.ops == 109 &&
		    back[0].st.skipped == 3 && back[0].st.touches == 85 && back[0].st.stuck == -1 &&
		    back[0].st.perturb_at_ns == -1500 && back[0].st.elapsed_ns == 95000000,
		    "the counters read back as written");
	ASSERT_TRUE(!back[0].err[0] && !back[0].st.first_divergence[0][0] &&
		    !strcmp(back[0].st.first_divergence[1], "op 5 mmap: -12 not 0") &&
		    !back[0].st.first_divergence[2][0],
		    "empty text fields stay empty; tabs and newlines in one become spaces");
	ASSERT_TRUE(back[1].run.perturb == PERTURB_RECLAIM && back[1].st.perturbed == 1 &&
		    !strcmp(back[1].err, "stuck at op 12 waiting"), "a perturbed run and its error");
	results_caps_read(tmp_path("results"), &cb);
	ASSERT_EQ(cb.ok, c.ok, "the perturbations that could run");
	ASSERT_TRUE(!strcmp(cb.how[PERTURB_RECLAIM], c.how[PERTURB_RECLAIM]) &&
		    !strcmp(cb.why[PERTURB_MIGRATE], c.why[PERTURB_MIGRATE]),
		    "how each ran, why the others could not");
}

/* The budget ended after one run: the results say from which run on none was started. */
static void test_results_stopped(void)
{
	struct run_result r = { .run = { 4, 9, 11, 0 } }, back[3];
	FILE *f = fopen(tmp_path("stopped"), "w");

	if (!ASSERT_OK_PTR(f, "results file"))
		return;
	ASSERT_EQ(results_stopped(tmp_path("stopped")), -1, "no #stopped line: every run started");
	results_write(f, &r);
	results_stopped_write(f, 1, "budget");
	fclose(f);
	ASSERT_EQ(results_read(tmp_path("stopped"), back, 3), 1, "the run that ran reads back");
	ASSERT_EQ(results_stopped(tmp_path("stopped")), 1, "runs from 1 on were not started");
	ASSERT_EQ(results_stopped(tmp_path("no-such-results")), -1, "a missing file: -1");
}

static void fact(void *ctx, const char *key, const char *value)
{
	char *seen = ctx;

	snprintf(seen + strlen(seen), 512 - strlen(seen), "[%s|%s]", key, value);
}

static void test_guest_args_and_facts(void)
{
	const char *argv[] = { "-v", "replay", "a b", "", NULL }, *bad[] = { "x\ny", NULL };
	char buf[64], seen[512] = "";
	FILE *f;

	ASSERT_EQ(vm_args_write(buf, sizeof(buf), argv), 15, "the command's length");
	ASSERT_TRUE(!strcmp(buf, "-v\nreplay\na b\n\n"), "an argument a line, as guest-init.sh reads");
	ASSERT_EQ(vm_args_write(buf, sizeof(buf), bad), -1, "an argument with a newline is refused");
	ASSERT_EQ(vm_args_write(buf, 8, argv), -1, "a command that does not fit is refused");

	f = fopen(tmp_path("guest"), "w");
	if (!ASSERT_OK_PTR(f, "facts file"))
		return;
	fprintf(f, "kernel=6.1.0\nnot a fact\nswap=zram0 256M\nstatus=0\n");
	fclose(f);
	ASSERT_EQ(vm_facts_read(tmp_path(""), fact, seen), 0, "the facts are read");
	ASSERT_TRUE(!strcmp(seen, "[kernel|6.1.0][swap|zram0 256M][status|0]"),
		    "each key=value line, the others left out");
	ASSERT_EQ(vm_facts_read(tmp_path("no-such-dir"), fact, seen), -1, "no facts file is -1");
}

static void test_mmrfile_stream(void)
{
	FILE *f = fopen(tmp_path("stream"), "w");
	char *a, *b;

	if (!ASSERT_OK_PTR(f, "stream file"))
		return;
	fprintf(f, "MMRFILE 6 results\nline\n\nMMRFILE 0 empty\nMMREND\n");
	fclose(f);
	mkdir(tmp_path("out"), 0700);
	ASSERT_EQ(vm_unpack(tmp_path("stream"), tmp_path("out")), 0, "a complete stream unpacks");
	a = slurp(tmp_path("out/results"));
	b = slurp(tmp_path("out/empty"));
	ASSERT_TRUE(a && !strcmp(a, "line\n\n"), "a file's bytes, newlines and all");
	ASSERT_TRUE(!access(tmp_path("out/empty"), F_OK) && b && !b[0], "an empty file");
	free(a);
	free(b);
	f = fopen(tmp_path("torn"), "w");
	if (f) {
		fprintf(f, "MMRFILE 6 results\nline\n\n");	/* no MMREND */
		fclose(f);
	}
	ASSERT_EQ(vm_unpack(tmp_path("torn"), tmp_path("out")), -1, "a stream without its end is none");
	f = fopen(tmp_path("escape"), "w");
	if (f) {
		fprintf(f, "MMRFILE 2 ../x\nabMMREND\n");
		fclose(f);
	}
	ASSERT_EQ(vm_unpack(tmp_path("escape"), tmp_path("out")), -1, "a name with a / is refused");
}

int main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		TEST(test_runs_round_trip),
		TEST(test_results_round_trip),
		TEST(test_results_stopped),
		TEST(test_guest_args_and_facts),
		TEST(test_mmrfile_stream),
	};
	int ret = run_tests(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);

	tmp_cleanup();
	return ret;
}
