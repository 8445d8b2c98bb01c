/* SPDX-License-Identifier: GPL-2.0 */
/* fuzz/corpus/plain.trace, linked into the harness as the other side of diff. */
	.section .rodata
	.global fuzz_ref_trace
	.global fuzz_ref_trace_len
fuzz_ref_trace:
	.incbin "fuzz/corpus/plain.trace"
fuzz_ref_trace_end:
	.balign 8
fuzz_ref_trace_len:
	.quad fuzz_ref_trace_end - fuzz_ref_trace
	.section .note.GNU-stack,"",@progbits
