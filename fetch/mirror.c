/* mirror: the host's apt sources, read to find a default mirror. */
#include "mirror.h"

#include "../core/deb822.h"

#include <dirent.h>

static bool is_security(const char *uri, const char *suite)
{
	return strstr(uri, "security") || (suite && str_ends_with(suite, "-security"));
}

/* deb822 *.sources: the first matching stanza's first URI. */
static char *from_sources(const char *text, size_t len, bool want_security)
{
	size_t pos = 0;
	struct deb822 p = DEB822_INIT;
	char *found = NULL;

	while (!found && deb822_parse(text, len, &pos, &p) > 0) {
		const char *types = deb822_get(&p, "Types");
		const char *uris = deb822_get(&p, "URIs");
		const char *suites = deb822_get(&p, "Suites");
		const char *enabled = deb822_get(&p, "Enabled");
		struct strvec t = STRVEC_INIT, u = STRVEC_INIT, s = STRVEC_INIT;

		if (types && uris && (!enabled || strcmp(enabled, "no"))) {
			strvec_split(&t, types, " \t\n");
			strvec_split(&u, uris, " \t\n");
			strvec_split(&s, suites ? suites : "", " \t\n");
			if (strvec_has(&t, "deb") && u.n &&
			    is_security(u.v[0], s.n ? s.v[0] : NULL) == want_security)
				found = xstrdup(u.v[0]);
		}
		strvec_clear(&t);
		strvec_clear(&u);
		strvec_clear(&s);
		deb822_release(&p);
	}
	deb822_release(&p);
	return found;
}

/* One-line format: deb [options] URI SUITE COMPONENT... */
static char *from_list(const char *text, bool want_security)
{
	struct strvec lines = STRVEC_INIT;
	char *found = NULL;

	strvec_split(&lines, text, "\n");
	for (size_t i = 0; i < lines.n && !found; i++) {
		struct strvec w = STRVEC_INIT;
		strvec_split(&w, lines.v[i], " \t");
		size_t k = 1;
		if (w.n && !strcmp(w.v[0], "deb")) {
			if (k < w.n && w.v[k][0] == '[')
				while (k < w.n && !str_ends_with(w.v[k++], "]"))
					;
			if (k + 1 < w.n && is_security(w.v[k], w.v[k + 1]) == want_security)
				found = xstrdup(w.v[k]);
		}
		strvec_clear(&w);
	}
	strvec_clear(&lines);
	return found;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *mirror_from_apt(const char *etcdir, bool want_security)
{
	struct strvec files = STRVEC_INIT;
	char *found = NULL;
	const char *etc = etcdir ? etcdir : "/etc/apt";

	strvec_pushf(&files, "%s/sources.list", etc);
	cleanup_free char *dname = xasprintf("%s/sources.list.d", etc);
	DIR *d = opendir(dname);
	if (d) {
		struct strvec names = STRVEC_INIT;
		struct dirent *e;
		while ((e = readdir(d)))
			if (str_ends_with(e->d_name, ".list") || str_ends_with(e->d_name, ".sources"))
				strvec_push(&names, e->d_name);
		closedir(d);
		if (names.n)
			qsort(names.v, names.n, sizeof(*names.v), cmp_str);
		for (size_t i = 0; i < names.n; i++)
			strvec_pushf(&files, "%s/%s", dname, names.v[i]);
		strvec_clear(&names);
	}
	for (size_t i = 0; i < files.n && !found; i++) {
		struct strbuf sb = STRBUF_INIT;
		if (xb_read_file(files.v[i], &sb) == 0)
			found = str_ends_with(files.v[i], ".sources")
			                ? from_sources(strbuf_str(&sb), sb.len, want_security)
			                : from_list(strbuf_str(&sb), want_security);
		strbuf_release(&sb);
	}
	strvec_clear(&files);
	if (found) {
		char *n = mirror_normalise(found);
		free(found);
		found = n;
	}
	return found;
}

char *mirror_normalise(const char *url)
{
	char *m;
	if (url[0] == '/')
		m = xasprintf("file://%s", url);
	else if (str_starts_with(url, "http://") || str_starts_with(url, "https://") ||
	         str_starts_with(url, "file://"))
		m = xstrdup(url);
	else {
		xb_error("mirror %s: unsupported URL scheme (use http://, https:// or file://)", url);
		return NULL;
	}
	size_t n = strlen(m);
	while (n > 8 && m[n - 1] == '/')
		m[--n] = '\0';
	return m;
}
