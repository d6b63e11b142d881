/* test-resolve: core/resolve over the small Packages files in resolve-data/
 * (virtual and versioned Provides, alternatives, Pre-Depends order, cycles,
 * Recommends, architectures, variants, --include/--exclude, errors).  The
 * variants are the Debian template's (rootfs-templates/debian.conf). */
#include "../../core/pkgset/order.h"
#include "../../core/pkgset/resolve.h"
#include "../../core/pipeline/template.h"
#include "tap.h"

static char *datadir;
static struct template tmpl;

struct result {
	int r;
	struct xb_pkg *p;
	size_t n;
};

/* Resolves for amd64 (and the foreign architectures in the comma-separated
 * list foreign, or none when NULL); files is a NULL-terminated list of names
 * in datadir, inc and exc comma-separated lists (or NULL). */
static struct result run_ma(const char *variant, const char *const *files, const char *inc,
			    const char *exc, const char *foreign)
{
	cleanup_strvec struct strvec vf = STRVEC_INIT;
	if (foreign)
		strvec_split(&vf, foreign, ",");
	struct strvec paths = STRVEC_INIT, vi = STRVEC_INIT, vx = STRVEC_INIT;
	struct result res;
	for (size_t i = 0; files[i]; i++)
		strvec_pushf(&paths, "%s/%s", datadir, files[i]);
	if (inc)
		strvec_split(&vi, inc, ",");
	if (exc)
		strvec_split(&vx, exc, ",");
	/* A name the template lacks is handed over as a word to select by,
	 * which the resolver must refuse. */
	const struct template_variant *v = template_variant(&tmpl, variant);
	cleanup_strvec struct strvec word = STRVEC_INIT;
	strvec_push(&word, variant);
	struct resolve_req req = {
		.arch = "amd64", .files = paths.v, .n_files = paths.n,
		.select = v ? &v->select : &word, .packages = v ? &v->packages : NULL,
		.include = &vi, .exclude = &vx, .foreign_archs = &vf,
	};
	res.r = resolve_packages(&req, &res.p, &res.n);
	strvec_clear(&paths);
	strvec_clear(&vi);
	strvec_clear(&vx);
	return res;
}

static struct result run(const char *variant, const char *const *files, const char *inc,
			 const char *exc)
{
	return run_ma(variant, files, inc, exc, NULL);
}

