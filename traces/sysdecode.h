/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Syscall arguments and results as strace prints them, from the argument
 * types in syscalls.h: only the arguments a syscall has, flags and enums by
 * name (PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, MADV_PAGEOUT),
 * addresses in hex, errors by errno name (-ENOMEM).  x86_64 values: the
 * traces mmreplay records are of x86_64 kernels.
 */
#ifndef MMR_SYSDECODE_H
#define MMR_SYSDECODE_H

#include <stddef.h>
#include <linux/types.h>

/*
 * How many arguments syscall @nr has with these values (open's mode only
 * with O_CREAT or O_TMPFILE); 6 for a syscall not in the table.
 */
int sys_arg_count(int nr, const __u64 args[6]);
/* Argument @i of syscall @nr, e.g. "NULL", "8192", "PROT_READ|PROT_WRITE". */
void sys_arg_text(int nr, const __u64 args[6], int i, char *buf, size_t len);
/* The whole call: "mmap(NULL, 8192, PROT_READ|PROT_WRITE, ...)". */
void sys_call_text(int nr, const __u64 args[6], char *buf, size_t len);
/* A result: "-ENOMEM", "0x7f0000000000" (an address), "3". */
void sys_ret_text(int nr, long long ret, char *buf, size_t len);
/* "ENOMEM" for 12; NULL for a number that is no errno. */
const char *sys_errno_name(int err);

#endif
