// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots of a process's memory state, the ground truth for `check`:
 * VMAs and VmFlags from /proc/PID/smaps, each present or swapped page from
 * /proc/PID/pagemap, its flags and map count from /proc/kpageflags and
 * /proc/kpagecount, and the counters of status, meminfo and vmstat.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "snapshot.h"

#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HUGE 17
#define KPF_THP 22
#define PM_MMAP_EXCLUSIVE (1ULL << 56)	/* pagemap: the page is mapped once */
#define HOLD_WAIT_US 200000	/* how long a SIGSTOP may take to land */
#define PAGEMAP_BATCH 4096
#define FOLIO_SCAN_MAX 1024	/* pages searched for a folio's head */
/*
 * A pread of kpageflags costs ~1.5 us, an entry ~28 ns more (a 2-core VM),
 * and a process's pfns are scattered: one read per page made a snapshot of
 * 25k pages take 130 ms.  The pfns of a snapshot, sorted, are read in runs
 * across gaps up to KPAGE_GAP (16, 32 and 64 measured alike, 8 and 128
 * slower).
 */
#define KPAGE_GAP 32
#define KPAGE_SPAN 512		/* entries in one read at most */
#define KPAGE_TRIES 3		/* reads of a snapshot whose pages keep moving */
/*
 * A held snapshot's records wait in memory until the process is resumed:
 * the writer compresses a chunk as it fills, 2-3 ms of a 100-VMA snapshot
 * the process need not wait for.  A larger snapshot is written as it goes.
 */
#define STAGE_MAX (16u << 20)
/* Reclaim passes of one recording at most (a kernel that never mlocks would want one a call) */
#define RECLAIM_PASS_MAX 64

struct pm_entry {		/* a present or swapped page */
	__u64 addr, pm;
	__u64 kflags, kcount;	/* of its pfn, if present */
	int moved;		/* its entry changed after the flags were read */
	int pmd;		/* mapped by a PMD (MMR_PF_PMD) */
};

struct page_list {
	struct pm_entry *p;
	size_t nr, cap;
	size_t *first;		/* VMA i's pages from p[first[i]] */
	size_t first_cap;
};

struct kpage_ent {		/* the pfn of a present page */
	__u64 pfn;
	size_t page;		/* its index in the page list */
};

/* PAGEMAP_SCAN (linux/fs.h, 6.7; not in older headers) */
struct pm_region {
	__u64 start, end, categories;
};

