// SPDX-License-Identifier: GPL-2.0
/*
 * The recorder's side of the trace file: header chunks (meta and one kind
 * chunk per event kind, with its format), events with kernel pointers
 * scrubbed, periodic drop counters, and the closing counters (END).
 * With --flight-recorder the events go to the ring of flight.c instead,
 * and each trigger writes a whole trace from it: the header text kept in
 * memory, the records held, and END.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "mmreplay.skel.h"
#include "traces/host.h"
#include "traces/kinds.h"
#include "bpf/mmhash.h"
#include "record_int.h"
#include "flight.h"

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

/* The kernel's format file, as a trace stores it (kind_tp_format). */
static char *tp_format(const struct kind_def *k)
{
	char path[512], *fmt, *out;

	if (!tracefs_dir())
		return NULL;
	snprintf(path, sizeof(path), "%s/events/%s/%s/format", tracefs_dir(), k->tp_cat, k->tp_name);
	fmt = read_file(path);
	if (!fmt)
		return NULL;
	out = kind_tp_format(k, fmt);
	free(fmt);
	return out;
}

/*
 * How a field must be scrubbed, from its declaration ("type name").  The
 * ip of a fault the kernel took (exceptions:page_fault_kernel) is kernel
 * text: zeroed, as nothing reads it and it would give the KASLR offset away.
 */
static char scrub_how(const char *decl, size_t len, int kernel_ip)
{
	if (kernel_ip && len > 3 && !strncmp(decl + len - 3, " ip", 3))
		return 'z';
	if (memchr(decl, '*', len))
		return 'p';
	if (!strncmp(decl, "__data_loc", 10))
		return 'z';
	if (len > 6 && !strncmp(decl + len - 6, " mm_id", 6))
		return 'h';	/* kmem:rss_stat: hash_ptr() of the mm, not keyed */
	return 0;
}

/* Fields of a tracepoint format that would leak kernel pointers. */
static void build_scrub(struct scrub *s, const char *fmt, int kernel_ip)
{
	const char *p = fmt;

	while ((p = strstr(p, "field:"))) {
		unsigned off, size;
		const char *semi = strchr(p, ';');
		const char *o = strstr(p, "offset:");
		char how;

		p += 6;
		if (!semi || !o || sscanf(o, "offset:%u;\tsize:%u;", &off, &size) != 2 || off < 8)
			continue;
		how = scrub_how(p, semi - p, kernel_ip);
		if (how && s->nr < MMR_MAX_SCRUB) {
			s->f[s->nr].off = off;
			s->f[s->nr].size = size;
			s->f[s->nr].how = how;
			s->nr++;
		}
	}
}

void record_read_formats(struct recorder *r)
{
	for (int i = 0; i < mmr_nr_kinds; i++) {
		const struct kind_def *k = r->plans[i].kind;

		if (k->src != MMR_SRC_TRACEPOINT)
			continue;
		r->tp_format[k->id] = tp_format(k);
		if (r->tp_format[k->id])
			build_scrub(&r->scrub[k->id], r->tp_format[k->id],
				    k->id == MMR_K_PAGE_FAULT_KERNEL);
	}
}

static int put_kind(struct recorder *r, const struct probe_plan *p)
{
	const struct kind_def *k = p->kind;
	char *own = k->src == MMR_SRC_TRACEPOINT ? NULL : kind_format(k);
	const char *fmt = own ? own : r->tp_format[k->id];
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int ret;

	fprintf(m, "id=%d\nname=%s\nsystem=%s\nsource=%s\nattach=%s\nstatus=%s\ndoc=%s\nformat:\n%s",
		k->id, k->name, k->system,
		kind_source_name(k->src),
		p->attach, p->status, k->doc, fmt ? fmt : "");
	fclose(m);
	ret = mmr_writer_chunk(r->w, MMR_CHUNK_KIND, text, len);
	free(own);
	free(text);
	return ret;
}

static void put_quoted(FILE *m, char **argv)
{
	for (int i = 0; argv && argv[i]; i++) {
		fputs(i ? " " : "", m);
		if (strpbrk(argv[i], " \t\n'\"\\$"))
			fprintf(m, "'%s'", argv[i]);
		else
			fputs(argv[i], m);
	}
}

