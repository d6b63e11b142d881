/* test-unxz: fetch/unxz on what xz(1) writes: one block, many blocks
 * (decoded side by side), streams one after another, an empty input;
 * and what is not whole xz: cut short, corrupt, another format, each an
 * error and never a success with partial output. */
#include <fcntl.h>
#include <sys/stat.h>

#include "../../core/base/fileio.h"
#include "../../core/base/hash.h"
#include "../../core/base/spawn.h"
#include "../../fetch/unxz.h"
#include "tap.h"

static char *tmpdir;

static char *tpath(const char *name) { return xasprintf("%s/%s", tmpdir, name); }

/* About len bytes of index-like text, different for each seed. */
static void make_text(struct strbuf *sb, size_t len, unsigned seed)
{
	for (unsigned i = 0; sb->len < len; i++)
		strbuf_addf(sb, "Package: p%u-%u\nVersion: %u.%u\nDescription: %08x\n\n", seed, i,
		            i % 7, i * seed % 1000, i * 2654435761u ^ seed);
}

/* xz(1) with args compresses text into name.  0 or -1. */
static int xz(const char *name, const struct strbuf *text, const char *const *args)
{
	cleanup_free char *plain = tpath("plain"), *out = tpath(name);
	if (xb_write_file_at(AT_FDCWD, plain, text->buf, text->len, 0644) < 0)
		return -1;
	const char *argv[12] = { "xz", "-c", "-q" };
	size_t n = 3;
	for (; args && *args && n < 10; args++)
		argv[n++] = *args;
	argv[n] = plain;
	struct spawn_opts o = SPAWN_OPTS_INIT;
	cleanup_fd int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	o.out_fd = fd;
	return fd >= 0 && xb_spawn((char *const *)argv, &o, NULL) == 0 ? 0 : -1;
}

/* fetch_unxz of name into "out": its result; the output in got. */
static int unxz(const char *name, struct strbuf *got, char *hex)
{
	cleanup_free char *in = tpath(name), *out = tpath("out");
	cleanup_fd int ifd = open(in, O_RDONLY | O_CLOEXEC);
	cleanup_fd int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct xb_hash *h = xb_hash_new(XB_SHA256);
	int r = fetch_unxz(ifd, ofd, h, in, out);
	xb_hash_final_hex(h, hex);
	strbuf_reset(got);
	xb_read_file(out, got);
	return r;
}

static void check_round_trip(const char *what, const struct strbuf *text, const char *const *args)
{
	cleanup_strbuf struct strbuf got = STRBUF_INIT;
	char hex[65], want[65];
	xb_hash_buf(XB_SHA256, text->buf, text->len, want);
	CHECK(xz("t.xz", text, args) == 0, "%s: xz ran", what);
	cleanup_free char *in = tpath("t.xz");
	unsigned char head[6] = { 0 };
	cleanup_fd int fd = open(in, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, head, sizeof(head)) == 6 && fetch_unxz_is_xz(head, 6),
	      "%s: the magic is seen", what);
	CHECK(unxz("t.xz", &got, hex) == 0, "%s: decompressed", what);
	CHECK(got.len == text->len && !memcmp(got.buf, text->buf, got.len), "%s: %zu bytes as written",
	      what, got.len);
	CHECK(!strcmp(hex, want), "%s: the hash is of the output", what);
}

static void test_good(void)
{
	cleanup_strbuf struct strbuf text = STRBUF_INIT, empty = STRBUF_INIT;
	make_text(&text, 3 << 20, 1);
	check_round_trip("one block", &text, NULL);
	/* many blocks: what the threads decode side by side, in order */
	const char *blocks[] = { "-T2", "--block-size=256KiB", NULL };
	check_round_trip("13 blocks", &text, blocks);
	check_round_trip("empty", &empty, NULL);
}

/* Two streams in one file, as xz -d reads them. */
static void test_concatenated(void)
{
	cleanup_strbuf struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, both = STRBUF_INIT;
	cleanup_strbuf struct strbuf za = STRBUF_INIT, zb = STRBUF_INIT, got = STRBUF_INIT;
	char hex[65];
	make_text(&a, 100000, 2);
	make_text(&b, 200000, 3);
	cleanup_free char *pa = tpath("a.xz"), *pb = tpath("b.xz"), *pab = tpath("ab.xz");
	CHECK(xz("a.xz", &a, NULL) == 0 && xz("b.xz", &b, NULL) == 0, "two streams written");
	xb_read_file(pa, &za);
	xb_read_file(pb, &zb);
	strbuf_add(&za, zb.buf, zb.len);
	xb_write_file_at(AT_FDCWD, pab, za.buf, za.len, 0644);
	strbuf_add(&both, a.buf, a.len);
	strbuf_add(&both, b.buf, b.len);
	CHECK(unxz("ab.xz", &got, hex) == 0 && got.len == both.len &&
	      !memcmp(got.buf, both.buf, got.len), "concatenated: both streams, in order");
}

/* A copy of t.xz as name, cut to len bytes or with the byte at flip
 * changed (flip < 0: none). */
static void damaged(const char *name, size_t len, long flip)
{
	cleanup_strbuf struct strbuf z = STRBUF_INIT;
	cleanup_free char *src = tpath("t.xz"), *dst = tpath(name);
	xb_read_file(src, &z);
	if (len > z.len)
		len = z.len;
	if (flip >= 0 && (size_t)flip < len)
		z.buf[flip] ^= 0x55;
	xb_write_file_at(AT_FDCWD, dst, z.buf, len, 0644);
}

static void test_bad(void)
{
	cleanup_strbuf struct strbuf text = STRBUF_INIT, got = STRBUF_INIT, z = STRBUF_INIT;
	char hex[65];
	make_text(&text, 1 << 20, 4);
	const char *blocks[] = { "-T2", "--block-size=128KiB", NULL };
	CHECK(xz("t.xz", &text, blocks) == 0, "bad: the good one written");
	cleanup_free char *t = tpath("t.xz");
	xb_read_file(t, &z);
	damaged("cut.xz", z.len / 2, -1);
	CHECK(unxz("cut.xz", &got, hex) == -XB_EPARSE, "cut short in a block: an error");
	damaged("tail.xz", z.len - 4, -1);
	CHECK(unxz("tail.xz", &got, hex) == -XB_EPARSE, "the footer cut off: an error");
	damaged("flip.xz", z.len, (long)(z.len / 3));
	CHECK(unxz("flip.xz", &got, hex) == -XB_EPARSE, "a byte changed: an error");
	cleanup_free char *plain = tpath("plain");
	CHECK(!fetch_unxz_is_xz(text.buf, text.len), "text is not xz");
	CHECK(unxz("plain", &got, hex) == -XB_EPARSE, "text given to it: an error");
}

int main(void)
{
	char tmpl[] = "/tmp/xb-test-unxz.XXXXXX";
	if (!(tmpdir = mkdtemp(tmpl)))
		return 1;
	test_good();
	test_concatenated();
	test_bad();
	xb_rm_rf_at(AT_FDCWD, tmpdir);
	return tap_done();
}
