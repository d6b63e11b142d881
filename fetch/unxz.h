/* unxz: xz decompression on every core, with liblzma's threaded decoder,
 * for the big Packages indices.  The archive writes Packages.xz in blocks
 * of 24 MiB (trixie's amd64 main: three), which decode side by side;
 * libarchive's decoder runs one thread. */
#ifndef XB_FETCH_UNXZ_H
#define XB_FETCH_UNXZ_H

#include "../core/base/hash.h"
#include "../core/base/util.h"

/* Whether the len bytes at head start an xz stream. */
bool fetch_unxz_is_xz(const void *head, size_t len);
/* Decompresses the xz stream(s) read from in (from its current offset) to
 * out, each decompressed byte also into h.  src and dest name in and out
 * in the errors, which are reported here.  0, or -XB_EPARSE for what is
 * not whole xz, or -errno. */
int fetch_unxz(int in, int out, struct xb_hash *h, const char *src, const char *dest);

#endif