/* -p: each process's command line from /proc, "; " between them */
static void put_pid_cmdlines(FILE *m, const int *pids, int n)
{
	char buf[4096], *argv[256];

	for (int i = 0; i < n; i++) {
		FILE *f;
		size_t len = 0;
		int argc = 0;

		snprintf(buf, sizeof(buf), "/proc/%d/cmdline", pids[i]);
		f = fopen(buf, "r");
		if (f) {
			len = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[len] = 0;
		for (size_t o = 0; o < len && argc < 255; o += strlen(buf + o) + 1)
			argv[argc++] = buf + o;
		argv[argc] = NULL;
		fputs(i ? "; " : "", m);
		put_quoted(m, argv);
	}
}

/*
 * Read when the recording is prepared, not when its header is written
 * after the BPF load: a short-lived target may be gone by then.
 */
int record_read_pid_cmdlines(struct recorder *r)
{
	size_t len = 0;
	FILE *m = open_memstream(&r->pid_cmdlines, &len);

	if (!m)
		return -1;
	put_pid_cmdlines(m, r->o.pids, r->o.nr_pids);
	return fclose(m);
}

/*
 * The transparent hugepage modes: under "always" one fault maps 512 pages
 * where "madvise" maps one, so a replay runs under the recorded modes
 * (a guest sets them; `diff` names them when two traces' differ).
 */
static void put_thp_modes(FILE *m)
{
	char path[128], buf[64];

	for (int i = 0; i < MMR_THP_NR; i++) {
		snprintf(path, sizeof(path), "%s/%s", MMR_THP_DIR, mmr_thp_files[i]);
		fprintf(m, "thp_%s=%s\n", mmr_thp_files[i],
			mmr_host_mode(path, buf, sizeof(buf)) ?: "none");
	}
}

/*
 * What a read fault on fresh anonymous memory maps: where the recording's
 * kernel gives it a page and the replay's the zero page, the replay
 * populates that page (replay/exec.c), and the other way round the
 * difference is named by `diff`.
 */
static void put_read_fault(FILE *m)
{
	int z = mmr_host_read_fault_zero_page(NULL);

	fprintf(m, "anon_read_fault=%s\n", z < 0 ? "unknown" : z ? "zero_page" : "page");
}

int record_build_header(struct recorder *r)
{
	struct utsname u;
	struct timespec mono, real;
	char tbuf[64];
	size_t len = 0;
	FILE *m;

	uname(&u);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", gmtime(&real.tv_sec));
	free(r->meta_text);
	m = open_memstream(&r->meta_text, &len);
	if (!m)
		return -1;
	fprintf(m, "format_version=%d\ntool=mmreplay\nkernel_release=%s\nkernel_version=%s\n"
		"machine=%s\npage_size=%ld\nnr_cpus=%d\nclock=CLOCK_MONOTONIC\n"
		"start_monotonic_ns=%llu\nstart_realtime=%s\nmm_id=siphash-2-4 of the mm pointer, "
		"per-recording key (not stored)\nrecorder_pid=%d\n",
		MMR_FILE_VERSION, u.release, u.version, u.machine, sysconf(_SC_PAGESIZE),
		libbpf_num_possible_cpus(),
		(unsigned long long)mono.tv_sec * 1000000000ULL + mono.tv_nsec, tbuf, getpid());
	put_thp_modes(m);
	put_read_fault(m);
	fputs("record_command=", m);
	put_quoted(m, r->o.argv);
	fputs("\ncommand=", m);
	if (r->o.cmd)
		put_quoted(m, r->o.cmd);
	else if (r->pid_cmdlines)
		fputs(r->pid_cmdlines, m);
	fputs("\npids=", m);
	for (int i = 0; i < r->o.nr_pids; i++)
		fprintf(m, "%s%d", i ? "," : "", r->o.pids[i]);
	fputs("\n", m);
	return fclose(m);
}

int record_write_header(struct recorder *r, const char *extra)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int ret;

	if (!m)
		return -1;
	fprintf(m, "%s%s", r->meta_text, extra ? extra : "");
	fclose(m);
	ret = mmr_writer_chunk(r->w, MMR_CHUNK_META, text, len);
	free(text);
	for (int i = 0; !ret && i < mmr_nr_kinds; i++)
		ret = put_kind(r, &r->plans[i]);
	return ret;
}

