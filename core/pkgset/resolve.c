/* resolve: the package set of a bootstrap, with libsolv (Debian semantics):
 * the seed of a variant with --include and --exclude, the solver job and
 * the apt-like choice among alternatives, the report of an unsatisfiable
 * request, and the struct xb_pkg list handed back.  pkgscan reads the
 * Packages files (and gives the fields libsolv ignores); order puts the
 * result in install order. */
#include <errno.h>

#include <solv/evr.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/problems.h>
#include <solv/repo.h>
#include <solv/solver.h>
#include <solv/transaction.h>

#include "multiarch.h"
#include "order.h"
#include "pkgscan.h"
#include "resolve.h"

struct ctx {
	const struct resolve_req *req;
	Pool *pool;
	struct pkgscan scan;
	Id native;                    /* req->arch */
};

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

/* What a seed may select by, and the trait of the scan each means. */
static const struct {
	const char *word;
	unsigned trait;
} selectors[] = {
	{ "essential", PKGSCAN_ESSENTIAL_YES }, { "required", PKGSCAN_REQUIRED },
	{ "important", PKGSCAN_IMPORTANT },     { "standard", PKGSCAN_STANDARD },
};

static unsigned select_trait(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(selectors); i++)
		if (!strcmp(word, selectors[i].word))
			return selectors[i].trait;
	return 0;
}

bool resolve_select_known(const char *word)
{
	return select_trait(word) != 0;
}

static void seed_add(Queue *seed, Map *seen, Id name)
{
	if (MAPTST(seen, name))
		return;
	map_set(seen, name);
	queue_push(seed, name);
}

/* Whether solvable p is what NAME=VERSION/SUITE asks for (version and
 * suite NULL: any). */
static bool matches(const struct ctx *c, Id p, const char *version, const char *suite)
{
	Pool *pool = c->pool;
	Solvable *s = pool->solvables + p;
	if (version && strcmp(pool_id2str(pool, s->evr), version))
		return false;
	if (!suite)
		return true;
	int f = pkgscan_file_of(&c->scan, s->repo);
	return f >= 0 && c->req->file_suites && !strcmp(c->req->file_suites[f], suite);
}

/* --include's NAME[=VERSION][/SUITE]: NAME into the seed, and out of
 * consideration every package of that name the rest does not match, so
 * that the solver can only take what was asked for. */
static int seed_include(struct ctx *c, const char *spec, Queue *seed, Map *seen)
{
	Pool *pool = c->pool;
	cleanup_free char *name = xstrdup(spec);
	char *suite = strchr(name, '/'), *version;
	if (suite)
		*suite++ = '\0';
	if ((version = strchr(name, '=')))
		*version++ = '\0';
	Id id = multiarch_user_name(pool, name, c->native), p, pp;
	size_t left = 0;
	FOR_PROVIDES(p, pp, id) {
		if (!id || pool->solvables[p].name != id || !MAPTST(pool->considered, p))
			continue;
		if (matches(c, p, version, suite))
			left++;
		else
			map_clr(pool->considered, p);
	}
	if (!id || !left) {
		xb_error("package %s not found in the indices%s", spec,
		         version || suite ? " (with that version or suite)" : "");
		return -XB_ENOTFOUND;
	}
	seed_add(seed, seen, id);
	return 0;
}

/* Fills seed with the name ids to install: what the variant selects and
 * its packages, plus --include, minus --exclude. */
