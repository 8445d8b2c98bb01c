// SPDX-License-Identifier: GPL-2.0
/*
 * mmreplay replay --kernel IMAGE: the same replay, inside a QEMU guest
 * booted on IMAGE.  Before booting, say what the image cannot do (from a
 * vmlinux and config next to it); then build an initramfs (busybox,
 * mmreplay and its libraries, the trace, zram modules, vm/guest-init.sh),
 * boot it with two NUMA nodes and swap on zram, replay there under
 * `record --snapshot`, bring the replay trace and the run results back,
 * and check and report on the host, as a local replay does.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli/cmds.h"
#include "traces/kinds.h"
#include "cli/replay_cli.h"
#include "cli/util.h"
#include "vm/vm.h"

/* zram and what it needs to compress; nvme/virtio in case they are modules */
static const char *const guest_modules[] = { "zram", "lzo_rle", "lzo", "lz4", "zstd",
					     "nvme", "virtio_pci", "virtio_blk", NULL };

/* ---- before booting: what the image cannot do ------------------------ */

static void missing_hooks(const struct ksyms *s, char *buf, size_t len)
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
	fprintf(stderr, "replay: vmlinux: %d of %d hooked functions exist (not inlined)%s%s\n", ok,
		nr, buf[0] ? "; absent or inlined: " : "", buf);
}

/* The plan's syscalls this kernel lacks (a weak __x64_sys_ stub is sys_ni_syscall). */
static void missing_syscalls(const struct ksyms *s, const struct rplan *p)
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
		mmr_warn("replay: this kernel lacks syscalls the recording made (they will fail "
			 "with ENOSYS):%s", buf);
}

static int preflight_vmlinux(const struct kimage *k, const struct rplan *p)
{
	char err[512], buf[4096];
	struct ksyms *s = ksyms_open(k->vmlinux, err, sizeof(err));

	if (!s) {
		mmr_warn("replay: %s; what the kernel can hook is known only after booting", err);
		return 0;
	}
	if (!ksyms_has_btf(s)) {
		mmr_err("replay: %s has no .BTF section: mmreplay cannot record on that kernel "
			"(it needs CONFIG_DEBUG_INFO_BTF)", k->vmlinux);
		ksyms_close(s);
		return -1;
	}
	missing_hooks(s, buf, sizeof(buf));
	missing_syscalls(s, p);
	ksyms_close(s);
	return 0;
}

/* Options the guest needs that a config next to the image can confirm. */
static int preflight_config(const struct kimage *k, const struct rplan *p)
{
	int zram = kimage_config(k, "ZRAM"), swap = kimage_config(k, "SWAP");

	if (!kimage_config(k, "DEBUG_INFO_BTF"))
		return 0;	/* no config beside the image */
	if (kimage_config(k, "DEBUG_INFO_BTF") != 'y') {
		mmr_err("replay: %s: CONFIG_DEBUG_INFO_BTF is not set: mmreplay cannot record on "
			"that kernel", k->config);
		return -1;
	}
	if (p->swapouts && (swap != 'y' || zram == 'n' || (zram == 'm' && !k->moddir[0])))
		mmr_warn("replay: the recording swapped %llu pages, but the guest will have no swap "
			 "(CONFIG_SWAP=%c, CONFIG_ZRAM=%c%s)", (unsigned long long)p->swapouts, swap,
			 zram, k->moddir[0] ? "" : ", no modules");
	if (kimage_config(k, "NUMA") != 'y')
		mmr_warn("replay: CONFIG_NUMA is not set: migrations will be replayed as compaction");
	return 0;
}

