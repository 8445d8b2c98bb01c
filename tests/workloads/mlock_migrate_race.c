// SPDX-License-Identifier: GPL-2.0
/*
 * mlock() and munlock() of a fresh anonymous region, round after round;
 * optionally ("migrate") with a second thread that moves the region's last
 * TAIL pages to the other NUMA node with move_pages(2) while the mlock()
 * runs: one move_pages call per round, started just before the mlock, and
 * finished before the munlock.  Or ("reclaim") with a second thread that
 * asks the root memory cgroup to reclaim the region's size (cgroup v2
 * memory.reclaim, needs swap) as each mlock() starts; the munlock() then
 * follows the mlock() at once, while that reclaim may still run.
 *
 * Self-check, with /proc/self/pagemap and /proc/kpageflags (needs root):
 *  - after each munlock(), a present page of the region that is still
 *    PG_mlocked although no VMA locks it any more is a stranded mlock:
 *    a violation;
 *  - after each mlock(), a present page that is not PG_mlocked although
 *    its VMA is VM_LOCKED (a lost mlock) is counted and reported too.
 * A suspect page is read again after a pause (same PFN still mapped), so
 * that a page in the middle of a migration, or an mlock or munlock still
 * queued in another CPU's mlock pagevec, is not counted.
 *
 * What the race needs (6.1): mlock_vma_pages_range() sets VM_LOCKED, then
 * walks the page tables in address order, mlocking each present page.  A
 * page that migration maps back (remove_migration_pte() ->
 * page_add_anon_rmap() -> mlock_vma_page()) after VM_LOCKED is set but
 * before the walk reaches it must not be mlocked twice; the clean kernel
 * hides VM_LOCKED behind VM_IO during the walk for this.  The tail pages
 * are at the end of the region, so the walk reaches them last.  Serial
 * mode runs the same rounds without the second thread.  Reclaim's rmap
 * walk (folio_referenced_one()) must test VM_LOCKED under the page table
 * lock: one that tested it before a concurrent munlock() and mlocks the
 * page after it strands that page.
 *
 * usage: mlock_migrate_race [ITERATIONS [migrate|reclaim|serial [PAGES [TAIL]]]]
 *   ITERATIONS  rounds, each on a new region (default 30)
 *   migrate     with the move_pages thread (needs NUMA nodes 0 and 1);
 *               reclaim with the memory.reclaim thread (needs cgroup v2's
 *               memory controller: mounted at /sys/fs/cgroup if it is not);
 *               "serial" (the default) without either
 *   PAGES       region size in 4K pages (default 2048)
 *   TAIL        pages moved per round, the region's last ones (default 256)
 * Last line: "selfcheck: N iterations, K violations (...)", where K is the
 * number of rounds that stranded at least one page.  Exit status 1 if
 * K > 0, 2 on a setup error.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include "report.h"

#define KPF_UNEVICTABLE 18
#define KPF_MLOCKED 33
#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)		/* swap or migration entry */
#define PM_PFN_MASK ((1ULL << 55) - 1)
#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE (1 << 1)
#endif

static long ps;
static size_t npages = 2048, tail = 256;
static char *region;
static atomic_int requested, served, stop;	/* one move_pages call per request */
static long moved;				/* pages move_pages moved (migrator only) */
static int pagemap_fd, kpageflags_fd;
static unsigned char *suspect;
static int reclaim_fd = -1;
static long reclaims;				/* memory.reclaim writes (reclaimer only) */

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* best effort */
}

/* Moves the tail of region to the node its first page is not on, on request. */
static void *migrator(void *arg)
{
	void **pages = calloc(tail, sizeof(*pages));
	int *nodes = calloc(tail, sizeof(*nodes));
	int *status = calloc(tail, sizeof(*status));
	int done = 0;

	pin(1);
	while (!atomic_load(&stop)) {
		int node = -1;

		if (atomic_load(&requested) == done) {
			sched_yield();
			continue;
		}
		for (size_t i = 0; i < tail; i++)
			pages[i] = region + (npages - tail + i) * ps;
		/* nodes == NULL: only query where the first page is */
		syscall(SYS_move_pages, 0, 1, pages, NULL, &node, 0);
		for (size_t i = 0; i < tail; i++)
			nodes[i] = node == 0 ? 1 : 0;
		if (syscall(SYS_move_pages, 0, tail, pages, nodes, status, MPOL_MF_MOVE) == 0)
			for (size_t i = 0; i < tail; i++)
				moved += status[i] == nodes[i];
		atomic_store(&served, ++done);
	}
	return NULL;
}

