// SPDX-License-Identifier: GPL-2.0
/*
 * mmreplay replay --kernel IMAGE: the same replay, inside a QEMU guest
 * booted on IMAGE.  Before booting, say what the image cannot do (from a
 * vmlinux and config next to it); then build an initramfs (busybox,
 * mmreplay and its libraries, the trace, zram modules, vm/guest-init.sh),
 * boot it with two NUMA nodes and swap on zram, replay there under
 * `record --snapshot`, bring the replay trace and the run results back,
 * and check them on the host, as a local replay does.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "session_int.h"
#include "traces/kinds.h"
#include "vm/vm.h"

static char tmpdir[4096];	/* the initramfs, and what the guest brings back */

/* zram and what it needs to compress; nvme/virtio in case they are modules */
static const char *const guest_modules[] = { "zram", "lzo_rle", "lzo", "lz4", "zstd",
					     "nvme", "virtio_pci", "virtio_blk", NULL };

/* ---- before booting: what the image cannot do ------------------------ */

static void missing_hooks(const struct replay_opts *o, const struct ksyms *s, char *buf,
			  size_t len)
{
	int nr = 0, ok = 0;

	buf[0] = 0;
	for (int i = 0; i < mmr_nr_kinds; i++) {
		const struct kind_def *k = &mmr_kinds[i];

		if (k->src != MMR_SRC_FUNC)
			continue;
		nr++;
		if (ksyms_has_func(s, k->alts[0].func) ||
		    (k->alts[1].func && ksyms_has_func(s, k->alts[1].func))) {
			ok++;
			continue;
		}
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s (%s%s%s)", buf[0] ? ", " : "",
			 k->name, k->alts[0].func, k->alts[1].func ? ", " : "",
			 k->alts[1].func ?: "");
	}
	replay_say(o, SAY_NOTE, "replay: vmlinux: %d of %d hooked functions exist (not inlined)%s%s",
		   ok, nr, buf[0] ? "; absent or inlined: " : "", buf);
}

/* The plan's syscalls this kernel lacks (a weak __x64_sys_ stub is sys_ni_syscall). */
static void missing_syscalls(const struct replay_opts *o, const struct ksyms *s,
			     const struct rplan *p)
{
	char sym[96], seen[512] = { 0 }, buf[1024] = "";

	for (size_t i = 0; i < p->nr_ops; i++) {
		const struct rop *op = &p->ops[i];

		if (op->type != ROP_SYSCALL || op->nr >= sizeof(seen) || seen[op->nr]++)
			continue;
		snprintf(sym, sizeof(sym), "__x64_sys_%s", syscall_name(op->nr));
		if (!ksyms_has_func(s, sym))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %s",
				 syscall_name(op->nr));
	}
	if (buf[0])
		replay_say(o, SAY_WARN, "replay: this kernel lacks syscalls the recording made (they "
			   "will fail with ENOSYS):%s", buf);
}

static int preflight_vmlinux(const struct replay_opts *o, const struct kimage *k,
			     const struct rplan *p)
{
	char err[512], buf[4096];
	struct ksyms *s = ksyms_open(k->vmlinux, err, sizeof(err));

	if (!s) {
		replay_say(o, SAY_WARN, "replay: %s; what the kernel can hook is known only after "
			   "booting", err);
		return 0;
	}
	if (!ksyms_has_btf(s)) {
		replay_say(o, SAY_ERROR, "replay: %s has no .BTF section: mmreplay cannot record on "
			   "that kernel (it needs CONFIG_DEBUG_INFO_BTF)", k->vmlinux);
		ksyms_close(s);
		return -1;
	}
	missing_hooks(o, s, buf, sizeof(buf));
	missing_syscalls(o, s, p);
	ksyms_close(s);
	return 0;
}

