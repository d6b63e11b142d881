/* template: reading a distribution template (see template.h). */
#include "template.h"

#include "../base/deb822.h"
#include "../pkgset/resolve.h"

#include <sys/stat.h>

#ifndef XB_TEMPLATES
#define XB_TEMPLATES "/usr/local/share/xboot"
#endif

static bool is_dir(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *template_dir(void)
{
	static const char *const dirs[] = { XB_TEMPLATES, "/usr/local/share/xboot", "/usr/share/xboot" };
	const char *env = getenv("XBOOT_TEMPLATES");
	if (is_dir(env))
		return env;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (is_dir(dirs[i]))
			return dirs[i];
	return dirs[0];
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
	split_field(d, "Keyrings", &t->keyrings);
	split_field(d, "Components", &t->components);
	t->default_variant = dup_field(d, "Default-Variant");
	t->merged_usr = v && !strcmp(v, "yes");
	t->updates_suffix = dup_field(d, "Updates-Suffix");
	t->security_suffix = dup_field(d, "Security-Suffix");
	split_field(d, "Kernels", &t->kernels);
	split_field(d, "Boot-Packages", &t->boot_packages);
}

int template_load(const char *distribution, struct template *t)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	size_t pos = 0;
	t->path = xasprintf("%s/%s.conf", template_dir(), distribution);
	int r = xb_read_file(t->path, &sb);
	if (r < 0) {
		xb_error("reading the %s template %s: %s", distribution, t->path, strerror(-r));
		return r;
	}
	for (bool first = true;; first = false) {
		cleanup_deb822 struct deb822 d = DEB822_INIT;
		if ((r = deb822_parse(sb.buf, sb.len, &pos, &d)) <= 0)
			break;
		if (first)
			load_distribution(t, &d);
		else if (!deb822_get(&d, "Variant"))
			r = -XB_EPARSE;
		else if ((r = add_variant(t, &d)) < 0)
			return r;
		if (r < 0)
			break;
	}
	if (r < 0 || !t->n_variants || !t->default_variant ||
	    !template_variant(t, t->default_variant)) {
		xb_error("reading the %s template %s: malformed", distribution, t->path);
		return -XB_EPARSE;
	}
	return 0;
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
	free(t->path);
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
