// SPDX-License-Identifier: GPL-2.0
/*
 * replay --explore --jobs N: the explore as N shards run at once, each in a
 * child process of its own (its process group, --shard I/N, its partial
 * report into a file), then merged here as `mmreplay merge` does and
 * printed once.  The shards share the budget's deadline (set before the
 * fork).  Their progress comes back through a pipe and is said in one
 * line; their messages, kept in files, are said once they are done, each
 * once.  A signal to the command goes on to every shard's process group;
 * the partial reports of the shards it stopped are merged as the budget's
 * are, with the cells of a shard that had none as not run.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "replay_cli.h"
#include "replay_shard.h"
#include "util.h"
#include "vm/vm.h"

/* The phases a shard says, in the order one goes through them. */
static const char *const phases[] = { "boot", "guest", "explore", "check" };
#define PHASE_CHECK 3

/* What a shard's progress callback sends the parent: atomic (< PIPE_BUF). */
struct job_msg {
	int job, phase, cells_done, runs_done, findings;
};

struct job {
	pid_t pid;
	int running, status;		/* status: the exit status, or -1 (a signal) */
	int phase, said, cells_done, runs_done, findings;
	int part_ok;			/* its partial report was read into sp[] */
	int stand_in;			/* interrupted without one: sp[] has its cells, no trial */
	char *part, *err;		/* its partial report, its stderr */
};

struct jobs {
	const struct replay_opts *o;
	replay_one_fn run_one;		/* a shard's replay and report (cmd_replay.c's) */
	int n, fd, cells, runs;		/* fd: the progress pipe's read end */
	int stopped, failed;		/* signals sent on (count); the first shard that failed, -1 */
	int last_phase;
	char dir[4200];
	struct job *job;
	struct shard_part *sp;
};

/* the last signal, and how many came (1, then 2: a second kills the guests asked to stop) */
static volatile sig_atomic_t got_signal, nr_signals;

static void on_job_signal(int sig)
{
	got_signal = sig;
	nr_signals = nr_signals ? 2 : 1;
}

/* ---- in a shard's process ------------------------------------------------ */

static int progress_fd = -1, job_nr;

static void job_progress(const struct replay_progress *pr)
{
	struct job_msg m = { job_nr, PHASE_CHECK, pr->cells_done, pr->runs_done, pr->findings };

	for (int i = 0; i < PHASE_CHECK; i++)
		if (!strcmp(pr->phase, phases[i]))
			m.phase = i;
	/* the pipe full (the parent behind): it gets the next one */
	(void)!write(progress_fd, &m, sizeof(m));
}