/* Options the guest needs that a config next to the image can confirm. */
static int preflight_config(const struct replay_opts *o, const struct kimage *k,
			    const struct rplan *p)
{
	int zram = kimage_config(k, "ZRAM"), swap = kimage_config(k, "SWAP");

	if (!kimage_config(k, "DEBUG_INFO_BTF"))
		return 0;	/* no config beside the image */
	if (kimage_config(k, "DEBUG_INFO_BTF") != 'y') {
		replay_say(o, SAY_ERROR, "replay: %s: CONFIG_DEBUG_INFO_BTF is not set: mmreplay "
			   "cannot record on that kernel", k->config);
		return -1;
	}
	if (p->swapouts && (swap != 'y' || zram == 'n' || (zram == 'm' && !k->moddir[0])))
		replay_say(o, SAY_WARN, "replay: the recording swapped %llu pages, but the guest will "
			   "have no swap (CONFIG_SWAP=%c, CONFIG_ZRAM=%c%s)",
			   (unsigned long long)p->swapouts, swap, zram,
			   k->moddir[0] ? "" : ", no modules");
	if (kimage_config(k, "NUMA") != 'y')
		replay_say(o, SAY_WARN, "replay: CONFIG_NUMA is not set: migrations will be replayed "
			   "as compaction");
	return 0;
}

static int preflight(const struct replay_opts *o, const struct kimage *k, const struct rplan *p)
{
	replay_say(o, SAY_NOTE, "replay: kernel %s (%s)%s%s%s%s", k->release, o->kernel,
		   k->vmlinux[0] ? ", vmlinux " : ", no vmlinux beside it", k->vmlinux,
		   k->moddir[0] ? ", modules " : "", k->moddir);
	if (k->vmlinux[0] && preflight_vmlinux(o, k, p))
		return -1;
	return preflight_config(o, k, p);
}

/* ---- the initramfs ------------------------------------------------------ */

static const char *find_busybox(void)
{
	static const char *const paths[] = { "/bin/busybox", "/usr/bin/busybox", NULL };
	const char *env = getenv("MMREPLAY_BUSYBOX");

	if (env)
		return access(env, X_OK) ? NULL : env;
	for (int i = 0; paths[i]; i++)
		if (!access(paths[i], X_OK))
			return paths[i];
	return NULL;
}

/* Seconds for the guest's results and replay trace to come back (ivshmem, a disk) */
#define COPY_BACK_S 15
/* Interrupted: seconds for the guest to end its trial, then COPY_BACK_S to send it all */
#define STOP_TRIAL_S 5

/*
 * The guest's command: the host's runs (/mmreplay/runs) replayed into
 * /out, results in /out/results, no report.  The guest builds the plan
 * only in its replay process.  0, or -1 if it does not fit.
 */
static int guest_args(const struct replay_opts *o, const struct rplan *p, char *buf, size_t len)
{
	char swap[48], timeout[16];
	const char *argv[24] = { "-v", "replay", "/mmreplay/in.trace", "-o", "/out/replay.trace",
				 "--guest-results", "/out/results", "--guest-runs",
				 "/mmreplay/runs", "--guest-swap", swap, "--order",
				 o->order == ORDER_FREE ? "free" : "recorded", "--timeout", timeout };
	int n = 15;

	snprintf(swap, sizeof(swap), "%llu,%ld", (unsigned long long)p->swapouts, p->page_size);
	snprintf(timeout, sizeof(timeout), "%d", o->timeout_s);
	if (o->no_snapshot)
		argv[n++] = "--no-snapshot";
	/* the host tells it when the budget ends (guest_tick) or a signal came (guest_on_stop) */
	if (o->explore)
		argv[n++] = "--guest-stop";
	/* mmreplay [-v] replay ... */
	return vm_args_write(buf, len, o->verbose ? argv : argv + 1) < 0 ? -1 : 0;
}