struct pm_scan_arg {
	__u64 size, flags, start, end, walk_end, vec, vec_len, max_pages;
	__u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define PM_SCAN_IOCTL _IOWR('f', 16, struct pm_scan_arg)
#define PM_IS_HUGE (1 << 6)	/* PAGE_IS_HUGE: a PMD-mapped THP (or hugetlb) */
#define PM_REGIONS 64

struct regions {
	struct pm_region *v;
	size_t nr, cap;
};

/* One snapshot's VMAs, pages and pfns, kept from one snapshot to the next. */
static struct snap_bufs {
	struct mmr_snap_vma *vmas;
	size_t vma_nr, vma_cap;
	struct page_list pages, again;	/* as read, and read again to compare */
	struct kpage_ent *kp, *kp_tmp;	/* sorted by pfn; scratch */
	size_t kp_cap, tmp_cap;
	unsigned char *stage;		/* records not yet written: header, then payload */
	size_t stage_used, stage_cap;
	struct regions huge_before, huge_after;	/* PMD-mapped ranges of the locked VMAs */
} bufs;

struct snap_run {		/* one snapshot being written */
	struct snapshots *s;
	__u64 ts, mm;
	pid_t tgid, tid;
	struct mmr_snap_pages *pages;	/* pending SNAP_PAGES record */
	__u64 kf_base, kc_base;		/* first pfn of the cached blocks, ~0 if none */
	__u64 kf[64], kc[64];
	__u64 folio_head, folio_nr;	/* last large folio seen */
	__u64 unmlocked;		/* present pages of VM_LOCKED VMAs not mlocked (small or PMD-mapped) */
	__u32 reclaim_us;		/* MMR_SNAPF_RECLAIM: the pass before it */
	int held;			/* it was held to its end */
	int pmd_known;			/* MMR_SNAPF_PMD_KNOWN */
};

int snapshots_open(struct snapshots *s, struct mmr_writer *w)
{
	memset(s, 0, sizeof(*s));
	s->w = w;
	s->page_size = sysconf(_SC_PAGESIZE);
	s->kflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	s->kcount_fd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	return s->kflags_fd < 0 || s->kcount_fd < 0 ? -1 : 0;
}

void snapshots_close(struct snapshots *s)
{
	if (s->kflags_fd >= 0)
		close(s->kflags_fd);
	if (s->kcount_fd >= 0)
		close(s->kcount_fd);
	free(bufs.vmas);
	free(bufs.pages.p);
	free(bufs.pages.first);
	free(bufs.again.p);
	free(bufs.again.first);
	free(bufs.kp);
	free(bufs.kp_tmp);
	free(bufs.stage);
	free(bufs.huge_before.v);
	free(bufs.huge_after.v);
	memset(&bufs, 0, sizeof(bufs));
	s->kflags_fd = s->kcount_fd = -1;
}

/* Adds the time since *@t to @phase and restarts *@t from now. */
static void lap(struct snapshots *s, int phase, __u64 *t)
{
	__u64 now = mmr_clock_ns();

	s->phase_ns[phase] += now - *t;
	*t = now;
}

/* The staged records into the trace writer. */
static int stage_flush(struct snapshots *s)
{
	__u64 t = mmr_clock_ns();
	size_t off = 0;
	int ret = 0;

	while (off < bufs.stage_used && !ret) {
		struct mmr_hdr h;

		memcpy(&h, bufs.stage + off, sizeof(h));
		ret = mmr_writer_event(s->w, &h, bufs.stage + off + sizeof(h));
		off += sizeof(h) + h.len;
	}
	bufs.stage_used = 0;
	lap(s, SNAP_WRITE, &t);
	return ret;
}

static int stage(struct snapshots *s, const struct mmr_hdr *h, const void *rec)
{
	size_t need = bufs.stage_used + sizeof(*h) + h->len;

	if (need > STAGE_MAX && stage_flush(s))
		return -1;
	need = bufs.stage_used + sizeof(*h) + h->len;
	if (mmr_grow_ptr(&bufs.stage, &bufs.stage_cap, need, 1, 64 << 10))
		return -1;
	memcpy(bufs.stage + bufs.stage_used, h, sizeof(*h));
	memcpy(bufs.stage + bufs.stage_used + sizeof(*h), rec, h->len);
	bufs.stage_used = need;
	return 0;
}

static int put(struct snap_run *r, int kind, void *rec, size_t len)
{
	struct mmr_hdr h = { .ts = r->ts++, .mm = r->mm, .tgid = r->tgid, .len = len };
	struct mmr_common *c = rec;

	c->type = kind;
	c->flags = c->preempt_count = 0;
	c->pid = r->tid;
	r->s->records[kind]++;
	return stage(r->s, &h, rec);
}

/* ---- holding the process ------------------------------------------- */

/*
 * 1 if every thread of @tgid is stopped, -1 if the process is gone; with
 * @or_dead, threads on their way out count too.  SIGKILL ends a stop: a
 * process killed while it was read was not held, so the check after
 * reading passes @or_dead = 0.
 */
static int all_stopped(pid_t tgid, int or_dead)
{
	char path[320], buf[512], *p;
	struct dirent *d;
	int ok = 1, fd;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", tgid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while (ok && (d = readdir(dir))) {
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", tgid, d->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		p = strrchr(buf, ')');
		ok = p && p[1] && p[2] && strchr(or_dead ? "TtZX" : "Tt", p[2]);
	}
	closedir(dir);
	return ok;
}

int snapshot_wait_stopped(pid_t tgid)
{
	struct timespec ts = { 0, 50000 };

	for (int waited = 0; waited < HOLD_WAIT_US; waited += 50) {
		int st = all_stopped(tgid, 1);

		if (st)
			return st > 0;	/* a reaped process will not stop */
		nanosleep(&ts, NULL);
	}
	return 0;
}

/*
 * Drain every CPU's LRU and mlock batches (lru_add_drain_all()), so that
 * kpageflags shows the mlock state the kernel has decided on: a
 * migrate_pages() of ourselves from node 0 to node 0 drains first, then
 * moves nothing.
 */
static int drain_batches(void)
{
	unsigned long nodes = 1;

	return syscall(SYS_migrate_pages, 0, 8 * sizeof(nodes), &nodes, &nodes) >= 0;
}

/* ---- counters ------------------------------------------------------- */

/*
 * "Key<sep> value" lines of a /proc file ("VmSwap:  12 kB" with ':', or
 * "unevictable_pgs_cleared 0" with ' '), each value times @scale; -1
 * where absent.
 */
static void read_keys(const char *path, char sep, const char *const *keys, __s64 *out, int n,
		      double scale)
{
	char line[256];
	FILE *f = fopen(path, "re");

	for (int i = 0; i < n; i++)
		out[i] = -1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		for (int i = 0; i < n; i++) {
			size_t l = strlen(keys[i]);

			if (!strncmp(line, keys[i], l) && line[l] == sep)
				out[i] = strtoll(line + l + 1, NULL, 10) * scale;
		}
	}
	fclose(f);
}

