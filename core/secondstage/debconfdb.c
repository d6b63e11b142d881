/* debconfdb: debconf's 822 database files and their merge (see debconfdb.h).
 * The reading follows Debconf::Format::822 rule for rule, including how
 * it splits a line (at the first colon and one blank after it), owners
 * and flags (at a comma and the blanks after it) and variables. */
#include "debconfdb.h"

#include "../base/strbuf.h"
#include "../base/util.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Perl's \s, for the bytes debconf's files hold. */
static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Where key is, or would go, in n sorted elements of size bytes whose
 * string (a char *) is off bytes in; *found says whether it is there. */
static size_t lower_bound(const void *elts, size_t n, size_t size, size_t off, const char *key,
                          bool *found)
{
	size_t lo = 0, hi = n;
	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *s = *(char *const *)((const char *)elts + mid * size + off);
		int c = strcmp(s, key);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct debconfdb_item *rec_find(const struct debconfdb_rec *r, const char *key, size_t *at)
{
	bool found;
	size_t i = lower_bound(r->items, r->n, sizeof(*r->items),
	                       offsetof(struct debconfdb_item, key), key, &found);
	if (at)
		*at = i;
	return found ? &r->items[i] : NULL;
}

/* Sets key to value (copies both; value NULL for owners and flags). */
static void rec_set(struct debconfdb_rec *r, const char *key, const char *value)
{
	size_t at;
	struct debconfdb_item *it = rec_find(r, key, &at);
	if (it) {
		free(it->value);
		it->value = value ? xstrdup(value) : NULL;
		return;
	}
	if (r->n == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : 8;
		r->items = xrealloc(r->items, r->alloc * sizeof(*r->items));
	}
	memmove(&r->items[at + 1], &r->items[at], (r->n - at) * sizeof(*r->items));
	r->items[at] = (struct debconfdb_item){ xstrdup(key), value ? xstrdup(value) : NULL };
	r->n++;
}

static void rec_unset(struct debconfdb_rec *r, const char *key)
{
	size_t at;
	struct debconfdb_item *it = rec_find(r, key, NULL);
	if (!it)
		return;
	at = (size_t)(it - r->items);
	free(it->key);
	free(it->value);
	memmove(&r->items[at], &r->items[at + 1], (r->n - at - 1) * sizeof(*r->items));
	r->n--;
}

static void rec_release(struct debconfdb_rec *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].key);
		free(r->items[i].value);
	}
	free(r->items);
	free(r->name);
}

static struct debconfdb_rec *db_find(const struct debconfdb *db, const char *name, size_t *at)
{
	bool found;
	size_t i = lower_bound(db->recs, db->n, sizeof(*db->recs),
	                       offsetof(struct debconfdb_rec, name), name, &found);
	if (at)
		*at = i;
	return found ? &db->recs[i] : NULL;
}

/* The record of name, made empty when missing; its old items dropped when
 * fresh (a later record of a name replaces an earlier one). */
static struct debconfdb_rec *db_get(struct debconfdb *db, const char *name, bool fresh)
{
	size_t at;
	struct debconfdb_rec *r = db_find(db, name, &at);
	if (r && fresh) {
		char *keep = xb_steal(&r->name);
		rec_release(r);
		*r = (struct debconfdb_rec){ .name = keep };
	}
	if (r)
		return r;
	if (db->n == db->alloc) {
		db->alloc = db->alloc ? 2 * db->alloc : 64;
		db->recs = xrealloc(db->recs, db->alloc * sizeof(*db->recs));
	}
	memmove(&db->recs[at + 1], &db->recs[at], (db->n - at) * sizeof(*db->recs));
	db->recs[at] = (struct debconfdb_rec){ .name = xstrdup(name) };
	db->n++;
	return &db->recs[at];
}

static void db_remove(struct debconfdb *db, const char *name)
{
	struct debconfdb_rec *r = db_find(db, name, NULL);
	if (!r)
		return;
	size_t at = (size_t)(r - db->recs);
	rec_release(r);
	memmove(&db->recs[at], &db->recs[at + 1], (db->n - at - 1) * sizeof(*db->recs));
	db->n--;
}

