/* indices: the Packages indices of a suite for one architecture.  Picks
 * Packages.xz (else .gz, else plain) as listed in the Release, fetches it
 * (by-hash path when the Release says Acquire-By-Hash), checks size and
 * SHA256 against the Release, and decompresses it into the work directory. */
#ifndef XB_FETCH_INDICES_H
#define XB_FETCH_INDICES_H

#include "cache.h"
#include "release.h"

/* What to fetch: the indices of one suite of one mirror. */
struct fetch_indices_req {
	const char *mirror, *suite;         /* mirror: base URL without trailing slash */
	const struct fetch_release *release; /* the suite's verified Release */
	const struct strvec *components;
	const char *arch;                   /* Debian architecture */
	const char *workdir;                /* where the indices go */
	int index;                          /* numbers the files of this source */
	const struct fetch_http_opts *http; /* timeouts of the downloads */
	const struct fetch_cache *cache;    /* NULL, or where decompressed indices are kept */
	struct strvec *sha256s;             /* NULL, or gets each path's SHA256, as paths do */
};

/* For each component: WORKDIR/<index>_<component>_Packages, or the
 * cache's copy of that index, appended to paths (to be read, not changed).  A component or architecture the Release does not list is an
 * error naming it.  Errors reported once. */
int fetch_indices_get(const struct fetch_indices_req *q, struct strvec *paths);
/* Whether the Release r of suite has indices for arch (a flat repository's
 * one index may hold any). */
bool fetch_indices_has_arch(const struct fetch_release *r, const char *suite, const char *arch);

#endif