/* The runs into the initramfs as /mmreplay/runs (written in tmpdir first). */
static int add_runs(struct cpio *c, const char *tmpdir, const struct rrun_set *rs, char *err,
		    size_t errlen)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/runs", tmpdir);
	if (runs_write(path, rs->runs, rs->nr_runs, rs->kinds) ||
	    cpio_add_file(c, "/mmreplay/runs", path, 0644)) {
		snprintf(err, errlen, "cannot write %.300s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * /mmreplay/settings: "FILE VALUE" lines the guest's /init writes before
 * the replay, the recording's transparent hugepage modes (a guest kernel's
 * default is often "always", where the recording's host said "madvise").
 * A mode that is not a plain word is left out.
 */
static void put_settings(char *buf, size_t len, const struct rplan *p)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < MMR_THP_NR; i++) {
		const char *m = p->thp[i];

		if (!m[0] || !strcmp(m, "none") || m[strspn(m, "abcdefghijklmnopqrstuvwxyz+_")])
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s/%s %s\n", MMR_THP_DIR,
			      mmr_thp_files[i], m);
	}
	if (n >= len)
		buf[0] = 0;
}

static int build_initramfs(const struct replay_opts *o, const struct kimage *k,
			   const struct rplan *p, const struct rrun_set *rs, const char *path)
{
	static const char *const dirs[] = { "/proc", "/sys", "/dev", "/tmp", "/out", "/root",
					    "/etc", "/var/tmp", "/sbin", "/usr/bin", "/usr/sbin",
					    NULL };
	char self[4096], args[2048], mods[8192] = "", settings[512], err[512] = "";
	const char *busybox = find_busybox();
	struct cpio *c = cpio_create(path);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (!busybox) {
		replay_say(o, SAY_ERROR, "replay: --kernel needs busybox (apt-get install "
			   "busybox-static)");
		return -1;
	}
	if (!c || n <= 0) {
		replay_say(o, SAY_ERROR, "replay: cannot write the initramfs %s: %s", path,
			   strerror(errno));
		return -1;
	}
	self[n] = 0;
	for (int i = 0; dirs[i]; i++)
		cpio_mkdir(c, dirs[i]);
	if (cpio_add_elf(c, "/bin/busybox", busybox, err, sizeof(err)) ||
	    cpio_add_elf(c, "/mmreplay/mmreplay", self, err, sizeof(err)))
		goto fail;
	cpio_symlink(c, "/bin/sh", "busybox");
	if (cpio_add_file(c, "/mmreplay/in.trace", o->trace, 0644)) {
		snprintf(err, sizeof(err), "cannot read %s: %s", o->trace, strerror(errno));
		goto fail;
	}
	if (k->moddir[0] &&
	    modules_add(c, k->moddir, guest_modules, mods, sizeof(mods), err, sizeof(err)) < 0)
		goto fail;
	if (add_runs(c, tmpdir, rs, err, sizeof(err)))
		goto fail;
	if (guest_args(o, p, args, sizeof(args))) {
		snprintf(err, sizeof(err), "the guest's command does not fit in %zu bytes",
			 sizeof(args));
		goto fail;
	}
	cpio_add_data(c, "/mmreplay/args", args, strlen(args), 0644);
	cpio_add_data(c, "/mmreplay/modules", mods, strlen(mods), 0644);
	put_settings(settings, sizeof(settings), p);
	cpio_add_data(c, "/mmreplay/settings", settings, strlen(settings), 0644);
	cpio_add_data(c, "/init", vm_guest_init, vm_guest_init_len, 0755);
	if (!cpio_finish(c))
		return 0;
	replay_say(o, SAY_ERROR, "replay: cannot write the initramfs %s: %s", path, strerror(errno));
	return -1;
fail:
	cpio_finish(c);
	replay_say(o, SAY_ERROR, "replay: initramfs: %s", err);
	return -1;
}

/* The guest while QEMU runs (guest_tick, guest_on_stop), and how it was stopped */
static struct {
	const struct replay_opts *o;
	const struct vm_opts *vo;
	const char *console;
	int runs, asked, started;
	double last;
	double stop_asked;	/* vm_now() when a signal asked the guest to stop; 0: none did */
	/* when the console said each run had ended (vm_now()): every 5 s of the guest's clock */
	double *done_at;
	int stamped;
} watch;

