/* mirror: the host's apt sources, read to find a default mirror. */
#include "mirror.h"

#include "../core/base/deb822.h"

#include <dirent.h>
#include <sys/stat.h>

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
			                ? from_sources(sb.buf, sb.len, want_security)
			                : from_list(sb.buf, want_security);
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

/* One "deb [options] URI SUITE [COMPONENT...]" line into the lists. */
static int add_line(const char *line, struct mirror_entries *out)
{
	cleanup_strvec struct strvec w = STRVEC_INIT;
	strvec_split(&w, line, " \t");
	size_t k = 1;
	if (!w.n || strcmp(w.v[0], "deb"))
		return 0; /* deb-src, comments and blank lines are not ours */
	if (k < w.n && w.v[k][0] == '[')
		while (k < w.n && !str_ends_with(w.v[k++], "]"))
			;
	if (k + 1 >= w.n) {
		xb_error("source entry '%s': expected deb URI SUITE [COMPONENT...]", line);
		return -XB_EUSAGE;
	}
	char *uri = mirror_normalise(w.v[k]);
	if (!uri)
		return -XB_EUSAGE;
	strvec_push(&out->uris, uri);
	free(uri);
	strvec_push(&out->suites, w.v[k + 1]);
	struct strbuf c = STRBUF_INIT;
	for (size_t i = k + 2; i < w.n; i++)
		strbuf_addf(&c, "%s%s", i > k + 2 ? "," : "", w.v[i]);
	strvec_push(&out->components, c.buf);
	strbuf_release(&c);
	return 0;
}

/* A deb822 stanza: every URI with every suite. */
static int add_stanza(const struct deb822 *p, struct mirror_entries *out)
{
	const char *types = deb822_get(p, "Types"), *enabled = deb822_get(p, "Enabled");
	cleanup_strvec struct strvec t = STRVEC_INIT, u = STRVEC_INIT, su = STRVEC_INIT, c = STRVEC_INIT;
	if (!types || (enabled && !strcmp(enabled, "no")))
		return 0;
	strvec_split(&t, types, " \t\n");
	strvec_split(&u, deb822_get(p, "URIs") ? deb822_get(p, "URIs") : "", " \t\n");
	strvec_split(&su, deb822_get(p, "Suites") ? deb822_get(p, "Suites") : "", " \t\n");
	strvec_split(&c, deb822_get(p, "Components") ? deb822_get(p, "Components") : "", " \t\n");
	if (!strvec_has(&t, "deb"))
		return 0;
	for (size_t i = 0; i < u.n; i++)
		for (size_t j = 0; j < su.n; j++) {
			cleanup_strbuf struct strbuf line = STRBUF_INIT;
			strbuf_addf(&line, "deb %s %s", u.v[i], su.v[j]);
			for (size_t k = 0; k < c.n; k++)
				strbuf_addf(&line, " %s", c.v[k]);
			int r = add_line(line.buf, out);
			if (r)
				return r;
		}
	return 0;
}

static int add_text(const char *text, size_t len, const char *what, struct mirror_entries *out)
{
	size_t before = out->uris.n, pos = 0;
	int r = 0;
	if (strstr(text, "URIs:")) {
		struct deb822 p = DEB822_INIT;
		while (!r && deb822_parse(text, len, &pos, &p) > 0) {
			r = add_stanza(&p, out);
			deb822_release(&p);
		}
		deb822_release(&p);
	} else {
		cleanup_strvec struct strvec lines = STRVEC_INIT;
		strvec_split(&lines, text, "\n");
		for (size_t i = 0; !r && i < lines.n; i++)
			r = add_line(lines.v[i], out);
	}
	if (!r && out->uris.n == before) {
		xb_error("%s: no deb entry in it", what);
		r = -XB_EUSAGE;
	}
	return r;
}

int mirror_parse_arg(const char *arg, struct mirror_entries *out)
{
	struct stat st;
	if (str_starts_with(arg, "deb ") || str_starts_with(arg, "deb\t"))
		return add_line(arg, out);
	if (!strcmp(arg, "-") || (arg[0] != '/' && !strstr(arg, "://") && stat(arg, &st) == 0) ||
	    (arg[0] == '/' && stat(arg, &st) == 0 && S_ISREG(st.st_mode))) {
		cleanup_strbuf struct strbuf sb = STRBUF_INIT;
		int r = !strcmp(arg, "-") ? xb_read_fd(STDIN_FILENO, &sb) : xb_read_file(arg, &sb);
		if (r < 0) {
			xb_error("reading %s: %s", !strcmp(arg, "-") ? "standard input" : arg, strerror(-r));
			return r;
		}
		return add_text(sb.buf, sb.len, !strcmp(arg, "-") ? "standard input" : arg, out);
	}
	char *uri = mirror_normalise(arg);
	if (!uri)
		return -XB_EUSAGE;
	strvec_push(&out->uris, uri);
	free(uri);
	strvec_push(&out->suites, "");
	strvec_push(&out->components, "");
	return 0;
}

void mirror_entries_release(struct mirror_entries *e)
{
	strvec_clear(&e->uris);
	strvec_clear(&e->suites);
	strvec_clear(&e->components);
}
