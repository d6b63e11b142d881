/* multiarch: dpkg's multiarch rules as renamed solvables and rewritten
 * relations (see multiarch.h). */
#include <solv/poolarch.h>
#include <solv/repo.h>

#include "multiarch.h"

#include "../base/strbuf.h"

struct ma {
	Pool *pool;
	Id native;
	const Id *foreign;  /* namespace k > 0 is foreign[k - 1]'s */
	int n_ns;           /* 1 + the number of foreign architectures */
	struct strbuf sb;   /* scratch for the names made */
};

enum ma_kind { MA_NO, MA_SAME, MA_FOREIGN, MA_ALLOWED };

/* The namespace of a package of architecture arch, or -1 for one not
 * taking part. */
static int ns_of_arch(const struct ma *m, Id arch)
{
	if (arch == m->native || arch == ARCH_ALL)
		return 0;
	for (int k = 1; k < m->n_ns; k++)
		if (m->foreign[k - 1] == arch)
			return k;
	return -1;
}

static Id make_name(struct ma *m, const char *base, size_t len, const char *suffix, int ns)
{
	strbuf_reset(&m->sb);
	strbuf_add(&m->sb, base, len);
	if (suffix)
		strbuf_addf(&m->sb, ":%s", suffix);
	if (ns > 0)
		strbuf_addf(&m->sb, ":%s", pool_id2str(m->pool, m->foreign[ns - 1]));
	return pool_str2id(m->pool, m->sb.buf, 1);
}

/* NAME into namespace ns.  A name with an architecture of its own is in
 * that one's: NAME:native and NAME:NATIVE-ARCH mean NAME; NAME:F stays. */
static Id in_ns(struct ma *m, Id name, int ns)
{
	const char *s = pool_id2str(m->pool, name), *colon = strrchr(s, ':');
	if (colon) {
		const char *q = colon + 1;
		if (!strcmp(q, "native") || !strcmp(q, pool_id2str(m->pool, m->native)))
			return make_name(m, s, (size_t)(colon - s), NULL, 0);
		return name;
	}
	return ns ? make_name(m, s, strlen(s), NULL, ns) : name;
}

/* The name NAME:any is looked up by, from namespace ns. */
static Id any_name(struct ma *m, Id name, int ns)
{
	const char *s = pool_id2str(m->pool, name);
	return make_name(m, s, strlen(s), "any", ns);
}

/* A positive relation (alternatives, versions) into namespace ns. */
static Id rewrite(struct ma *m, Id dep, int ns)
{
	if (!ISRELDEP(dep))
		return in_ns(m, dep, ns);
	const Reldep *rd = GETRELDEP(m->pool, dep);
	Id name = rd->name, evr = rd->evr;
	int flags = rd->flags;   /* rd may move as relations are added */
	if (flags == REL_MULTIARCH)
		return any_name(m, name, ns);
	if (flags == REL_OR)
		return pool_rel2id(m->pool, rewrite(m, name, ns), rewrite(m, evr, ns), REL_OR, 1);
	if (flags < 8)
		return pool_rel2id(m->pool, rewrite(m, name, ns), evr, flags, 1);
	return dep;
}

static void rewrite_in_place(struct ma *m, Repo *repo, Offset off, int ns)
{
	for (Id *dp = repo->idarraydata + off; off && *dp; dp++)
		if (*dp != SOLVABLE_PREREQMARKER)
			*dp = rewrite(m, *dp, ns);
}

/* Each relation of the array at off into namespace ns, or every namespace
 * (ns < 0), as a new array; extra are added to it. */
static Offset rewrite_array(struct ma *m, Repo *repo, Offset off, int ns, const Queue *extra)
{
	Queue q;
	queue_init(&q);
	for (Id *dp = repo->idarraydata + off; off && *dp; dp++)
		for (int k = ns < 0 ? 0 : ns; k < (ns < 0 ? m->n_ns : ns + 1); k++)
			queue_push(&q, rewrite(m, *dp, k));
	queue_insertn(&q, q.count, extra->count, extra->elements);
	Offset out = 0;
	for (int i = 0; i < q.count; i++)
		out = repo_addid_dep(repo, out, q.elements[i], 0);
	queue_free(&q);
	return out;
}