static void scrub_record(const struct recorder *r, int kind, unsigned char *p, size_t len)
{
	const struct scrub *s = &r->scrub[kind];

	for (int i = 0; i < s->nr; i++) {
		unsigned off = s->f[i].off, size = s->f[i].size > 8 ? 8 : s->f[i].size;
		__u64 v = 0;

		if (off + size > len)
			continue;
		memcpy(&v, p + off, size);
		v = s->f[i].how == 'z' ? 0 : mmr_keyed_hash(r->k0, r->k1, v);
		memcpy(p + off, &v, size);
	}
}

/*
 * The BPF side resolves fds only through the embedded fd table (fds < 64
 * of a task whose table never grew).  Otherwise look the fd up in /proc
 * now; valid=2 marks a file identified this way, after the fact.
 */
static void proc_file_id(__u32 tgid, long fd, struct mmr_file_id *id)
{
	char path[64];
	struct stat st;

	if (id->valid || fd < 0 || fd > 1 << 20)
		return;
	snprintf(path, sizeof(path), "/proc/%u/fd/%ld", tgid, fd);
	if (stat(path, &st))
		return;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->dev = (major(st.st_dev) << 20) | minor(st.st_dev);
	id->valid = 2;
}

static const void *fix_file_ids(const struct mmr_hdr *h, const void *c, unsigned char *buf)
{
	const struct mmr_common *cm = c;
	const struct syscall_def *d;

	if (cm->type == MMR_K_SYS_ENTER && h->len == sizeof(struct mmr_sys_enter)) {
		struct mmr_sys_enter *e = memcpy(buf, c, h->len);

		d = syscall_def(e->nr);
		if (d && d->fd_arg >= 0 && !(e->nr == 9 && (e->args[3] & MAP_ANONYMOUS)))
			proc_file_id(h->tgid, (long)e->args[d->fd_arg], &e->file);
		return buf;
	}
	if (cm->type == MMR_K_SYS_EXIT && h->len == sizeof(struct mmr_sys_exit)) {
		struct mmr_sys_exit *e = memcpy(buf, c, h->len);

		d = syscall_def(e->nr);
		if (d && (d->flags & SYS_RESULT_FD))
			proc_file_id(h->tgid, e->ret, &e->file);
		return buf;
	}
	return c;
}

/*
 * A process stopped again before its last stop's snapshot was taken: that
 * snapshot would read the state after this call.  Drop it from the queue,
 * so that a queue full of one process's stops never has to be taken from
 * inside the ring's callback, before the rest of the ring is read.
 */
static void drop_earlier_stop(struct recorder *r, pid_t tgid)
{
	for (int i = 0; i < r->nr_pending; i++) {
		if (!r->pending[i].stopped || r->pending[i].tgid != tgid)
			continue;
		memmove(&r->pending[i], &r->pending[i + 1],
			(r->nr_pending - i - 1) * sizeof(r->pending[0]));
		r->nr_pending--;
		r->snaps.coalesced++;
		return;
	}
}

static void queue_snapshot(struct recorder *r, pid_t tgid, pid_t tid, __u64 mm, __u32 reason,
			   int stopped)
{
	if (stopped)
		drop_earlier_stop(r, tgid);
	if (r->nr_pending == (int)(sizeof(r->pending) / sizeof(r->pending[0])))
		record_take_snapshots(r, 0);
	r->pending[r->nr_pending].tgid = tgid;
	r->pending[r->nr_pending].tid = tid;
	r->pending[r->nr_pending].mm = mm;
	r->pending[r->nr_pending].reason = reason;
	r->pending[r->nr_pending++].stopped = stopped;
}

/*
 * The BPF side stopped the process after a snapshot syscall; a process
 * exit calls for a look at the global counters.
 */
