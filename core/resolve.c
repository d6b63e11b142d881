/* resolve: the package set of a bootstrap, with libsolv (Debian semantics).
 *
 * libsolv reads the Packages files and solves; it ignores Priority:,
 * Essential: and Multi-Arch:, so each file is also scanned here, line by
 * line, for those and for the download fields (Filename, Size, SHA256) of
 * every stanza.  A solvable is tied back to its stanza through its repo (one
 * per file) and (Package, Version, Architecture).  The install order is
 * computed here too: libsolv's transaction order puts essential packages
 * late and breaks cycles where Pre-Depends would not allow it. */
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <solv/evr.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/problems.h>
#include <solv/repo.h>
#include <solv/repo_deb.h>
#include <solv/solver.h>
#include <solv/transaction.h>

#include "resolve.h"

/* The fields of a stanza kept from the scan, as slices of the file. */
enum { F_PACKAGE, F_VERSION, F_ARCH, F_PRIORITY, F_ESSENTIAL, F_MULTIARCH,
       F_FILENAME, F_SIZE, F_SHA256, F_N };

/* What the scan looks for: slot is an F_* index or -1; solv says whether
 * the line goes into the copy libsolv reads.  Handing libsolv only what it
 * solves with (no Description, Recommends, Suggests, checksums) more than
 * halves its loading time, and Recommends can then never be installed. */
#define FIELD(name, slot, solv) { name, sizeof(name) - 1, slot, solv }
static const struct {
	const char *name;
	size_t len;
	int slot;
	bool solv;
} scan_fields[] = {
	FIELD("Package", F_PACKAGE, true),     FIELD("Version", F_VERSION, true),
	FIELD("Architecture", F_ARCH, true),   FIELD("Priority", F_PRIORITY, false),
	FIELD("Essential", F_ESSENTIAL, false), FIELD("Multi-Arch", F_MULTIARCH, true),
	FIELD("Filename", F_FILENAME, false),  FIELD("Size", F_SIZE, false),
	FIELD("SHA256", F_SHA256, false),      FIELD("Depends", -1, true),
	FIELD("Pre-Depends", -1, true),        FIELD("Provides", -1, true),
	FIELD("Conflicts", -1, true),          FIELD("Breaks", -1, true),
	FIELD("Replaces", -1, true),
};
#undef FIELD

struct slice {
	uint32_t off, len;
};

struct stanza {
	struct slice f[F_N];
};

struct pfile {
	const char *path;
	char *buf;               /* the mmap'd file (NULL when empty) */
	size_t len;
	struct stanza *st;
	size_t n, alloc;
	uint32_t *ht;            /* stanza index + 1 by (name, version, arch); 0 free */
	size_t ht_mask;
	Repo *repo;
};

struct ctx {
	const struct resolve_req *req;
	Pool *pool;
	struct pfile *files;
	size_t n_files;
	const struct stanza **meta; /* by solvable id: its stanza, or NULL */
	const char **meta_buf;      /* by solvable id: the buffer of that stanza */
	Id archid;
};

static bool slice_eq(const char *buf, struct slice s, const char *str, size_t len)
{
	return s.len == len && memcmp(buf + s.off, str, len) == 0;
}

static char *slice_dup(const char *buf, struct slice s)
{
	return s.len ? xstrndup(buf + s.off, s.len) : NULL;
}

static void push_stanza(struct pfile *pf, const struct stanza *cur)
{
	if (pf->n == pf->alloc) {
		pf->alloc = pf->alloc ? 2 * pf->alloc : 1024;
		pf->st = xrealloc(pf->st, pf->alloc * sizeof(*pf->st));
	}
	pf->st[pf->n++] = *cur;
}

/* Which scan_fields[] entry the line [p, colon) names, or -1. */
static int field_of(const char *p, const char *colon)
{
	size_t nlen = (size_t)(colon - p);
	for (size_t i = 0; i < ARRAY_SIZE(scan_fields); i++)
		if (scan_fields[i].len == nlen &&
		    strncasecmp(p, scan_fields[i].name, nlen) == 0)
			return (int)i;
	return -1;
}