/* ---- after the guest ---------------------------------------------------- */

/* One of the guest's facts (vm_facts_read()) into its place. */
static void guest_fact(void *ctx, const char *key, const char *val)
{
	struct replay_guest *g = ctx;

	if (!strcmp(key, "kernel"))
		snprintf(g->kernel, sizeof(g->kernel), "%s", val);
	else if (!strcmp(key, "nodes"))
		snprintf(g->nodes, sizeof(g->nodes), "%s", val);
	else if (!strcmp(key, "swap"))
		snprintf(g->swap, sizeof(g->swap), "%s", val);
	else if (!strcmp(key, "cpus"))
		g->cpus = atoi(val);
	else if (!strcmp(key, "status"))
		g->status = atoi(val);
	else if (!strcmp(key, "leftover_perturbers"))
		g->leftover_perturbers = atoi(val);
	else if (!strcmp(key, "leftover_cgroups"))
		g->leftover_cgroups = atoi(val);
	else if (!strcmp(key, "init_s"))
		g->init_s = atof(val);
	else if (!strcmp(key, "cmd_start_s"))
		g->cmd_start_s = atof(val);
	else if (!strcmp(key, "cmd_end_s"))
		g->cmd_end_s = atof(val);
}

static void read_facts(const char *outdir, struct replay_guest *g)
{
	memset(g, 0, sizeof(*g));
	g->status = -1;
	vm_facts_read(outdir, guest_fact, g);
}

/* Kinds the guest's recorder could not attach, from the replay trace's header. */
static int guest_coverage(const char *trace, char *missing, size_t len, int *total)
{
	char err[256];
	struct mmr_trace *t = mmr_trace_open(trace, err, sizeof(err));
	int ok = 0;

	missing[0] = 0;
	*total = 0;
	for (int id = 1; t && id < MMR_MAX_KINDS; id++) {
		const struct mmr_kind_info *k = mmr_trace_kind(t, id);

		if (!k)
			continue;
		(*total)++;
		if (mmr_trace_kind_ok(t, id))
			ok++;
		else
			snprintf(missing + strlen(missing), len - strlen(missing), "%s%s",
				 missing[0] ? ", " : "", k->name);
	}
	if (t)
		mmr_trace_close(t);
	return ok;
}

static int move_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in, *out;
	size_t n;

	if (!rename(from, to))
		return 0;
	in = fopen(from, "r");
	out = fopen(to, "w");
	while (in && out && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			break;
	n = in && out && !ferror(in) && !ferror(out);
	if (in)
		fclose(in);
	if (out && fclose(out))
		n = 0;
	return n ? 0 : -1;
}

/*
 * What the guest brought back, checked here into out; the exit status.
 * After a kernel broke (broke), only what came back is checked.
 */
static int guest_report(const struct replay_opts *o, const struct rplan *p, const char *outdir,
			const struct vm_result *vr, const struct rrun_set *rs,
			struct replay_outcome *out, int broke)
{
	struct replay_guest *g = &out->guest;
	char path[4400];

