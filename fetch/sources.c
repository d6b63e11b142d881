/* sources: apt's sources entries, one-line or deb822 (see sources.h). */
#include "sources.h"

#include <fcntl.h>

#include "../core/base/deb822.h"

#include <ctype.h>
#include <dirent.h>
#include <strings.h>
#include <sys/stat.h>

void fetch_sources_release(struct fetch_sources *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].uri);
		free(s->v[i].suite);
		free(s->v[i].tree_uri);
		strvec_clear(&s->v[i].components);
		strvec_clear(&s->v[i].options);
	}
	free(s->v);
	*s = (struct fetch_sources)FETCH_SOURCES_INIT;
}

struct fetch_source *fetch_sources_add(struct fetch_sources *s, const char *uri,
                                       const char *suite, const struct strvec *components)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 4;
		s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	struct fetch_source *e = &s->v[s->n++];
	*e = (struct fetch_source){ xstrdup(uri), suite ? xstrdup(suite) : NULL, STRVEC_INIT,
		                    false, NULL, STRVEC_INIT };
	if (components)
		strvec_pushv(&e->components, components);
	return e;
}

/* A copy of url with trailing slashes removed; a plain absolute path
 * becomes a file:// URL.  NULL for a scheme xboot cannot fetch. */
static char *normalise_uri(const char *url)
{
	char *m;
	if (url[0] == '/')
		m = xasprintf("file://%s", url);
	else if (str_starts_with(url, "http://") || str_starts_with(url, "https://") ||
	         str_starts_with(url, "file://"))
		m = xstrdup(url);
	else
		return NULL;
	size_t n = strlen(m);
	while (n > 8 && m[n - 1] == '/')
		m[--n] = '\0';
	return m;
}

/* Adds uri x suites, with components and options, unless the URI is one
 * xboot cannot fetch: an error unless lenient. */
static int add_entries(struct fetch_sources *out, const char *uri, const struct strvec *suites,
                       const struct strvec *components, const struct strvec *options,
                       bool lenient)
{
	cleanup_free char *u = normalise_uri(uri);
	if (!u) {
		if (lenient)
			return 0;
		xb_error("mirror %s: unsupported URL scheme (use http://, https:// or file://)", uri);
		return -XB_EUSAGE;
	}
	for (size_t i = 0; i < suites->n; i++)
		strvec_pushv(&fetch_sources_add(out, u, suites->v[i], components)->options, options);
	return 0;
}

/* "deb [options] URI SUITE [COMPONENT...]"; other types, comments and
 * blank lines are none of ours. */
static int parse_line(const char *line, bool lenient, struct fetch_sources *out)
{
	cleanup_strvec struct strvec w = STRVEC_INIT, options = STRVEC_INIT, suite = STRVEC_INIT,
		                     comps = STRVEC_INIT;
	const char *hash = strchr(line, '#');
	cleanup_free char *text = hash ? xstrndup(line, (size_t)(hash - line)) : xstrdup(line);
	size_t k = 1;
	strvec_split(&w, text, " \t");
	if (!w.n || strcmp(w.v[0], "deb"))
		return 0;
	for (bool in = k < w.n && w.v[k][0] == '['; in && k < w.n; k++) {
		in = !str_ends_with(w.v[k], "]");
		strvec_split(&options, w.v[k], "[]");
	}
	if (k + 1 >= w.n) {
		if (lenient)
			return 0;
		xb_error("source entry '%s': expected deb URI SUITE [COMPONENT...]", line);
		return -XB_EUSAGE;
	}
	strvec_push(&suite, w.v[k + 1]);
	for (size_t i = k + 2; i < w.n; i++)
		strvec_push(&comps, w.v[i]);
	return add_entries(out, w.v[k], &suite, &comps, &options, lenient);
}

/* The fields of a stanza that are options, as "name=value" with the name
 * in lower case; multi-line values (an inline Signed-By key) as they are. */