static void maybe_snapshot(struct recorder *r, const struct mmr_hdr *h, const void *payload)
{
	const struct mmr_common *c = payload;
	const struct syscall_def *d;

	if (c->type == MMR_K_SYS_EXIT) {
		const struct mmr_sys_exit *e = payload;

		d = syscall_def(e->nr);
		if (d && (d->flags & SYS_SNAPSHOT) && (c->flags & MMR_CF_STOPPED))
			queue_snapshot(r, h->tgid, c->pid, h->mm, e->nr, 1);
	} else if (c->type == MMR_K_TASK_EXIT) {
		const struct mmr_task_exit *e = payload;

		if (e->group_dead)
			queue_snapshot(r, 0, c->pid, 0, MMR_SNAP_REASON_EXIT, 0);
	}
}

int record_take_snapshots(struct recorder *r, int consume)
{
	int n = r->nr_pending;

	if (consume && n) {
		for (int i = 0; i < n; i++)
			if (r->pending[i].stopped)
				snapshot_wait_stopped(r->pending[i].tgid);
		ring_buffer__consume(r->rb);
		record_sweep_stages(r, 0);	/* and what other CPUs hold staged */
		n = r->nr_pending;
	}
	r->nr_pending = 0;
	for (int i = 0; i < n; i++) {
		if (snapshot_take(&r->snaps, r->pending[i].tgid, r->pending[i].tid,
				  r->pending[i].mm, r->pending[i].reason, r->pending[i].stopped)) {
			r->write_error = errno ? errno : EIO;
			return -1;
		}
	}
	return 0;
}

/* A batch's @n items, each handled as the record it stands for. */
static int handle_items(struct recorder *r, const struct mmr_hdr *h, const struct mmr_batch *b,
			const struct mmr_item *items, __u32 n)
{
	unsigned char rec[sizeof(struct mmr_hdr) + MMR_RAW_MAX];

	r->res.batches++;
	for (__u32 i = 0; i < n; i++) {
		size_t len = batch_item_record(&r->batch, h, b, &items[i], rec);

		if (!len) {
			r->res.bad_records++;
			continue;
		}
		r->res.staged++;
		if (record_handle_event(r, rec, len))
			return -1;
	}
	return 0;
}

static int handle_batch(struct recorder *r, const void *data, size_t size)
{
	const struct mmr_hdr *h = data;
	const struct mmr_batch *b = (const void *)(h + 1);
	__u32 room = (size - sizeof(*h) - sizeof(*b)) / sizeof(struct mmr_item);

	if (size < sizeof(*h) + sizeof(*b) || b->nr > room || b->nr > MMR_BATCH_MAX) {
		r->res.bad_records++;
		return 0;
	}
	return handle_items(r, h, b, (const void *)(b + 1), b->nr);
}

static struct mmr_stage *stage_of(const struct recorder *r, int cpu)
{
	return (void *)((char *)r->stages + cpu * r->stage_size);
}

/* Whether a stage holds items whose first came at least @min_age_ns before @now_ns. */
static int stage_due(const struct mmr_stage *s, __u64 now_ns, __u64 min_age_ns)
{
	return __atomic_load_n(&s->b.nr, __ATOMIC_RELAXED) &&
	       now_ns - __atomic_load_n(&s->h.ts, __ATOMIC_RELAXED) >= min_age_ns;
}

/*
 * The ring buffer is read first: it wakes the recorder only once 256K
 * have piled up, and what it holds is older than what the stages hold
 * (a CPU's records send its stage first).
 */