void debconfdb_release(struct debconfdb *db)
{
	for (size_t i = 0; i < db->n; i++)
		rec_release(&db->recs[i]);
	free(db->recs);
	*db = (struct debconfdb)DEBCONFDB_INIT;
}

/* ---- reading ---- */

/* A record being read: its items in the order of the file, a later one of
 * a key winning, as in debconf's hashes. */
struct reading {
	char *name;
	struct debconfdb_rec items;
};

static void add_item(struct reading *rd, char kind, const char *name, size_t len, const char *value)
{
	cleanup_free char *key = xmalloc(len + 2);
	key[0] = kind;
	memcpy(key + 1, name, len);
	key[len + 1] = '\0';
	rec_set(&rd->items, key, value);
}

/* Owners and flags: split at a comma followed by blanks; Perl's split
 * drops the empty fields at the end. */
static void add_list(struct reading *rd, char kind, const char *v)
{
	const char *end = v + strlen(v);
	while (end > v) { /* empty fields at the end */
		const char *p = end;
		while (p > v && blank(p[-1]))
			p--;
		if (p == end || p == v || p[-1] != ',')
			break;
		end = p - 1;
	}
	while (v < end) {
		const char *p = v;
		while (p < end && !(p[0] == ',' && p + 1 < end && blank(p[1])))
			p++;
		add_item(rd, kind, v, (size_t)(p - v), NULL);
		if (p == end)
			break;
		for (p++; p < end && blank(*p); p++)
			;
		v = p;
	}
}

/* " var = value": the name ends where blanks and an equals sign begin. */
static void add_variable(struct reading *rd, const char *line)
{
	while (blank(*line))
		line++;
	const char *eq = strchr(line, '=');
	if (!eq) {
		add_item(rd, 'd', line, strlen(line), "");
		return;
	}
	const char *end = eq;
	while (end > line && blank(end[-1]))
		end--;
	const char *v = eq + 1;
	if (blank(*v))
		v++;
	add_item(rd, 'd', line, (size_t)(end - line), v);
}

static void add_line(struct reading *rd, const char *line, bool *invars)
{
	if (*invars && blank(*line)) {
		add_variable(rd, line);
		return;
	}
	*invars = false;
	const char *colon = strchr(line, ':');
	size_t klen = colon ? (size_t)(colon - line) : strlen(line);
	const char *v = "";
	if (colon) {
		v = colon + 1;
		if (blank(*v))
			v++;
	}
	cleanup_free char *key = xstrndup(line, klen);
	for (char *k = key; *k; k++)
		if (*k >= 'A' && *k <= 'Z')
			*k = (char)(*k - 'A' + 'a');
	if (!strcmp(key, "owners"))
		add_list(rd, 'b', v);
	else if (!strcmp(key, "flags"))
		add_list(rd, 'c', v);
	else if (!strcmp(key, "variables"))
		*invars = true;
	else if (!strcmp(key, "name"))
		free(rd->name), rd->name = colon ? xstrdup(v) : NULL;
	else if (klen)
		add_item(rd, 'a', key, klen, v);
}

static void end_record(struct debconfdb *db, struct reading *rd)
{
	if (rd->name) {
		struct debconfdb_rec *r = db_get(db, rd->name, true);
		r->items = rd->items.items;
		r->n = rd->items.n;
		r->alloc = rd->items.alloc;
		rd->items = (struct debconfdb_rec){ 0 };
	}
	free(rd->name);
	rec_release(&rd->items);
	*rd = (struct reading){ 0 };
}

void debconfdb_parse(const char *text, size_t len, struct debconfdb *db)
{
	struct reading rd = { 0 };
	bool invars = false;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		cleanup_free char *line = xstrndup(p, n);
		p += n + (nl != NULL);
		if (!n) { /* a record ends */
			end_record(db, &rd);
			invars = false;
			continue;
		}
		add_line(&rd, line, &invars);
	}
	end_record(db, &rd);
}

