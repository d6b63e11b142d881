/* unxz: xz decompression on every core (see unxz.h). */
#include "unxz.h"

#include <errno.h>
#include <lzma.h>
#include <stdint.h>
#include <sys/mman.h>

#include "../core/base/fileio.h"

/* More threads than an index has blocks decode nothing: trixie's biggest
 * has three.  Each thread holds a block's input (4 MiB), its output
 * (24 MiB) and the dictionary (8 MiB): two take 80 MB at their peak.
 * liblzma runs fewer where that would pass the limit, at most an eighth
 * of the machine's memory. */
#define UNXZ_MAX_THREADS 4
#define UNXZ_MEMLIMIT (160ull << 20)
#define UNXZ_BUF (1u << 20)
#define UNXZ_MAP_MIN (128u << 10)
#define UNXZ_HDR 16u /* keeps what follows aligned as malloc's is */

/* The decoder's big buffers (tens of MB) are mapped here, not taken
 * from malloc: glibc, when one of its mappings is freed, raises its
 * threshold for mapping to that size, and from then on carves everything
 * smaller, the resolver's pool among them, from heaps it seldom gives
 * back.  That cost 20 MB at a run's peak (trixie armhf standard: 105 MB,
 * 85 without).  Each block starts with its mapping's length, 0 for one
 * from malloc. */
static void *unxz_alloc(void *opaque, size_t nmemb, size_t size)
{
	(void)opaque;
	if (nmemb && size > (SIZE_MAX - UNXZ_HDR) / nmemb)
		return NULL;
	size_t n = nmemb * size + UNXZ_HDR, len = 0;
	unsigned char *p;
	if (n < UNXZ_MAP_MIN) {
		p = malloc(n);
	} else {
		p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p = p == MAP_FAILED ? NULL : p;
		len = n;
	}
	if (!p)
		return NULL;
	memcpy(p, &len, sizeof(len));
	return p + UNXZ_HDR;
}

static void unxz_free(void *opaque, void *ptr)
{
	(void)opaque;
	if (!ptr)
		return;
	unsigned char *p = (unsigned char *)ptr - UNXZ_HDR;
	size_t len;
	memcpy(&len, p, sizeof(len));
	if (len)
		munmap(p, len);
	else
		free(p);
}

static const lzma_allocator unxz_allocator = { unxz_alloc, unxz_free, NULL };

static void unxz_freep(unsigned char **p)
{
	unxz_free(NULL, *p);
}

bool fetch_unxz_is_xz(const void *head, size_t len)
{
	static const unsigned char magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	return len >= sizeof(magic) && !memcmp(head, magic, sizeof(magic));
}

static const char *lzma_why(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_FORMAT_ERROR: return "not in the xz format";
	case LZMA_OPTIONS_ERROR: return "xz options this liblzma does not support";
	case LZMA_DATA_ERROR: return "corrupt xz data";
	case LZMA_BUF_ERROR: return "the xz data ends too early";
	default: return "liblzma failed";
	}
}

/* The decoder's output so far, written out; it starts again at buf. */
static int flush_out(lzma_stream *s, unsigned char *buf, int out, struct xb_hash *h,
                     const char *dest)
{
	size_t n = UNXZ_BUF - s->avail_out;
	s->next_out = buf;
	s->avail_out = UNXZ_BUF;
	xb_hash_update(h, buf, n);
	int r = xb_write_all(out, buf, n);
	if (r < 0)
		xb_error("writing %s: %s", dest, strerror(-r));
	return r;
}

/* Feeds in to the decoder until its stream ends. */
static int run(lzma_stream *s, int in, int out, struct xb_hash *h, const char *src,
               const char *dest)
{
	__attribute__((cleanup(unxz_freep))) unsigned char *ib = unxz_alloc(NULL, 2, UNXZ_BUF);
	if (!ib) {
		xb_error("decompressing %s: out of memory", src);
		return -ENOMEM;
	}
	unsigned char *ob = ib + UNXZ_BUF;
	lzma_action act = LZMA_RUN;
	s->next_out = ob;
	s->avail_out = UNXZ_BUF;
	for (;;) {
		if (!s->avail_in && act == LZMA_RUN) {
			ssize_t n = read(in, ib, UNXZ_BUF);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				int e = errno;
				xb_error("reading %s: %s", src, strerror(e));
				return -e;
			}
			act = n ? LZMA_RUN : LZMA_FINISH;
			s->next_in = ib;
			s->avail_in = (size_t)n;
		}
		lzma_ret lr = lzma_code(s, act);
		int r = 0;
		if (!s->avail_out || lr == LZMA_STREAM_END)
			r = flush_out(s, ob, out, h, dest);
		if (r < 0 || lr == LZMA_STREAM_END)
			return r;
		if (lr != LZMA_OK) {
			xb_error("decompressing %s: %s", src, lzma_why(lr));
			return lr == LZMA_MEM_ERROR ? -ENOMEM : -XB_EPARSE;
		}
	}
}

int fetch_unxz(int in, int out, struct xb_hash *h, const char *src, const char *dest)
{
	uint32_t cpus = lzma_cputhreads();
	lzma_mt mt = {
		.flags = LZMA_CONCATENATED, /* as xz -d: streams one after another */
		.threads = cpus < 1 ? 1 : cpus > UNXZ_MAX_THREADS ? UNXZ_MAX_THREADS : cpus,
		.memlimit_threading = lzma_physmem() / 8 < UNXZ_MEMLIMIT ? lzma_physmem() / 8
		                                                          : UNXZ_MEMLIMIT,
		.memlimit_stop = UINT64_MAX,
	};
	lzma_stream s = LZMA_STREAM_INIT;
	s.allocator = &unxz_allocator;
	lzma_ret lr = lzma_stream_decoder_mt(&s, &mt);
	if (lr != LZMA_OK) {
		xb_error("decompressing %s: %s", src, lzma_why(lr));
		return lr == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	int r = run(&s, in, out, h, src, dest);
	lzma_end(&s);
	return r;
}
