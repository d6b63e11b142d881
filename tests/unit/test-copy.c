/* test-copy: copy_into_tree puts host files into a tree whole, every time.
 * The chrooted writer reads the tar to its end: the end-of-archive blocks
 * come before the last padding, and a writer that left on seeing them made
 * the streaming side fail now and then with "Broken pipe" and no message.
 * That race was seen only in whole bootstraps; this test does not bring it
 * about reliably, it holds the copy to its results. */
#include "tap.h"
#include "../../core/base/fileio.h"
#include "../../core/base/util.h"
#include "../../core/pipeline/copy.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

/* Many small files, each of which costs the writer more (create, chown,
 * chmod, utimes) than the reader of the host files, so that the writer is
 * often behind when the stream ends. */
static void make_sources(int dfd, size_t files)
{
	mkdirat(dfd, "src", 0755);
	mkdirat(dfd, "src/lists", 0755);
	for (size_t i = 0; i < files; i++) {
		cleanup_free char *name = xasprintf("src/lists/f%zu", i);
		cleanup_free char *text = xasprintf("%0*zu\n", (int)(i % 700), i);
		xb_write_file_at(dfd, name, text, strlen(text), 0644);
	}
}

static bool same_file(int dfd, const char *a, const char *b)
{
	cleanup_strbuf struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;
	cleanup_fd int fa = openat(dfd, a, O_RDONLY | O_CLOEXEC);
	cleanup_fd int fb = openat(dfd, b, O_RDONLY | O_CLOEXEC);
	return fa >= 0 && fb >= 0 && xb_read_fd(fa, &x) == 0 && xb_read_fd(fb, &y) == 0 &&
	       x.len == y.len && memcmp(x.buf, y.buf, x.len) == 0;
}

int main(void)
{
	char tmp[] = "/tmp/xboot-test-copy.XXXXXX";
	if (getuid() != 0) { /* the writer chroots */
		printf("0 passed, 0 failed\n");
		return 0;
	}
	if (!mkdtemp(tmp)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const size_t files = 300;
	make_sources(dfd, files);
	cleanup_free char *src = xasprintf("%s/src/lists", tmp);
	char *srcs[] = { src };
	int failures = 0, first = 0;
	for (int round = 0; round < 20; round++) {
		cleanup_free char *root = xasprintf("%s/root%d", tmp, round);
		mkdir(root, 0755);
		int r = copy_into_tree(root, srcs, 1, "/var/lib/apt/lists", true, "the test's copy");
		if (r && !failures++)
			first = r;
		cleanup_free char *rel = xasprintf("root%d/var/lib/apt/lists/f%zu", round, files - 1);
		cleanup_free char *last = xasprintf("src/lists/f%zu", files - 1);
		CHECK(same_file(dfd, rel, last), "round %d: the last file copied whole", round);
	}
	CHECK(failures == 0, "%d of 20 copies failed, the first with %s", failures,
	      xb_strerror(first));
	close(dfd);
	xb_rm_rf_at(AT_FDCWD, tmp);
	return tap_done();
}
