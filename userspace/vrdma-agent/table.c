// SPDX-License-Identifier: GPL-2.0
/*
 * The endpoint table (VNI, overlay address) -> entry, a chained hash
 * table that doubles when it gets full; and the journal of the map
 * entries this agent put into the kernel.
 *
 * The kernel's map has no owners: the journal, in the state folder (a
 * tmpfs, /run, that lives as long as the kernel's map does, until the
 * next boot), lists the (VNI, address) pairs the agent added, written
 * before each addition.  A full reconcile removes only entries listed
 * there: entries added by hand are left alone.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "parse.h"

static unsigned int ent_hash(uint32_t vni, const struct in6_addr *addr)
{
	const uint8_t *p = addr->s6_addr;
	uint32_t h = 2166136261u ^ vni;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ (h >> 15);
}

static int table_grow(struct table *t)
{
	unsigned int nb = t->nb ? t->nb * 2 : 1024, i;
	struct ent **b = calloc(nb, sizeof(*b)), *e, *next;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < t->nb; i++)
		for (e = t->b[i]; e; e = next) {
			unsigned int h = ent_hash(e->vni, &e->addr) & (nb - 1);

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	free(t->b);
	t->b = b;
	t->nb = nb;
	return 0;
}

struct ent *table_get(struct table *t, uint32_t vni,
		      const struct in6_addr *addr, bool create)
{
	struct ent *e;
	unsigned int h;

	if (t->nb) {
		h = ent_hash(vni, addr) & (t->nb - 1);
		for (e = t->b[h]; e; e = e->next)
			if (e->vni == vni && !memcmp(&e->addr, addr, 16))
				return e;
	}
	if (!create)
		return NULL;
	if (t->n >= t->nb && table_grow(t))
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->vni = vni;
	e->addr = *addr;
	h = ent_hash(vni, addr) & (t->nb - 1);
	e->next = t->b[h];
	t->b[h] = e;
	t->n++;
	return e;
}

void table_del(struct table *t, struct ent *e)
{
	struct ent **pp;

	if (!t->nb)
		return;
	for (pp = &t->b[ent_hash(e->vni, &e->addr) & (t->nb - 1)]; *pp;
	     pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			t->n--;
			free(e);
			return;
		}
}

/* ------------------------------------------------------------------ */
/* The journal                                                          */

static void journal_path(const struct agent *a, char *buf, size_t len,
			 const char *suffix)
{
	snprintf(buf, len, "%s/map.journal%s", a->cfg.state_dir, suffix);
}

/*
 * Read the journal: mark the entries it lists as owned (in a dry run,
 * also as present: the sink has no dump).  A malformed line is skipped.
 */
int journal_open(struct agent *a)
{
	char path[300], line[256], op[4], sa[64], sv[64];
	struct in6_addr addr, via;
	unsigned int vni;
	struct ent *e;
	FILE *f;

	journal_path(a, path, sizeof(path), "");
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			int n = sscanf(line, "%3s %u %63s %63s", op, &vni, sa, sv);

			if (n < 3 || vni > VNI_MAX || parse_addr(sa, &addr))
				continue;
			e = table_get(&a->t, vni, &addr, !strcmp(op, "+"));
			if (!e)
				continue;
			if (!strcmp(op, "+")) {
				e->owned = true;
				if (a->cfg.dry_run && n == 4 &&
				    !parse_addr(sv, &via)) {
					if (!e->have)
						a->nr_have++;
					e->have = true;
					e->via_have = via;
				}
			} else if (!strcmp(op, "-")) {
				e->owned = false;
				if (a->cfg.dry_run && e->have) {
					e->have = false;
					a->nr_have--;
				}
			}
		}
		fclose(f);
	}
	a->journal = fopen(path, "a");
	return a->journal ? 0 : -errno;
}

void journal_add(struct agent *a, const struct ent *e)
{
	char sa[ADDR_STRLEN], sv[ADDR_STRLEN];

	if (!a->journal)
		return;
	fprintf(a->journal, "+ %u %s %s\n", e->vni, format_addr(&e->addr, sa),
		format_addr(&e->via_want, sv));
	fflush(a->journal);
}

void journal_del(struct agent *a, const struct ent *e)
{
	char sa[ADDR_STRLEN];

	if (!a->journal)
		return;
	fprintf(a->journal, "- %u %s\n", e->vni, format_addr(&e->addr, sa));
	fflush(a->journal);
}

int journal_compact(struct agent *a)
{
	char path[300], tmp[300], sa[ADDR_STRLEN], sv[ADDR_STRLEN];
	struct ent *e, *n;
	unsigned int i;
	FILE *f;

	journal_path(a, path, sizeof(path), "");
	journal_path(a, tmp, sizeof(tmp), ".new");
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	table_for_each(&a->t, i, e, n)
		if (e->owned)
			fprintf(f, "+ %u %s %s\n", e->vni,
				format_addr(&e->addr, sa),
				format_addr(&e->via_have, sv));
	if (fclose(f) || rename(tmp, path))
		return -errno;
	if (a->journal)
		fclose(a->journal);
	a->journal = fopen(path, "a");
	return a->journal ? 0 : -errno;
}