static int build_seed(struct ctx *c, unsigned traits, Queue *seed)
{
	Pool *pool = c->pool;
	const struct strvec *inc = c->req->include, *exc = c->req->exclude;
	const struct strvec *extra = c->req->packages;
	Map seen;
	Id p;
	int r = 0;

	map_init(&seen, pool->ss.nstrings);
	FOR_POOL_SOLVABLES(p) {
		Solvable *s = pool->solvables + p;
		/* The variant's selection is the native architecture's. */
		if (MAPTST(&seen, s->name) || !pool_installable(pool, s) ||
		    (s->arch != c->native && s->arch != ARCH_ALL))
			continue;
		Id best = best_by_name(pool, s->name);
		if (best && (pkgscan_traits(&c->scan, best) & traits))
			seed_add(seed, &seen, s->name);
	}
	for (size_t i = 0; extra && i < extra->n; i++) {
		Id name = pool_str2id(pool, extra->v[i], 0);
		if (name && best_by_name(pool, name))
			seed_add(seed, &seen, name);
	}
	for (size_t i = 0; !r && inc && i < inc->n; i++)
		r = seed_include(c, inc->v[i], seed, &seen);
	if (r < 0)
		goto out;
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

/* How apt ranks the providers of a name no real package has: Essential
 * first, then by Priority (required, important, standard, the rest). */
static int provider_rank(const struct ctx *c, Id p)
{
	unsigned t = pkgscan_traits(&c->scan, p);
	return t & PKGSCAN_ESSENTIAL_YES ? 0 : t & PKGSCAN_REQUIRED ? 1 : t & PKGSCAN_IMPORTANT ? 2
	       : t & PKGSCAN_STANDARD ? 3 : 4;
}

/* The package apt takes for one alternative: the newest real package of
 * its name, else the best-ranked provider (by name when ranks tie).
 * *in: it, or for a real package any version of it, is in inset. */
static Id apt_choice(const struct ctx *c, const Map *inset, Id alt, Id name, bool *in)
{
	Pool *pool = c->pool;
	Id p, pp, real = 0, prov = 0;
	bool real_in = false;
	FOR_PROVIDES(p, pp, alt) {
		Solvable *s = pool->solvables + p;
		if (s->name == name) {
			real_in |= MAPTST(inset, p) != 0;
			if (!real || pool_evrcmp(pool, s->evr, pool->solvables[real].evr,
			                         EVRCMP_COMPARE) > 0)
				real = p;
		} else if (!pool_installable(pool, s)) {
			continue;
		} else if (!prov || provider_rank(c, p) < provider_rank(c, prov) ||
		           (provider_rank(c, p) == provider_rank(c, prov) &&
		            strcmp(pool_id2str(pool, s->name),
		                   pool_id2str(pool, pool->solvables[prov].name)) < 0)) {
			prov = p;
		}
	}
	*in = real ? real_in : prov && MAPTST(inset, prov);
	return real ? real : prov;
}

/* libsolv chooses among alternatives by name; apt (and debootstrap) take
 * the first alternative that can be installed, a real package before one
 * that merely provides its name, and among providers the one of highest
 * priority (mawk, not gawk, for awk).  Where the solution satisfies dep
 * otherwise, the package apt would take is added to favor.  Returns true
 * when it did. */
static bool prefer_first(const struct ctx *c, const Map *inset, Id dep, Map *favored,
			 Queue *favor)
{
	Pool *pool = c->pool;
	Queue alts;
	bool added = false;

	queue_init(&alts);
	flatten_or(pool, dep, &alts);
	for (int i = 0; i < alts.count; i++) {
		Id name = alt_name(pool, alts.elements[i]);
		bool in;
		if (is_avoided(pool, name))
			continue;
		Id want = apt_choice(c, inset, alts.elements[i], name, &in);
		if (want && !in && !MAPTST(favored, want)) {
			map_set(favored, want);
			queue_push2(favor, SOLVER_FAVOR | SOLVER_SOLVABLE, want);
			added = true;
		}
		if (want)
			break;
	}
	queue_free(&alts);
	return added;
}

/* Adds favor jobs for the dependencies of chosen that libsolv satisfied
 * differently from apt.  Returns true when it added any. */
static bool prefer_first_all(const struct ctx *c, const Queue *chosen, Map *favored,
                             Queue *favor)
{
	Pool *pool = c->pool;
	Map inset;
	Queue deps;
	bool added = false;

	map_init(&inset, pool->nsolvables);
	for (int i = 0; i < chosen->count; i++)
		map_set(&inset, chosen->elements[i]);
	queue_init(&deps);
	for (int i = 0; i < chosen->count; i++) {
		queue_empty(&deps); /* lookups append */
		solvable_lookup_deparray(pool->solvables + chosen->elements[i],
					 SOLVABLE_REQUIRES, &deps, 0);
		for (int k = 0; k < deps.count; k++)
			if (deps.elements[k] != SOLVABLE_PREREQMARKER)
				added |= prefer_first(c, &inset, deps.elements[k], favored, favor);
	}
	queue_free(&deps);
	map_free(&inset);
	return added;
}

/* One run of the solver over job; fills chosen with what to install. */
static int solve_once(Pool *pool, Queue *job, Queue *chosen, bool recommends)
{
	Solver *solv = solver_create(pool);
	Transaction *trans;
	int n;

	solver_set_flag(solv, SOLVER_FLAG_IGNORE_RECOMMENDED, !recommends);
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
		r = solve_once(c->pool, &job, chosen, c->req->recommends);
		if (r < 0 || round == 10 ||
		    !prefer_first_all(c, chosen, &favored, &favor))
			break;
	}
	map_free(&favored);
	queue_free(&favor);
	queue_free(&job);
	return r;
}

