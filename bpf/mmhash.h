/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Keyed hash of a kernel pointer (SipHash-2-4 of one 64-bit word), used to
 * name an mm in a trace without leaking its address.  The 128-bit key is
 * drawn at random by the recorder for each recording and never written to
 * the trace.  Compiled into the BPF object and into userspace alike.
 */
#ifndef MMR_MMHASH_H
#define MMR_MMHASH_H

#define MMR_ROTL(x, b) (__u64)(((x) << (b)) | ((x) >> (64 - (b))))
#define MMR_SIPROUND                                                   \
	do {                                                           \
		v0 += v1; v1 = MMR_ROTL(v1, 13); v1 ^= v0;            \
		v0 = MMR_ROTL(v0, 32);                                 \
		v2 += v3; v3 = MMR_ROTL(v3, 16); v3 ^= v2;            \
		v0 += v3; v3 = MMR_ROTL(v3, 21); v3 ^= v0;            \
		v2 += v1; v1 = MMR_ROTL(v1, 17); v1 ^= v2;            \
		v2 = MMR_ROTL(v2, 32);                                 \
	} while (0)

static inline __u64 mmr_keyed_hash(__u64 k0, __u64 k1, __u64 m)
{
	__u64 v0 = k0 ^ 0x736f6d6570736575ULL;
	__u64 v1 = k1 ^ 0x646f72616e646f6dULL;
	__u64 v2 = k0 ^ 0x6c7967656e657261ULL;
	__u64 v3 = k1 ^ 0x7465646279746573ULL;
	__u64 b = 8ULL << 56;
	__u64 h;

	if (!m)
		return 0;
	v3 ^= m;
	MMR_SIPROUND;
	MMR_SIPROUND;
	v0 ^= m;
	v3 ^= b;
	MMR_SIPROUND;
	MMR_SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	MMR_SIPROUND;
	MMR_SIPROUND;
	MMR_SIPROUND;
	MMR_SIPROUND;
	h = v0 ^ v1 ^ v2 ^ v3;
	return h ? h : 1;
}

#endif /* MMR_MMHASH_H */
