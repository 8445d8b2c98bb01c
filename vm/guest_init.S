/* SPDX-License-Identifier: GPL-2.0 */
/* vm/guest-init.sh, linked into mmreplay as vm_guest_init[] (vm.h). */
	.section .rodata
	.global vm_guest_init
	.global vm_guest_init_len
vm_guest_init:
	.incbin "vm/guest-init.sh"
vm_guest_init_end:
	.byte 0
	.balign 4
vm_guest_init_len:
	.int vm_guest_init_end - vm_guest_init
	.section .note.GNU-stack,"",@progbits