static void stanza_options(const struct deb822 *p, struct strvec *options)
{
	static const char *const fields[] = { "Types", "URIs", "Suites", "Components", "Enabled" };
	for (size_t i = 0; i < p->n; i++) {
		bool known = false;
		for (size_t k = 0; k < ARRAY_SIZE(fields) && !known; k++)
			known = !strcasecmp(p->f[i].name, fields[k]);
		if (known)
			continue;
		cleanup_free char *name = xstrdup(p->f[i].name);
		for (char *c = name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		strvec_pushf(options, "%s=%s", name, p->f[i].value);
	}
}

/* A deb822 stanza: every URI with every suite. */
static int parse_stanza(const struct deb822 *p, bool lenient, struct fetch_sources *out)
{
	static const char *const names[] = { "Types", "URIs", "Suites", "Components" };
	struct strvec f[ARRAY_SIZE(names)] = { STRVEC_INIT, STRVEC_INIT, STRVEC_INIT, STRVEC_INIT };
	cleanup_strvec struct strvec options = STRVEC_INIT;
	const char *enabled = deb822_get(p, "Enabled");
	int r = 0;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const char *v = deb822_get(p, names[i]);
		strvec_split(&f[i], v ? v : "", " \t\n");
	}
	stanza_options(p, &options);
	bool wanted = strvec_has(&f[0], "deb") && !(enabled && !strcasecmp(enabled, "no"));
	for (size_t i = 0; wanted && !r && i < f[1].n; i++)
		r = add_entries(out, f[1].v[i], &f[2], &f[3], &options, lenient);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		strvec_clear(&f[i]);
	return r;
}

/* The entries of a sources file's text: deb822 stanzas when it has a
 * URIs field, else one-line entries. */
static int parse_text(const char *text, size_t len, bool lenient, struct fetch_sources *out)
{
	size_t pos = 0;
	int r = 0;
	if (!strstr(text, "URIs:")) {
		cleanup_strvec struct strvec lines = STRVEC_INIT;
		strvec_split(&lines, text, "\n");
		for (size_t i = 0; !r && i < lines.n; i++)
			r = parse_line(lines.v[i], lenient, out);
		return r;
	}
	for (;;) {
		cleanup_deb822 struct deb822 p = DEB822_INIT;
		int got = deb822_parse(text, len, &pos, &p);
		if (got <= 0)
			return got < 0 && !lenient ? got : r;
		if ((r = parse_stanza(&p, lenient, out)) < 0)
			return r;
	}
}

static int parse_file(const char *arg, bool allow_empty, struct fetch_sources *out)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	bool in = !strcmp(arg, "-");
	const char *what = in ? "standard input" : arg;
	size_t before = out->n;
	int r = in ? xb_read_fd(STDIN_FILENO, &sb) : xb_read_file(arg, &sb);
	if (r < 0) {
		xb_error("reading %s: %s", what, strerror(-r));
		return r;
	}
	if ((r = parse_text(sb.buf, sb.len, false, out)) == -XB_EPARSE)
		xb_error("%s: malformed deb822 stanza", what);
	if (!r && out->n == before && !allow_empty) {
		xb_error("%s: no deb entry in it", what);
		r = -XB_EUSAGE;
	}
	return r < 0 ? -XB_EUSAGE : 0;
}

int fetch_sources_parse_arg(const char *arg, bool allow_empty, struct fetch_sources *out)
{
	struct stat st;
	if (str_starts_with(arg, "deb ") || str_starts_with(arg, "deb\t"))
		return parse_line(arg, false, out);
	if (!strcmp(arg, "-") || (arg[0] != '/' && !strstr(arg, "://") && stat(arg, &st) == 0) ||
	    (arg[0] == '/' && stat(arg, &st) == 0 && S_ISREG(st.st_mode)))
		return parse_file(arg, allow_empty, out);
	cleanup_free char *uri = normalise_uri(arg);
	if (!uri) {
		xb_error("mirror %s: unsupported URL scheme (use http://, https:// or file://)", arg);
		return -XB_EUSAGE;
	}
	fetch_sources_add(out, uri, NULL, NULL);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void fetch_sources_from_apt(const char *etcdir, struct fetch_sources *out)
{
	cleanup_strvec struct strvec files = STRVEC_INIT, names = STRVEC_INIT;
	const char *env = getenv("XBOOT_APT_ETC");
	const char *etc = etcdir ? etcdir : env && *env ? env : "/etc/apt";
	cleanup_free char *dname = xasprintf("%s/sources.list.d", etc);
	DIR *d = opendir(dname);
	strvec_pushf(&files, "%s/sources.list", etc);
	for (struct dirent *e; d && (e = readdir(d));)
		if (str_ends_with(e->d_name, ".list") || str_ends_with(e->d_name, ".sources"))
			strvec_push(&names, e->d_name);
	if (d)
		closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.n; i++)
		strvec_pushf(&files, "%s/%s", dname, names.v[i]);
	for (size_t i = 0; i < files.n; i++) {
		cleanup_strbuf struct strbuf sb = STRBUF_INIT;
		if (xb_read_file(files.v[i], &sb) == 0)
			parse_text(sb.buf, sb.len, true, out);
	}
}