/* The solver builds rules for every package it may consider.  Limiting
 * that to what the seed reaches through Depends and Pre-Depends (every
 * alternative and every provider included) changes no answer, and saves
 * most of its memory and time on a whole archive. */
static void consider_reachable(Pool *pool, const Queue *seed, bool recommends)
{
	Map reach;
	Queue todo;
	Id p, pp, dep, *dp;

	map_init(&reach, pool->nsolvables);
	queue_init(&todo);
	for (int i = 0; i < seed->count; i++)
		FOR_PROVIDES(p, pp, seed->elements[i])
			queue_push(&todo, p);
	while (todo.count) {
		Id s = queue_pop(&todo);
		if (MAPTST(&reach, s) || !pool_installable(pool, pool->solvables + s))
			continue;
		map_set(&reach, s);
		Solvable *sv = pool->solvables + s;
		Offset deps[2] = { sv->requires, recommends ? sv->recommends : 0 };
		for (int k = 0; k < 2; k++) {
			if (!deps[k])
				continue;
			for (dp = sv->repo->idarraydata + deps[k]; (dep = *dp++) != 0;)
				if (dep != SOLVABLE_PREREQMARKER)
					FOR_PROVIDES(p, pp, dep)
						if (!MAPTST(&reach, p))
							queue_push(&todo, p);
		}
	}
	map_and(pool->considered, &reach);
	queue_free(&todo);
	map_free(&reach);
}

static int fill_pkg(const struct ctx *c, Id p, struct xb_pkg *pkg)
{
	const struct pkgscan *ps = &c->scan;
	Pool *pool = c->pool;
	Solvable *s = pool->solvables + p;

	pkg->name = multiarch_debian_name(pool, p, c->native);
	pkg->version = xstrdup(pool_id2str(pool, s->evr));
	pkg->arch = xstrdup(pool_id2str(pool, s->arch));
	pkg->source = pkgscan_source(ps, p);
	pkg->filename = pkgscan_dup(ps, p, PKGSCAN_FILENAME);
	pkg->sha256 = pkgscan_dup(ps, p, PKGSCAN_SHA256);
	cleanup_free char *size = pkgscan_dup(ps, p, PKGSCAN_SIZE);
	if (!pkg->filename || !pkg->sha256 || !size) {
		xb_error("reading %s: package %s %s has no Filename, Size or SHA256",
			 c->req->files[pkg->source], pkg->name, pkg->version);
		return -XB_EPARSE;
	}
	pkg->priority = pkgscan_dup(ps, p, PKGSCAN_PRIORITY);
	pkg->multi_arch = pkgscan_dup(ps, p, PKGSCAN_MULTIARCH);
	pkg->essential = pkgscan_is(ps, p, PKGSCAN_ESSENTIAL, "yes");
	char *end;
	errno = 0;
	pkg->size = strtoull(size, &end, 10);
	if (errno || *end || !(*size >= '0' && *size <= '9')) {
		xb_error("reading %s: package %s has a bad Size: %s",
			 c->req->files[pkg->source], pkg->name, size);
		return -XB_EPARSE;
	}
	return 0;
}

/* Orders chosen for installation, in phases (see order.h). */
static void order_chosen(const struct ctx *c, Queue *chosen, Queue *edges, int *phases)
{
	Map essential, required;

	map_init(&essential, c->pool->nsolvables);
	map_init(&required, c->pool->nsolvables);
	for (int i = 0; i < chosen->count; i++) {
		unsigned t = pkgscan_traits(&c->scan, chosen->elements[i]);
		if (t & PKGSCAN_ESSENTIAL_YES)
			map_set(&essential, chosen->elements[i]);
		if (t & PKGSCAN_REQUIRED)
			map_set(&required, chosen->elements[i]);
	}
	order_install(c->pool, chosen, &essential, &required, edges, phases);
	map_free(&essential);
	map_free(&required);
}