	if (g->status < 0) {
		if (broke)
			return 1;
		replay_say(o, SAY_ERROR, "replay: the guest did not finish the replay (%s)",
			   vr->line[0] ? vr->line : "no status came back");
		vm_console_tail(out->console, 30, NULL);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/replay.log", outdir);
	if (g->status) {
		replay_say(o, SAY_ERROR, "replay: the replay in the guest failed (exit %d); its "
			   "output:", g->status);
		vm_print_tail(path, 20, "guest: ");
		return 2;
	}
	if (o->verbose)
		vm_print_tail(path, 50, "guest: ");
	snprintf(path, sizeof(path), "%s/replay.trace", outdir);
	if (move_file(path, o->out)) {
		replay_say(o, SAY_ERROR, "replay: cannot write %s: %s", o->out, strerror(errno));
		return 2;
	}
	snprintf(path, sizeof(path), "%s/results", outdir);
	if (replay_results(o, path, "guest", out))
		return 2;
	g->icount = out->deterministic;
	out->interrupted = out->incomplete && watch.stop_asked;	/* else the budget ended */
	if (out->interrupted && out->deterministic) {
		out->deterministic = 0;
		snprintf(out->determinism, sizeof(out->determinism), "not deterministic: it was "
			 "interrupted, and the trial the guest stopped at depends on when");
	} else if (out->incomplete && out->deterministic) {
		out->deterministic = 0;
		snprintf(out->determinism, sizeof(out->determinism), "not deterministic: the budget "
			 "ended, and the trial the guest stopped at depends on this host's speed "
			 "(a budget long enough for every trial gives the same report again)");
	}
	snprintf(g->accel, sizeof(g->accel), "%s", vr->accel);
	g->wall_s = vr->wall_s;
	g->kinds_ok = guest_coverage(o->out, g->missing, sizeof(g->missing), &g->kinds);
	out->guest_ok = 1;
	return replay_check(o, p, rs, out) ? 2 : out->status;
}

/*
 * The guest kernel broke.  During the replay, that is a finding about the
 * kernel under test; before it, the kernel could not run the guest at all.
 */
static int kernel_broke(const struct replay_opts *o, const struct vm_result *vr,
			const struct replay_outcome *out)
{
	int during = out->guest.cmd_start_s > 0;

	replay_say(o, SAY_ERROR, "replay: guest %s %s: %s", vm_end_name(vr->end),
		   during ? "during the replay" : "while booting, before the replay started",
		   vr->line);
	vm_console_tail(out->console, 30, vr->line);
	return during ? 1 : 2;
}

/* ---- the whole run ------------------------------------------------------ */

static const char *choose_accel(const struct replay_opts *o)
{
	const char *a = o->accel ?: getenv("MMREPLAY_ACCEL");
	const char *busybox = find_busybox();

	if (a && strcmp(a, "auto"))
		return a;
	return busybox ? vm_accel(o->kernel, busybox, tmpdir, o->stop) : "tcg";
}

/*
 * -icount or not (vo->icount); says in out->determinism whether the same
 * --seed will give the same report, and why.  -1 if --icount cannot be had.
 */
static int choose_icount(const struct replay_opts *o, struct vm_opts *vo,
			 struct replay_outcome *out)
{
	char *why = out->determinism;
	size_t len = sizeof(out->determinism);
	const char *busybox = find_busybox();
	int want = o->icount, trials = o->explore || o->pair_a >= 0;

	vo->icount = -1;
	vo->seed = o->seed;
	if (want == ICOUNT_OFF || (want == ICOUNT_AUTO && !trials)) {
		snprintf(why, len, "not deterministic: --icount off; the guest's vCPUs race on host "
			 "threads");
		return 0;
	}
	if (!strcmp(vo->accel, "kvm")) {
		snprintf(why, len, "not deterministic: under KVM the guest's vCPUs race on real CPUs "
			 "(--accel tcg --icount %d is)", ICOUNT_SHIFT);
		if (want == ICOUNT_AUTO)
			return 0;
		replay_say(o, SAY_ERROR, "replay: --icount needs TCG (--accel tcg)");
		return -1;
	}
	if (!busybox || !vm_icount_works(o->kernel, busybox, tmpdir, vo->cpus, o->stop)) {
		if (o->stop && *o->stop)
			return 0;	/* its probe was stopped: said by boot_guest() */
		snprintf(why, len, "not deterministic: this QEMU does not boot %d CPUs under -icount "
			 "(QEMU 7.2 hangs bringing up the second; 10.0 does)", vo->cpus);
		if (want == ICOUNT_AUTO)
			return 0;
		replay_say(o, SAY_ERROR, "replay: --icount: %s", why + strlen("not deterministic: "));
		return -1;
	}
	vo->icount = want == ICOUNT_AUTO ? ICOUNT_SHIFT : want;
	out->deterministic = 1;
	snprintf(why, len, "deterministic: TCG -icount shift=%d (one host thread runs the vCPUs in "
		 "turn), a fixed clock and RDRAND seed: the same command gives this report again",
		 vo->icount);
	return 0;
}

/*
 * The guest's last "mmreplay: D of N trials run" line on its console: D, or
 * -1; and once its /init said "...: running mmreplay", that the replay started.
 */
static int console_runs_done(const char *console, int *started)
{
	char line[256];
	FILE *f = fopen(console, "r");
	int done = -1, d, n;

	if (f && fseek(f, -4096, SEEK_END))
		rewind(f);
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "mmreplay: %d of %d trials run", &d, &n) == 2)
			done = d;
		*started |= strstr(line, ": running mmreplay ") != NULL;
	}
	if (f)
		fclose(f);
	*started |= done >= 0;
	return done;
}

