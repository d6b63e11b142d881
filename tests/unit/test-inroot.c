/* test-inroot: the RESOLVE_IN_ROOT fallback walks a hostile tree exactly
 * as the kernel's openat2() does: same file or same error, for absolute
 * and relative symlinks out of the root, "..", loops and missing paths. */
#include "tap.h"
#include "../../core/base/util.h"
#include "../../core/base/inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* What an fd is, as "dev:ino", or the error. */
static char *what(int fd)
{
	struct stat st;
	if (fd < 0)
		return xasprintf("error %d", fd);
	char *s = fstat(fd, &st) < 0 ? xstrdup("fstat failed")
	                             : xasprintf("%lu:%lu", (unsigned long)st.st_dev,
	                                         (unsigned long)st.st_ino);
	close(fd);
	return s;
}

int main(void)
{
	char tmp[] = "/tmp/xboot-test-inroot.XXXXXX";
	if (!mkdtemp(tmp)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	cleanup_free char *root = xasprintf("%s/root", tmp);
	int dfd = open(tmp, O_RDONLY | O_DIRECTORY);
	/* root/etc/passwd, root/a/b, and links that try to leave */
	static const char *const dirs[] = { "root", "root/etc", "root/a", "root/a/b" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		mkdirat(dfd, dirs[i], 0755);
	xb_write_file_at(dfd, "root/etc/passwd", "inside\n", 7, 0644);
	xb_write_file_at(dfd, "outside", "outside\n", 8, 0644);
	symlinkat("/etc", dfd, "root/abs");                  /* absolute: inside */
	symlinkat("../../../../../../etc", dfd, "root/a/rel"); /* climbs: stops at root */
	symlinkat(tmp, dfd, "root/host");                   /* a host path: inside */
	symlinkat("loop2", dfd, "root/loop1");
	symlinkat("loop1", dfd, "root/loop2");
	symlinkat("etc/passwd", dfd, "root/final");
	symlinkat("/nonexistent/x", dfd, "root/dangling");
	int rootfd = open(root, O_PATH | O_DIRECTORY);

	static const struct { const char *path; int flags; uint64_t resolve; } cases[] = {
		{ "etc/passwd", O_RDONLY, 0 },
		{ "/etc/passwd", O_RDONLY, 0 },
		{ "abs/passwd", O_RDONLY, 0 },
		{ "a/rel/passwd", O_RDONLY, 0 },
		{ "../../../etc/passwd", O_RDONLY, 0 },
		{ "a/b/../../etc/./passwd", O_RDONLY, 0 },
		{ "host/outside", O_RDONLY, 0 },
		{ "loop1", O_RDONLY, 0 },
		{ "final", O_RDONLY, 0 },
		{ "final", O_PATH | O_NOFOLLOW, 0 },
		{ "abs/passwd", O_RDONLY, RESOLVE_NO_SYMLINKS },
		{ "dangling", O_RDONLY, 0 },
		{ "missing/x", O_RDONLY, 0 },
		{ "", O_PATH | O_DIRECTORY, 0 },
		{ "a/b", O_PATH | O_DIRECTORY, 0 },
		{ "etc/passwd/x", O_RDONLY, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct open_how how = { .flags = (uint64_t)(cases[i].flags | O_CLOEXEC),
		                        .resolve = cases[i].resolve | RESOLVE_IN_ROOT |
		                                   RESOLVE_NO_MAGICLINKS };
		int k = (int)syscall(SYS_openat2, rootfd, *cases[i].path ? cases[i].path : ".",
		                     &how, sizeof(how));
		cleanup_free char *kernel = what(k < 0 ? -errno : k);
		cleanup_free char *ours = what(inroot_open_walk(rootfd, cases[i].path,
		                                                    cases[i].flags, cases[i].resolve));
		CHECK(!strcmp(kernel, ours), "%s (flags %#x): kernel %s, fallback %s", cases[i].path,
		      (unsigned)cases[i].flags, kernel, ours);
	}
	close(rootfd);
	xb_rm_rf_at(AT_FDCWD, tmp);
	close(dfd);
	return tap_done();
}
