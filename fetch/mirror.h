/* mirror: where packages come from.  Reads the host's apt configuration
 * (one-line sources.list, the .list files of sources.list.d and deb822 .sources files) to
 * find the default Debian mirror, and normalises mirror URLs. */
#ifndef XB_FETCH_MIRROR_H
#define XB_FETCH_MIRROR_H

#include "../core/base/util.h"

/* The first "deb" URI of the host's apt configuration under etcdir (NULL:
 * /etc/apt) that is not a security archive; with want_security, the first
 * whose suite ends in -security.  Returns a malloc'd URI without trailing
 * slash, or NULL when there is none. */
char *mirror_from_apt(const char *etcdir, bool want_security);

/* A copy of url with trailing slashes removed; a plain absolute path
 * becomes a file:// URL.  NULL (reported) for an unsupported scheme. */
char *mirror_normalise(const char *url);

/* Where a bootstrap's packages come from: parallel lists, one entry per
 * source.  An empty suite is the suite given on the command line, empty
 * components (else comma-separated) those of --components. */
struct mirror_entries {
	struct strvec uris, suites, components;
};
#define MIRROR_ENTRIES_INIT { STRVEC_INIT, STRVEC_INIT, STRVEC_INIT }
void mirror_entries_release(struct mirror_entries *e);

/* One MIRROR argument into out: a URL (or absolute path of a directory),
 * a one-line "deb [options] URI SUITE [COMPONENT...]" entry, or a sources
 * file (deb822 .sources or one-line; "-" is standard input) whose deb
 * entries are all added.  Reports errors. */
int mirror_parse_arg(const char *arg, struct mirror_entries *out);

#endif
