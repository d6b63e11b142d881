/* plan: the bootstrap plan and the distribution templates. */
#include "plan.h"

#include "../base/deb822.h"

#include <sys/stat.h>

#ifndef XB_TEMPLATES
#define XB_TEMPLATES "/usr/local/share/xboot"
#endif

void plan_release(struct xb_plan *p)
{
	free(p->suite);
	free(p->target);
	free(p->variant);
	free(p->cache_dir);
	mirror_entries_release(&p->sources);
	strvec_clear(&p->components);
	strvec_clear(&p->include);
	strvec_clear(&p->exclude);
	strvec_clear(&p->keyrings);
	strvec_clear(&p->aptopts);
	strvec_clear(&p->dpkgopts);
	hooks_release(&p->hooks);
}

static bool is_dir(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *plan_templates_dir(void)
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

int plan_apply_template(struct xb_plan *p, const char *distribution)
{
	cleanup_free char *path = xasprintf("%s/%s.conf", plan_templates_dir(), distribution);
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_deb822 struct deb822 d = DEB822_INIT;
	size_t pos = 0;
	int r = xb_read_file(path, &sb);
	if (r < 0) {
		xb_error("reading the %s template %s: %s", distribution, path, strerror(-r));
		return r;
	}
	if (deb822_parse(sb.buf, sb.len, &pos, &d) <= 0) {
		xb_error("reading the %s template %s: malformed", distribution, path);
		return -XB_EPARSE;
	}
	const char *v;
	if (!p->keyrings.n && (v = deb822_get(&d, "Keyrings")))
		strvec_split(&p->keyrings, v, " \t\n");
	if (!p->components.n && (v = deb822_get(&d, "Components")))
		strvec_split(&p->components, v, " \t\n,");
	if (!p->variant && (v = deb822_get(&d, "Default-Variant")))
		p->variant = xstrdup(v);
	if ((v = deb822_get(&d, "Variants"))) {
		struct strvec vs = STRVEC_INIT;
		strvec_split(&vs, v, " \t\n");
		bool ok = strvec_has(&vs, p->variant);
		strvec_clear(&vs);
		if (!ok) {
			xb_error("unknown variant %s (known: %s)", p->variant, v);
			return -XB_EUSAGE;
		}
	}
	p->merged_usr = (v = deb822_get(&d, "Merged-Usr")) && !strcmp(v, "yes");
	return 0;
}
