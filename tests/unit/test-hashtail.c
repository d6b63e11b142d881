/* test-hashtail: core/base/hashtail's digest, taken behind the writer, is
 * the written file's: many writes of odd sizes across its read chunks, a
 * write-only O_TMPFILE (what outfile gives), nothing written; and a pipe,
 * which it cannot read back, and a file it would not follow from its
 * start (written to already, O_APPEND) are left to the caller. */
#include <fcntl.h>

#include "../../core/base/fileio.h"
#include "../../core/base/hashtail.h"
#include "tap.h"

/* Writes len pattern bytes to fd in pieces of varying size, telling t;
 * their SHA256 into want. */
static void write_pattern(int fd, struct hashtail *t, size_t len, char *want)
{
	unsigned char *data = xmalloc(len ? len : 1);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 131 + (i >> 12));
	xb_hash_buf(XB_SHA256, data, len, want);
	for (size_t off = 0, piece = 1; off < len; piece = piece * 7 % 300007 + 1) {
		size_t n = piece < len - off ? piece : len - off;
		if (xb_write_all(fd, data + off, n) < 0)
			break;
		hashtail_wrote(t, n);
		off += n;
	}
	free(data);
}

static void check_file(const char *what, int flags, size_t len)
{
	char want[65], got[65] = "";
	cleanup_fd int fd = open("/tmp", flags | O_CLOEXEC, 0600);
	struct hashtail *t = fd >= 0 ? hashtail_start(fd, XB_SHA256) : NULL;
	CHECK(t, "%s: started", what);
	if (!t)
		return;
	write_pattern(fd, t, len, want);
	CHECK(hashtail_finish(t, got) == 0 && !strcmp(got, want), "%s: %zu bytes, %s", what, len,
	      got);
}

int main(void)
{
	check_file("write-only O_TMPFILE", O_TMPFILE | O_WRONLY, (5u << 20) + 12345);
	check_file("read-write O_TMPFILE", O_TMPFILE | O_RDWR, 3000);
	check_file("nothing written", O_TMPFILE | O_WRONLY, 0);
	int p[2];
	CHECK(pipe(p) == 0 && !hashtail_start(p[1], XB_SHA256), "a pipe: not followed");
	close(p[0]);
	close(p[1]);
	cleanup_fd int late = open("/tmp", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(late >= 0 && write(late, "x", 1) == 1 && !hashtail_start(late, XB_SHA256),
	      "a file written to already: not followed");
	cleanup_fd int app = open("/tmp", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(app >= 0 && fcntl(app, F_SETFL, O_APPEND) == 0 && !hashtail_start(app, XB_SHA256),
	      "O_APPEND: not followed");
	/* abandoned after 4 MiB: no digest wanted, the reader stops */
	cleanup_fd int big = open("/tmp", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	struct hashtail *bt = big >= 0 ? hashtail_start(big, XB_SHA256) : NULL;
	char unused[65];
	if (bt)
		write_pattern(big, bt, 4u << 20, unused);
	CHECK(bt && hashtail_finish(bt, NULL) == 0, "abandoned after writing");
	/* abandoned: no digest wanted, the thread still ends */
	cleanup_fd int fd = open("/tmp", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	struct hashtail *t = hashtail_start(fd, XB_SHA256);
	CHECK(t && hashtail_finish(t, NULL) == 0, "abandoned at once");
	return tap_done();
}