static void read_status(pid_t tgid, struct mmr_snap_counters *st, long psz)
{
	static const char *const keys[] = { "RssAnon", "RssFile", "RssShmem", "VmSwap", "VmLck" };
	__s64 v[5];
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", tgid);
	read_keys(path, ':', keys, v, 5, 1024.0 / psz);
	st->rss_anon = v[0];
	st->rss_file = v[1];
	st->rss_shmem = v[2];
	st->vm_swap = v[3];
	st->vm_lck = v[4];
}

static void read_vmstat(struct mmr_snap *sn)
{
	static const char *const keys[] = {
		"unevictable_pgs_mlocked", "unevictable_pgs_munlocked",
		"unevictable_pgs_cleared", "unevictable_pgs_stranded", "unevictable_pgs_rescued",
	};
	__s64 v[5];

	read_keys("/proc/vmstat", ' ', keys, v, 5, 1);
	sn->pgs_mlocked = v[0];
	sn->pgs_munlocked = v[1];
	sn->pgs_cleared = v[2];
	sn->pgs_stranded = v[3];
	sn->pgs_rescued = v[4];
}

/*
 * meminfo and vmstat lag by the per-CPU deltas not yet folded (up to the
 * vmstat threshold per CPU); stat_refresh folds them.  It may fail with
 * EINVAL when a counter is transiently negative, after folding anyway.
 */
static void refresh_vmstat(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = write(fd, "1", 1);	/* folded even if n < 0 */

		(void)n;
		close(fd);
	}
}

static void read_globals(struct snapshots *s, struct mmr_snap *sn, long psz)
{
	static const char *const keys[] = { "Mlocked", "Unevictable", "SwapFree" };
	__s64 v[3];
	__u64 t = mmr_clock_ns();

	refresh_vmstat();
	lap(s, SNAP_REFRESH, &t);
	read_keys("/proc/meminfo", ':', keys, v, 3, 1024.0 / psz);
	sn->mlocked = v[0];
	sn->unevictable = v[1];
	sn->swap_free = v[2];
	read_vmstat(sn);
	lap(s, SNAP_COUNTERS, &t);
}

/* ---- pages ---------------------------------------------------------- */

/* kpageflags (or kpagecount) of @pfn through a 64-entry cache. */
static __u64 kpage(struct snap_run *r, int fd, __u64 pfn, __u64 *base, __u64 *cache)
{
	__u64 b = pfn & ~63ULL;

	if (*base != b) {
		__u64 t = mmr_clock_ns();
		ssize_t n = pread(fd, cache, sizeof(__u64) * 64, b * sizeof(__u64));

		lap(r->s, SNAP_KPAGE, &t);

		if (n < (ssize_t)sizeof(__u64) * 64)
			memset((char *)cache + (n > 0 ? n : 0), 0,
			       sizeof(__u64) * 64 - (n > 0 ? n : 0));
		*base = b;
	}
	return cache[pfn - b];
}

static __u64 kflags_of(struct snap_run *r, __u64 pfn)
{
	return kpage(r, r->s->kflags_fd, pfn, &r->kf_base, r->kf);
}

static __u32 convert_kflags(__u64 k)
{
	static const struct { int bit; __u32 flag; } map[] = {
		{ 33, MMR_PF_MLOCKED }, { 18, MMR_PF_UNEVICTABLE }, { 15, MMR_PF_LARGE },
		{ 16, MMR_PF_LARGE }, { 22, MMR_PF_THP }, { 21, MMR_PF_KSM },
		{ 24, MMR_PF_ZERO }, { 12, MMR_PF_ANON }, { 20, MMR_PF_NOPAGE },
		{ 13, MMR_PF_SWAPCACHE }, { 5, MMR_PF_LRU }, { 17, MMR_PF_HUGE },
	};
	__u32 f = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (k >> map[i].bit & 1)
			f |= map[i].flag;
	return f;
}

/* Where @pfn sits in its large folio: head found backwards, size forwards. */
static void folio_of(struct snap_run *r, __u64 pfn, __u64 k, struct mmr_snap_page *pg)
{
	__u64 head = pfn, nr = 1;

	if (r->folio_nr && pfn >= r->folio_head && pfn < r->folio_head + r->folio_nr) {
		pg->folio_idx = pfn - r->folio_head;
		pg->folio_nr = r->folio_nr;
		return;
	}
	for (int i = 0; (k >> KPF_COMPOUND_TAIL & 1) && head && i < FOLIO_SCAN_MAX; i++)
		k = kflags_of(r, --head);
	while (nr < FOLIO_SCAN_MAX && (kflags_of(r, head + nr) >> KPF_COMPOUND_TAIL & 1))
		nr++;
	r->folio_head = head;
	r->folio_nr = nr;
	pg->folio_idx = pfn - head;
	pg->folio_nr = nr;
}