void record_sweep_stages(struct recorder *r, __u64 min_age_ns)
{
	struct mmr_item items[MMR_BATCH_MAX];
	struct timespec now;
	__u64 now_ns;
	int due = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = now.tv_sec * 1000000000ULL + now.tv_nsec;
	for (int cpu = 0; r->stages && cpu < r->nr_stages && !due; cpu++)
		due = stage_due(stage_of(r, cpu), now_ns, min_age_ns);
	if (!due)
		return;
	ring_buffer__consume(r->rb);
	for (int cpu = 0; cpu < r->nr_stages; cpu++) {
		struct mmr_stage *s = stage_of(r, cpu);
		struct mmr_hdr h;
		struct mmr_batch b;
		__u32 zero = 0, n;

		if (!stage_due(s, now_ns, min_age_ns) ||
		    !__atomic_compare_exchange_n(&s->busy, &zero, 1, 0, __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			continue;	/* empty, young, or its CPU is at it: next time */
		h = s->h;
		b = s->b;
		n = b.nr < MMR_BATCH_MAX ? b.nr : MMR_BATCH_MAX;
		memcpy(items, s->items, n * sizeof(items[0]));
		s->b.nr = 0;
		__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
		if (n && handle_items(r, &h, &b, items, n))
			return;
	}
}

int record_handle_event(void *ctx, void *data, size_t size)
{
	struct recorder *r = ctx;
	const struct mmr_hdr *h = data;
	unsigned char buf[sizeof(struct mmr_raw) + sizeof(struct mmr_sys_enter)];
	const struct mmr_common *c = (const void *)(h + 1);
	const void *payload = c;

	if (size >= sizeof(*h) + sizeof(*c) && c->type == MMR_RB_BATCH && r->coalesce)
		return handle_batch(r, data, size);
	if (size < sizeof(*h) + sizeof(*c) || sizeof(*h) + h->len > size ||
	    c->type == 0 || c->type >= MMR_K_NR) {
		r->res.bad_records++;
		return 0;
	}
	if (c->type == MMR_K_SYS_EXIT && (c->flags & MMR_CF_STOPPED))
		r->holds_read++;	/* counted even if dropped below: see resume_stale_stops() */
	if (r->scrub[c->type].nr && h->len <= sizeof(buf)) {
		memcpy(buf, c, h->len);
		scrub_record(r, c->type, buf, h->len);
		payload = buf;
	} else {
		payload = fix_file_ids(h, c, buf);
	}
	if (r->o.flight_bytes) {
		if (flight_put(&r->fl, h, payload)) {
			r->res.bad_records++;
			return 0;
		}
	} else if (mmr_writer_event(r->w, h, payload)) {
		r->write_error = errno ? errno : EIO;
		return -1;
	}
	r->res.events++;
	r->res.per_kind[c->type]++;
	if (h->ts + MMR_REORDER_WINDOW_NS < r->last_ts)
		r->res.late++;
	r->last_ts = h->ts > r->last_ts ? h->ts : r->last_ts;
	if (r->o.snapshot)
		maybe_snapshot(r, h, payload);
	return 0;
}

/*
 * Slot @slot of the BPF side's counters (0: drops, 1: PFNs not followed,
 * 2: remote rss_stat changes with mm_id 0), per CPU.
 */
static __u64 read_counter(struct recorder *r, __u32 slot, __u64 *per_cpu, int ncpu)
{
	__u64 total = 0;

	memset(per_cpu, 0, ncpu * sizeof(*per_cpu));
	if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.drops), &slot, per_cpu))
		return 0;
	for (int i = 0; i < ncpu; i++)
		total += per_cpu[i];
	return total;
}

static __u64 read_drops(struct recorder *r, __u64 *per_cpu, int ncpu)
{
	return read_counter(r, 0, per_cpu, ncpu);
}

/*
 * "events": every record in the trace, the kernel's (ring buffer) and the
 * snapshots' (written here), as show prints them and check reads them.
 */
static __u64 records_by_kind(const struct recorder *r, __u64 *per_kind)
{
	__u64 total = 0;

	for (int k = 0; k < MMR_K_NR; k++) {
		per_kind[k] = r->res.per_kind[k] + r->snaps.records[k];
		total += per_kind[k];
	}
	return total;
}