static int preflight(const struct kimage *k, const struct rplan *p, const char *image)
{
	fprintf(stderr, "replay: kernel %s (%s)%s%s%s%s\n", k->release, image,
		k->vmlinux[0] ? ", vmlinux " : ", no vmlinux beside it", k->vmlinux,
		k->moddir[0] ? ", modules " : "", k->moddir);
	if (k->vmlinux[0] && preflight_vmlinux(k, p))
		return -1;
	return preflight_config(k, p);
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

/* The guest's command: replay into /out, results in /out/results, no report. */
static void guest_args(const struct replay_opts *o, char *buf, size_t len)
{
	size_t n = 0;

#define ARG(...) (n += snprintf(buf + n, len - n, __VA_ARGS__))
	if (mmr_verbose)
		ARG("-v\n");
	ARG("replay\n/mmreplay/in.trace\n-o\n/out/replay.trace\n--guest-results\n/out/results\n");
	ARG("--order\n%s\n--timeout\n%d\n", o->order == ORDER_FREE ? "free" : "recorded",
	    o->timeout_s);
	if (o->no_snapshot)
		ARG("--no-snapshot\n");
	if (o->explore)
		ARG("--explore\n--trials\n%d\n--pairs\n%d\n--window\n%llu\n", o->trials,
		    o->max_pairs, (unsigned long long)(o->window_ns / 1000));
	ARG("--perturb\n");
	for (int k = 1, n0 = 0; k < PERTURB_NR; k++)
		if (o->perturb & 1u << k)
			ARG("%s%s", n0++ ? "," : "", perturb_name(k));
	ARG("%s\n", o->perturb ? "" : "none");
	if (o->pair_a >= 0 && o->pair_perturb)
		ARG("--pair\n%ld,%s\n", o->pair_a, perturb_name(o->pair_perturb));
	else if (o->pair_a >= 0)
		ARG("--pair\n%ld,%ld\n", o->pair_a, o->pair_b);
	ARG("--seed\n%llu\n", (unsigned long long)o->seed);
#undef ARG
}

static int build_initramfs(const struct replay_opts *o, const struct kimage *k, const char *path)
{
	static const char *const dirs[] = { "/proc", "/sys", "/dev", "/tmp", "/out", "/root",
					    "/etc", "/var/tmp", "/sbin", "/usr/bin", "/usr/sbin",
					    NULL };
	char self[4096], args[2048], mods[8192] = "", err[512] = "";
	const char *busybox = find_busybox();
	struct cpio *c = cpio_create(path);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (!busybox) {
		mmr_err("replay: --kernel needs busybox (apt-get install busybox-static)");
		return -1;
	}
	if (!c || n <= 0) {
		mmr_err("replay: cannot write the initramfs %s: %s", path, strerror(errno));
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
	guest_args(o, args, sizeof(args));
	cpio_add_data(c, "/mmreplay/args", args, strlen(args), 0644);
	cpio_add_data(c, "/mmreplay/modules", mods, strlen(mods), 0644);
	cpio_add_data(c, "/init", vm_guest_init, vm_guest_init_len, 0755);
	if (!cpio_finish(c))
		return 0;
	mmr_err("replay: cannot write the initramfs %s: %s", path, strerror(errno));
	return -1;
fail:
	cpio_finish(c);
	mmr_err("replay: initramfs: %s", err);
	return -1;
}

/* ---- after the guest ---------------------------------------------------- */

struct guest_facts {
	char kernel[128], nodes[32], swap[64];
	int cpus, status, leftover_perturbers, leftover_cgroups;
	double init_s, cmd_start_s, cmd_end_s;
};

static int read_facts(const char *outdir, struct guest_facts *g)
{
	char path[4400], line[256], *eq;
	FILE *f;

	memset(g, 0, sizeof(*g));
	g->status = -1;
	snprintf(path, sizeof(path), "%s/guest", outdir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq++ = 0;
		if (!strcmp(line, "kernel"))
			snprintf(g->kernel, sizeof(g->kernel), "%s", eq);
		else if (!strcmp(line, "nodes"))
			snprintf(g->nodes, sizeof(g->nodes), "%s", eq);
		else if (!strcmp(line, "swap"))
			snprintf(g->swap, sizeof(g->swap), "%s", eq);
		else if (!strcmp(line, "cpus"))
			g->cpus = atoi(eq);
		else if (!strcmp(line, "status"))
			g->status = atoi(eq);
		else if (!strcmp(line, "leftover_perturbers"))
			g->leftover_perturbers = atoi(eq);
		else if (!strcmp(line, "leftover_cgroups"))
			g->leftover_cgroups = atoi(eq);
		else if (!strcmp(line, "init_s"))
			g->init_s = atof(eq);
		else if (!strcmp(line, "cmd_start_s"))
			g->cmd_start_s = atof(eq);
		else if (!strcmp(line, "cmd_end_s"))
			g->cmd_end_s = atof(eq);
	}
	fclose(f);
	return 0;
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
		if (!strncmp(k->status, "ok", 2))
			ok++;
		else
			snprintf(missing + strlen(missing), len - strlen(missing), "%s%s",
				 missing[0] ? ", " : "", k->name);
	}
	if (t)
		mmr_trace_close(t);
	return ok;
}

/* The guest's summary: printed before a plain report, or kept for the JSON one. */
/* The guest's facts as one JSON object, on one line; caller frees. */
static char *guest_json(const struct replay_opts *o, const struct guest_facts *g,
			const struct vm_result *vr, const char *missing, int ok, int total)
{
	const char *keys[] = { "kernel_image", "kernel", "accel", "nodes", "swap",
			       "kinds_unavailable", "console" };
	const char *vals[] = { o->kernel, g->kernel, vr->accel, g->nodes, g->swap, missing,
			       o->console };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_writer_t *w = f ? jsonw_new(f) : NULL;

	if (!w) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	jsonw_start_object(w);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		jsonw_string_field(w, keys[i], vals[i]);
	jsonw_bool_field(w, "icount", o->deterministic);
	jsonw_int_field(w, "cpus", g->cpus);
	jsonw_name(w, "boot_s");
	jsonw_printf(w, "%.2f", g->init_s);
	jsonw_name(w, "replay_s");
	jsonw_printf(w, "%.2f", g->cmd_end_s - g->cmd_start_s);
	jsonw_name(w, "qemu_wall_s");
	jsonw_printf(w, "%.2f", vr->wall_s);
	jsonw_int_field(w, "kinds_ok", ok);
	jsonw_int_field(w, "kinds", total);
	jsonw_int_field(w, "leftover_perturbers", g->leftover_perturbers);
	jsonw_int_field(w, "leftover_cgroups", g->leftover_cgroups);
	jsonw_end_object(w);
	jsonw_destroy(&w);
	fclose(f);
	if (len && buf[len - 1] == '\n')	/* the writer ends a document with one */
		buf[len - 1] = 0;
	return buf;
}

/* The guest's summary: printed before a plain report, or kept for the JSON one. */
static void guest_summary(struct replay_opts *o, const struct guest_facts *g,
			  const struct vm_result *vr)
{
	char missing[2048];
	int total, ok = guest_coverage(o->out, missing, sizeof(missing), &total);

	if (o->json) {
		o->guest_json = guest_json(o, g, vr, missing, ok, total);
		return;
	}
	/* under -icount, the guest's times repeat and QEMU's wall time does not (-v says it) */
	printf("guest: kernel %s (%s) under %s%s, %d CPUs, NUMA nodes %s, swap %s; boot %.1f s, "
	       "replay %.1f s", g->kernel, o->kernel, vr->accel, o->deterministic ? " -icount" : "",
	       g->cpus, g->nodes, g->swap, g->init_s, g->cmd_end_s - g->cmd_start_s);
	if (!o->deterministic)
		printf(", qemu %.1f s", vr->wall_s);
	printf("; console in %s\n", o->console);
	printf("guest probe coverage: %d of %d kinds%s%s\n", ok, total,
	       missing[0] ? "; not available there: " : "", missing);
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

/* What the guest brought back, checked here; the exit status. */
static int guest_report(struct replay_opts *o, const struct rplan *p, const char *outdir,
			const struct vm_result *vr, const struct rrun_set *rs,
			const struct guest_facts *gf, int broke)
{
	static struct perturb_caps caps;
	struct guest_facts g = *gf;
	char path[4400];
	struct run_result *res;
	int n, ret = MMR_EXIT_ERROR;

	if (g.status < 0) {
		if (broke)
			return 1;
		mmr_err("replay: the guest did not finish the replay (%s)", vr->line[0] ? vr->line :
			"no status came back");
		vm_console_tail(o->console, 30, NULL);
		return MMR_EXIT_ERROR;
	}
	snprintf(path, sizeof(path), "%s/replay.log", outdir);
	if (g.status) {
		mmr_err("replay: the replay in the guest failed (exit %d); its output:", g.status);
		vm_print_tail(path, 20, "guest: ");
		return MMR_EXIT_ERROR;
	}
	if (mmr_verbose)
		vm_print_tail(path, 50, "guest: ");
	snprintf(path, sizeof(path), "%s/replay.trace", outdir);
	if (move_file(path, o->out)) {
		mmr_err("replay: cannot write %s: %s", o->out, strerror(errno));
		return MMR_EXIT_ERROR;
	}
	res = calloc(rs->nr_runs + 1, sizeof(*res));
	snprintf(path, sizeof(path), "%s/results", outdir);
	n = results_read(path, res, rs->nr_runs);
	results_caps_read(path, &caps);
	o->caps = &caps;
	if (n != rs->nr_runs) {
		mmr_err("replay: the guest reported %d of %d runs", n, rs->nr_runs);
	} else {
		guest_summary(o, &g, vr);
		fflush(stdout);
		ret = replay_report(o, p, rs->pairs, rs->nr_pairs, res, rs->nr_runs);
		free((char *)o->guest_json);
		o->guest_json = NULL;
	}
	free(res);
	return ret;
}

/*
 * The guest kernel broke.  During the replay, that is a finding about the
 * kernel under test; before it, the kernel could not run the guest at all.
 */
static int kernel_broke(const struct replay_opts *o, const struct vm_result *vr,
			const struct guest_facts *g)
{
	int during = g->cmd_start_s > 0;

	mmr_err("replay: guest %s %s: %s", vm_end_name(vr->end),
		during ? "during the replay" : "while booting, before the replay started",
		vr->line);
	vm_console_tail(o->console, 30, vr->line);
	return during ? 1 : MMR_EXIT_ERROR;
}

/* ---- the whole run ------------------------------------------------------ */

static char tmpdir[4096];

static const char *choose_accel(const struct replay_opts *o)
{
	const char *a = o->accel ?: getenv("MMREPLAY_ACCEL");
	const char *busybox = find_busybox();

	if (a && strcmp(a, "auto"))
		return a;
	return busybox ? vm_accel(o->kernel, busybox, tmpdir) : "tcg";
}

/*
 * -icount or not (vo->icount); says in o->determinism whether the same
 * --seed will give the same report, and why.  -1 if --icount cannot be had.
 */
static int choose_icount(struct replay_opts *o, struct vm_opts *vo)
{
	static char why[256];
	const char *busybox = find_busybox();
	int want = o->icount, trials = o->explore || o->pair_a >= 0;

	vo->icount = -1;
	vo->seed = o->seed;
	o->determinism = why;
	if (want == ICOUNT_OFF || (want == ICOUNT_AUTO && !trials)) {
		snprintf(why, sizeof(why), "not deterministic: --icount off; the guest's vCPUs "
			 "race on host threads");
		return 0;
	}
	if (!strcmp(vo->accel, "kvm")) {
		snprintf(why, sizeof(why), "not deterministic: under KVM the guest's vCPUs race on "
			 "real CPUs (--accel tcg --icount %d is)", ICOUNT_SHIFT);
		if (want == ICOUNT_AUTO)
			return 0;
		mmr_err("replay: --icount needs TCG (--accel tcg)");
		return -1;
	}
	if (!busybox || !vm_icount_works(o->kernel, busybox, tmpdir, vo->cpus)) {
		snprintf(why, sizeof(why), "not deterministic: this QEMU does not boot %d CPUs under "
			 "-icount (QEMU 7.2 hangs bringing up the second; 10.0 does)", vo->cpus);
		if (want == ICOUNT_AUTO)
			return 0;
		mmr_err("replay: --icount: %s", why + strlen("not deterministic: "));
		return -1;
	}
	vo->icount = want == ICOUNT_AUTO ? ICOUNT_SHIFT : want;
	o->deterministic = 1;
	snprintf(why, sizeof(why), "deterministic: TCG -icount shift=%d (one host thread runs "
		 "the vCPUs in turn), a fixed clock and RDRAND seed: the same command gives this "
		 "report again", vo->icount);
	return 0;
}

int replay_vm(struct replay_opts *o, const struct rplan *p, const struct rrun_set *rs)
{
	char initrd[4200], outdir[4200], console[4200];
	struct vm_opts vo = { .mem_mb = o->mem_mb, .cpus = o->cpus, .numa = 2,
			      .timeout_s = o->vm_timeout_s };
	struct guest_facts g;
	struct vm_result vr;
	struct kimage k;
	char err[512];
	int ret = MMR_EXIT_ERROR, broke;
	double t0 = vm_now(), t_rd, t_vm;

	if (kimage_inspect(&k, o->kernel, o->modules, o->vmlinux, err, sizeof(err))) {
		mmr_err("replay: %s", err);
		return MMR_EXIT_ERROR;
	}
	if (preflight(&k, p, o->kernel) || replay_mkdir(o, "mmreplay-vm", tmpdir, sizeof(tmpdir)))
		return MMR_EXIT_ERROR;
	snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio", tmpdir);
	snprintf(outdir, sizeof(outdir), "%s/out", tmpdir);
	snprintf(console, sizeof(console), "%s.console", o->out);
	o->console = console;
	if (mkdir(outdir, 0700) || build_initramfs(o, &k, initrd))
		goto out;
	t_rd = vm_now();
	vo.kernel = o->kernel;
	vo.initrd = initrd;
	vo.console = console;
	vo.accel = choose_accel(o);
	vo.stop = o->stop;
	if (o->cpus < 2)
		vo.numa = 1;
	if (choose_icount(o, &vo))
		goto out;
	if (mmr_verbose)
		fprintf(stderr, "replay: booting %s under %s%s, %d CPUs, %d MiB, %d NUMA nodes\n",
			o->kernel, vo.accel, vo.icount >= 0 ? " -icount" : "", vo.cpus, vo.mem_mb,
			vo.numa);
	vm_run(&vo, outdir, &vr);
	if (vr.end == VM_STOPPED) {
		mmr_err("replay: interrupted; the guest was stopped and its files removed");
		goto out;
	}
	if (vr.end == VM_TIMEOUT || vr.end == VM_FAILED) {
		mmr_err("replay: %s: %s", vm_end_name(vr.end), vr.line);
		vm_console_tail(console, 25, NULL);
		goto out;
	}
	broke = vr.end == VM_PANIC || vr.end == VM_OOPS;
	read_facts(outdir, &g);
	t_vm = vm_now();
	/* after a kernel broke during the replay, what came back is still reported */
	if (broke)
		ret = kernel_broke(o, &vr, &g);
	if (!broke)
		ret = guest_report(o, p, outdir, &vr, rs, &g, 0);
	else if (g.cmd_start_s > 0)
		guest_report(o, p, outdir, &vr, rs, &g, 1);
	if (mmr_verbose)
		fprintf(stderr, "replay: time: initramfs %.2f s, qemu %.2f s (boot to /init %.2f s, "
			"replay %.2f s), check %.2f s, total %.2f s\n", t_rd - t0, vr.wall_s,
			g.init_s, g.cmd_end_s - g.cmd_start_s, vm_now() - t_vm, vm_now() - t0);
out:
	replay_rmdir(tmpdir);
	return ret;
}

/* mmreplay __vm-send DIR: in the guest, DIR into the ivshmem device (vm/send.c) */
int cmd_vm_send(int argc, char **argv)
{
	char err[512];

	if (argc != 2) {
		mmr_err("__vm-send: usage: __vm-send DIR");
		return MMR_EXIT_ERROR;
	}
	if (!vm_send(argv[1], err, sizeof(err)))
		return 0;
	mmr_err("__vm-send: %s", err);
	return MMR_EXIT_ERROR;
}