/* Asks the root memory cgroup to reclaim the region's size, on request. */
static void *reclaimer(void *arg)
{
	char v[32];
	int done = 0;

	pin(1);
	snprintf(v, sizeof(v), "%zu", npages * ps);
	while (!atomic_load(&stop)) {
		if (atomic_load(&requested) == done) {
			sched_yield();
			continue;
		}
		/*
		 * EAGAIN when less than asked could be reclaimed: the walk ran all
		 * the same; EINTR when a signal (record --snapshot stopping the
		 * process) came first: again
		 */
		ssize_t n;

		while ((n = pwrite(reclaim_fd, v, strlen(v), 0)) < 0 && errno == EINTR)
			;
		reclaims += n > 0 || errno == EAGAIN;
		atomic_store(&served, ++done);
	}
	return NULL;
}

static int open_reclaim(void)
{
	const char *path = "/sys/fs/cgroup/memory.reclaim";
	int fd = open(path, O_WRONLY);

	if (fd < 0 && mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) == 0)
		fd = open(path, O_WRONLY);
	if (fd < 0)
		perror(path);
	return fd;
}

/*
 * Wait until one of the first three quarters of the tail pages is a
 * migration entry: the migrator is then moving the tail, page after page,
 * without mmap_lock, and an mlock() started now runs alongside the rest.
 * Gives up when the migrator is done (or after 100000 looks).  1 if caught.
 */
static int wait_migration(char *r)
{
	size_t n = tail - tail / 4 ? tail - tail / 4 : 1;
	off_t off = ((uintptr_t)r / ps + npages - tail) * 8;
	uint64_t *e = calloc(n, 8);
	int caught = 0;

	for (int k = 0; !caught && k < 100000 && atomic_load(&served) != atomic_load(&requested); k++) {
		if (pread(pagemap_fd, e, n * 8, off) != (ssize_t)(n * 8))
			break;
		for (size_t i = 0; i < n && !caught; i++)
			caught = !(e[i] & PM_PRESENT) && (e[i] & PM_SWAP);
	}
	free(e);
	return caught;
}

static uint64_t pagemap_of(char *r, size_t i)
{
	uint64_t e = 0;

	if (pread(pagemap_fd, &e, 8, ((uintptr_t)r / ps + i) * 8) != 8)
		return 0;
	return e;
}

/*
 * kpageflags of page i of r, or ~0 if the page is not present or another
 * PFN after the read than before (a page migrated in between).
 */
static uint64_t mapped_flags(char *r, size_t i, uint64_t *pfn)
{
	uint64_t e = pagemap_of(r, i), f = 0;

	if (!(e & PM_PRESENT) || !(e & PM_PFN_MASK))
		return ~0ULL;
	if (pread(kpageflags_fd, &f, 8, (e & PM_PFN_MASK) * 8) != 8 || pagemap_of(r, i) != e)
		return ~0ULL;
	*pfn = e & PM_PFN_MASK;
	return f;
}

/* Present pages of r whose PG_mlocked is not want, twice, 2 ms apart. */
static size_t scan(char *r, int want, const char *what)
{
	size_t suspects = 0, bad = 0;
	uint64_t pfn, f;

	for (size_t i = 0; i < npages; i++) {
		f = mapped_flags(r, i, &pfn);
		suspect[i] = f != ~0ULL && !!(f & (1ULL << KPF_MLOCKED)) != want;
		suspects += suspect[i];
	}
	if (!suspects)
		return 0;
	usleep(2000);
	for (size_t i = 0; i < npages; i++) {
		if (!suspect[i])
			continue;
		f = mapped_flags(r, i, &pfn);
		if (f == ~0ULL || !!(f & (1ULL << KPF_MLOCKED)) == want)
			continue;
		if (bad++ < 2)
			fprintf(stderr, "%s: page %zu addr %p pfn 0x%llx kpageflags 0x%llx%s\n", what,
				i, r + i * ps, (unsigned long long)pfn, (unsigned long long)f,
				f & (1ULL << KPF_UNEVICTABLE) ? " (unevictable)" : "");
	}
	return bad;
}