/* Scans one Packages file for the fields above, and copies the lines
 * libsolv needs into solv.  Nothing else is copied. */
static void scan_stanzas(struct pfile *pf, struct strbuf *solv)
{
	const char *p = pf->buf, *end = pf->buf + pf->len;
	struct stanza cur;
	bool any = false, keep = false;

	memset(&cur, 0, sizeof(cur));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *colon, *v, *ve;
		int i;
		if (!nl)
			nl = end;
		if (p == nl || (*p == '\r' && p + 1 == nl)) {
			if (any) {
				push_stanza(pf, &cur);
				memset(&cur, 0, sizeof(cur));
				strbuf_addch(solv, '\n');
				any = false;
			}
			keep = false;
		} else if (*p == ' ' || *p == '\t') {
			if (keep)
				strbuf_add(solv, p, (size_t)(nl - p) + 1);
		} else if (*p != '#' && (colon = memchr(p, ':', (size_t)(nl - p))) &&
			   (i = field_of(p, colon)) >= 0) {
			keep = scan_fields[i].solv;
			if (keep) {
				strbuf_add(solv, p, (size_t)(nl - p));
				strbuf_addch(solv, '\n');
			}
			any = true;
			if (scan_fields[i].slot < 0)
				goto next;
			for (v = colon + 1; v < nl && (*v == ' ' || *v == '\t'); v++)
				;
			for (ve = nl; ve > v && (ve[-1] == ' ' || ve[-1] == '\t' ||
						 ve[-1] == '\r'); ve--)
				;
			cur.f[scan_fields[i].slot].off = (uint32_t)(v - pf->buf);
			cur.f[scan_fields[i].slot].len = (uint32_t)(ve - v);
		} else {
			keep = false;
		}
next:
		p = nl + 1;
	}
	if (any) {
		push_stanza(pf, &cur);
		strbuf_addch(solv, '\n');
	}
}

static uint64_t key_hash(const char *n, size_t nl, const char *v, size_t vl,
			 const char *a, size_t al)
{
	uint64_t h = 1469598103934665603ull;
	const char *parts[3] = { n, v, a };
	size_t lens[3] = { nl, vl, al };
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < lens[k]; i++)
			h = (h ^ (unsigned char)parts[k][i]) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h;
}

static uint64_t stanza_hash(const struct pfile *pf, const struct stanza *s)
{
	const char *b = pf->buf;
	return key_hash(b + s->f[F_PACKAGE].off, s->f[F_PACKAGE].len,
			b + s->f[F_VERSION].off, s->f[F_VERSION].len,
			b + s->f[F_ARCH].off, s->f[F_ARCH].len);
}

static void index_stanzas(struct pfile *pf)
{
	size_t size = 16;
	while (size < 2 * pf->n)
		size *= 2;
	pf->ht = xcalloc(size, sizeof(*pf->ht));
	pf->ht_mask = size - 1;
	for (size_t i = 0; i < pf->n; i++) {
		size_t j = stanza_hash(pf, &pf->st[i]) & pf->ht_mask;
		while (pf->ht[j])
			j = (j + 1) & pf->ht_mask;
		pf->ht[j] = (uint32_t)(i + 1);
	}
}

static const struct stanza *find_stanza(const struct pfile *pf, const char *n,
					const char *v, const char *a)
{
	size_t nl = strlen(n), vl = strlen(v), al = strlen(a);
	size_t j = key_hash(n, nl, v, vl, a, al) & pf->ht_mask;
	for (; pf->ht[j]; j = (j + 1) & pf->ht_mask) {
		const struct stanza *s = &pf->st[pf->ht[j] - 1];
		if (slice_eq(pf->buf, s->f[F_PACKAGE], n, nl) &&
		    slice_eq(pf->buf, s->f[F_VERSION], v, vl) &&
		    slice_eq(pf->buf, s->f[F_ARCH], a, al))
			return s;
	}
	return NULL;
}