/* Shard i + 1 of n: its report into its part, its messages into its file. */
static void job_child(struct replay_opts o, const struct rplan *p, struct jobs *js, int i,
		      int wfd)
{
	int part = open(js->job[i].part, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int err = open(js->job[i].err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char out[4200];

	setpgid(0, 0);
	close(js->fd);
	if (part < 0 || err < 0 || dup2(part, 1) < 0 || dup2(err, 2) < 0)
		_exit(MMR_EXIT_ERROR);
	close(part), close(err);
	snprintf(out, sizeof(out), "%s.%d", o.out, i + 1);
	o.out = out;
	o.shard = i + 1, o.shards = js->n;
	o.json = 1;
	progress_fd = wfd, job_nr = i;
	o.progress = o.quiet ? NULL : job_progress;
	mmr_json_mode(0);
	i = mmr_json_end(js->run_one(&o, p));
	fflush(NULL);
	_exit(i);
}

/* ---- in the parent ------------------------------------------------------- */

static void jobs_signal(struct jobs *js, int sig)
{
	for (int i = 0; i < js->n; i++)
		if (js->job[i].running)
			kill(-js->job[i].pid, sig);
}

static int jobs_start(struct jobs *js, const struct rplan *p)
{
	int fds[2];

	if (pipe(fds))
		return -1;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	js->fd = fds[0];
	fflush(NULL);
	for (int i = 0; i < js->n; i++) {
		struct job *j = &js->job[i];

		j->pid = fork();
		if (j->pid == 0)
			job_child(*js->o, p, js, i, fds[1]);
		if (j->pid < 0) {
			close(fds[1]);
			return -1;
		}
		setpgid(j->pid, j->pid);	/* as the child does: no race with a signal */
		j->running = 1;
	}
	close(fds[1]);
	return 0;
}

static void jobs_read_progress(struct jobs *js)
{
	struct job_msg m;

	while (read(js->fd, &m, sizeof(m)) == sizeof(m))
		if (m.job >= 0 && m.job < js->n) {
			struct job *j = &js->job[m.job];

			j->phase = m.phase, j->said = 1;
			j->cells_done = m.cells_done, j->runs_done = m.runs_done;
			j->findings = m.findings;
		}
}

/* A shard that ended: its partial report read back, or it failed. */
static void job_ended(struct jobs *js, int i, int wstatus)
{
	struct job *j = &js->job[i];
	char err[600];

	j->running = 0;
	j->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	j->part_ok = j->status >= 0 && !replay_shard_read(j->part, &js->sp[i], err, sizeof(err));
	if (!j->part_ok && js->failed < 0)
		js->failed = i;
}

static void jobs_reap(struct jobs *js)
{
	int st;

	for (int i = 0; i < js->n; i++)
		if (js->job[i].running && waitpid(js->job[i].pid, &st, WNOHANG) == js->job[i].pid)
			job_ended(js, i, st);
}

static int jobs_running(const struct jobs *js)
{
	int n = 0;

	for (int i = 0; i < js->n; i++)
		n += js->job[i].running;
	return n;
}

/*
 * One progress line for every shard: the phase of the one furthest behind
 * (a shard not heard from yet is starting), the cells and trials of all.
 */
static void jobs_progress(struct jobs *js)
{
	struct replay_progress pr = { NULL, 1, js->cells, 0, js->runs, -1, 0, -1 };
	int phase = PHASE_CHECK;

	for (int i = 0; i < js->n; i++) {
		const struct job *j = &js->job[i];
		int ph = j->said ? j->phase : js->o->kernel ? 0 : 2;

		if (j->running && ph < phase)
			phase = ph;
		pr.cells_done += j->said ? j->cells_done : 0;
		if (j->said && j->runs_done >= 0)
			pr.runs_done = (pr.runs_done > 0 ? pr.runs_done : 0) + j->runs_done;
		if (j->said && j->findings >= 0)	/* so far: of the shards that checked a batch */
			pr.findings = (pr.findings > 0 ? pr.findings : 0) + j->findings;
	}
	if (!js->o->progress || !jobs_running(js) ||
	    (phase == PHASE_CHECK && js->last_phase == PHASE_CHECK))
		return;	/* the check's line is said once: it is not rate-limited */
	js->last_phase = phase;
	pr.phase = phases[phase];
	pr.left_s = js->o->deadline ? js->o->deadline - vm_now() : 0;
	js->o->progress(&pr);
}

/* Whether a running shard's guest said it ran trials (it will be asked to stop, not killed). */
static int jobs_guest_trials(const struct jobs *js)
{
	for (int i = 0; i < js->n; i++)
		if (js->job[i].running && js->job[i].said && js->job[i].phase == 1 &&
		    js->job[i].runs_done > 0)
			return 1;
	return 0;
}

/*
 * The signals to the command go on to the shards: the first, and with
 * --kernel a second (a shard's guest asked to stop is then killed).  A
 * shard that failed stops the others; with --kernel at once, by two
 * signals (two kinds: they cannot merge into one), not asking their guests.
 */
static void jobs_stop(struct jobs *js)
{
	if (nr_signals > js->stopped && (!js->stopped || js->o->kernel)) {
		if (!js->stopped && js->o->kernel && jobs_guest_trials(js)) {
			replay_progress_break();
			fprintf(stderr, "replay: interrupted: asking the guests to stop and send back "
				"the trials that ran; Ctrl-C again to kill them\n");
		}
		jobs_signal(js, got_signal);
		js->stopped = nr_signals;
	} else if (!js->stopped && js->failed >= 0) {
		jobs_signal(js, SIGTERM);
		if (js->o->kernel)
			jobs_signal(js, SIGINT);
		js->stopped = 2;
	}
}

/* Waits for every shard, saying progress, sending signals on. */
static void jobs_wait(struct jobs *js)
{
	while (jobs_running(js)) {
		struct pollfd pf = { js->fd, POLLIN, 0 };

		poll(&pf, 1, 250);
		jobs_read_progress(js);
		jobs_reap(js);
		jobs_stop(js);
		jobs_progress(js);
	}
	replay_progress_break();
}

/* A shard's stderr, or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, 0, f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Whether line (len bytes, its newline included) is in text. */
static int has_line(const char *text, const char *line, size_t len)
{
	for (const char *s = text; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
		if (!strncmp(s, line, len))
			return 1;
	return 0;
}

/*
 * The shards' messages to stderr, each said once (every shard warns
 * alike); @reported_only: only those of the shards that wrote a report
 * (interrupted, one that did not is said by the warning that stands in
 * for it, not by its own "interrupted" error).
 */
static void jobs_say_messages(const struct jobs *js, int reported_only)
{
	char *said = NULL;
	size_t said_len = 0;
	FILE *m = open_memstream(&said, &said_len);

	for (int i = 0; m && i < js->n; i++) {
		char *text = reported_only && !js->job[i].part_ok ? NULL : slurp(js->job[i].err);
		char *s = text, *nl;

		fflush(m);
		for (; s && *s; s = nl + 1) {
			nl = strchrnul(s, '\n');
			if (!has_line(said, s, nl - s + 1))
				fprintf(stderr, "%.*s\n", (int)(nl - s), s);
			fprintf(m, "%.*s\n", (int)(nl - s), s);
			if (!*nl)
				break;
		}
		free(text);
	}
	if (m)
		fclose(m);
	free(said);
}

/* The first error a failed shard said ("mmreplay: " and its message), or why not. */
static void job_error(const struct job *j, char *buf, size_t len)
{
	char *text = slurp(j->err), *s = text;

	snprintf(buf, len, "%s", j->status < 0 ? "killed by a signal" : "it said nothing");
	for (; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
		if (!strncmp(s, "mmreplay: ", 10) && strncmp(s, "mmreplay: warning: ", 19)) {
			snprintf(buf, len, "%.*s", (int)strcspn(s + 10, "\n"), s + 10);
			break;
		}
	free(text);
}

/*
 * Shard i, interrupted before it had a partial report: one in sp[i] from
 * the plan, its cells with no trial run, the rest as shard @from's.  0 or -1.
 */
static int stand_in(struct jobs *js, const struct rplan *p, int i, const struct shard_part *from)
{
	static struct rrun_set rs;
	struct replay_opts o = *js->o;
	struct shard_part *sp = &js->sp[i];
	char err[512];

	o.shard = i + 1, o.shards = js->n;
	if (replay_runs(&o, p, &rs, err, sizeof(err)))
		return -1;
	replay_runs_free(&rs);
	*sp = *from;
	sp->shard = o.shard;
	sp->incomplete = sp->interrupted = 1;
	sp->guest_ok = 0;
	sp->nr_cells = rs.nr_pairs;
	sp->cells = calloc(rs.nr_pairs + 1, sizeof(*sp->cells));
	for (int k = 0; sp->cells && k < rs.nr_pairs; k++) {
		const struct rpair *pr = &rs.pairs[k];

		sp->cells[k] = (struct shard_cell){ .id = rs.cell_id[k], .pair = *pr,
						    .op_a = p->ops[pr->a],
						    .op_b = p->ops[pr->perturb ? pr->a : pr->b] };
	}
	js->job[i].stand_in = sp->cells != NULL;
	return sp->cells ? 0 : -1;
}

/*
 * Interrupted: the partial reports of the shards that wrote one, merged
 * (a shard without one stands in with no trial run); exit 2 if none did.
 */
static int jobs_report_interrupted(struct jobs *js, const struct rplan *p, char **paths)
{
	const struct shard_part *from = NULL;

	for (int i = 0; i < js->n && !from; i++)
		from = js->job[i].part_ok ? &js->sp[i] : NULL;
	if (!from) {
		mmr_err("replay: interrupted before any job had a report; every job was stopped and "
			"its scratch directory removed");
		return MMR_EXIT_ERROR;
	}
	jobs_say_messages(js, 1);
	for (int i = 0; i < js->n; i++) {
		paths[i] = js->job[i].part;
		if (js->job[i].part_ok)
			continue;
		if (stand_in(js, p, i, from)) {
			mmr_err("replay: interrupted; out of memory for shard %d/%d's cells", i + 1,
				js->n);
			return MMR_EXIT_ERROR;
		}
		mmr_warn("replay: interrupted: shard %d/%d stopped before it had a report; its "
			 "cells count as not run", i + 1, js->n);
	}
	return merge_parts(js->sp, paths, js->n, js->o->json);
}

/* After every shard ended: the merged report, or one line saying what failed. */
static int jobs_report(struct jobs *js, const struct rplan *p)
{
	const struct job *f = js->failed >= 0 ? &js->job[js->failed] : NULL;
	char why[600], **paths = calloc(js->n, sizeof(char *));
	int ret = MMR_EXIT_ERROR;

	if (!paths) {
		mmr_err("replay: out of memory");
	} else if (got_signal) {
		ret = jobs_report_interrupted(js, p, paths);
	} else if (f) {
		job_error(f, why, sizeof(why));
		mmr_err("replay: --jobs: shard %d/%d failed (exit status %d): %s", js->failed + 1,
			js->n, f->status, why);
		ret = f->status == 1 ? 1 : MMR_EXIT_ERROR;	/* 1: its guest kernel broke */
	} else {
		jobs_say_messages(js, 0);
		for (int i = 0; i < js->n; i++)
			paths[i] = js->job[i].part;
		ret = merge_parts(js->sp, paths, js->n, js->o->json);
		for (int i = 0; i < js->n; i++)
			ret = js->job[i].status == MMR_EXIT_ERROR ? MMR_EXIT_ERROR : ret;
	}
	free(paths);
	return ret;
}

/* The shards' files in a directory of their own, removed after. */
static int jobs_files(struct jobs *js)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(js->dir, sizeof(js->dir), "%s/mmreplay-jobs.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(js->dir)) {
		mmr_err("replay: --jobs: cannot create a directory in %s: %s", tmp && *tmp ? tmp :
			"/tmp", strerror(errno));
		return -1;
	}
	for (int i = 0; i < js->n; i++)
		if (asprintf(&js->job[i].part, "%s/part%d.json", js->dir, i + 1) < 0 ||
		    asprintf(&js->job[i].err, "%s/err%d", js->dir, i + 1) < 0) {
			mmr_err("replay: out of memory");
			return -1;
		}
	return 0;
}

static void jobs_free(struct jobs *js)
{
	for (int i = 0; js->job && i < js->n; i++) {
		if (js->job[i].part)
			unlink(js->job[i].part);
		if (js->job[i].err)
			unlink(js->job[i].err);
		free(js->job[i].part);
		free(js->job[i].err);
		if (js->job[i].part_ok || js->job[i].stand_in)
			replay_shard_free(&js->sp[i]);
	}
	if (js->dir[0])
		rmdir(js->dir);
	free(js->job);
	free(js->sp);
}

int replay_jobs(struct replay_opts *o, const struct rplan *p, int nr_jobs, int cells,
		replay_one_fn run_one)
{
	struct jobs js = { o, run_one, nr_jobs, -1, cells, cells * o->trials, 0, -1, -1 };
	struct sigaction sa = { .sa_handler = on_job_signal };
	int ret = MMR_EXIT_ERROR;

	js.job = calloc(nr_jobs, sizeof(*js.job));
	js.sp = calloc(nr_jobs, sizeof(*js.sp));
	if (!js.job || !js.sp) {
		mmr_err("replay: out of memory");
		goto out;
	}
	if (!o->quiet)
		o->progress = replay_progress_print;
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: poll() returns */
	sigaction(SIGTERM, &sa, NULL);
	if (jobs_files(&js))
		goto out;
	if (jobs_start(&js, p)) {
		mmr_err("replay: --jobs: cannot start the shards: %s", strerror(errno));
		jobs_signal(&js, SIGTERM);	/* those that started */
		js.stopped = 1;
		jobs_wait(&js);
		goto out;
	}
	jobs_wait(&js);
	ret = jobs_report(&js, p);
out:
	if (js.fd >= 0)
		close(js.fd);
	jobs_free(&js);
	return ret;
}
