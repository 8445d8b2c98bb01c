/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one growable array helper, header-only so that every folder (vm/ and
 * the guest's programs too) can use it without linking the trace library.
 */
#ifndef MMR_GROW_H
#define MMR_GROW_H

#include <stdlib.h>
#include <string.h>

/*
 * Grows arr (cap elements of size bytes) to hold need, doubling from cap or
 * first; NULL if out of memory (arr is then still valid, *cap unchanged).
 */
static inline void *mmr_grow(void *arr, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t n = *cap ? *cap : first ? first : 1;

	if (need <= *cap)
		return arr;
	while (n < need)
		n *= 2;
	arr = realloc(arr, n * size);
	if (arr)
		*cap = n;
	return arr;
}

/*
 * The same for the array pointer at @arrp (any T **): 0, or -1 if out of
 * memory (the array is then unchanged).
 */
static inline int mmr_grow_ptr(void *arrp, size_t *cap, size_t need, size_t size, size_t first)
{
	void *arr, *q;

	memcpy(&arr, arrp, sizeof(arr));
	if (!(q = mmr_grow(arr, cap, need, size, first)))
		return -1;
	memcpy(arrp, &q, sizeof(q));
	return 0;
}

#endif /* MMR_GROW_H */
