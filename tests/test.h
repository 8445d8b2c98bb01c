/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny test_progs-style harness: tests named test_X, ASSERT macros that
 * log by name, skip with a reason, and a closing "N passed, N failed,
 * N skipped" line.
 */
#ifndef MMR_TEST_H
#define MMR_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

static int test_failed, test_skipped;
static char test_skip_reason[600];

#define test_skip(...)                                                          \
	do {                                                                   \
		snprintf(test_skip_reason, sizeof(test_skip_reason), __VA_ARGS__); \
		test_skipped = 1;                                              \
	} while (0)

#define ASSERT_FAIL_(name, fmt, ...)                                            \
	do {                                                                   \
		printf("  %s:%d: %s: " fmt "\n", __func__, __LINE__, name, __VA_ARGS__); \
		test_failed = 1;                                               \
	} while (0)

#define ASSERT_TRUE(cond, name)                                                 \
	({ int ok_ = !!(cond); if (!ok_) { ASSERT_FAIL_(name, "%s is false", #cond); } ok_; })
#define ASSERT_EQ(a, b, name)                                                   \
	({ long long a_ = (long long)(a), b_ = (long long)(b); int ok_ = a_ == b_;  \
	   if (!ok_) { ASSERT_FAIL_(name, "%lld != expected %lld", a_, b_); } ok_; })
#define ASSERT_GE(a, b, name)                                                   \
	({ long long a_ = (long long)(a), b_ = (long long)(b); int ok_ = a_ >= b_;  \
	   if (!ok_) { ASSERT_FAIL_(name, "%lld < expected minimum %lld", a_, b_); } ok_; })
#define ASSERT_OK_PTR(p, name)                                                  \
	({ int ok_ = (p) != NULL; if (!ok_) { ASSERT_FAIL_(name, "%s is NULL", #p); } ok_; })
#define ASSERT_STRCONTAINS(s, sub, name)                                        \
	({ const char *s_ = (s); int ok_ = s_ && strstr(s_, sub);                  \
	   if (!ok_) { ASSERT_FAIL_(name, "\"%s\" does not contain \"%s\"", s_ ? s_ : "(null)", sub); } ok_; })

static inline int run_tests(const struct test_case *tests, int n, int argc, char **argv)
{
	int pass = 0, fail = 0, skip = 0;

	for (int i = 0; i < n; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		test_failed = test_skipped = 0;
		test_skip_reason[0] = 0;
		fflush(stdout);
		tests[i].fn();
		if (test_failed) {
			printf("#%d %s:FAIL\n", i + 1, tests[i].name);
			fail++;
		} else if (test_skipped) {
			printf("#%d %s:SKIP (%s)\n", i + 1, tests[i].name, test_skip_reason);
			skip++;
		} else {
			printf("#%d %s:OK\n", i + 1, tests[i].name);
			pass++;
		}
		fflush(stdout);
	}
	printf("Summary: %d passed, %d failed, %d skipped\n", pass, fail, skip);
	return fail ? 1 : 0;
}

#define TEST(fn) { #fn, fn }

#endif
