/* outfile: the temporary file an output is written to (see outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>

int outfile_open(struct outfile *of, const char *target, bool anon_ok)
{
	static unsigned serial;
	const char *slash = strrchr(target, '/');
	cleanup_free char *dir = slash ? xstrndup(target, (size_t)(slash - target) + 1)
	                               : xstrdup(".");

	of->target = target;
	of->fd = anon_ok ? open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644) : -1;
	of->anon = of->fd >= 0;
	for (int tries = 0; tries < 100; tries++) {
		free(of->tmp);
		of->tmp = xasprintf("%s.tmp-%ld-%u", target, (long)getpid(),
		                    __atomic_fetch_add(&serial, 1, __ATOMIC_RELAXED));
		if (of->anon)
			return 0;
		of->fd = open(of->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (of->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	int r = -errno;
	xb_error("writing %s: creating %s: %s", target, of->tmp, strerror(-r));
	free(of->tmp);
	of->tmp = NULL;
	return r;
}

/* Names the finished file target.  AT_EMPTY_PATH needs
 * CAP_DAC_READ_SEARCH; /proc/self/fd works for everyone else. */
int outfile_commit(struct outfile *of)
{
	if (of->anon && linkat(of->fd, "", AT_FDCWD, of->tmp, AT_EMPTY_PATH) < 0) {
		cleanup_free char *proc = xasprintf("/proc/self/fd/%d", of->fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, of->tmp, AT_SYMLINK_FOLLOW) < 0) {
			int r = -errno;
			xb_error("writing %s: creating %s: %s", of->target, of->tmp, strerror(-r));
			return r;
		}
	}
	of->anon = false;
	if (close(of->fd) < 0) {
		int r = -errno;
		of->fd = -1;
		xb_error("writing %s: %s", of->tmp, strerror(-r));
		return r;
	}
	of->fd = -1;
	if (rename(of->tmp, of->target) < 0) {
		int r = -errno;
		xb_error("writing %s: renaming %s: %s", of->target, of->tmp, strerror(-r));
		return r;
	}
	free(of->tmp);
	of->tmp = NULL;
	return 0;
}

/* Drops whatever is left of an output that was not committed. */
void outfile_release(struct outfile *of)
{
	if (of->fd >= 0)
		close(of->fd);
	if (of->tmp && !of->anon)
		unlink(of->tmp);
	free(of->tmp);
	*of = (struct outfile){ .fd = -1 };
}