static int flush_pages(struct snap_run *r)
{
	int ret = 0;

	if (r->pages->nr)
		ret = put(r, MMR_K_SNAP_PAGES, r->pages,
			  sizeof(*r->pages) + r->pages->nr * sizeof(struct mmr_snap_page));
	r->pages->nr = 0;
	return ret;
}

/* Sorts @a by pfn: LSD radix, 11 bits a pass, as many passes as the pfns need. */
static void sort_kpages(struct kpage_ent *a, struct kpage_ent *tmp, size_t n)
{
	struct kpage_ent *from = a, *to = tmp, *x;
	__u64 max = 0;

	for (size_t i = 0; i < n; i++)
		max = a[i].pfn > max ? a[i].pfn : max;
	for (int shift = 0; shift < 64 && max >> shift; shift += 11) {
		size_t pos[2048] = { 0 }, sum = 0;

		for (size_t i = 0; i < n; i++)
			pos[from[i].pfn >> shift & 2047]++;
		for (int d = 0; d < 2048; d++) {
			size_t c = pos[d];

			pos[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			to[pos[from[i].pfn >> shift & 2047]++] = from[i];
		x = from;
		from = to;
		to = x;
	}
	if (from != a)
		memcpy(a, from, n * sizeof(*a));
}

/* @fd's entries for the pfns of @kp[i..j), into their pages of @pl. */
static void read_run(int fd, const struct kpage_ent *kp, size_t i, size_t j,
		     struct page_list *pl, int count)
{
	static __u64 buf[KPAGE_SPAN];
	__u64 first = kp[i].pfn;
	ssize_t n = pread(fd, buf, (kp[j - 1].pfn - first + 1) * sizeof(__u64),
			  first * sizeof(__u64));

	for (size_t k = i; k < j; k++) {	/* 0 past the end, as kpage() */
		__u64 v = (__s64)((kp[k].pfn - first + 1) * sizeof(__u64)) <= n ?
			  buf[kp[k].pfn - first] : 0;

		if (count)
			pl->p[kp[k].page].kcount = v;
		else
			pl->p[kp[k].page].kflags = v;
	}
}

/* @fd's entries for the pfns of @kp[0..n), in runs of near pfns. */
static void read_runs(int fd, const struct kpage_ent *kp, size_t n, struct page_list *pl,
		      int count)
{
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && kp[j].pfn - kp[j - 1].pfn <= KPAGE_GAP &&
				kp[j].pfn - kp[i].pfn < KPAGE_SPAN; j++)
			;
		read_run(fd, kp, i, j, pl, count);
	}
}

/*
 * A small page that pagemap says is mapped once has a kpagecount of 1:
 * both are its precise map count.  Large folios' counts can be estimates
 * (CONFIG_NO_PAGE_MAPCOUNT), and other pages' are not 1: read those.
 */
static int count_known(const struct pm_entry *e)
{
	__u64 large = 1ULL << KPF_COMPOUND_HEAD | 1ULL << KPF_COMPOUND_TAIL |
		      1ULL << KPF_HUGE | 1ULL << KPF_THP;

	return (e->pm & PM_MMAP_EXCLUSIVE) && !(e->kflags & large);
}

/*
 * kpageflags and kpagecount of the present pages of @pl, in runs of near
 * pfns; kpagecount only where pagemap does not tell it already.
 */
static int read_kpages(struct snap_run *r, struct page_list *pl, struct snap_bufs *sb)
{
	struct kpage_ent *kp;
	__u64 t = mmr_clock_ns();
	size_t n = 0, m = 0;

	if (mmr_grow_ptr(&sb->kp, &sb->kp_cap, pl->nr, sizeof(*sb->kp), 1024) ||
	    mmr_grow_ptr(&sb->kp_tmp, &sb->tmp_cap, pl->nr, sizeof(*sb->kp), 1024))
		return -1;
	kp = sb->kp;
	for (size_t i = 0; i < pl->nr; i++)
		if (pl->p[i].pm & MMR_PM_PRESENT) {
			kp[n].pfn = pl->p[i].pm & MMR_PM_PFN_MASK;
			kp[n++].page = i;
		}
	sort_kpages(kp, sb->kp_tmp, n);
	lap(r->s, SNAP_OTHER, &t);
	read_runs(r->s->kflags_fd, kp, n, pl, 0);
	for (size_t i = 0; i < n; i++) {	/* still sorted */
		if (count_known(&pl->p[kp[i].page]))
			pl->p[kp[i].page].kcount = 1;
		else
			sb->kp_tmp[m++] = kp[i];
	}
	read_runs(r->s->kcount_fd, sb->kp_tmp, m, pl, 1);
	lap(r->s, SNAP_KPAGE, &t);
	return 0;
}

