/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Facts about the running kernel that change what a workload's memory
 * does, beyond its release: `record` writes them into a trace's META, and
 * a replay on another kernel compares them with its own.
 */
#ifndef MMR_HOST_H
#define MMR_HOST_H

#include <stddef.h>

/*
 * The bracketed choice of a sysfs mode file ("always [madvise] never")
 * into @buf, or NULL: the kernel has no such file.
 */
const char *mmr_host_mode(const char *path, char *buf, size_t len);

/*
 * The transparent hugepage mode files, under MMR_THP_DIR: a trace's META
 * keeps each as thp_NAME (thp_enabled...), a guest is set to them.
 */
#define MMR_THP_DIR "/sys/kernel/mm/transparent_hugepage"
#define MMR_THP_NR 3
extern const char *const mmr_thp_files[MMR_THP_NR];

/*
 * What a read fault on never-written private anonymous memory maps here:
 * 1 the shared zero page (no rss; its PFN into *@pfn if not NULL), 0 a
 * page of its own (MM_ANONPAGES +1: mm_forbids_zeropage(), s390 guests
 * with PGSTE, PVM guests), -1 unknown (pagemap shows no PFNs).  Measured
 * on two pages of our own.
 */
int mmr_host_read_fault_zero_page(unsigned long long *pfn);
/* The PFN of the page at @addr from pagemap file @fd (ours), 0 if none or not shown. */
unsigned long long mmr_host_pfn(int fd, const void *addr);
/* The PFN of a pagemap entry, 0 if the page is not present. */
unsigned long long mmr_pagemap_pfn(unsigned long long entry);

#endif