static void put_snapshot_counts(const struct recorder *r, FILE *m)
{
	__u64 procs = r->snaps.records[MMR_K_SNAP_END];

	/* of a process (with VMAs: what check judges), and of the counters alone */
	fprintf(m, "snapshots=%llu\nsnapshots_global=%llu\nsnapshots_not_held=%llu\n"
		"snapshots_coalesced=%llu\nsnapshots_capped=%d\nsnapshot_pages_moved=%llu\n",
		(unsigned long long)procs,
		(unsigned long long)(r->snaps.records[MMR_K_SNAP] - procs),
		(unsigned long long)r->snaps.not_held, (unsigned long long)r->snaps.coalesced,
		r->snaps_capped, (unsigned long long)r->snaps.moved_pages);
	if (!r->o.reclaim_pass)
		return;
	/* held snapshots that found a page of a VM_LOCKED VMA not mlocked, and the passes after */
	fprintf(m, "snapshot_unmlocked_pages=%llu\nreclaim_passes=%llu\nreclaim_pass_ms=%llu\n"
		"reclaim_passes_not_run=%llu\nreclaim_pass_unmlocked_before=%llu\n"
		"reclaim_pass_unmlocked_after=%llu\n", (unsigned long long)r->snaps.unmlocked,
		(unsigned long long)r->snaps.rp.passes,
		(unsigned long long)r->snaps.rp.ns / 1000000,
		(unsigned long long)r->snaps.rp.not_run,
		(unsigned long long)r->snaps.unmlocked_before,
		(unsigned long long)r->snaps.unmlocked_after);
	if (r->snaps.rp.why[0])
		fprintf(m, "reclaim_pass_why=%s\n", r->snaps.rp.why);
	if (r->snaps.rp.no_swap)
		fprintf(m, "reclaim_pass_no_swap=1\n");
}

/* What became of the command, once reaped: exit_status (128+N for signal N), exit_signal. */
static void command_status(const struct recorder *r, FILE *m)
{
	int st = r->res.child_status;

	if (r->res.forwarded_signal)
		fprintf(m, "forwarded_signal=%d\n", r->res.forwarded_signal);
	if (!r->res.child_reaped)
		return;
	if (WIFSIGNALED(st))
		fprintf(m, "exit_signal=%d\nexit_status=%d\n", WTERMSIG(st), 128 + WTERMSIG(st));
	else if (WIFEXITED(st))
		fprintf(m, "exit_status=%d\n", WEXITSTATUS(st));
}

/*
 * Cumulative counters; a STATS chunk, or the END chunk that closes the
 * trace.  @held: a flight recorder trace's records by kind (NULL: every
 * record, as the trace holds them all).
 */
static char *stats_text(struct recorder *r, __u64 *drops_out, const __u64 *held)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 per_cpu[MMR_MAX_CPUS], per_kind[MMR_K_NR], drops, unfollowed, unattributed;
	__u64 events = 0;
	struct timespec now;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (ncpu > MMR_MAX_CPUS)
		ncpu = MMR_MAX_CPUS;
	drops = read_drops(r, per_cpu, ncpu);
	if (held) {
		memcpy(per_kind, held, sizeof(per_kind));
		for (int k = 0; k < MMR_K_NR; k++)
			events += per_kind[k];
	} else {
		events = records_by_kind(r, per_kind);
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	fprintf(m, "events=%llu\ndrops=%llu\nbad_records=%llu\nend_monotonic_ns=%llu\n",
		(unsigned long long)events, (unsigned long long)drops,
		(unsigned long long)r->res.bad_records,
		(unsigned long long)now.tv_sec * 1000000000ULL + now.tv_nsec);
	for (int i = 0; i < ncpu; i++)
		if (per_cpu[i])
			fprintf(m, "drops_cpu%d=%llu\n", i, (unsigned long long)per_cpu[i]);
	unfollowed = read_counter(r, 1, per_cpu, ncpu);	/* the mlock ledger's PFNs */
	if (unfollowed)
		fprintf(m, "pfns_unfollowed=%llu\n", (unsigned long long)unfollowed);
	unattributed = read_counter(r, 2, per_cpu, ncpu);	/* rss_stat mm_id 0, remote */
	if (unattributed)
		fprintf(m, "rss_unattributed=%llu\n", (unsigned long long)unattributed);
	if (r->res.batches)	/* coalescing: the hot events that came staged */
		fprintf(m, "staged_events=%llu\nstaged_batches=%llu\n",
			(unsigned long long)r->res.staged, (unsigned long long)r->res.batches);
	if (r->res.late)
		fprintf(m, "late_events=%llu\n", (unsigned long long)r->res.late);
	if (r->o.snapshot)
		put_snapshot_counts(r, m);
	if (held)	/* a number: info --json reads counters as numbers */
		fprintf(m, "overwritten=%llu\n", (unsigned long long)r->fl.overwritten);
	command_status(r, m);
	for (int k = 1; k < MMR_K_NR; k++)
		if (per_kind[k])
			fprintf(m, "events_%s=%llu\n", kind_def(k)->name,
				(unsigned long long)per_kind[k]);
	fclose(m);
	if (drops_out)
		*drops_out = drops;
	return text;
}

