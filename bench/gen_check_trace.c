// SPDX-License-Identifier: GPL-2.0
/*
 * Writes a large synthetic trace for bench/check-throughput: a process
 * whose threads fault, change rss counters and call mlock/munlock and
 * madvise, with a 2048-page snapshot after every 50000th event.
 * usage: gen_check_trace FILE NR_EVENTS
 */
#include "tests/tracebuild.h"

#define A 0x7f0000000000ULL
#define SNAP_EVERY 50000
#define SNAP_PAGES 2048

static void snapshot(struct tb *b, long anon)
{
	tb_snap(b, 149, tb_counters(anon, -1, 0));
	tb_vma(b, A, A + SNAP_PAGES * 4096ULL, MMR_VMA_READ | MMR_VMA_WRITE | MMR_VMA_LOCKED |
	       MMR_VMA_ANON, 0, 0, "");
	for (int i = 0; i < SNAP_PAGES; i++)
		tb_page(b, A + i * 4096ULL, TB_PRESENT(0x100000 + i),
			MMR_PF_MLOCKED | MMR_PF_UNEVICTABLE | MMR_PF_ANON, 1);
	tb_snap_end(b, tb_counters(anon, -1, 0));
}

int main(int argc, char **argv)
{
	unsigned char fault[48] = { 0 };
	long long n = argc > 2 ? atoll(argv[2]) : 10000000, i = 0;
	long anon = 0;
	struct tb b;

	if (argc < 3 || tb_open(&b, argv[1], "6.18.0", 1000, 0x1234567)) {
		fprintf(stderr, "usage: gen_check_trace FILE NR_EVENTS\n");
		return 2;
	}
	while (i < n) {
		b.tid = 1000 + i % 4;
		switch (i % 8) {
		case 0: case 1: case 2:
			tb_put(&b, MMR_K_PAGE_FAULT_USER, fault, sizeof(fault));
			i++;
			break;
		case 3: case 4:
			tb_rss(&b, 1, ++anon % 4096);
			i++;
			break;
		case 5:
			tb_sys(&b, 149, A, 4096, 0, 0, 0, NULL);
			i += 2;
			break;
		default:
			tb_sys(&b, 28, A + 8192, 4096, 21, 0, 0, NULL);
			i += 2;
			break;
		}
		if (i % SNAP_EVERY < 2 && i > 2) {
			anon = 0;
			tb_rss(&b, 1, 0);
			b.tid = 1000;
			snapshot(&b, 0);
			i += 3 + SNAP_PAGES / MMR_SNAP_PAGES_MAX + 1;
		}
	}
	return tb_close(&b) ? 1 : 0;
}