bool fetch_source_is_security(const struct fetch_source *e)
{
	return strstr(e->uri, "security") || (e->suite && str_ends_with(e->suite, "-security"));
}

const struct fetch_source *fetch_sources_find(const struct fetch_sources *s, bool security)
{
	for (size_t i = 0; i < s->n; i++)
		if (fetch_source_is_security(&s->v[i]) == security)
			return &s->v[i];
	return NULL;
}

bool fetch_source_is_flat(const char *suite)
{
	return suite && *suite && suite[strlen(suite) - 1] == '/';
}

char *fetch_source_dist_url(const char *uri, const char *suite)
{
	if (!fetch_source_is_flat(suite))
		return xasprintf("%s/dists/%s", uri, suite);
	size_t n = strlen(suite) - 1;
	if (n == 1 && suite[0] == '.')
		return xstrdup(uri);
	return xasprintf("%s/%.*s", uri, (int)n, suite);
}

void fetch_sources_default(struct fetch_sources *s, const char *suite,
                           const struct strvec *components)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!s->v[i].suite)
			s->v[i].suite = xstrdup(suite);
		if (!s->v[i].components.n && !fetch_source_is_flat(s->v[i].suite))
			strvec_pushv(&s->v[i].components, components);
	}
}

void fetch_sources_write(const struct fetch_sources *s, struct strbuf *out)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct fetch_source *e = &s->v[i];
		if (e->in_tree)
			continue;
		strbuf_addf(out, "deb %s %s", e->tree_uri ? e->tree_uri : e->uri, e->suite ? e->suite : "");
		for (size_t k = 0; k < e->components.n; k++)
			strbuf_addf(out, " %s", e->components.v[k]);
		strbuf_addch(out, '\n');
	}
}

/* The value of option name (lower case), or NULL. */
static const char *option(const struct fetch_source *e, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < e->options.n; i++)
		if (!strncmp(e->options.v[i], name, n) && e->options.v[i][n] == '=')
			return e->options.v[i] + n + 1;
	return NULL;
}

/* deb822's continuation lines: one leading space each, "." for a blank. */
static void unfold(const char *value, struct strbuf *out)
{
	cleanup_strvec struct strvec lines = STRVEC_INIT;
	strvec_split(&lines, value, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		const char *l = lines.v[i];
		while (*l == ' ' || *l == '\t')
			l++;
		strbuf_addf(out, "%s\n", strcmp(l, ".") ? l : "");
	}
}

int fetch_source_trust(const struct fetch_source *e, const char *keydir, size_t n,
                       struct strvec *keyrings, bool *trusted)
{
	const char *t = option(e, "trusted"), *by = option(e, "signed-by");
	*trusted = t && !strcasecmp(t, "yes");
	if (!by)
		return 0;
	strvec_clear(keyrings);
	if (!strstr(by, "-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
		strvec_split(keyrings, by, ", ");
		return 0;
	}
	cleanup_strbuf struct strbuf key = STRBUF_INIT;
	cleanup_free char *path = xasprintf("%s/source-%zu.asc", keydir, n);
	unfold(by, &key);
	int r = xb_write_file_at(AT_FDCWD, path, key.buf, key.len, 0644);
	if (r < 0)
		xb_error("writing the Signed-By key of %s to %s: %s", e->uri, path, strerror(-r));
	else
		strvec_push(keyrings, path);
	return r;
}

bool fetch_source_has_arch(const struct fetch_source *e, const char *arch)
{
	const char *a = option(e, "arch");
	if (!a)
		a = option(e, "architectures");
	if (!a)
		return true;
	cleanup_strvec struct strvec v = STRVEC_INIT;
	strvec_split(&v, a, ", ");
	return strvec_has(&v, arch);
}
