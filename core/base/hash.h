/* hash: SHA256 and MD5 digests (OpenSSL's EVP), incremental or of a file. */
#ifndef XB_HASH_H
#define XB_HASH_H

#include "util.h"

enum xb_hash_kind { XB_SHA256, XB_MD5 };

/* Opaque incremental hash; xb_hash_new() never fails, xb_hash_free() frees. */
struct xb_hash;
struct xb_hash *xb_hash_new(enum xb_hash_kind kind);
void xb_hash_update(struct xb_hash *h, const void *data, size_t n);
/* Writes the lower-case hex digest (65 bytes for SHA256, 33 for MD5,
 * NUL included) into hex and frees h. */
void xb_hash_final_hex(struct xb_hash *h, char *hex);
void xb_hash_free(struct xb_hash *h);

/* Digest of a whole file or buffer, as lower-case hex into hex. */
int xb_hash_fd(enum xb_hash_kind kind, int fd, char *hex);
void xb_hash_buf(enum xb_hash_kind kind, const void *data, size_t n, char *hex);

/* data as base64 (RFC 4648, with padding, no newlines), appended to out. */
struct strbuf;
void xb_base64(const void *data, size_t n, struct strbuf *out);

#endif