/* Maps one file, scans it and hands it to libsolv as its own repo. */
static int load_file(struct ctx *c, struct pfile *pf)
{
	cleanup_fd int fd = open(pf->path, O_RDONLY | O_CLOEXEC);
	cleanup_strbuf struct strbuf solv = STRBUF_INIT;
	struct stat st;
	FILE *f;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		xb_error("reading %s: %s", pf->path, strerror(-r));
		return r;
	}
	pf->repo = repo_create(c->pool, pf->path);
	if (st.st_size == 0)
		return 0;
	if ((uint64_t)st.st_size >= UINT32_MAX) {
		xb_error("reading %s: file too large", pf->path);
		return -XB_EPARSE;
	}
	pf->len = (size_t)st.st_size;
	pf->buf = mmap(NULL, pf->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (pf->buf == MAP_FAILED) {
		r = -errno;
		pf->buf = NULL;
		xb_error("reading %s: %s", pf->path, strerror(-r));
		return r;
	}
	strbuf_grow(&solv, pf->len / 4);
	scan_stanzas(pf, &solv);
	index_stanzas(pf);
	if (!solv.len)
		return 0;
	f = fmemopen(solv.buf, solv.len, "r");
	if (!f) {
		r = -errno;
		xb_error("reading %s: %s", pf->path, strerror(-r));
		return r;
	}
	r = repo_add_debpackages(pf->repo, f, 0);
	fclose(f);
	if (r) {
		xb_error("parsing %s: %s", pf->path, pool_errstr(c->pool));
		return -XB_EPARSE;
	}
	return 0;
}

/* Ties every solvable to its stanza, and leaves out of consideration those
 * of other architectures, so that libsolv never picks one. */
static void attach_meta(struct ctx *c)
{
	Pool *pool = c->pool;
	Map *considered = xcalloc(1, sizeof(*considered));

	c->meta = xcalloc(pool->nsolvables, sizeof(*c->meta));
	c->meta_buf = xcalloc(pool->nsolvables, sizeof(*c->meta_buf));
	map_init(considered, pool->nsolvables);
	for (size_t i = 0; i < c->n_files; i++) {
		struct pfile *pf = &c->files[i];
		Solvable *s;
		Id p;
		FOR_REPO_SOLVABLES(pf->repo, p, s) {
			if (s->arch != c->archid && s->arch != ARCH_ALL)
				continue;
			MAPSET(considered, p);
			c->meta[p] = find_stanza(pf, pool_id2str(pool, s->name),
						 pool_id2str(pool, s->evr),
						 pool_id2str(pool, s->arch));
			c->meta_buf[p] = pf->buf;
		}
	}
	pool->considered = considered;
}

static const char *meta_field(const struct ctx *c, Id p, int field, size_t *len)
{
	const struct stanza *st = c->meta[p];
	if (!st || !st->f[field].len)
		return NULL;
	*len = st->f[field].len;
	return c->meta_buf[p] + st->f[field].off;
}

static bool meta_is(const struct ctx *c, Id p, int field, const char *value)
{
	size_t len;
	const char *v = meta_field(c, p, field, &len);
	return v && len == strlen(value) && strncasecmp(v, value, len) == 0;
}

/* The solvable libsolv would choose for a package name: the newest of the
 * installable ones (ours is the only architecture besides "all"). */
static Id best_by_name(Pool *pool, Id name)
{
	Id best = 0, p, pp;
	FOR_PROVIDES(p, pp, name) {
		Solvable *s = pool->solvables + p;
		if (s->name != name)
			continue;
		if (!best || pool_evrcmp(pool, s->evr, pool->solvables[best].evr,
					 EVRCMP_COMPARE) > 0)
			best = p;
	}
	return best;
}

static const char *const variants[] = {
	"essential", "minbase", "buildd", "important", "standard",
};

/* Does the candidate p belong to the seed of variant v (an index in
 * variants[])? */
static bool in_variant(const struct ctx *c, Id p, int v)
{
	if (v == 0)
		return meta_is(c, p, F_ESSENTIAL, "yes");
	if (meta_is(c, p, F_PRIORITY, "required"))
		return true;
	if (v >= 3 && meta_is(c, p, F_PRIORITY, "important"))
		return true;
	return v == 4 && meta_is(c, p, F_PRIORITY, "standard");
}

