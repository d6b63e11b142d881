/* dpkgfilter: dpkg's path filters (see dpkgfilter.h). */
#include "dpkgfilter.h"

#include <fnmatch.h>

void dpkgfilter_add_option(struct dpkgfilter *f, const char *text)
{
	cleanup_strvec struct strvec lines = STRVEC_INIT;
	strvec_split(&lines, text, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		char *l = str_trim(lines.v[i]);
		if (l[0] == '-' && l[1] == '-')
			l += 2;
		bool ex = str_starts_with(l, "path-exclude"), in = str_starts_with(l, "path-include");
		if (!ex && !in)
			continue;
		char *v = l + 12; /* "=GLOB" or " GLOB", as dpkg's configuration has them */
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v == '=')
			v++;
		v = str_trim(v);
		if (*v)
			strvec_pushf(&f->patterns, "%c%s", ex ? '-' : '+', v);
	}
}

bool dpkgfilter_any(const struct dpkgfilter *f)
{
	return f && f->patterns.n > 0;
}

/* An include whose literal start (up to its first wildcard) the path
 * begins with: something below may come back. */
static bool include_below(const struct dpkgfilter *f, const char *path)
{
	for (size_t i = 0; i < f->patterns.n; i++) {
		const char *p = f->patterns.v[i];
		if (p[0] != '+')
			continue;
		size_t literal = strcspn(p + 1, "*?[\\");
		while (literal && p[literal] == '/') /* the pattern's trailing '/' aside */
			literal--;
		if (!strncmp(path, p + 1, literal))
			return true;
	}
	return false;
}

bool dpkgfilter_skip(const struct dpkgfilter *f, const char *path, bool dir_or_link)
{
	if (!dpkgfilter_any(f))
		return false;
	cleanup_free char *p = xstrdup(path[0] == '.' ? path + 1 : path);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	bool skip = false;
	for (size_t i = 0; i < f->patterns.n; i++)
		if (fnmatch(f->patterns.v[i] + 1, p, 0) == 0)
			skip = f->patterns.v[i][0] == '-';
	return skip && !(dir_or_link && include_below(f, p));
}

void dpkgfilter_release(struct dpkgfilter *f)
{
	strvec_clear(&f->patterns);
}
