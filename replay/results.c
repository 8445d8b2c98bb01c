// SPDX-License-Identifier: GPL-2.0
/*
 * The runs and results files between `mmreplay replay` and its replay
 * process (results.h): each writer beside its reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "results.h"

/* ---- the runs file ----------------------------------------------------- */

int runs_write(const char *path, const struct rrun *runs, int n, unsigned kinds)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	if (kinds)
		fprintf(f, "#kinds %u\n", kinds);
	for (int i = 0; i < n; i++)
		fprintf(f, "%ld %ld %llu %d\n", runs[i].a, runs[i].b, (unsigned long long)runs[i].seed,
			runs[i].perturb);
	return fclose(f);
}

int runs_read(const char *path, struct rrun **runs, unsigned *kinds)
{
	FILE *f = fopen(path, "r");
	struct rrun r, *grown;
	unsigned long long seed;
	size_t cap = 0;
	int n = 0;

	*runs = NULL;
	if (kinds)
		*kinds = 0;
	if (f)		/* a mismatch leaves the first run's line unread */
		fscanf(f, "#kinds %u ", kinds ?: &(unsigned){ 0 });
	while (f && fscanf(f, "%ld %ld %llu %d", &r.a, &r.b, &seed, &r.perturb) == 4) {
		r.seed = seed;
		grown = mmr_grow(*runs, &cap, n + 1, sizeof(**runs), 64);
		if (!grown) {
			fclose(f);
			return -1;
		}
		*runs = grown;
		(*runs)[n++] = r;
	}
	if (f)
		fclose(f);
	return f ? n : -1;
}

/* ---- the results file -------------------------------------------------- */

static void clean_text(char *s)
{
	for (; *s; s++)
		if (*s == '\t' || *s == '\n')
			*s = ' ';
}

int results_write(FILE *f, const struct run_result *r)
{
	const struct rstats *s = &r->st;
	char err[256], div[3][160];

	snprintf(err, sizeof(err), "%s", r->err);
	clean_text(err);
	fprintf(f, "%ld\t%ld\t%llu\t%d\t%d\t%lld\t%llu\t%llu\t%llu\t", r->run.a, r->run.b,
		(unsigned long long)r->run.seed, r->run.perturb, s->perturbed,
		(long long)s->perturb_at_ns, (unsigned long long)s->perturb_ns,
		(unsigned long long)s->op_ns, (unsigned long long)s->end_ns);
	fprintf(f, "%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%d\t%s",
		(unsigned long long)s->ops,
		(unsigned long long)s->skipped, (unsigned long long)s->touches,
		(unsigned long long)s->touch_outside, (unsigned long long)s->touch_fault,
		(unsigned long long)s->diverged, (unsigned long long)s->pageouts,
		(unsigned long long)s->migrations, (unsigned long long)s->elapsed_ns,
		(unsigned long long)s->diverged_raced, s->stuck, err);
	for (int i = 0; i < 3; i++) {
		snprintf(div[i], sizeof(div[i]), "%s", s->first_divergence[i]);
		clean_text(div[i]);
		fprintf(f, "\t%s", div[i]);
	}
	return fprintf(f, "\n") < 0 ? -1 : 0;
}

void results_caps_write(FILE *f, const struct perturb_caps *c)
{
	for (int k = 1; k < PERTURB_NR; k++)
		fprintf(f, "#perturb\t%s\t%d\t%s\n", perturb_name(k), !!(c->ok & 1u << k),
			c->how[k][0] ? c->how[k] : c->why[k]);
}

void results_caps_read(const char *path, struct perturb_caps *c)
{
	char line[512], name[32], text[400];
	FILE *f = fopen(path, "r");
	int ok, k;

	memset(c, 0, sizeof(*c));
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "#perturb\t%31[^\t]\t%d\t%399[^\n]", name, &ok, text) < 2)
			continue;
		k = perturb_kind(name);
		if (k < 0)
			continue;
		c->ok |= ok ? 1u << k : 0;
		snprintf(ok ? c->how[k] : c->why[k], sizeof(c->how[k]), "%.159s", text);
	}
	if (f)
		fclose(f);
}

void results_stopped_write(FILE *f, int next, const char *why)
{
	fprintf(f, "#stopped\t%d\t%s\n", next, why);
}

int results_stopped(const char *path)
{
	char line[2048];
	FILE *f = fopen(path, "r");
	int next = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "#stopped\t%d", &next) == 1)
			break;
	if (f)
		fclose(f);
	return next;
}

static void field_copy(char **p, char *dst, size_t len)
{
	char *tab = strchr(*p, '\t');
	size_t n = tab ? (size_t)(tab - *p) : strlen(*p);

	snprintf(dst, len, "%.*s", (int)n, *p);
	*p += n + (tab ? 1 : 0);
}

int results_read(const char *path, struct run_result *res, int max)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	int n = 0;

	while (f && n < max && fgets(line, sizeof(line), f)) {
		struct run_result *r = &res[n];
		struct rstats *s = &r->st;
		unsigned long long v[10], seed, pns, ons, ens;
		long long at;
		int used = 0, head = 0;
		char *p;

		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "%ld\t%ld\t%llu\t%d\t%d\t%lld\t%llu\t%llu\t%llu\t%n", &r->run.a,
			   &r->run.b, &seed, &r->run.perturb, &s->perturbed, &at, &pns, &ons, &ens,
			   &head) < 9)
			break;
		if (sscanf(line + head, "%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%d%n",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			   &s->stuck, &used) < 11 || line[head + used] != '\t')
			break;
		used += head;
		r->run.seed = seed;
		s->perturb_at_ns = at, s->perturb_ns = pns, s->op_ns = ons, s->end_ns = ens;
		r->after_s = -1;
		s->ops = v[0], s->skipped = v[1], s->touches = v[2], s->touch_outside = v[3];
		s->touch_fault = v[4], s->diverged = v[5], s->pageouts = v[6], s->migrations = v[7];
		s->elapsed_ns = v[8], s->diverged_raced = v[9];
		p = line + used + 1;	/* text fields may be empty: split on single tabs */
		field_copy(&p, r->err, sizeof(r->err));
		for (int i = 0; i < 3; i++)
			field_copy(&p, s->first_divergence[i], sizeof(s->first_divergence[i]));
		n++;
	}
	if (f)
		fclose(f);
	return n;
}