static void seed_add(Queue *seed, Map *seen, Id name)
{
	if (MAPTST(seen, name))
		return;
	MAPSET(seen, name);
	queue_push(seed, name);
}

/* Fills seed with the name ids to install: the variant, plus --include,
 * minus --exclude. */
static int build_seed(struct ctx *c, int variant, Queue *seed)
{
	Pool *pool = c->pool;
	const struct strvec *inc = c->req->include, *exc = c->req->exclude;
	Map seen;
	Id p;
	int r = 0;

	map_init(&seen, pool->ss.nstrings);
	FOR_POOL_SOLVABLES(p) {
		Solvable *s = pool->solvables + p;
		if (MAPTST(&seen, s->name) || !pool_installable(pool, s))
			continue;
		Id best = best_by_name(pool, s->name);
		if (best && in_variant(c, best, variant))
			seed_add(seed, &seen, s->name);
	}
	static const char *const extra[][2] = {
		{ "minbase", "apt" }, { "buildd", "apt" }, { "buildd", "build-essential" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(extra); i++) {
		Id name = pool_str2id(pool, extra[i][1], 0);
		if (strcmp(extra[i][0], variants[variant]) == 0 && name &&
		    best_by_name(pool, name))
			seed_add(seed, &seen, name);
	}
	for (size_t i = 0; inc && i < inc->n; i++) {
		Id name = pool_str2id(pool, inc->v[i], 0);
		if (!name || !best_by_name(pool, name)) {
			xb_error("package %s not found in the indices", inc->v[i]);
			r = -XB_ENOTFOUND;
			goto out;
		}
		seed_add(seed, &seen, name);
	}
	for (size_t i = 0; exc && i < exc->n; i++) {
		Id name = pool_str2id(pool, exc->v[i], 0);
		for (int k = 0; name && k < seed->count; k++)
			if (seed->elements[k] == name)
				queue_delete(seed, k--);
	}
out:
	map_free(&seen);
	return r;
}

/* One error line per problem, then the chain of rules behind it (those
 * that say more than the problem itself and the request). */
static void report_problems(Solver *solv, int n)
{
	Queue rules;
	queue_init(&rules);
	for (Id i = 1; i <= n; i++) {
		cleanup_free char *what = xstrdup(solver_problem2str(solv, i));
		xb_error("cannot resolve the package set: %s", what);
		solver_findallproblemrules(solv, i, &rules);
		for (int k = 0; k < rules.count; k++) {
			Id dep, source, target;
			SolverRuleinfo type = solver_ruleinfo(solv, rules.elements[k],
							      &source, &target, &dep);
			if ((type & SOLVER_RULE_TYPEMASK) == SOLVER_RULE_JOB)
				continue;
			const char *why = solver_problemruleinfo2str(solv, type, source,
								     target, dep);
			if (strcmp(why, what) != 0)
				xb_info("  %s", why);
		}
	}
	queue_free(&rules);
}

/* Packages apt may take but a bootstrap avoids, as debootstrap does:
 * usrmerge converts an existing tree to merged-/usr, while a bootstrap
 * makes it merged from the start (usr-is-merged says so to dependants). */
static const char *const avoided[] = { "usrmerge" };

static bool is_avoided(Pool *pool, Id name)
{
	for (size_t i = 0; i < ARRAY_SIZE(avoided); i++)
		if (strcmp(pool_id2str(pool, name), avoided[i]) == 0)
			return true;
	return false;
}

/* Appends the alternatives of dep ("a | b | c") to q, in order. */
static void flatten_or(Pool *pool, Id dep, Queue *q)
{
	if (ISRELDEP(dep)) {
		Reldep *rd = GETRELDEP(pool, dep);
		if (rd->flags == REL_OR) {
			flatten_or(pool, rd->name, q);
			flatten_or(pool, rd->evr, q);
			return;
		}
	}
	queue_push(q, dep);
}

/* The package name an alternative is about ("foo" of "foo:any (>= 1)"). */
static Id alt_name(Pool *pool, Id dep)
{
	while (ISRELDEP(dep)) {
		Reldep *rd = GETRELDEP(pool, dep);
		if (rd->flags > 7 && rd->flags != REL_MULTIARCH)
			break;
		dep = rd->name;
	}
	return dep;
}

/* libsolv chooses among alternatives by name; apt (and debootstrap) take
 * the first alternative that can be installed, and a real package before
 * one that merely provides its name.  Where the solution satisfies dep
 * otherwise, the package apt would take is added to favor.  Returns true
 * when it did. */
static bool prefer_first(Pool *pool, const Map *inset, Id dep, Map *favored,
			 Queue *favor)
{
	Queue alts;
	bool added = false;

	queue_init(&alts);
	flatten_or(pool, dep, &alts);
	for (int i = 0; i < alts.count; i++) {
		Id name = alt_name(pool, alts.elements[i]), p, pp, real = 0;
		bool any = false, real_in = false;
		if (is_avoided(pool, name))
			continue;
		FOR_PROVIDES(p, pp, alts.elements[i]) {
			Solvable *s = pool->solvables + p;
			any = true;
			if (s->name != name)
				continue;
			real_in |= MAPTST(inset, p) != 0;
			if (!real || pool_evrcmp(pool, s->evr, pool->solvables[real].evr,
						 EVRCMP_COMPARE) > 0)
				real = p;
		}
		if (real && !real_in && !MAPTST(favored, real)) {
			MAPSET(favored, real);
			queue_push2(favor, SOLVER_FAVOR | SOLVER_SOLVABLE, real);
			added = true;
		}
		if (any)
			break;
	}
	queue_free(&alts);
	return added;
}

/* Adds favor jobs for the dependencies of chosen that libsolv satisfied
 * differently from apt.  Returns true when it added any. */
static bool prefer_first_all(Pool *pool, const Queue *chosen, Map *favored, Queue *favor)
{
	Map inset;
	Queue deps;
	bool added = false;

	map_init(&inset, pool->nsolvables);
	for (int i = 0; i < chosen->count; i++)
		MAPSET(&inset, chosen->elements[i]);
	queue_init(&deps);
	for (int i = 0; i < chosen->count; i++) {
		queue_empty(&deps); /* lookups append */
		solvable_lookup_deparray(pool->solvables + chosen->elements[i],
					 SOLVABLE_REQUIRES, &deps, 0);
		for (int k = 0; k < deps.count; k++)
			if (deps.elements[k] != SOLVABLE_PREREQMARKER)
				added |= prefer_first(pool, &inset, deps.elements[k],
						      favored, favor);
	}
	queue_free(&deps);
	map_free(&inset);
	return added;
}

/* One run of the solver over job; fills chosen with what to install. */
static int solve_once(Pool *pool, Queue *job, Queue *chosen)
{
	Solver *solv = solver_create(pool);
	Transaction *trans;
	int n;

	solver_set_flag(solv, SOLVER_FLAG_IGNORE_RECOMMENDED, 1);
	n = solver_solve(solv, job);
	if (n) {
		report_problems(solv, n);
		solver_free(solv);
		return -XB_EUNSAT;
	}
	trans = solver_create_transaction(solv);
	queue_empty(chosen);
	for (int i = 0; i < trans->steps.count; i++) {
		Id p = trans->steps.elements[i];
		if (transaction_type(trans, p, SOLVER_TRANSACTION_SHOW_ACTIVE) ==
		    SOLVER_TRANSACTION_INSTALL)
			queue_push(chosen, p);
	}
	transaction_free(trans);
	solver_free(solv);
	return 0;
}

/* Solves for the seed, then again while apt would have chosen other
 * alternatives (bounded: favoring one can change what else is needed). */
static int solve(struct ctx *c, const Queue *seed, Queue *chosen)
{
	Queue job, favor;
	Map favored;
	int r;

	queue_init(&job);
	queue_init(&favor);
	map_init(&favored, c->pool->nsolvables);
	for (int round = 0;; round++) {
		queue_empty(&job);
		for (int i = 0; i < seed->count; i++)
			queue_push2(&job, SOLVER_INSTALL | SOLVER_SOLVABLE_NAME,
				    seed->elements[i]);
		for (size_t i = 0; i < ARRAY_SIZE(avoided); i++) {
			Id name = pool_str2id(c->pool, avoided[i], 0);
			if (name)
				queue_push2(&job, SOLVER_DISFAVOR | SOLVER_SOLVABLE_NAME, name);
		}
		queue_insertn(&job, job.count, favor.count, favor.elements);
		r = solve_once(c->pool, &job, chosen);
		if (r < 0 || round == 10 ||
		    !prefer_first_all(c->pool, chosen, &favored, &favor))
			break;
	}
	map_free(&favored);
	queue_free(&favor);
	queue_free(&job);
	return r;
}

/* The install order.  Nodes are the chosen solvables sorted by name; edges
 * go from a package to the chosen providers of its Pre-Depends (pre) and
 * Depends (dep), within its group (essential or not).  Tarjan's algorithm
 * emits strongly connected components dependencies first; inside a cycle,
 * packages whose Pre-Depends are all emitted go first, preferring those
 * whose Depends are too. */
struct node {
	Id p;
	bool essential;
	Queue pre, dep;
	int index, low;
	bool on_stack, emitted;
};

struct order {
	struct node *n;
	int count, next_index;
	Queue stack, out;
};

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static void sort_uniq(Queue *q)
{
	int k = 0;
	if (q->count < 2)
		return;
	qsort(q->elements, (size_t)q->count, sizeof(Id), cmp_int);
	for (int i = 0; i < q->count; i++)
		if (!k || q->elements[k - 1] != q->elements[i])
			q->elements[k++] = q->elements[i];
	queue_truncate(q, k);
}

static bool deps_emitted(const struct order *o, const Queue *q)
{
	for (int i = 0; i < q->count; i++)
		if (!o->n[q->elements[i]].emitted)
			return false;
	return true;
}

static void emit(struct order *o, int v)
{
	o->n[v].emitted = true;
	queue_push(&o->out, v);
}

/* Orders the members of one cycle, given sorted in members. */
static void emit_cycle(struct order *o, const Queue *members)
{
	for (int left = members->count; left > 0; left--) {
		int pick = -1, fallback = -1, any = -1;
		for (int i = 0; i < members->count && pick < 0; i++) {
			struct node *nd = &o->n[members->elements[i]];
			if (nd->emitted)
				continue;
			if (any < 0)
				any = members->elements[i];
			if (deps_emitted(o, &nd->pre)) {
				if (fallback < 0)
					fallback = members->elements[i];
				if (deps_emitted(o, &nd->dep))
					pick = members->elements[i];
			}
		}
		emit(o, pick >= 0 ? pick : fallback >= 0 ? fallback : any);
	}
}

static void tarjan(struct order *o, int v)
{
	struct node *nd = &o->n[v];
	nd->index = nd->low = ++o->next_index;
	queue_push(&o->stack, v);
	nd->on_stack = true;
	for (int pass = 0; pass < 2; pass++) {
		const Queue *edges = pass ? &nd->dep : &nd->pre;
		for (int i = 0; i < edges->count; i++) {
			int w = edges->elements[i];
			if (!o->n[w].index) {
				tarjan(o, w);
				if (o->n[w].low < nd->low)
					nd->low = o->n[w].low;
			} else if (o->n[w].on_stack && o->n[w].index < nd->low) {
				nd->low = o->n[w].index;
			}
		}
	}
	if (nd->low != nd->index)
		return;
	Queue members;
	queue_init(&members);
	int w;
	do {
		w = queue_pop(&o->stack);
		o->n[w].on_stack = false;
		queue_push(&members, w);
	} while (w != v);
	if (members.count == 1) {
		emit(o, v);
	} else {
		sort_uniq(&members);
		emit_cycle(o, &members);
	}
	queue_free(&members);
}

/* Adds to q the nodes providing the dependencies of s in the same group.
 * libsolv keeps Depends before SOLVABLE_PREREQMARKER and Pre-Depends after
 * it: marker SOLVABLE_PREREQMARKER selects Pre-Depends, its negation
 * Depends. */
static void add_edges(Pool *pool, const struct order *o, const int *node_of,
		      Solvable *s, Id marker, bool essential, Queue *q)
{
	Queue deps;
	queue_init(&deps);
	solvable_lookup_deparray(s, SOLVABLE_REQUIRES, &deps, marker);
	for (int i = 0; i < deps.count; i++) {
		Id p, pp;
		FOR_PROVIDES(p, pp, deps.elements[i]) {
			int w = node_of[p];
			if (w >= 0 && pool->solvables + o->n[w].p != s &&
			    o->n[w].essential == essential)
				queue_push(q, w);
		}
	}
	queue_free(&deps);
	sort_uniq(q);
}

static int cmp_by_name(const void *a, const void *b, void *pool_)
{
	Pool *pool = pool_;
	const Solvable *x = pool->solvables + *(const Id *)a;
	const Solvable *y = pool->solvables + *(const Id *)b;
	int r = strcmp(pool_id2str(pool, x->name), pool_id2str(pool, y->name));
	return r ? r : strcmp(pool_id2str(pool, x->arch), pool_id2str(pool, y->arch));
}

/* Reorders chosen (solvable ids) for installation. */
static void order_install(struct ctx *c, Queue *chosen)
{
	Pool *pool = c->pool;
	struct order o = { .count = chosen->count };
	int *node_of = xmalloc(pool->nsolvables * sizeof(*node_of));

	qsort_r(chosen->elements, (size_t)chosen->count, sizeof(Id), cmp_by_name, pool);
	for (int i = 0; i < pool->nsolvables; i++)
		node_of[i] = -1;
	o.n = xcalloc((size_t)o.count + 1, sizeof(*o.n));
	for (int i = 0; i < o.count; i++) {
		o.n[i].p = chosen->elements[i];
		o.n[i].essential = meta_is(c, o.n[i].p, F_ESSENTIAL, "yes");
		node_of[o.n[i].p] = i;
		queue_init(&o.n[i].pre);
		queue_init(&o.n[i].dep);
	}
	for (int i = 0; i < o.count; i++) {
		Solvable *s = pool->solvables + o.n[i].p;
		add_edges(pool, &o, node_of, s, SOLVABLE_PREREQMARKER, o.n[i].essential,
			  &o.n[i].pre);
		add_edges(pool, &o, node_of, s, -SOLVABLE_PREREQMARKER, o.n[i].essential,
			  &o.n[i].dep);
	}
	queue_init(&o.stack);
	queue_init(&o.out);
	for (int group = 1; group >= 0; group--)
		for (int i = 0; i < o.count; i++)
			if (o.n[i].essential == group && !o.n[i].index)
				tarjan(&o, i);
	for (int i = 0; i < o.count; i++) {
		chosen->elements[i] = o.n[o.out.elements[i]].p;
		queue_free(&o.n[i].pre);
		queue_free(&o.n[i].dep);
	}
	queue_free(&o.stack);
	queue_free(&o.out);
	free(o.n);
	free(node_of);
}

static int fill_pkg(const struct ctx *c, Id p, struct xb_pkg *pkg)
{
	Pool *pool = c->pool;
	Solvable *s = pool->solvables + p;
	const struct stanza *st = c->meta[p];
	const char *buf = c->meta_buf[p];

	pkg->name = xstrdup(pool_id2str(pool, s->name));
	pkg->version = xstrdup(pool_id2str(pool, s->evr));
	pkg->arch = xstrdup(pool_id2str(pool, s->arch));
	for (size_t i = 0; i < c->n_files; i++)
		if (c->files[i].repo == s->repo)
			pkg->source = (int)i;
	if (!st || !st->f[F_FILENAME].len || !st->f[F_SHA256].len || !st->f[F_SIZE].len) {
		xb_error("reading %s: package %s %s has no Filename, Size or SHA256",
			 c->files[pkg->source].path, pkg->name, pkg->version);
		return -XB_EPARSE;
	}
	pkg->filename = slice_dup(buf, st->f[F_FILENAME]);
	pkg->sha256 = slice_dup(buf, st->f[F_SHA256]);
	pkg->priority = slice_dup(buf, st->f[F_PRIORITY]);
	pkg->multi_arch = slice_dup(buf, st->f[F_MULTIARCH]);
	pkg->essential = meta_is(c, p, F_ESSENTIAL, "yes");
	cleanup_free char *size = slice_dup(buf, st->f[F_SIZE]);
	char *end;
	errno = 0;
	pkg->size = strtoull(size, &end, 10);
	if (errno || *end || !(*size >= '0' && *size <= '9')) {
		xb_error("reading %s: package %s has a bad Size: %s",
			 c->files[pkg->source].path, pkg->name, size);
		return -XB_EPARSE;
	}
	return 0;
}

static void ctx_release(struct ctx *c)
{
	for (size_t i = 0; i < c->n_files; i++) {
		struct pfile *pf = &c->files[i];
		if (pf->buf)
			munmap(pf->buf, pf->len);
		free(pf->st);
		free(pf->ht);
	}
	free(c->files);
	free(c->meta);
	free(c->meta_buf);
	if (c->pool) {
		if (c->pool->considered) {
			map_free(c->pool->considered);
			free(c->pool->considered);
			c->pool->considered = NULL;
		}
		pool_free(c->pool);
	}
}

static int variant_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(variants); i++)
		if (name && strcmp(name, variants[i]) == 0)
			return (int)i;
	xb_error("unknown variant %s (valid: essential, minbase, buildd, important, "
		 "standard)", name ? name : "(none)");
	return -XB_EUSAGE;
}

