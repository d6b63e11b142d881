/* sources: where packages come from, as apt's sources name it — one-line
 * entries ("deb [options] URI SUITE [COMPONENT...]") and deb822 stanzas
 * (Types, URIs, Suites, Components), read by one parser from the host's
 * apt configuration (for the default mirror and the security archive) and
 * from MIRROR arguments.  A struct fetch_sources owns its entries and is
 * freed with fetch_sources_release(). */
#ifndef XB_FETCH_SOURCES_H
#define XB_FETCH_SOURCES_H

#include "../core/base/util.h"

struct fetch_source {
	char *uri;                /* http://, https:// or file://, no trailing slash */
	char *suite;              /* NULL: not given (fetch_sources_default fills it) */
	struct strvec components; /* empty: not given (likewise) */
	bool in_tree;             /* read from the tree's own sources: not written again */
	char *tree_uri;           /* the URI the tree's sources and apt's lists name,
	                             where it is not uri (an offline copy); NULL: uri */
	struct strvec options;    /* "name=value" as given: signed-by, trusted and arch
	                             are acted on (fetch_source_trust, _has_arch) */
};

struct fetch_sources {
	struct fetch_source *v;
	size_t n, alloc;
};
#define FETCH_SOURCES_INIT { NULL, 0, 0 }
void fetch_sources_release(struct fetch_sources *s);

/* Appends an entry (copies of uri and suite, which may be NULL, and of
 * components, which may be NULL); returns it. */
struct fetch_source *fetch_sources_add(struct fetch_sources *s, const char *uri,
                                       const char *suite, const struct strvec *components);

/* One MIRROR argument: a URL (or absolute path of a directory), a one-line
 * "deb ..." entry, or a sources file (deb822 or one-line; "-" is standard
 * input) whose deb entries are all added.  Reports errors (-XB_EUSAGE for
 * a malformed entry, or a file without any unless allow_empty). */
int fetch_sources_parse_arg(const char *arg, bool allow_empty, struct fetch_sources *out);

/* Every deb entry of the host's apt configuration under etcdir (NULL:
 * $XBOOT_APT_ETC, else /etc/apt): sources.list, then sources.list.d's *.list and *.sources in
 * name order.  Entries apt would have to explain (cdrom:, malformed lines)
 * are passed over quietly: they are the host's business. */
void fetch_sources_from_apt(const char *etcdir, struct fetch_sources *out);

/* Whether an entry is a security archive, by its URI or a -security suite. */
bool fetch_source_is_security(const struct fetch_source *e);

/* The first entry that is (security) or is not (!security) a security
 * archive; NULL when there is none. */
const struct fetch_source *fetch_sources_find(const struct fetch_sources *s, bool security);

/* A flat repository's "suite" is a path ending in '/' ("./", "sub/"):
 * its Release and Packages lie there, and it has no components. */
bool fetch_source_is_flat(const char *suite);

/* The URL of the directory of uri's suite's Release: URI/dists/SUITE, or
 * for a flat repository URI/PATH (caller frees). */
char *fetch_source_dist_url(const char *uri, const char *suite);

/* An entry's own trust, as apt takes it: signed-by (keyring files, or an
 * inline armored key, written to KEYDIR/source-N.asc) verifies this entry
 * only, in place of the default keyrings, which *keyrings keeps
 * otherwise; trusted=yes (*trusted) skips the signature check.  Reports
 * errors. */
int fetch_source_trust(const struct fetch_source *e, const char *keydir, size_t n,
                       struct strvec *keyrings, bool *trusted);

/* Whether an entry with arch=A,B (or none) serves architecture arch. */
bool fetch_source_has_arch(const struct fetch_source *e, const char *arch);

/* Gives every entry without a suite or components these (a flat one
 * keeps none). */
void fetch_sources_default(struct fetch_sources *s, const char *suite,
                           const struct strvec *components);

/* The entries in one-line form, one "deb URI SUITE COMPONENT..." line
 * each, for the tree's sources.list (those in_tree left out). */
void fetch_sources_write(const struct fetch_sources *s, struct strbuf *out);

#endif
