/* indices: the Packages indices of a suite for one architecture.  Picks
 * Packages.xz (else .gz, else plain) as listed in the Release, fetches it
 * (by-hash path when the Release says Acquire-By-Hash), checks size and
 * SHA256 against the Release, and decompresses it into the work directory. */
#ifndef XB_FETCH_INDICES_H
#define XB_FETCH_INDICES_H

#include "release.h"

/* For each component: WORKDIR/<n>_<component>_Packages, appended to paths.
 * A component or architecture the Release does not list is an error naming
 * it.  Errors reported once. */
int indices_fetch(const char *mirror, const char *suite, const struct release *r,
                  const struct strvec *components, const char *arch, const char *workdir,
                  int mirror_index, struct strvec *paths);

/* Decompresses src (xz, gz, zst or plain, by content) to dest with
 * libarchive's raw format.  Reports errors. */
int indices_decompress(const char *src, const char *dest);

#endif