static int add_page(struct snap_run *r, const struct pm_entry *e, __u32 *count)
{
	struct mmr_snap_page *pg = &r->pages->p[r->pages->nr];

	memset(pg, 0, sizeof(*pg));
	pg->addr = e->addr;
	pg->pagemap = e->pm;
	pg->folio_nr = 1;
	if (e->pm & MMR_PM_PRESENT) {
		pg->kflags = convert_kflags(e->kflags) | (e->moved ? MMR_PF_MOVED : 0) |
			     (e->pmd ? MMR_PF_PMD : 0);
		pg->mapcount = e->kcount;
		if (pg->kflags & MMR_PF_LARGE)
			folio_of(r, e->pm & MMR_PM_PFN_MASK, e->kflags, pg);
	}
	(*count)++;
	if (++r->pages->nr == MMR_SNAP_PAGES_MAX)
		return flush_pages(r);
	return 0;
}

/* Present or swapped pages of [start, end), from pagemap, appended to @pl. */
static int collect_pages(struct snap_run *r, int pm_fd, __u64 start, __u64 end,
			 struct page_list *pl)
{
	static __u64 buf[PAGEMAP_BATCH];
	long psz = r->s->page_size;

	for (__u64 a = start; a < end;) {
		__u64 n = (end - a) / psz, t = mmr_clock_ns();
		ssize_t got;

		n = n > PAGEMAP_BATCH ? PAGEMAP_BATCH : n;
		got = pread(pm_fd, buf, n * sizeof(__u64), a / psz * sizeof(__u64));
		lap(r->s, SNAP_PAGEMAP, &t);
		if (got <= 0)
			return 0;	/* e.g. [vsyscall], outside the user range */
		if (mmr_grow_ptr(&pl->p, &pl->cap, pl->nr + got / sizeof(__u64), sizeof(*pl->p), 1024))
			return -1;
		for (ssize_t i = 0; i < got / (ssize_t)sizeof(__u64); i++)
			if (buf[i] & (MMR_PM_PRESENT | MMR_PM_SWAP)) {
				pl->p[pl->nr].addr = a + i * psz;
				pl->p[pl->nr].moved = 0;
				pl->p[pl->nr].pmd = 0;
				pl->p[pl->nr++].pm = buf[i];
			}
		a += got / sizeof(__u64) * psz;
	}
	return 0;
}

/* The pages of every VMA of @sb into @pl. */
static int collect_all(struct snap_run *r, int pm_fd, struct snap_bufs *sb, struct page_list *pl)
{
	pl->nr = 0;
	if (mmr_grow_ptr(&pl->first, &pl->first_cap, sb->vma_nr + 1, sizeof(*pl->first), 1024))
		return -1;
	for (size_t i = 0; i < sb->vma_nr; i++) {
		pl->first[i] = pl->nr;
		if (collect_pages(r, pm_fd, sb->vmas[i].start, sb->vmas[i].end, pl))
			return -1;
	}
	pl->first[sb->vma_nr] = pl->nr;
	return 0;
}

/*
 * The pages of every VMA, and the kpageflags and kpagecount of their pfns,
 * read for the whole snapshot at once: a process's pfns are scattered, and
 * sorted together they make far fewer runs than VMA by VMA.
 *
 * A stopped process's pages still move (the kernel migrates even mlocked
 * ones; seen under stress-ng --mlock): a page moved between the pagemap
 * and the kpage reads would get its old, freed pfn's flags and count 0,
 * and check a lost mlock.  So pagemap is read again after, until it is
 * the same (KPAGE_TRIES, then kept as read together, each page whose
 * entry still changed marked MMR_PF_MOVED: seen under compaction in a TCG
 * guest, where a snapshot takes seconds).
 */
/* Do @a and @b have the same pages and pagemap entries? */
static int same_pages(const struct page_list *a, const struct page_list *b)
{
	if (a->nr != b->nr)
		return 0;
	for (size_t i = 0; i < a->nr; i++)
		if (a->p[i].addr != b->p[i].addr || a->p[i].pm != b->p[i].pm)
			return 0;
	return 1;
}

/*
 * The pages of @a whose entry @b (read after their flags) does not have
 * the same: both lists are in address order.  How many.
 */
static __u64 mark_moved(struct page_list *a, const struct page_list *b)
{
	__u64 n = 0;

	for (size_t i = 0, j = 0; i < a->nr; i++) {
		while (j < b->nr && b->p[j].addr < a->p[i].addr)
			j++;
		a->p[i].moved = j == b->nr || b->p[j].addr != a->p[i].addr ||
				b->p[j].pm != a->p[i].pm;
		n += a->p[i].moved;
	}
	return n;
}