static enum ma_kind kind_of(const struct pkgscan *ps, Id p)
{
	return pkgscan_is(ps, p, PKGSCAN_MULTIARCH, "same")      ? MA_SAME
	       : pkgscan_is(ps, p, PKGSCAN_MULTIARCH, "foreign") ? MA_FOREIGN
	       : pkgscan_is(ps, p, PKGSCAN_MULTIARCH, "allowed") ? MA_ALLOWED
	                                                         : MA_NO;
}

static void rewrite_solvable(struct ma *m, Solvable *s, int ns, enum ma_kind kind)
{
	Pool *pool = m->pool;
	Repo *repo = s->repo;
	Id base = s->name, evr = s->evr;
	Queue extra;

	queue_init(&extra);
	if (ns > 0)
		s->name = in_ns(m, base, ns);
	rewrite_in_place(m, repo, s->requires, ns);
	rewrite_in_place(m, repo, s->recommends, ns);
	for (int k = 0; k < m->n_ns; k++)
		if (k == ns || kind == MA_ALLOWED)
			queue_push(&extra, pool_rel2id(pool, any_name(m, base, k), evr, REL_EQ, 1));
	s->provides = rewrite_array(m, repo, s->provides, kind == MA_FOREIGN ? -1 : ns, &extra);
	queue_empty(&extra);
	for (int k = 0; k < m->n_ns; k++) {
		if (k == ns)
			continue;
		Id other = in_ns(m, base, k);
		if (kind != MA_SAME) {
			queue_push(&extra, other);
		} else {
			queue_push(&extra, pool_rel2id(pool, other, evr, REL_LT, 1));
			queue_push(&extra, pool_rel2id(pool, other, evr, REL_GT, 1));
		}
	}
	s->conflicts = rewrite_array(m, repo, s->conflicts, -1, &extra);
	queue_empty(&extra);
	if (s->obsoletes)
		s->obsoletes = rewrite_array(m, repo, s->obsoletes, -1, &extra);
	queue_free(&extra);
}

static void apply(Pool *pool, const struct pkgscan *ps, Id native, const Id *foreign, size_t n)
{
	struct ma m = { pool, native, foreign, (int)n + 1, STRBUF_INIT };
	Id p;

	if (!n)
		return;
	FOR_POOL_SOLVABLES(p) {
		Solvable *s = pool->solvables + p;
		int ns = ns_of_arch(&m, s->arch);
		if (ns >= 0 && (!pool->considered || MAPTST(pool->considered, p)))
			rewrite_solvable(&m, s, ns, kind_of(ps, p));
	}
	strbuf_release(&m.sb);
}

int multiarch_load(Pool *pool, struct pkgscan *ps, const char *arch,
                   const struct strvec *foreign, char *const *files, size_t n_files, Id *native)
{
	size_t n = foreign ? foreign->n : 0;
	cleanup_free Id *archs = xcalloc(n + 1, sizeof(*archs));
	cleanup_strbuf struct strbuf policy = STRBUF_INIT;

	strbuf_addstr(&policy, arch);
	archs[0] = *native = pool_str2id(pool, arch, 1);
	for (size_t i = 0; i < n; i++) {
		strbuf_addf(&policy, ":%s", foreign->v[i]);
		archs[i + 1] = pool_str2id(pool, foreign->v[i], 1);
	}
	if (n)
		pool_setarchpolicy(pool, policy.buf);
	else
		pool_setarch(pool, arch);
	int r = pkgscan_load(ps, pool, files, n_files, archs, n + 1);
	if (!r)
		apply(pool, ps, *native, archs + 1, n);
	return r;
}

char *multiarch_debian_name(Pool *pool, Id p, Id native)
{
	const Solvable *s = pool->solvables + p;
	const char *name = pool_id2str(pool, s->name), *arch = pool_id2str(pool, s->arch);
	size_t nl = strlen(name), al = strlen(arch);
	if (s->arch != native && s->arch != ARCH_ALL && nl > al + 1 &&
	    name[nl - al - 1] == ':' && !strcmp(name + nl - al, arch))
		return xstrndup(name, nl - al - 1);
	return xstrdup(name);
}

Id multiarch_user_name(Pool *pool, const char *name, Id native)
{
	const char *colon = strrchr(name, ':');
	if (colon && (!strcmp(colon + 1, "native") || !strcmp(colon + 1, pool_id2str(pool, native))))
		return pool_strn2id(pool, name, (unsigned)(colon - name), 0);
	return pool_str2id(pool, name, 0);
}
