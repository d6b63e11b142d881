/* fuzz-relation: relation fields (Depends, Pre-Depends, Provides,
 * Conflicts, Breaks, Replaces, Recommends) and versions as a Packages
 * index carries them, parsed by libsolv through core/pkgset (pkgscan,
 * multiarch) and resolved by resolve_packages() against a small fixed
 * universe; where the fields are plain (names, versions, "|" and ","),
 * the set chosen must meet package pp's Depends and Pre-Depends and avoid
 * its Conflicts by dpkg's rules (dpkgver_check).  Not where libsolv orders
 * two of the versions differently from dpkg (it takes "1.0-0" for newer
 * than "1.0", which dpkg takes as equal): that is libsolv's, and shows as
 * such in fuzz-version's notes.
 *
 * Input: one byte of flags (bit 0: i386 foreign; bits 1-2: pp's
 * Multi-Arch none/foreign/same/allowed; bit 3: pp is Architecture: all),
 * then lines: Depends, Pre-Depends, Provides, Conflicts, Breaks,
 * Replaces, the version of package aa, Recommends (empty: field absent). */
#include "fuzz.h"

#include <ctype.h>
#include <solv/evr.h>
#include <solv/pool.h>

#include "../../core/base/dpkgver.h"
#include "../../core/base/policy.h"
#include "../../core/pkgset/resolve.h"

enum { DEPENDS, PREDEPENDS, PROVIDES, CONFLICTS, BREAKS, REPLACES, A_VERSION, RECOMMENDS, NLINES };
static const char *const field[NLINES] = { "Depends", "Pre-Depends", "Provides", "Conflicts",
	                                   "Breaks", "Replaces", NULL, "Recommends" };

/* One alternative of a plain relation: name, and op and version or "". */
struct alt {
	char name[128], op[3], ver[128];
};

/* Parses "name [(op version)]" of s[0..n) strictly; false when it is not
 * that plain (an arch qualifier, a restriction, anything else). */
static bool parse_alt(const char *s, size_t n, struct alt *a)
{
	const char *e = s + n, *p;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (p = s; p < e && !strchr(" \t(", *p); p++)
		;
	if (p == s || (size_t)(p - s) >= sizeof(a->name) || !policy_package_ok(s, (size_t)(p - s)))
		return false;
	memcpy(a->name, s, (size_t)(p - s));
	a->name[p - s] = '\0';
	a->op[0] = a->ver[0] = '\0';
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (p == e)
		return true;
	if (*p++ != '(' || e[-1] != ')')
		return false;
	e--;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	size_t ol = strspn(p, "<=>");
	static const char *const ops[] = { "<<", "<=", "=", ">=", ">>" };
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		known = known || (strlen(ops[i]) == ol && !strncmp(p, ops[i], ol));
	if (!known || p + ol > e)
		return false;
	memcpy(a->op, p, ol);
	a->op[ol] = '\0';
	for (p += ol; p < e && (*p == ' ' || *p == '\t'); p++)
		;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (p == e || (size_t)(e - p) >= sizeof(a->ver))
		return false;
	memcpy(a->ver, p, (size_t)(e - p));
	a->ver[e - p] = '\0';
	for (const char *c = a->ver; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr(".+-~:", *c))
			return false;
	return dpkgver_valid(a->ver) == 0;
}

/* A plain relation field as groups of alternatives; false when not plain. */
struct rel {
	struct alt alt[8][4];
	size_t nalt[8], n;
};

static bool parse_rel(const char *v, bool alternatives, struct rel *r)
{
	memset(r, 0, sizeof(*r));
	for (const char *g = v;; g++) {
		size_t gl = strcspn(g, ",");
		if (r->n == ARRAY_SIZE(r->alt))
			return false;
		for (const char *a = g;; a++) {
			size_t al = strcspn(a, "|");
			if (al > gl - (size_t)(a - g))
				al = gl - (size_t)(a - g);
			size_t k = r->nalt[r->n];
			if (k == ARRAY_SIZE(r->alt[0]) || !parse_alt(a, al, &r->alt[r->n][k]))
				return false;
			r->nalt[r->n]++;
			a += al;
			if (a >= g + gl)
				break;
			if (!alternatives)
				return false;
		}
		r->n++;
		g += gl;
		if (!*g)
			return true;
	}
}