static int read_stable(struct snap_run *r, int pm_fd, struct snap_bufs *sb)
{
	if (collect_all(r, pm_fd, sb, &sb->pages))
		return -1;
	for (int i = 1;; i++) {
		struct page_list tmp;

		if (read_kpages(r, &sb->pages, sb) || collect_all(r, pm_fd, sb, &sb->again))
			return -1;
		if (same_pages(&sb->pages, &sb->again))
			return 0;
		r->s->moved++;
		if (i == KPAGE_TRIES) {	/* keep them, the pages still moving marked */
			r->s->moved_pages += mark_moved(&sb->pages, &sb->again);
			return 0;
		}
		tmp = sb->pages;
		sb->pages = sb->again;
		sb->again = tmp;
	}
}

/* ---- PMD-mapped pages ---------------------------------------------- */

/* The huge regions of [start, end) appended to @rs: 0, or -1 (no PAGEMAP_SCAN, before 6.7). */
static int scan_huge(int pm_fd, __u64 start, __u64 end, struct regions *rs)
{
	struct pm_region v[PM_REGIONS];
	struct pm_scan_arg a = { .size = sizeof(a), .vec = (__u64)v, .vec_len = PM_REGIONS,
				 .category_mask = PM_IS_HUGE, .return_mask = PM_IS_HUGE };

	for (a.start = start; a.start < end; a.start = a.walk_end) {
		long got;

		a.end = end;
		got = ioctl(pm_fd, PM_SCAN_IOCTL, &a);
		if (got < 0 ||
		    mmr_grow_ptr(&rs->v, &rs->cap, rs->nr + got, sizeof(*rs->v), PM_REGIONS))
			return -1;
		memcpy(rs->v + rs->nr, v, got * sizeof(*v));
		rs->nr += got;
		if (a.walk_end <= a.start)
			break;
	}
	return 0;
}

/* The huge regions of every locked VMA (hugetlb ones aside), in address order. */
static int scan_locked(int pm_fd, const struct snap_bufs *sb, struct regions *rs)
{
	rs->nr = 0;
	for (size_t i = 0; i < sb->vma_nr; i++) {
		const struct mmr_snap_vma *m = &sb->vmas[i];

		if ((m->flags & MMR_VMA_LOCKED) && !(m->flags & MMR_VMA_HUGETLB) &&
		    scan_huge(pm_fd, m->start, m->end, rs))
			return -1;
	}
	return 0;
}

/* Is @addr in a region of @rs at or after *@i (both in address order)? */
static int in_regions(const struct regions *rs, size_t *i, __u64 addr)
{
	while (*i < rs->nr && rs->v[*i].end <= addr)
		(*i)++;
	return *i < rs->nr && addr >= rs->v[*i].start;
}

/*
 * Marks pmd the pages mapped by a PMD in both scans, @before (taken before
 * the pages' flags were read) and one now: a THP split or collapsed
 * meanwhile is not taken for one.
 */
static int mark_pmd(int pm_fd, struct snap_bufs *sb, const struct regions *before)
{
	size_t i = 0, k = 0;

	if (scan_locked(pm_fd, sb, &sb->huge_after))
		return -1;
	for (size_t n = 0; n < sb->pages.nr; n++) {
		struct pm_entry *e = &sb->pages.p[n];

		e->pmd = (e->pm & MMR_PM_PRESENT) && in_regions(before, &i, e->addr) &&
			 in_regions(&sb->huge_after, &k, e->addr);
	}
	return 0;
}

/* The pages of every VMA, their flags, and which are mapped by a PMD. */
static int read_pages(struct snap_run *r, int pm_fd, struct snap_bufs *sb)
{
	int scanned = !scan_locked(pm_fd, sb, &sb->huge_before);

	if (read_stable(r, pm_fd, sb))
		return -1;
	r->pmd_known = scanned && !mark_pmd(pm_fd, sb, &sb->huge_before);
	return 0;
}

/* ---- VMAs ----------------------------------------------------------- */

static __u32 vm_flags(const char *list)
{
	static const struct { const char *mn; __u32 flag; } map[] = {
		{ "rd", MMR_VMA_READ }, { "wr", MMR_VMA_WRITE }, { "ex", MMR_VMA_EXEC },
		{ "sh", MMR_VMA_SHARED }, { "lo", MMR_VMA_LOCKED }, { "io", MMR_VMA_IO },
		{ "pf", MMR_VMA_IO }, { "ht", MMR_VMA_HUGETLB }, { "mg", MMR_VMA_MERGEABLE },
	};
	__u32 f = 0;

	for (const char *p = list; *p; p++) {
		while (*p == ' ')
			p++;
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (!strncmp(p, map[i].mn, 2) && (p[2] == ' ' || p[2] == '\n' || !p[2]))
				f |= map[i].flag;
		while (*p && *p != ' ')
			p++;
		if (!*p)
			break;
	}
	return f;
}