static int pos(const struct result *res, const char *name)
{
	for (size_t i = 0; i < res->n; i++)
		if (strcmp(res->p[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool has(const struct result *res, const char *name) { return pos(res, name) >= 0; }

/* Does a's list of dependencies hold b? */
static bool depends_on(const struct result *res, const char *a, const char *b)
{
	int i = pos(res, a), j = pos(res, b);
	for (size_t k = 0; i >= 0 && j >= 0 && k < res->p[i].n_deps; k++)
		if (res->p[i].deps[k] == (size_t)j)
			return true;
	return false;
}

static void done(struct result *res)
{
	resolve_free(res->p, res->n);
	res->p = NULL;
	res->n = 0;
}

static const char *const main_only[] = { "Packages-main", NULL };
static const char *const main_extra[] = { "Packages-main", "Packages-extra", NULL };

static void test_minbase(void)
{
	struct result res = run("minbase", main_extra, NULL, NULL);
	CHECK(res.r == 0, "minbase resolves: %d", res.r);
	CHECK(res.n == 23, "minbase has 23 packages, got %zu", res.n);

	/* debootstrap's phases: the essential set with what it needs first,
	 * though base-zz's name sorts last; then required with what it needs */
	int bz = pos(&res, "base-zz");
	CHECK(bz >= 0 && bz < 3 && res.p[bz].essential && res.p[bz].phase == ORDER_ESSENTIAL,
	      "essential package in the first phase, at %d", bz);
	CHECK(pos(&res, "libc-x") < 3 && pos(&res, "libgcc-x") < 3 &&
	      res.p[pos(&res, "libgcc-x")].phase == ORDER_ESSENTIAL,
	      "what the essential package needs is in its phase, even Priority: optional");
	int zl = pos(&res, "zzz-lib"), ap = pos(&res, "apt");
	CHECK(zl >= 0 && res.p[zl].phase == ORDER_REQUIRED, "zzz-lib: needed by aaa-app (required)");
	CHECK(ap >= 0 && res.p[ap].phase == ORDER_REST, "apt (important) in the last phase");
	bool rising = true;
	for (size_t i = 1; i < res.n; i++)
		rising = rising && res.p[i - 1].phase <= res.p[i].phase;
	CHECK(rising, "the install order goes phase by phase");
	/* Pre-Depends: the pre-depended package before its dependant */
	CHECK(pos(&res, "zzz-lib") >= 0 && pos(&res, "zzz-lib") < pos(&res, "aaa-app"),
	      "pre-depended zzz-lib before aaa-app");
	/* a Depends cycle terminates with both; the Pre-Depends edge wins */
	CHECK(has(&res, "cyc-a") && has(&res, "cyc-b"), "cycle members both present");
	CHECK(pos(&res, "cyc-a") < pos(&res, "cyc-b"), "cyc-b pre-depends on cyc-a");
	CHECK(has(&res, "libc-x") && has(&res, "libgcc-x"), "libc-x <-> libgcc-x cycle");
	/* a virtual package provided by two: exactly one of them */
	CHECK(has(&res, "agent-one") != has(&res, "agent-two"), "one mail-agent provider");
	/* among providers, apt's pick: the higher Priority, whatever the names */
	CHECK(has(&res, "zz-mawk") && !has(&res, "aaa-gawk"), "awk-v from zz-mawk (important)");
	/* versioned Provides */
	CHECK(has(&res, "bar-new") && !has(&res, "bar-old"), "vbar (>= 2) from bar-new");
	/* Recommends and Suggests are not installed */
	CHECK(has(&res, "rec-user"), "rec-user installed");
	CHECK(!has(&res, "rec-target"), "recommended package not installed");
	CHECK(!has(&res, "sug-target"), "suggested package not installed");
	/* apt's choices: first alternative, a real package before a provider */
	CHECK(has(&res, "zzz-first") && !has(&res, "aaa-second"), "first alternative taken");
	CHECK(has(&res, "libreal") && !has(&res, "aaa-provider"), "real package preferred");
	CHECK(pos(&res, "libreal") < pos(&res, "dep-real"), "dependency before dependant");
	/* newest version (epoch counts), only our architecture */
	int m = pos(&res, "multi"), d = pos(&res, "dual"), u = pos(&res, "upd");
	CHECK(m >= 0 && strcmp(res.p[m].version, "1:0.5") == 0, "newest multi chosen");
	CHECK(d >= 0 && strcmp(res.p[d].arch, "amd64") == 0, "dual for amd64, not armhf");
	CHECK(!has(&res, "foreign-only"), "armhf-only package not pulled");
	CHECK(u >= 0 && strcmp(res.p[u].version, "2.0") == 0 && res.p[u].source == 1,
	      "upd 2.0 from the second file");
	CHECK(has(&res, "apt"), "minbase has apt");
	CHECK(!has(&res, "imp-pkg") && !has(&res, "build-essential"), "no important/buildd");

	/* fields from the Packages file */
	int l = pos(&res, "libc-x");
	if (l >= 0) {
		struct xb_pkg *p = &res.p[l];
		CHECK(strcmp(p->filename, "pool/main/l/libc-x_2.0-1_amd64.deb") == 0,
		      "filename %s", p->filename);
		CHECK(p->size == 1001, "size %llu", (unsigned long long)p->size);
		CHECK(strcmp(p->sha256, "abac1c53e8c06060caa9735f5be1810632040a9aef70d361b0389a50"
				       "a757c243") == 0, "sha256 %s", p->sha256);
		CHECK(p->priority && strcmp(p->priority, "required") == 0, "priority");
		CHECK(p->multi_arch && strcmp(p->multi_arch, "same") == 0, "multi-arch");
		CHECK(!p->essential && p->source == 0, "libc-x not essential, file 0");
		CHECK(strcmp(p->version, "2.0-1") == 0, "version %s", p->version);
	}
	int c = pos(&res, "cyc-a");
	CHECK(c >= 0 && strcmp(res.p[c].arch, "all") == 0 && !res.p[c].multi_arch,
	      "cyc-a is all, no Multi-Arch");
	/* the dependencies the second stage waits for: within the group */
	CHECK(depends_on(&res, "aaa-app", "zzz-lib"), "aaa-app waits for zzz-lib (Pre-Depends)");
	CHECK(depends_on(&res, "dep-real", "libreal"), "dep-real waits for libreal");
	CHECK(depends_on(&res, "cyc-b", "cyc-a") && depends_on(&res, "cyc-a", "cyc-b"),
	      "both edges of a cycle, one pointing forward");
	CHECK(!depends_on(&res, "libreal", "dep-real"), "no reversed edge");
	bool ok = true;
	for (size_t i = 0; i < res.n; i++)
		for (size_t k = 0; k < res.p[i].n_deps; k++)
			ok = ok && res.p[i].deps[k] < res.n && res.p[i].deps[k] != i &&
			     res.p[res.p[i].deps[k]].phase == res.p[i].phase;
	CHECK(ok, "every edge points to another package of the same phase");
	done(&res);
}

static void test_variants(void)
{
	struct result res = run("essential", main_only, NULL, NULL);
	CHECK(res.r == 0 && res.n == 3, "essential: base-zz + 2 deps, got %d/%zu", res.r,
	      res.n);
	CHECK(has(&res, "base-zz") && has(&res, "libc-x") && has(&res, "libgcc-x"),
	      "essential set");
	done(&res);

	res = run("buildd", main_only, NULL, NULL);
	CHECK(res.r == 0 && has(&res, "build-essential") && has(&res, "apt"), "buildd");
	done(&res);

	res = run("important", main_only, NULL, NULL);
	CHECK(res.r == 0 && has(&res, "imp-pkg") && has(&res, "apt") && !has(&res, "std-pkg"),
	      "important");
	done(&res);

	res = run("standard", main_only, NULL, NULL);
	CHECK(res.r == 0 && has(&res, "imp-pkg") && has(&res, "std-pkg"), "standard");
	done(&res);

	CHECK(!template_variant(&tmpl, "fat"), "the template knows no variant fat");
	res = run("fat", main_only, NULL, NULL);
	CHECK(res.r == -XB_EUSAGE && !res.p && !res.n, "unknown variant: %d", res.r);
}

static void test_include_exclude(void)
{
	struct result res = run("minbase", main_extra, "extra-tool,sug-target", NULL);
	CHECK(res.r == 0 && has(&res, "extra-tool") && has(&res, "sug-target"),
	      "--include adds packages");
	CHECK(pos(&res, "libc-x") < pos(&res, "extra-tool"), "include ordered after deps");
	done(&res);

	res = run("minbase", main_extra, "nonexistent", NULL);
	CHECK(res.r == -XB_ENOTFOUND && !res.p, "--include unknown: %d", res.r);
	res = run("minbase", main_only, "foreign-only", NULL);
	CHECK(res.r == -XB_ENOTFOUND, "--include of another arch's package: %d", res.r);

	res = run("minbase", main_extra, NULL, "excl-me,libc-x,not-there");
	CHECK(res.r == 0 && !has(&res, "excl-me"), "--exclude removes from the seed");
	CHECK(has(&res, "libc-x"), "an excluded dependency is still pulled in");
	done(&res);
}

static void test_errors(void)
{
	static const char *const unsat[] = { "Packages-unsat", NULL };
	static const char *const missing[] = { "Packages-none", NULL };
	static const char *const noversion[] = { "Packages-noversion", NULL };
	static const char *const nopackage[] = { "Packages-nopackage", NULL };
	struct result res = run("minbase", unsat, NULL, NULL);
	CHECK(res.r == -XB_EUNSAT && !res.p, "unsatisfiable: %d", res.r);
	res = run("minbase", main_extra, "needs-missing", NULL);
	CHECK(res.r == -XB_EUNSAT, "included package with a missing dependency: %d", res.r);
	res = run("minbase", missing, NULL, NULL);
	CHECK(res.r < 0 && res.r != -XB_EUNSAT, "missing Packages file: %d", res.r);
	/* libsolv would take them with an empty version, an empty name (found
	 * by fuzz-packages). */
	res = run("minbase", noversion, NULL, NULL);
	CHECK(res.r == -XB_EPARSE && !res.p, "a package without a Version is refused: %d", res.r);
	res = run("minbase", nopackage, NULL, NULL);
	CHECK(res.r == -XB_EPARSE && !res.p, "an empty Package field is refused: %d", res.r);
}

/* The package NAME of architecture arch and its version, or NULL. */
static const struct xb_pkg *find_arch(const struct result *res, const char *name,
                                      const char *arch)
{
	for (size_t i = 0; i < res->n; i++)
		if (!strcmp(res->p[i].name, name) && !strcmp(res->p[i].arch, arch))
			return &res->p[i];
	return NULL;
}

/* dpkg's multiarch rules: a foreign package's dependencies are met in its
 * own architecture, or by Multi-Arch: foreign packages of any, :any by
 * Multi-Arch: allowed ones; "all" counts as native; Multi-Arch: same
 * packages share a version; the variant's selection stays native. */
static void test_multiarch(void)
{
	static const char *const ma[] = { "Packages-ma-amd64", "Packages-ma-i386", NULL };
	struct result res = run_ma("minbase", ma, "app:i386", NULL, "i386");
	const struct xb_pkg *lib = find_arch(&res, "libm", "i386");
	CHECK(res.r == 0 && find_arch(&res, "app", "i386") && lib && !strcmp(lib->version, "1.0"),
	      "app:i386 with libm:i386 at amd64's version: %d", res.r);
	CHECK(find_arch(&res, "libm", "amd64") && find_arch(&res, "essent", "amd64") &&
	      !find_arch(&res, "essent", "i386"), "the selection is amd64's");
	CHECK(find_arch(&res, "tool-all", "all") && find_arch(&res, "shell", "amd64") &&
	      find_arch(&res, "interp", "amd64") && !has(&res, "native-only"),
	      "foreign and allowed packages of amd64 meet i386's dependencies");
	CHECK(find_arch(&res, "app", "i386") && find_arch(&res, "app", "i386")->requested,
	      "app:i386 is requested");
	done(&res);

	static const char *const bad[] = { "bad-app:i386", "bad-app2:i386", "single,single:i386" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		xb_mute_errors(true);
		res = run_ma("minbase", ma, bad[i], NULL, "i386");
		xb_mute_errors(false);
		CHECK(res.r == -XB_EUNSAT, "%s cannot be installed: %d", bad[i], res.r);
		done(&res);
	}
	res = run_ma("minbase", ma, "single:amd64", NULL, "i386");
	CHECK(res.r == 0 && find_arch(&res, "single", "amd64"), "NAME:NATIVE is NAME: %d", res.r);
	done(&res);
	xb_mute_errors(true);
	res = run_ma("minbase", ma, "app:i386", NULL, NULL);
	xb_mute_errors(false);
	CHECK(res.r == -XB_ENOTFOUND, "without i386, no app:i386: %d", res.r);
	done(&res);
}

int main(void)
{
	/* the data sits next to this source file; make runs tests from the top */
	const char *src = __FILE__, *slash = strrchr(src, '/');
	datadir = slash ? xasprintf("%.*s/resolve-data", (int)(slash - src), src)
			: xstrdup("resolve-data");
	int loaded = template_load("debian", &tmpl);
	CHECK(loaded == 0, "the Debian template loads: %d", loaded);
	if (loaded < 0)
		return tap_done();
	test_minbase();
	test_variants();
	test_include_exclude();
	test_errors();
	test_multiarch();
	free(datadir);
	template_release(&tmpl);
	return tap_done();
}