int main(int argc, char **argv)
{
	int iterations = argc > 1 ? atoi(argv[1]) : 30;
	int migrate = argc > 2 && !strcmp(argv[2], "migrate");
	int reclaim = argc > 2 && !strcmp(argv[2], "reclaim");
	long caught = 0, violations = 0, stranded_pages = 0, lost_pages = 0, lost_rounds = 0;
	size_t len;
	pthread_t t;

	if (argc > 3)
		npages = strtoul(argv[3], NULL, 0);
	if (argc > 4)
		tail = strtoul(argv[4], NULL, 0);
	ps = getpagesize();
	if (iterations <= 0 || !npages || !tail || tail > npages ||
	    (argc > 2 && !migrate && !reclaim && strcmp(argv[2], "serial"))) {
		fprintf(stderr, "usage: %s [ITERATIONS [migrate|reclaim|serial [PAGES [TAIL]]]]\n",
			argv[0]);
		return 2;
	}
	suspect = calloc(npages, 1);
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	kpageflags_fd = open("/proc/kpageflags", O_RDONLY);
	if (pagemap_fd < 0 || kpageflags_fd < 0) {
		perror("open pagemap/kpageflags (needs root)");
		return 2;
	}
	report("iterations=%d", iterations);
	report("pages=%zu", npages);
	report("tail=%zu", tail);
	report("migrate=%d", migrate);
	report("reclaim=%d", reclaim);
	if (migrate) {
		/* probe: a kernel without NUMA or move_pages fails loudly here */
		int node = 1, st;
		void *p = &node;

		if (syscall(SYS_move_pages, 0, 1, &p, &node, &st, MPOL_MF_MOVE) < 0) {
			perror("move_pages to node 1");
			return 2;
		}
		if (pthread_create(&t, NULL, migrator, NULL))
			die("pthread_create");
	}
	if (reclaim) {
		reclaim_fd = open_reclaim();
		if (reclaim_fd < 0)
			return 2;
		if (pthread_create(&t, NULL, reclaimer, NULL))
			die("pthread_create");
	}
	pin(0);

	len = npages * ps;
	for (int it = 0; it < iterations; it++) {
		size_t n;

		region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (region == MAP_FAILED)
			die("mmap");
		madvise(region, len, MADV_NOHUGEPAGE);	/* 4K pages: one PTE each */
		for (size_t i = 0; i < npages; i++)
			region[i * ps] = (char)i;

		if (migrate) {
			atomic_fetch_add(&requested, 1);
			caught += wait_migration(region);
		}
		if (reclaim)
			atomic_fetch_add(&requested, 1);
		if (mlock(region, len))
			die("mlock");
		if (!reclaim) {
			while (atomic_load(&served) != atomic_load(&requested))
				sched_yield();	/* no migration from here on */
			n = scan(region, 1, "lost");
			lost_pages += n;
			lost_rounds += n > 0;
		}

		if (munlock(region, len))
			die("munlock");
		while (atomic_load(&served) != atomic_load(&requested))
			sched_yield();	/* the reclaim is over: its mlocks are done */
		n = scan(region, 0, "stranded");
		if (n) {
			fprintf(stderr, "round %d: %zu page(s) still mlocked after munlock\n", it, n);
			violations++;
			stranded_pages += n;
		}
		munmap(region, len);
	}
	if (migrate || reclaim) {
		atomic_store(&stop, 1);
		pthread_join(t, NULL);
	}
	report("violations=%ld", violations);
	printf("selfcheck: %d iterations, %ld violations (stranded pages %ld; pages=%zu tail=%zu "
	       "migrate=%s, pages moved %ld, mlock caught a migration in %ld rounds; "
	       "reclaim=%s, %ld memory.reclaim writes; "
	       "lost mlock after mlock: %ld pages in %ld rounds)\n",
	       iterations, violations, stranded_pages, npages, tail, migrate ? "on" : "off",
	       moved, caught, reclaim ? "on" : "off", reclaims, lost_pages, lost_rounds);
	return violations ? 1 : 0;
}
