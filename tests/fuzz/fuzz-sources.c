/* fuzz-sources: fetch/sources on sources files (one-line and deb822) and
 * MIRROR arguments: the input as a file given on the command line
 * (strict), as the host's sources.list (lenient), and its first line as
 * a "deb ..." argument; then what the entries are asked (trust,
 * architectures, the dist URL) and their one-line form, which must read
 * back as the same entries. */
#include "fuzz.h"

#include <sys/stat.h>

#include "../../fetch/sources.h"

static void check_entries(const struct fetch_sources *s, size_t from)
{
	const char *keydir = fuzz_dir();
	for (size_t i = from; i < s->n; i++) {
		const struct fetch_source *e = &s->v[i];
		fuzz_assert(str_starts_with(e->uri, "http://") || str_starts_with(e->uri, "https://") ||
		            str_starts_with(e->uri, "file://"));
		(void)fetch_source_is_security(e);
		(void)fetch_source_has_arch(e, "armhf");
		if (e->suite)
			free(fetch_source_dist_url(e->uri, e->suite));
		cleanup_strvec struct strvec rings = STRVEC_INIT;
		bool trusted;
		strvec_push(&rings, "/usr/share/keyrings/debian-archive-keyring.gpg");
		(void)fetch_source_trust(e, keydir, i, &rings, &trusted);
	}
	(void)fetch_sources_find(s, true);
	(void)fetch_sources_find(s, false);
}

/* Entries written as one-line sources read back as themselves: URI,
 * suite and components (options are not written).  Only for entries the
 * one-line form can carry: a suite and components of non-blank words
 * without '#', and a URI without blanks. */
static bool writable(const struct fetch_sources *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct fetch_source *e = &s->v[i];
		if (!e->suite || strpbrk(e->uri, " \t\n#") || strpbrk(e->suite, " \t\n#[]") ||
		    e->suite[0] == '[')
			return false;
		for (size_t k = 0; k < e->components.n; k++)
			if (strpbrk(e->components.v[k], " \t\n#"))
				return false;
	}
	return true;
}

static void check_rewrite(const struct fetch_sources *s)
{
	if (!s->n || !writable(s))
		return;
	cleanup_strbuf struct strbuf text = STRBUF_INIT;
	fetch_sources_write(s, &text);
	struct fetch_sources again = FETCH_SOURCES_INIT;
	cleanup_strvec struct strvec lines = STRVEC_INIT;
	strvec_split(&lines, text.buf, "\n");
	fuzz_assert(lines.n == s->n);
	for (size_t i = 0; i < lines.n; i++)
		fuzz_assert(fetch_sources_parse_arg(lines.v[i], false, &again) == 0);
	fuzz_assert(again.n == s->n);
	for (size_t i = 0; i < s->n; i++) {
		fuzz_assert(!strcmp(again.v[i].uri, s->v[i].uri));
		fuzz_assert(!strcmp(again.v[i].suite, s->v[i].suite));
		fuzz_assert(again.v[i].components.n == s->v[i].components.n);
		for (size_t k = 0; k < s->v[i].components.n; k++)
			fuzz_assert(!strcmp(again.v[i].components.v[k], s->v[i].components.v[k]));
	}
	fetch_sources_release(&again);
}

/* DIR/sources.list, a symlink to the memfd, made once. */
static const char *etc_dir(void)
{
	static char *etc;
	if (etc)
		return etc;
	etc = xasprintf("%s/etc", fuzz_dir());
	cleanup_free char *list = xasprintf("%s/sources.list", etc);
	if (mkdir(etc, 0700) < 0 || symlink(fuzz_fd_path(), list) < 0) {
		perror(list);
		abort();
	}
	return etc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	fuzz_quiet();
	fuzz_file(data, size);

	/* A sources file named as MIRROR. */
	cleanup_strvec struct strvec comps = STRVEC_INIT;
	strvec_push(&comps, "main");
	struct fetch_sources s = FETCH_SOURCES_INIT;
	if (fetch_sources_parse_arg(fuzz_fd_path(), true, &s) == 0) {
		check_entries(&s, 0);
		fetch_sources_default(&s, "trixie", &comps);
		check_rewrite(&s);
	}
	fetch_sources_release(&s);

	/* The host's sources.list. */
	fetch_sources_from_apt(etc_dir(), &s);
	check_entries(&s, 0);
	fetch_sources_release(&s);

	/* The first line as a MIRROR argument, when it is no file's name. */
	char *line = fuzz_string(data, size);
	line[strcspn(line, "\n")] = '\0';
	struct stat st;
	if (str_starts_with(line, "deb ") || str_starts_with(line, "deb\t") ||
	    ((strstr(line, "://") || line[0] == '/') && stat(line, &st) < 0)) {
		if (fetch_sources_parse_arg(line, false, &s) == 0)
			check_entries(&s, 0);
		fetch_sources_release(&s);
	}
	free(line);
	return 0;
}
