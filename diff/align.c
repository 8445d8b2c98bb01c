// SPDX-License-Identifier: GPL-2.0
/*
 * Myers' O(ND) difference algorithm ("An O(ND) Difference Algorithm and Its
 * Variations", 1986), with the common prefix and suffix taken off first:
 * aligns the ops of two tasks, and the events of two ops.
 */
#include <stdlib.h>
#include <string.h>
#include "diff.h"

struct script {
	struct dstep *s;
	long n;
};

static void put(struct script *sc, long i, long j)
{
	sc->s[sc->n++] = (struct dstep){ i, j };
}

/*
 * The furthest x reached on each diagonal k after d edits, for every d:
 * hist[d] holds 2d+1 values, for k = -d .. d.
 */
static long *hist_row(long *hist, long d)
{
	return hist + d * d;	/* rows 0..d-1 hold sum(2i+1) = d*d values */
}

/* Forward pass; returns the number of edits, or -1 past max_d. */
static long forward(const __u32 *a, long n, const __u32 *b, long m, long max_d, long *hist)
{
	for (long d = 0; d <= max_d; d++) {
		long *v = hist_row(hist, d), *pv = d ? hist_row(hist, d - 1) : NULL;

		for (long k = -d; k <= d; k += 2) {
			long x, y;

			if (d == 0)
				x = 0;
			else if (k == -d || (k != d && pv[k - 1 + d - 1] < pv[k + 1 + d - 1]))
				x = pv[k + 1 + d - 1];		/* down: b[y] inserted */
			else
				x = pv[k - 1 + d - 1] + 1;	/* right: a[x] deleted */
			y = x - k;
			while (x < n && y < m && a[x] == b[y])
				x++, y++;
			v[k + d] = x;
			if (x >= n && y >= m)
				return d;
		}
	}
	return -1;
}

/* Walks back from (n, m) and writes the steps in order from the end. */
static void backward(long n, long m, long D, long *hist, long off, struct script *sc)
{
	long x = n, y = m;

	for (long d = D; d > 0; d--) {
		long k = x - y, *pv = hist_row(hist, d - 1), pk, px, py;
		int down = k == -d || (k != d && pv[k - 1 + d - 1] < pv[k + 1 + d - 1]);

		pk = down ? k + 1 : k - 1;
		px = pv[pk + d - 1];
		py = px - pk;
		/* the snake after the edit starts at (px, py + 1) or (px + 1, py) */
		while (x > px + !down && y > py + down)
			x--, y--, put(sc, off + x, off + y);
		if (down)
			put(sc, -1, off + py);
		else
			put(sc, off + px, -1);
		x = px, y = py;
	}
	while (x > 0 && y > 0)
		x--, y--, put(sc, off + x, off + y);
}

long dalign(const __u32 *a, size_t na, const __u32 *b, size_t nb, long max_d,
	    struct dstep **steps)
{
	long pre = 0, suf = 0, n, m, d;
	struct script sc = { calloc(na + nb + 1, sizeof(struct dstep)), 0 };
	long *hist;

	*steps = sc.s;
	if (!sc.s)
		return -2;
	while (pre < (long)na && pre < (long)nb && a[pre] == b[pre])
		pre++;
	while (suf < (long)na - pre && suf < (long)nb - pre && a[na - 1 - suf] == b[nb - 1 - suf])
		suf++;
	n = na - pre - suf, m = nb - pre - suf;
	if (max_d > n + m)
		max_d = n + m;
	hist = calloc((max_d + 1) * (max_d + 1) + 1, sizeof(*hist));
	if (!hist)
		return -2;
	d = forward(a + pre, n, b + pre, m, max_d, hist);
	if (d < 0) {
		free(hist);
		return -1;
	}
	for (long i = 0; i < suf; i++)	/* written from the end, reversed below */
		put(&sc, na - 1 - i, nb - 1 - i);
	backward(n, m, d, hist, pre, &sc);
	for (long i = pre; i-- > 0;)
		put(&sc, i, i);
	free(hist);
	for (long i = 0; i < sc.n / 2; i++) {
		struct dstep t = sc.s[i];

		sc.s[i] = sc.s[sc.n - 1 - i];
		sc.s[sc.n - 1 - i] = t;
	}
	return sc.n;
}