/* ---- writing ---- */

static void write_list(const struct debconfdb_rec *r, char kind, const char *label, struct strbuf *out)
{
	const char *sep = "";
	for (size_t i = 0; i < r->n; i++) {
		if (r->items[i].key[0] != kind)
			continue;
		if (!*sep)
			strbuf_addf(out, "%s: ", label);
		strbuf_addf(out, "%s%s", sep, r->items[i].key + 1);
		sep = ", ";
	}
	if (*sep)
		strbuf_addch(out, '\n');
}

void debconfdb_write(const struct debconfdb *db, struct strbuf *out)
{
	for (size_t i = 0; i < db->n; i++) {
		const struct debconfdb_rec *r = &db->recs[i];
		bool vars = false;
		strbuf_addf(out, "Name: %s\n", r->name);
		for (size_t j = 0; j < r->n; j++) {
			const char *k = r->items[j].key;
			if (k[0] != 'a')
				continue;
			char first = k[1] >= 'a' && k[1] <= 'z' ? (char)(k[1] - 'a' + 'A') : k[1];
			strbuf_addf(out, "%c%s: %s\n", first, k[1] ? k + 2 : "", r->items[j].value);
		}
		write_list(r, 'b', "Owners", out);
		write_list(r, 'c', "Flags", out);
		for (size_t j = 0; j < r->n; j++) {
			if (r->items[j].key[0] != 'd')
				continue;
			if (!vars)
				strbuf_addstr(out, "Variables:\n");
			vars = true;
			strbuf_addf(out, " %s = %s\n", r->items[j].key + 1, r->items[j].value);
		}
		strbuf_addch(out, '\n');
	}
}

/* ---- the merge ---- */

static bool same(const struct debconfdb_item *a, const struct debconfdb_item *b)
{
	if (!a || !b)
		return a == b;
	if (!a->value || !b->value)
		return a->value == b->value;
	return !strcmp(a->value, b->value);
}

/* What changed from b to o (either may be NULL: no such record) into db;
 * true when something did. */
static bool merge_rec(struct debconfdb *db, const char *name, const struct debconfdb_rec *b,
                      const struct debconfdb_rec *o)
{
	static const struct debconfdb_rec none;
	if (!o) {
		bool had = db_find(db, name, NULL) != NULL;
		db_remove(db, name);
		return had;
	}
	bool changed = !b && !db_find(db, name, NULL);
	if (!b)
		b = &none;
	struct debconfdb_rec *r = changed ? db_get(db, name, false) : db_find(db, name, NULL);
	size_t i = 0, j = 0;
	while (i < b->n || j < o->n) {
		int c = i == b->n ? 1 : j == o->n ? -1 : strcmp(b->items[i].key, o->items[j].key);
		const struct debconfdb_item *bi = c <= 0 ? &b->items[i] : NULL;
		const struct debconfdb_item *oi = c >= 0 ? &o->items[j] : NULL;
		i += c <= 0;
		j += c >= 0;
		if (same(bi, oi))
			continue;
		if (!r) /* removed meanwhile, changed here: back */
			r = db_get(db, name, false);
		if (oi)
			rec_set(r, oi->key, oi->value);
		else
			rec_unset(r, bi->key);
		changed = true;
	}
	return changed;
}

size_t debconfdb_merge(struct debconfdb *db, const struct debconfdb *base, const struct debconfdb *ours)
{
	size_t i = 0, j = 0, changed = 0;
	while (i < base->n || j < ours->n) {
		int c = i == base->n   ? 1
		        : j == ours->n ? -1
		                       : strcmp(base->recs[i].name, ours->recs[j].name);
		const struct debconfdb_rec *b = c <= 0 ? &base->recs[i] : NULL;
		const struct debconfdb_rec *o = c >= 0 ? &ours->recs[j] : NULL;
		i += c <= 0;
		j += c >= 0;
		changed += merge_rec(db, b ? b->name : o->name, b, o);
	}
	return changed;
}
