/* release: a suite's signed Release file.  Fetches dists/SUITE/InRelease
 * (Release + Release.gpg only when InRelease is 404), verifies it with gpgv
 * against the given keyrings, parses only the signed text, checks Date and
 * Valid-Until, and lists the SHA256 of every index. */
#ifndef XB_FETCH_RELEASE_H
#define XB_FETCH_RELEASE_H

#include "../core/base/util.h"
#include <time.h>

struct release_file {
	char *path;       /* relative to dists/SUITE/, e.g. main/binary-armhf/Packages.xz */
	uint64_t size;
	char sha256[65];
};

struct release {
	char *suite, *codename; /* from the fields; either may be NULL */
	time_t date, valid_until; /* 0 when absent */
	bool by_hash;             /* Acquire-By-Hash: yes */
	struct strvec components, architectures;
	struct release_file *files;
	size_t n_files;
};

struct release_opts {
	const struct strvec *keyrings; /* files passed to gpgv --keyring */
	bool ignore_valid_until;       /* warn instead of failing */
	bool no_check_sig;             /* warn; hashes still checked */
	const char *workdir;           /* where InRelease etc. are downloaded */
};

/* mirror: base URL without trailing slash (http://, https://, file://).
 * Every failure is reported once, naming the URL or file and the cause
 * (-XB_EBADSIG, -XB_EEXPIRED, -XB_EPARSE, -XB_ENOTFOUND for an unknown
 * suite, or a fetch error). */
int release_fetch(const char *mirror, const char *suite, const struct release_opts *o,
                  struct release *out);
const struct release_file *release_find(const struct release *r, const char *path);
void release_release(struct release *r);

/* Parses the signed text of a Release file (already verified).  Returns 0,
 * or -XB_EPARSE (malformed, a bad date, or no SHA256 entries) with out
 * empty; reports nothing (release_fetch() names the URL). */
int release_parse(const char *text, size_t len, struct release *out);

/* Parses an RFC 2822 date as Release files carry it ("Sat, 10 Aug 2024
 * 09:13:42 UTC"; weekday optional, zone a name or +hhmm, none meaning UTC).
 * Returns 0 or -XB_EPARSE; reports nothing. */
int release_parse_date(const char *s, time_t *out);

#endif