/* A smaps header line: "start-end perms offset maj:min inode   name". */
static int parse_vma_header(const char *line, struct mmr_snap_vma *v)
{
	unsigned long long start, end, off, ino;
	unsigned maj, min;
	char perms[8];
	int pos = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj,
		   &min, &ino, &pos) < 7)
		return 0;
	memset(v, 0, sizeof(*v));
	v->start = start;
	v->end = end;
	v->pgoff = off;
	v->ino = ino;
	v->dev = maj << 20 | min;
	snprintf(v->name, sizeof(v->name), "%.*s", (int)strcspn(line + pos, "\n"), line + pos);
	if (!ino)
		v->flags |= MMR_VMA_ANON;
	return 1;
}

/* Every VMA of smaps into @sb. */
static int read_vmas(struct snap_run *r, FILE *f, struct snap_bufs *sb)
{
	char line[1024];
	struct mmr_snap_vma v;
	int have = 0;
	__u64 t;

	sb->vma_nr = 0;
	while ((t = mmr_clock_ns(), fgets(line, sizeof(line), f))) {
		lap(r->s, SNAP_SMAPS, &t);
		if (!have) {
			have = parse_vma_header(line, &v);
			continue;
		}
		if (strncmp(line, "VmFlags:", 8))
			continue;
		v.flags |= vm_flags(line + 8);
		if (mmr_grow_ptr(&sb->vmas, &sb->vma_cap, sb->vma_nr + 1, sizeof(v), 1024))
			return -1;
		sb->vmas[sb->vma_nr++] = v;
		have = 0;
	}
	return 0;
}

/* A present small page, with a struct page, that is not mlocked. */
static int unmlocked(const struct pm_entry *e)
{
	__u32 f = convert_kflags(e->kflags);

	return (e->pm & MMR_PM_PRESENT) && !e->moved &&
	       !(f & (MMR_PF_MLOCKED | MMR_PF_ZERO | MMR_PF_NOPAGE)) &&
	       (!(f & MMR_PF_LARGE) || e->pmd);
}

/* Each VMA as a record followed by its pages; counts go to @end. */
static int put_vma_records(struct snap_run *r, struct snap_bufs *sb, struct mmr_snap_end *end)
{
	const struct page_list *pl = &sb->pages;

	for (size_t i = 0; i < sb->vma_nr; i++) {
		sb->vmas[i].seq = end->seq;
		if (put(r, MMR_K_SNAP_VMA, &sb->vmas[i], sizeof(sb->vmas[i])))
			return -1;
		end->nr_vmas++;
		for (size_t k = pl->first[i]; k < pl->first[i + 1]; k++) {
			if (add_page(r, &pl->p[k], &end->nr_pages))
				return -1;
			r->unmlocked += (sb->vmas[i].flags & MMR_VMA_LOCKED) && unmlocked(&pl->p[k]);
		}
		if (flush_pages(r))
			return -1;
	}
	return 0;
}

/* Every VMA of smaps, then the pages of all, as records; counts go to @end. */
static int put_vmas(struct snap_run *r, struct mmr_snap_end *end)
{
	char path[64];
	int ret = 0, pm_fd;
	__u64 t = mmr_clock_ns();
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", r->tgid);
	f = fopen(path, "re");
	lap(r->s, SNAP_SMAPS, &t);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", r->tgid);
	pm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!f || pm_fd < 0) {
		end->flags |= MMR_SNAPF_GONE;	/* exited meanwhile */
		goto out;
	}
	/* out of memory: a snapshot that cannot be written whole is not written */
	ret = read_vmas(r, f, &bufs) || read_pages(r, pm_fd, &bufs) ||
	      put_vma_records(r, &bufs, end) ? -1 : 0;
	if (r->pmd_known)
		end->flags |= MMR_SNAPF_PMD_KNOWN;
out:
	if (f)
		fclose(f);
	if (pm_fd >= 0)
		close(pm_fd);
	return ret;
}

/* ---- one snapshot --------------------------------------------------- */