/* Gives each package the positions of its dependencies (pairs from
 * order_install), each once. */
static void add_deps(struct xb_pkg *pkgs, const Queue *edges)
{
	for (int k = 0; k + 1 < edges->count; k += 2) {
		struct xb_pkg *p = &pkgs[edges->elements[k]];
		size_t j = (size_t)edges->elements[k + 1], i;
		for (i = 0; i < p->n_deps && p->deps[i] != j; i++)
			;
		if (i < p->n_deps)
			continue;
		p->deps = xrealloc(p->deps, (p->n_deps + 1) * sizeof(*p->deps));
		p->deps[p->n_deps++] = j;
	}
}

static void ctx_release(struct ctx *c)
{
	pkgscan_release(&c->scan);
	if (c->pool)
		pool_free(c->pool);
}

static bool in_queue(const Queue *q, Id id)
{
	for (int i = 0; i < q->count; i++)
		if (q->elements[i] == id)
			return true;
	return false;
}

/* The chosen packages in install order, as *out (freed by resolve_free). */
static int emit_pkgs(struct ctx *c, const Queue *seed, const Queue *chosen,
                     const int *phases, struct xb_pkg **out)
{
	struct xb_pkg *pkgs = xcalloc((size_t)chosen->count + 1, sizeof(*pkgs));

	for (int i = 0; i < chosen->count; i++) {
		Id id = chosen->elements[i];
		int r;

		pkgs[i].phase = phases[i];
		pkgs[i].requested = in_queue(seed, c->pool->solvables[id].name);
		if ((r = fill_pkg(c, id, &pkgs[i])) < 0) {
			resolve_free(pkgs, (size_t)i + 1);
			return r;
		}
	}
	*out = pkgs;
	return 0;
}

static int seed_traits(const struct strvec *select, unsigned *traits)
{
	*traits = 0;
	for (size_t i = 0; i < select->n; i++) {
		unsigned t = select_trait(select->v[i]);
		if (!t) {
			xb_error("resolving packages: cannot select by %s (essential, required, "
			         "important or standard)", select->v[i]);
			return -XB_EUSAGE;
		}
		*traits |= t;
	}
	return 0;
}

int resolve_packages(const struct resolve_req *req, struct xb_pkg **out, size_t *n_out)
{
	struct ctx c = { .req = req, .scan = PKGSCAN_INIT };
	struct xb_pkg *pkgs = NULL;
	int *phases = NULL;
	Queue seed, chosen, edges;
	unsigned traits;
	int r = seed_traits(req->select, &traits);

	*out = NULL;
	*n_out = 0;
	if (r < 0)
		return r;
	queue_init(&seed);
	queue_init(&chosen);
	queue_init(&edges);
	c.pool = pool_create();
	if (pool_setdisttype(c.pool, DISTTYPE_DEB) < 0) {
		xb_error("resolving packages: libsolv lacks Debian support");
		r = -XB_EUSAGE;
		goto out;
	}
	if ((r = multiarch_load(c.pool, &c.scan, req->arch, req->foreign_archs, req->files,
	                        req->n_files, &c.native)) < 0)
		goto out;
	pool_addfileprovides(c.pool);
	pool_createwhatprovides(c.pool);
	if ((r = build_seed(&c, traits, &seed)) < 0)
		goto out;
	consider_reachable(c.pool, &seed, req->recommends);
	if ((r = solve(&c, &seed, &chosen)) < 0)
		goto out;
	phases = xcalloc((size_t)chosen.count + 1, sizeof(*phases));
	order_chosen(&c, &chosen, &edges, phases);
	if ((r = emit_pkgs(&c, &seed, &chosen, phases, &pkgs)) < 0)
		goto out;
	add_deps(pkgs, &edges);
	*out = pkgs;
	*n_out = (size_t)chosen.count;
out:
	queue_free(&seed);
	queue_free(&chosen);
	queue_free(&edges);
	free(phases);
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
		free(pkgs[i].deps);
	}
	free(pkgs);
}