int record_write_stats(struct recorder *r, int chunk_type)
{
	char *text = stats_text(r, NULL, NULL);
	int ret = mmr_writer_chunk(r->w, chunk_type, text, strlen(text));

	free(text);
	if (ret)
		r->write_error = errno ? errno : EIO;
	return ret;
}

void record_progress(struct recorder *r)
{
	__u64 per_cpu[MMR_MAX_CPUS];
	int ncpu = libbpf_num_possible_cpus();

	if (!r->o.progress)
		return;
	r->res.drops = read_drops(r, per_cpu, ncpu > MMR_MAX_CPUS ? MMR_MAX_CPUS : ncpu);
	r->res.snapshots = r->snaps.records[MMR_K_SNAP_END];	/* of a process, as at the end */
	if (r->o.flight_bytes)
		r->res.bytes = flight_bytes(&r->fl);
	else
		r->res.bytes = r->w ? mmr_writer_bytes(r->w) : 0;
	r->o.progress(&r->res, r->o.progress_ctx);
}

/* What a flight recorder trace holds: its records by kind, and their time span. */
struct held {
	struct mmr_writer *w;
	__u64 per_kind[MMR_K_NR];
	__u64 events, first_ns, last_ns;
};

static int count_held(const struct mmr_hdr *h, const void *payload, void *ctx)
{
	struct held *c = ctx;
	__u16 type;

	memcpy(&type, payload, sizeof(type));
	c->per_kind[type < MMR_K_NR ? type : 0]++;
	c->events++;
	/* the ring buffer's order is close to, not exactly, time order */
	if (!c->first_ns || h->ts < c->first_ns)
		c->first_ns = h->ts;
	if (h->ts > c->last_ns)
		c->last_ns = h->ts;
	return 0;
}

static int put_held(const struct mmr_hdr *h, const void *payload, void *ctx)
{
	struct held *c = ctx;

	return mmr_writer_event(c->w, h, payload);
}

/* The first trigger writes out, the next out.1, out.2 ... */
static void flight_path(const struct recorder *r, char *path, size_t len)
{
	if (r->flight_started)
		snprintf(path, len, "%s.%d", r->o.out, r->flight_started);
	else
		snprintf(path, len, "%s", r->o.out);
}

/* The trace's header: the meta chunk with what the flight recorder held, the kinds. */
static int put_flight_header(struct recorder *r, const struct held *c, const char *trigger)
{
	char *extra = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&extra, &len);
	int ret;

	if (!m)
		return -1;
	fprintf(m, "flight_recorder_bytes=%zu\ntrigger=%s\nfirst_event_ns=%llu\n"
		"last_event_ns=%llu\noverwritten=%llu\n", r->o.flight_bytes, trigger,
		(unsigned long long)c->first_ns, (unsigned long long)c->last_ns,
		(unsigned long long)r->fl.overwritten);
	fclose(m);
	r->w = r->fj.w;		/* record_write_header() writes to r->w */
	ret = record_write_header(r, extra);
	r->w = NULL;
	free(extra);
	return ret;
}

/* The records and the end of a flight recorder trace: a thread of its own, or inline. */
static void *flight_job_run(void *arg)
{
	struct flight_job *j = arg;
	struct held c = { .w = j->w };
	int ret = flight_each(j->src, put_held, &c);

	if (mmr_writer_close(j->w, ret ? "status=error\n" : j->end) || ret)
		snprintf(j->err, sizeof(j->err), "cannot write %s: %s", j->path, strerror(errno));
	j->w = NULL;
	atomic_store(&j->done, 1);
	return NULL;
}

/* A write ended: say so (r->o.triggered), free what it held; -1 if it failed. */
static int flight_job_end(struct recorder *r, struct flight_job *j)
{
	j->fw.error = j->err[0] ? j->err : NULL;
	if (!j->fw.error)
		r->res.flight_written++;
	if (r->o.triggered)
		r->o.triggered(&j->fw, r->o.triggered_ctx);
	free(j->end);
	j->end = NULL;
	flight_free(&j->ring);
	j->running = 0;
	return j->fw.error ? -1 : 0;
}

