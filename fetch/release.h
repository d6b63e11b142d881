/* release: a suite's signed Release file.  Fetches dists/SUITE/InRelease
 * (Release + Release.gpg only when InRelease is 404), verifies it with gpgv
 * against the given keyrings, parses only the signed text, checks Date and
 * Valid-Until, and lists the SHA256 of every index. */
#ifndef XB_FETCH_RELEASE_H
#define XB_FETCH_RELEASE_H

#include "../core/base/util.h"
#include "http.h"
#include <time.h>

struct fetch_release_file {
	char *path;       /* relative to dists/SUITE/, e.g. main/binary-armhf/Packages.xz */
	uint64_t size;
	char sha256[65];
};

struct fetch_release {
	char *suite, *codename; /* from the fields; either may be NULL */
	time_t date, valid_until; /* 0 when absent */
	bool by_hash;             /* Acquire-By-Hash: yes */
	struct strvec components, architectures;
	struct fetch_release_file *files;
	size_t n_files;
	/* The files as fetched, in the work directory: InRelease, or Release
	 * and Release.gpg (apt keeps them so among its lists). */
	struct strvec kept;
};

struct fetch_release_opts {
	const struct strvec *keyrings; /* files passed to gpgv --keyring */
	bool ignore_valid_until;       /* warn instead of failing */
	bool no_check_sig;             /* warn; hashes still checked */
	bool allow_suite_change;       /* accept a Release whose Suite and Codename differ
	                                * from the suite asked for (warn) */
	const char *workdir;           /* where InRelease etc. are downloaded */
	const struct fetch_http_opts *http; /* timeouts of the downloads */
};

/* mirror: base URL without trailing slash (http://, https://, file://).
 * Every failure is reported once, naming the URL or file and the cause
 * (-XB_EBADSIG, also for a Release of another suite, -XB_EEXPIRED,
 * -XB_EPARSE, -XB_ENOTFOUND for an unknown suite, or a fetch error). */
int fetch_release_get(const char *mirror, const char *suite, const struct fetch_release_opts *o,
                  struct fetch_release *out);
const struct fetch_release_file *fetch_release_find(const struct fetch_release *r, const char *path);
void fetch_release_free(struct fetch_release *r);

/* Parses the signed text of a Release file (what gpgv vouched for, or
 * the signed part with --no-check-sig) into r: 0, or -XB_EPARSE with r
 * empty and *why saying what was wrong (reports nothing: the caller names
 * the URL).  Dates are parsed, not checked against the clock. */
int fetch_release_parse(const char *text, size_t len, struct fetch_release *r, const char **why);

/* Parses an RFC 2822 date as Release files carry it ("Sat, 10 Aug 2024
 * 09:13:42 UTC"; weekday optional, zone a name or +hhmm, none meaning UTC).
 * Returns 0 or -XB_EPARSE; reports nothing. */
int fetch_release_parse_date(const char *s, time_t *out);

#endif