static int write_snapshot(struct snap_run *r, __u32 reason, __u32 flags)
{
	struct mmr_snap sn = { .seq = ++r->s->seq, .reason = reason, .flags = flags,
			       .reclaim_us = r->reclaim_us };
	struct mmr_snap_end end = { .seq = sn.seq };
	long psz = r->s->page_size;
	__u64 t = mmr_clock_ns();
	int ret;

	if (flags & MMR_SNAPF_DRAINED && !drain_batches())
		sn.flags &= ~MMR_SNAPF_DRAINED;
	lap(r->s, SNAP_DRAIN, &t);
	r->ts = mmr_clock_ns();
	memset(&sn.st, 0xff, sizeof(sn.st));
	if (r->tgid)
		read_status(r->tgid, &sn.st, psz);
	lap(r->s, SNAP_COUNTERS, &t);
	read_globals(r->s, &sn, psz);
	if (put(r, MMR_K_SNAP, &sn, sizeof(sn)))
		return -1;
	r->pages->seq = sn.seq;
	if (!r->tgid)
		return 0;
	end.flags = sn.flags;
	ret = put_vmas(r, &end);
	t = mmr_clock_ns();
	read_status(r->tgid, &end.st, psz);
	lap(r->s, SNAP_COUNTERS, &t);
	if ((end.flags & MMR_SNAPF_HELD) && all_stopped(r->tgid, 0) != 1)
		end.flags = (end.flags & ~MMR_SNAPF_HELD) | MMR_SNAPF_GONE;
	if (end.flags & MMR_SNAPF_GONE)
		end.flags &= ~MMR_SNAPF_HELD;
	else if (!memcmp(&end.st, &sn.st, sizeof(end.st)))
		end.flags |= MMR_SNAPF_STABLE;
	r->held = !!(end.flags & MMR_SNAPF_HELD);
	return ret || put(r, MMR_K_SNAP_END, &end, sizeof(end)) ? -1 : 0;
}

/*
 * The reclaim pass after held snapshot @first, and the snapshot after it,
 * still held: 0, or -1 if it could not be written.  No pass, no snapshot.
 */
static int reclaim_snapshot(struct snapshots *s, const struct snap_run *first, __u32 flags)
{
	struct snap_run r = { .s = s, .mm = first->mm, .tgid = first->tgid, .tid = first->tid,
			      .kf_base = ~0ULL, .kc_base = ~0ULL, .pages = first->pages };
	__u64 ns;

	if (s->rp.passes >= RECLAIM_PASS_MAX) {
		snprintf(s->rp.why, sizeof(s->rp.why), "only %d passes a recording",
			 RECLAIM_PASS_MAX);
		s->rp.not_run++;
		return 0;
	}
	if (reclaim_pass_run(&s->rp, r.tgid, &ns))
		return 0;
	r.reclaim_us = ns / 1000 ? ns / 1000 : 1;
	r.pages->nr = 0;
	if (write_snapshot(&r, MMR_SNAP_REASON_RECLAIM, flags | MMR_SNAPF_RECLAIM))
		return -1;
	s->unmlocked_before += first->unmlocked;
	s->unmlocked_after += r.unmlocked;
	return 0;
}

int snapshot_take(struct snapshots *s, pid_t tgid, pid_t tid, __u64 mm, __u32 reason,
		  int stopped)
{
	struct snap_run r = { .s = s, .mm = mm, .tgid = tgid, .tid = tid,
			      .kf_base = ~0ULL, .kc_base = ~0ULL };
	__u32 flags = MMR_SNAPF_DRAINED;
	__u64 t0 = mmr_clock_ns(), t = t0, sum = 0;
	int ret;

	memset(s->phase_ns, 0, sizeof(s->phase_ns));
	r.pages = malloc(sizeof(*r.pages) + MMR_SNAP_PAGES_MAX * sizeof(struct mmr_snap_page));
	if (!r.pages)
		return -1;
	r.pages->nr = 0;
	s->held += stopped;
	if (stopped && snapshot_wait_stopped(tgid))
		flags |= MMR_SNAPF_HELD;
	else if (stopped)
		s->not_held++;
	lap(s, SNAP_HOLD, &t);
	ret = write_snapshot(&r, reason, flags);
	s->unmlocked += r.held ? r.unmlocked : 0;
	if (!ret && s->reclaim && r.held && r.unmlocked)
		ret = reclaim_snapshot(s, &r, flags);
	if (stopped)
		kill(tgid, SIGCONT);
	s->held_ns = mmr_clock_ns() - t0;
	if (ret)		/* not read whole: what is staged is dropped (past STAGE_MAX, */
		bufs.stage_used = 0;	/* what was written before stays) */
	else
		ret = stage_flush(s);
	s->taken++;
	free(r.pages);
	for (int i = 0; i < SNAP_OTHER; i++)
		sum += s->phase_ns[i];
	t = mmr_clock_ns() - t0;
	s->phase_ns[SNAP_OTHER] = t > sum ? t - sum : 0;
	return ret;
}
