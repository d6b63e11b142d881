/* hash: thin wrapper over OpenSSL's EVP digests. */
#include "hash.h"

#include <errno.h>
#include <openssl/evp.h>

#include "strbuf.h"

struct xb_hash {
	EVP_MD_CTX *ctx;
};

struct xb_hash *xb_hash_new(enum xb_hash_kind kind)
{
	struct xb_hash *h = xmalloc(sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, kind == XB_MD5 ? EVP_md5() : EVP_sha256(), NULL)) {
		xb_error("cannot initialise a digest");
		abort();
	}
	return h;
}

void xb_hash_update(struct xb_hash *h, const void *data, size_t n)
{
	EVP_DigestUpdate(h->ctx, data, n);
}

void xb_hash_final_hex(struct xb_hash *h, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(h->ctx, md, &len);
	for (unsigned int i = 0; i < len; i++) {
		hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	hex[2 * len] = '\0';
	xb_hash_free(h);
}

void xb_hash_free(struct xb_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int xb_hash_fd(enum xb_hash_kind kind, int fd, char *hex)
{
	struct xb_hash *h = xb_hash_new(kind);
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			xb_hash_free(h);
			return e;
		}
		if (!n)
			break;
		xb_hash_update(h, buf, (size_t)n);
	}
	xb_hash_final_hex(h, hex);
	return 0;
}

void xb_hash_buf(enum xb_hash_kind kind, const void *data, size_t n, char *hex)
{
	struct xb_hash *h = xb_hash_new(kind);
	xb_hash_update(h, data, n);
	xb_hash_final_hex(h, hex);
}

void xb_base64(const void *data, size_t n, struct strbuf *out)
{
	size_t at = out->len, len = 4 * ((n + 2) / 3);
	strbuf_grow(out, len + 1);
	EVP_EncodeBlock((unsigned char *)out->buf + at, data, (int)n);
	out->len = at + len;
	out->buf[out->len] = '\0';
}
