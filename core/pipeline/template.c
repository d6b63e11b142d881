/* template: reading a distribution template (see template.h). */
#include "template.h"

#include "../base/deb822.h"
#include "../base/fileio.h"
#include "../pkgset/resolve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

static bool is_dir(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory of templates, found from where the binary is rather than
 * from a path compiled in, so that one build runs from its checkout and
 * from any prefix it is installed to: $XBOOT_TEMPLATES, then the checkout's
 * rootfs-templates beside the binary, then PREFIX/share/xboot for a binary
 * in PREFIX/bin, then /usr/share/xboot.  The caller frees the result. */
static char *template_dir(void)
{
	const char *env = getenv("XBOOT_TEMPLATES");
	if (is_dir(env))
		return xstrdup(env);
	cleanup_strbuf struct strbuf self = STRBUF_INIT;
	if (xb_readlink_at(AT_FDCWD, "/proc/self/exe", &self) == 0) {
		char *slash = strrchr(self.buf, '/');
		if (slash) {
			*slash = 0;
			const char *const rel[] = { "rootfs-templates", "../share/xboot" };
			for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
				char *dir = xasprintf("%s/%s", self.buf, rel[i]);
				if (is_dir(dir))
					return dir;
				free(dir);
			}
		}
	}
	return xstrdup("/usr/share/xboot");
}

static char *dup_field(const struct deb822 *d, const char *name)
{
	const char *v = deb822_get(d, name);
	return v ? xstrdup(v) : NULL;
}

static void split_field(const struct deb822 *d, const char *name, struct strvec *out)
{
	const char *v = deb822_get(d, name);
	strvec_split(out, v ? v : "", " \t\n,");
}

static int add_variant(struct template *t, const struct deb822 *d)
{
	const char *scripts = deb822_get(d, "Scripts");
	struct template_variant v = { dup_field(d, "Variant"), STRVEC_INIT, STRVEC_INIT,
		                      STRVEC_INIT, !scripts || strcmp(scripts, "no") };
	split_field(d, "Aliases", &v.aliases);
	split_field(d, "Select", &v.select);
	split_field(d, "Packages", &v.packages);
	t->variants = xrealloc(t->variants, (t->n_variants + 1) * sizeof(*t->variants));
	t->variants[t->n_variants++] = v;
	for (size_t i = 0; i < v.select.n; i++) {
		if (!resolve_select_known(v.select.v[i])) {
			xb_error("reading %s: variant %s selects by %s, which is no priority nor "
			         "\"essential\"", t->path, v.name, v.select.v[i]);
			return -XB_EPARSE;
		}
	}
	return 0;
}

static void load_distribution(struct template *t, const struct deb822 *d)
{
	const char *v = deb822_get(d, "Merged-Usr");
	split_field(d, "Suites", &t->suites);
	split_field(d, "Mirrors", &t->mirrors);
	split_field(d, "Keyrings", &t->keyrings);
	t->keyring_package = dup_field(d, "Keyring-Package");
	split_field(d, "Components", &t->components);
	t->default_variant = dup_field(d, "Default-Variant");
	t->merged_usr = v && !strcmp(v, "yes");
	t->updates_suffix = dup_field(d, "Updates-Suffix");
	t->security_suffix = dup_field(d, "Security-Suffix");
	split_field(d, "Kernels", &t->kernels);
	split_field(d, "Boot-Packages", &t->boot_packages);
}

static int load_file(const char *dir, const char *distribution, struct template *t, int depth);

/* Variants-From: NAME — the variants are those of another template. */
static int borrow_variants(const char *dir, const char *from, struct template *t, int depth)
{
	struct template o = { 0 };
	int r = depth > 2 ? -XB_EPARSE : load_file(dir, from, &o, depth + 1);
	if (r == 0) {
		t->variants = o.variants;
		t->n_variants = o.n_variants;
		o.variants = NULL;
		o.n_variants = 0;
		if (!t->default_variant)
			t->default_variant = xstrdup(o.default_variant);
	}
	template_release(&o);
	return r;
}

static int load_file(const char *dir, const char *distribution, struct template *t, int depth)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_free char *from = NULL;
	size_t pos = 0;
	t->name = xstrdup(distribution);
	t->path = xasprintf("%s/%s.conf", dir, distribution);
	int r = xb_read_file(t->path, &sb);
	if (r < 0) {
		xb_error("reading the %s template %s: %s", distribution, t->path, strerror(-r));
		return r;
	}
	for (bool first = true;; first = false) {
		cleanup_deb822 struct deb822 d = DEB822_INIT;
		if ((r = deb822_parse(sb.buf, sb.len, &pos, &d)) <= 0)
			break;
		if (first) {
			load_distribution(t, &d);
			from = dup_field(&d, "Variants-From");
		} else if (!deb822_get(&d, "Variant"))
			r = -XB_EPARSE;
		else if ((r = add_variant(t, &d)) < 0)
			return r;
		if (r < 0)
			break;
	}
	if (r == 0 && from && !t->n_variants && (r = borrow_variants(dir, from, t, depth)) < 0)
		return r;
	if (r < 0 || !t->n_variants || !t->default_variant ||
	    !template_variant(t, t->default_variant)) {
		xb_error("reading the %s template %s: malformed", distribution, t->path);
		return -XB_EPARSE;
	}
	return 0;
}