int record_flight_reap(struct recorder *r, int wait)
{
	struct flight_job *j = &r->fj;

	if (!j->running || (!wait && !atomic_load(&j->done)))
		return 0;
	pthread_join(j->thread, NULL);
	return flight_job_end(r, j);
}

/*
 * Open the trace and write its header here; hand the ring's records to a
 * thread that writes them while recording goes on into an empty ring (or,
 * short of memory or a thread, write them here).  The previous write ends
 * first, so that triggers write in their order.
 */
int record_flight_write(struct recorder *r, const char *trigger)
{
	struct flight_job *j = &r->fj;
	struct held c = {};

	record_flight_reap(r, 1);
	memset(j, 0, offsetof(struct flight_job, path));
	snprintf(j->trigger, sizeof(j->trigger), "%s", trigger);
	j->err[0] = 0;
	flight_path(r, j->path, sizeof(j->path));
	r->flight_started++;
	flight_each(&r->fl, count_held, &c);
	j->fw = (struct flight_written){ .path = j->path, .trigger = j->trigger,
					 .overwritten = r->fl.overwritten, .events = c.events,
					 .first_ns = c.first_ns, .last_ns = c.last_ns };
	j->w = mmr_writer_open(j->path, j->err, sizeof(j->err));
	if (!j->w)
		return flight_job_end(r, j);
	if (put_flight_header(r, &c, j->trigger) || !(j->end = stats_text(r, NULL, c.per_kind))) {
		snprintf(j->err, sizeof(j->err), "cannot write %s: %s", j->path, strerror(errno));
		mmr_writer_close(j->w, "status=error\n");
		return flight_job_end(r, j);
	}
	j->src = &r->fl;
	if (!flight_move(&j->ring, &r->fl)) {
		j->src = &j->ring;
		r->flight_moved += j->ring.held;
		r->flight_overwritten_past += j->ring.overwritten;
		if (!pthread_create(&j->thread, NULL, flight_job_run, j)) {
			j->running = 1;
			return 0;
		}
	}
	flight_job_run(j);
	return flight_job_end(r, j);
}

/* Flight recorder: nothing more to write; what is held at the end. */
static int flight_finish(struct recorder *r)
{
	__u64 per_cpu[MMR_MAX_CPUS];
	int ncpu = libbpf_num_possible_cpus();

	r->res.drops = read_drops(r, per_cpu, ncpu > MMR_MAX_CPUS ? MMR_MAX_CPUS : ncpu);
	r->res.flight_held = r->fl.held;
	r->res.flight_held_bytes = flight_bytes(&r->fl);
	r->res.flight_overwritten = r->fl.overwritten + r->flight_overwritten_past;
	r->res.flight_moved = r->flight_moved;
	return 0;
}

int record_finish(struct recorder *r)
{
	char *text;
	int err;

	if (r->o.flight_bytes) {
		err = flight_finish(r);
	} else {
		text = stats_text(r, &r->res.drops, NULL);
		r->res.bytes = mmr_writer_bytes(r->w);
		err = mmr_writer_close(r->w, text);
		r->w = NULL;
		free(text);
	}
	r->finished = 1;
	r->res.events = records_by_kind(r, r->res.per_kind);
	r->res.reclaim_passes = r->snaps.rp.passes;
	r->res.reclaim_not_run = r->snaps.rp.not_run;
	snprintf(r->res.reclaim_why, sizeof(r->res.reclaim_why), "%s", r->snaps.rp.why);
	r->res.snapshots = r->snaps.records[MMR_K_SNAP_END];
	r->res.snapshots_global = r->snaps.records[MMR_K_SNAP] - r->res.snapshots;
	r->res.snapshots_not_held = r->snaps.not_held;
	r->res.snapshots_coalesced = r->snaps.coalesced;
	r->res.snapshots_capped = r->snaps_capped;
	if (r->write_error)
		errno = r->write_error;
	return err || r->write_error ? -1 : 0;
}