/* Runs up to @done ended by @now, if not stamped earlier. */
static void stamp_done(int done, double now)
{
	for (; watch.done_at && watch.stamped < done && watch.stamped < watch.runs; watch.stamped++)
		watch.done_at[watch.stamped] = now;
}

/*
 * While QEMU runs: at the budget's end (less the time to bring the
 * results back and check them), ask the guest to start no more trials;
 * the progress, with the trials the guest said on its console.
 */
static void guest_tick(void *ctx)
{
	int done;

	if (vm_now() - watch.last < 0.25)
		return;
	watch.last = vm_now();
	if (!watch.asked && watch.o->deadline &&
	    vm_now() >= replay_run_deadline(watch.o) - COPY_BACK_S)
		watch.asked = !vm_ask_stop(watch.vo);
	done = console_runs_done(watch.console, &watch.started);
	stamp_done(done, vm_now());
	replay_progress_say(watch.o, watch.started ? "guest" : "boot", watch.runs, done);
}

/*
 * A signal while QEMU runs (vm_opts.on_stop): once the guest of an explore
 * said it ran trials, it is asked to stop as at the budget's end, and given
 * time to end its trial and send back the results (a second signal kills
 * it); booting, or a plain replay, it is killed at once (0).
 */
static double guest_on_stop(void *ctx)
{
	const struct replay_opts *o = watch.o;

	if (!o->explore || console_runs_done(watch.console, &watch.started) <= 0)
		return 0;
	if (!watch.asked && vm_ask_stop(watch.vo))
		return 0;
	watch.asked = 1;
	watch.stop_asked = vm_now();
	replay_say(o, SAY_NOTE, "replay: interrupted: asking the guest to stop (it has %d s to "
		   "send back the trials that ran); Ctrl-C again to kill it",
		   STOP_TRIAL_S + COPY_BACK_S);
	return STOP_TRIAL_S + COPY_BACK_S;
}

/* Interrupted (o->stop set): said, 1; else 0. */
static int guest_interrupted(const struct replay_opts *o)
{
	if (!o->stop || !*o->stop)
		return 0;
	if (watch.stop_asked && *o->stop < 2)
		replay_say(o, SAY_ERROR, "replay: interrupted; the guest did not send its results "
			   "within %.0f s of being asked to stop: it was stopped and its files "
			   "removed", vm_now() - watch.stop_asked);
	else
		replay_say(o, SAY_ERROR, "replay: interrupted; the guest was stopped and its files "
			   "removed");
	return 1;
}

/* Boots the guest and runs the replay there; 0, or -1 (said) when no guest ran to its end. */
static int boot_guest(const struct replay_opts *o, const struct kimage *k, const struct rplan *p,
		      const struct rrun_set *rs, const char *outdir, struct vm_result *vr,
		      struct replay_outcome *out, double *t_rd)
{
	struct vm_opts vo = { .mem_mb = o->mem_mb, .cpus = o->cpus, .numa = o->cpus < 2 ? 1 : 2,
			      .timeout_s = o->vm_timeout_s, .kernel = o->kernel,
			      .console = out->console, .stop = o->stop };
	char initrd[4200];

	snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio", tmpdir);
	/* the probes first: the guest's deadline in the initramfs counts from its boot */
	vo.accel = choose_accel(o);
	if (choose_icount(o, &vo, out) || guest_interrupted(o))	/* a probe's QEMU too */
		return -1;
	if (mkdir(outdir, 0700) || build_initramfs(o, k, p, rs, initrd))
		return -1;
	*t_rd = vm_now();
	vo.initrd = initrd;
	watch.o = o, watch.vo = &vo, watch.console = out->console, watch.runs = rs->nr_runs;
	watch.started = watch.stamped = 0, watch.stop_asked = 0;
	vo.tick = guest_tick;
	vo.on_stop = guest_on_stop;
	if (o->verbose)
		replay_say(o, SAY_NOTE, "replay: booting %s under %s%s, %d CPUs, %d MiB, %d NUMA "
			   "nodes", o->kernel, vo.accel, vo.icount >= 0 ? " -icount" : "", vo.cpus,
			   vo.mem_mb, vo.numa);
	vm_run(&vo, outdir, vr);
	stamp_done(rs->nr_runs, vm_now());	/* the rest ended after the console last said */
	if (vr->end == VM_STOPPED && guest_interrupted(o))
		return -1;
	if (vr->end == VM_TIMEOUT || vr->end == VM_FAILED) {
		replay_say(o, SAY_ERROR, "replay: %s: %s", vm_end_name(vr->end), vr->line);
		vm_console_tail(out->console, 25, NULL);
		return -1;
	}
	return 0;
}

int replay_vm(const struct replay_opts *o, const struct rplan *p, const struct rrun_set *rs,
	      struct replay_outcome *out)
{
	const struct replay_guest *g = &out->guest;
	char outdir[4200], err[512];
	struct vm_result vr;
	struct kimage k;
	int ret = 2, broke;
	double t0 = vm_now(), t_rd, t_vm;

	if (kimage_inspect(&k, o->kernel, o->modules, o->vmlinux, err, sizeof(err))) {
		replay_say(o, SAY_ERROR, "replay: %s", err);
		return out->status = 2;
	}
	if (preflight(o, &k, p) || replay_mkdir(o, "mmreplay-vm", tmpdir, sizeof(tmpdir)))
		return out->status = 2;
	snprintf(outdir, sizeof(outdir), "%s/out", tmpdir);
	snprintf(out->console, sizeof(out->console), "%s.console", o->out);
	watch.done_at = calloc(rs->nr_runs + 1, sizeof(double));
	if (!watch.done_at || boot_guest(o, &k, p, rs, outdir, &vr, out, &t_rd))
		goto out;
	broke = vr.end == VM_PANIC || vr.end == VM_OOPS;
	read_facts(outdir, &out->guest);
	t_vm = vm_now();
	/* after a kernel broke during the replay, what came back is still reported */
	if (broke)
		ret = kernel_broke(o, &vr, out);
	if (!broke)
		ret = guest_report(o, p, outdir, &vr, rs, out, 0);
	else if (g->cmd_start_s > 0)
		guest_report(o, p, outdir, &vr, rs, out, 1);
	if (out->res)
		replay_stamp(o, out, watch.done_at);
	if (o->verbose)
		replay_say(o, SAY_NOTE, "replay: time: initramfs %.2f s, qemu %.2f s (boot to /init "
			   "%.2f s, replay %.2f s), check %.2f s, total %.2f s", t_rd - t0, vr.wall_s,
			   g->init_s, g->cmd_end_s - g->cmd_start_s, vm_now() - t_vm, vm_now() - t0);
out:
	free(watch.done_at);
	watch.done_at = NULL;
	replay_rmdir(tmpdir);
	return out->status = ret;
}