int resolve_packages(const struct resolve_req *req, struct xb_pkg **out, size_t *n_out)
{
	struct ctx c = { .req = req };
	struct xb_pkg *pkgs = NULL;
	Queue seed, chosen;
	int variant = variant_index(req->variant), r = 0;

	*out = NULL;
	*n_out = 0;
	if (variant < 0)
		return variant;
	queue_init(&seed);
	queue_init(&chosen);
	c.pool = pool_create();
	if (pool_setdisttype(c.pool, DISTTYPE_DEB) < 0) {
		xb_error("resolving packages: libsolv lacks Debian support");
		r = -XB_EUSAGE;
		goto out;
	}
	pool_setarch(c.pool, req->arch);
	c.archid = pool_str2id(c.pool, req->arch, 1);
	c.n_files = req->n_files;
	c.files = xcalloc(req->n_files + 1, sizeof(*c.files));
	for (size_t i = 0; i < req->n_files; i++) {
		c.files[i].path = req->files[i];
		if ((r = load_file(&c, &c.files[i])) < 0)
			goto out;
	}
	attach_meta(&c);
	pool_addfileprovides(c.pool);
	pool_createwhatprovides(c.pool);
	if ((r = build_seed(&c, variant, &seed)) < 0 || (r = solve(&c, &seed, &chosen)) < 0)
		goto out;
	order_install(&c, &chosen);
	pkgs = xcalloc((size_t)chosen.count + 1, sizeof(*pkgs));
	for (int i = 0; i < chosen.count; i++) {
		if ((r = fill_pkg(&c, chosen.elements[i], &pkgs[i])) < 0) {
			resolve_free(pkgs, (size_t)i + 1);
			goto out;
		}
	}
	*out = pkgs;
	*n_out = (size_t)chosen.count;
out:
	queue_free(&seed);
	queue_free(&chosen);
	ctx_release(&c);
	return r;
}

void resolve_free(struct xb_pkg *pkgs, size_t n)
{
	for (size_t i = 0; pkgs && i < n; i++) {
		free(pkgs[i].name);
		free(pkgs[i].version);
		free(pkgs[i].arch);
		free(pkgs[i].filename);
		free(pkgs[i].sha256);
		free(pkgs[i].priority);
		free(pkgs[i].multi_arch);
	}
	free(pkgs);
}