int template_load(const char *distribution, struct template *t)
{
	cleanup_free char *dir = template_dir();
	if (!*distribution || strchr(distribution, '/')) {
		xb_error("--distribution=%s: expected the name of a template", distribution);
		return -XB_EUSAGE;
	}
	return load_file(dir, distribution, t, 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int template_names(struct strvec *out)
{
	cleanup_free char *dir = template_dir();
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	for (struct dirent *e; (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] != '.' && n > 5 && !strcmp(e->d_name + n - 5, ".conf"))
			strvec_pushf(out, "%.*s", (int)(n - 5), e->d_name);
	}
	closedir(d);
	qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

/* Whether a MIRROR argument ("URL" or a sources line) names url, or a
 * path below it. */
static bool names_mirror(const struct strvec *args, const char *url)
{
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	for (size_t i = 0; n && args && i < args->n; i++) {
		for (const char *at = args->v[i]; (at = strstr(at, url)); at++) {
			char c = at[n];
			if (!strncmp(at, url, n) && (!c || c == '/' || c == ' ' || c == '\t' || c == '\n'))
				return true;
		}
	}
	return false;
}

/* Pass 0: one of t's default mirrors is a MIRROR argument's; pass 1: t
 * names SUITE.  The mirror goes first, since Raspbian's suites are
 * Debian's codenames. */
static bool picks(const struct template *t, int pass, const char *suite, const struct strvec *args)
{
	if (pass == 1)
		return suite && strvec_has(&t->suites, suite);
	for (size_t i = 0; i < t->mirrors.n; i++) {
		const char *eq = strchr(t->mirrors.v[i], '=');
		if (names_mirror(args, eq ? eq + 1 : t->mirrors.v[i]))
			return true;
	}
	return false;
}

int template_pick(const char *name, const char *suite, const struct strvec *mirror_args,
                  struct template *t)
{
	if (name)
		return template_load(name, t);
	cleanup_strvec struct strvec names = STRVEC_INIT;
	template_names(&names);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < names.n; i++) {
			struct template c = { 0 };
			xb_mute_errors(true);
			int r = template_load(names.v[i], &c);
			xb_mute_errors(false);
			if (r == 0 && picks(&c, pass, suite, mirror_args)) {
				*t = c;
				return 0;
			}
			template_release(&c);
		}
	}
	return template_load("debian", t);
}

const char *template_mirror(const struct template *t, const char *arch)
{
	const char *any = NULL;
	size_t n = strlen(arch);
	for (size_t i = 0; i < t->mirrors.n; i++) {
		const char *m = t->mirrors.v[i], *eq = strchr(m, '=');
		if (!eq)
			any = m;
		else if ((size_t)(eq - m) == n && !strncmp(m, arch, n))
			return eq + 1;
	}
	return any;
}

void template_release(struct template *t)
{
	for (size_t i = 0; i < t->n_variants; i++) {
		free(t->variants[i].name);
		strvec_clear(&t->variants[i].aliases);
		strvec_clear(&t->variants[i].select);
		strvec_clear(&t->variants[i].packages);
	}
	free(t->variants);
	free(t->name);
	free(t->path);
	free(t->keyring_package);
	strvec_clear(&t->suites);
	strvec_clear(&t->mirrors);
	free(t->default_variant);
	free(t->updates_suffix);
	free(t->security_suffix);
	strvec_clear(&t->kernels);
	strvec_clear(&t->boot_packages);
	strvec_clear(&t->keyrings);
	strvec_clear(&t->components);
	*t = (struct template){ 0 };
}

const struct template_variant *template_variant(const struct template *t, const char *name)
{
	for (size_t i = 0; name && i < t->n_variants; i++)
		if (!strcmp(t->variants[i].name, name) || strvec_has(&t->variants[i].aliases, name))
			return &t->variants[i];
	return NULL;
}

char *template_variant_names(const struct template *t, const char *sep)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < t->n_variants; i++) {
		strbuf_addf(&sb, "%s%s", i ? sep : "", t->variants[i].name);
		for (size_t k = 0; k < t->variants[i].aliases.n; k++)
			strbuf_addf(&sb, "%s%s", sep, t->variants[i].aliases.v[k]);
	}
	return strbuf_detach(&sb);
}