/* Whether a chosen package, its Provides (only dd's in the universe,
 * vv (= 3)) or pp's Provides meets alternative a.  An unqualified name is met
 * by a native package or one of "all" (the universe's only foreign one,
 * libc6:i386, is Multi-Arch: same). */
static bool met(const struct alt *a, const struct xb_pkg *pkgs, size_t n, const struct rel *prov,
                bool has_prov)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(pkgs[i].arch, "amd64") && strcmp(pkgs[i].arch, "all"))
			continue;
		if (!strcmp(pkgs[i].name, a->name) &&
		    (!a->op[0] || dpkgver_check(pkgs[i].version, a->op, a->ver)))
			return true;
		if (!strcmp(pkgs[i].name, "dd") && !strcmp(a->name, "vv") &&
		    (!a->op[0] || dpkgver_check("3", a->op, a->ver)))
			return true;
	}
	for (size_t g = 0; has_prov && g < prov->n; g++) {
		const struct alt *p = &prov->alt[g][0];
		if (!strcmp(p->name, a->name) &&
		    (!a->op[0] || (!strcmp(p->op, "=") && dpkgver_check(p->ver, a->op, a->ver))))
			return true;
	}
	return false;
}

/* Whether libsolv orders version v against every version of r as dpkg
 * does. */
static bool same_order(const char *v, const struct rel *r)
{
	static Pool *pool; /* one for the process, still reachable at exit */
	if (!pool) {
		pool = pool_create();
		pool_setdisttype(pool, DISTTYPE_DEB);
	}
	for (size_t g = 0; g < r->n; g++)
		for (size_t k = 0; k < r->nalt[g]; k++) {
			const char *w = r->alt[g][k].ver;
			if (!*w)
				continue;
			int a = dpkgver_cmp(v, w), b = pool_evrcmp_str(pool, v, w, EVRCMP_COMPARE);
			if ((a > 0) - (a < 0) != (b > 0) - (b < 0))
				return false;
		}
	return true;
}

static bool orders_agree(const struct xb_pkg *pkgs, size_t n, const struct rel *rels, size_t nrels,
                         const struct rel *prov, bool has_prov)
{
	for (size_t i = 0; i < nrels; i++) {
		for (size_t k = 0; k < n; k++)
			if (!same_order(pkgs[k].version, &rels[i]))
				return false;
		for (size_t g = 0; has_prov && g < prov->n; g++)
			if (*prov->alt[g][0].ver && !same_order(prov->alt[g][0].ver, &rels[i]))
				return false;
	}
	return true;
}

static void check(const struct xb_pkg *pkgs, size_t n, char *const *line)
{
	struct rel prov, r, all[3];
	size_t nall = 0;
	bool has_prov = line[PROVIDES] && *line[PROVIDES];
	if (has_prov && !parse_rel(line[PROVIDES], false, &prov))
		return;
	/* Only "=" versions are Debian's (dpkg and apt refuse others);
	 * libsolv takes "(>= 1)" for a range, which is its own reading. */
	for (size_t g = 0; has_prov && g < prov.n; g++)
		if (prov.alt[g][0].op[0] && strcmp(prov.alt[g][0].op, "="))
			return;
	if (resolve_find(pkgs, n, "pp") < 0)
		return;
	for (int f = DEPENDS; f <= CONFLICTS; f++)
		if (f != PROVIDES && line[f] && *line[f] && parse_rel(line[f], f != CONFLICTS, &all[nall]))
			nall++;
	if (!orders_agree(pkgs, n, all, nall, &prov, has_prov))
		return;
	for (int f = DEPENDS; f <= PREDEPENDS; f++) {
		if (!line[f] || !*line[f] || !parse_rel(line[f], true, &r))
			continue;
		for (size_t g = 0; g < r.n; g++) {
			bool ok = false;
			for (size_t k = 0; k < r.nalt[g] && !ok; k++)
				ok = met(&r.alt[g][k], pkgs, n, &prov, has_prov);
			fuzz_assert(ok);
		}
	}
	/* Conflicts with real packages only, when pp provides nothing (a
	 * package does not conflict with itself, nor with what it provides). */
	if (has_prov || !line[CONFLICTS] || !*line[CONFLICTS] || !parse_rel(line[CONFLICTS], false, &r))
		return;
	for (size_t g = 0; g < r.n; g++) {
		const struct alt *a = &r.alt[g][0];
		for (size_t i = 0; i < n; i++)
			fuzz_assert(!strcmp(pkgs[i].name, "pp") || strcmp(pkgs[i].name, a->name) ||
			            (a->op[0] && !dpkgver_check(pkgs[i].version, a->op, a->ver)));
	}
}

