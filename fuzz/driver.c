// SPDX-License-Identifier: GPL-2.0
/*
 * The harness without libFuzzer: runs each file given once through
 * LLVMFuzzerTestOneInput, for the crash regression test (built with
 * ASan/UBSan by any compiler that has them).  A crash aborts the process;
 * a file that cannot be read is an error (exit 2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* what libFuzzer's -rss_limit_mb=2048 does to one huge malloc: an error */
const char *__asan_default_options(void)
{
	return "max_allocation_size_mb=2048:allocator_may_return_null=0";
}

static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n;

	if (!f)
		return NULL;
	*size = 0;
	do {
		unsigned char *nb;

		cap = cap ? 2 * cap : 65536;
		nb = realloc(buf, cap);
		if (!nb) {
			free(buf);
			fclose(f);
			return NULL;
		}
		buf = nb;
		n = fread(buf + *size, 1, cap - *size, f);
		*size += n;
	} while (*size == cap);
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	FILE *log = fdopen(dup(2), "w");

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		size_t size;
		unsigned char *data = slurp(argv[i], &size);

		if (!data) {
			fprintf(log, "trace_fuzz_run: cannot read %s\n", argv[i]);
			return 2;
		}
		LLVMFuzzerTestOneInput(data, size);
		free(data);
		fprintf(log, "trace_fuzz_run: %s: ok\n", argv[i]);
		fflush(log);
	}
	return 0;
}