/* What every stanza needs for the resolver to hand it on. */
#define FILE_FIELDS "Filename: pool/x.deb\nSize: 1\nSHA256: " \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"

static const char UNIVERSE[] =
	"Package: bb\nVersion: 1.0-1\nArchitecture: amd64\nPriority: optional\n" FILE_FIELDS "\n"
	"Package: bb\nVersion: 2:0.9\nArchitecture: amd64\nPriority: optional\n" FILE_FIELDS "\n"
	"Package: cc\nVersion: 1.0~rc1\nArchitecture: all\nPriority: optional\n" FILE_FIELDS "\n"
	"Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\nMulti-Arch: same\nPriority: optional\n"
	FILE_FIELDS "\n"
	"Package: libc6\nVersion: 2.36-9\nArchitecture: i386\nMulti-Arch: same\nPriority: optional\n"
	FILE_FIELDS "\n"
	"Package: dd\nVersion: 3\nArchitecture: amd64\nMulti-Arch: foreign\nProvides: vv (= 3)\n"
	"Priority: optional\n" FILE_FIELDS "\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ma[] = { NULL, "foreign", "same", "allowed" };
	if (size < 1 || size > 4096)
		return 0;
	fuzz_quiet();
	char *text = fuzz_string(data + 1, size - 1);
	char *line[NLINES] = { NULL };
	char *s = text;
	for (size_t i = 0; i < NLINES; i++) {
		char *nl = strchr(s, '\n');
		line[i] = s;
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}

	cleanup_strbuf struct strbuf idx = STRBUF_INIT;
	strbuf_addf(&idx, "Package: pp\nVersion: 1\nArchitecture: %s\nPriority: required\n%s",
	            data[0] & 8 ? "all" : "amd64", FILE_FIELDS);
	if (ma[(data[0] >> 1) & 3])
		strbuf_addf(&idx, "Multi-Arch: %s\n", ma[(data[0] >> 1) & 3]);
	for (size_t i = 0; i < NLINES; i++)
		if (field[i] && line[i] && *line[i])
			strbuf_addf(&idx, "%s: %s\n", field[i], line[i]);
	strbuf_addf(&idx, "\nPackage: aa\nVersion: %s\nArchitecture: amd64\nPriority: optional\n%s\n%s",
	            line[A_VERSION] && *line[A_VERSION] ? line[A_VERSION] : "1.0", FILE_FIELDS, UNIVERSE);
	fuzz_file((const uint8_t *)idx.buf, idx.len);

	char *files[] = { (char *)fuzz_fd_path() };
	cleanup_strvec struct strvec select = STRVEC_INIT, foreign = STRVEC_INIT;
	strvec_push(&select, "required");
	strvec_push(&foreign, "i386");
	struct resolve_req req = {
		.arch = "amd64",
		.foreign_archs = data[0] & 1 ? &foreign : NULL,
		.files = files,
		.n_files = 1,
		.select = &select,
	};
	struct xb_pkg *pkgs = NULL;
	size_t n = 0;
	if (resolve_packages(&req, &pkgs, &n) == 0)
		check(pkgs, n, line);
	resolve_free(pkgs, n);
	free(text);
	return 0;
}
