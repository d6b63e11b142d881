/* walk: the sorted walk of a root tree (see walk.h). */
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

int walk_fail(struct walk *w, const char *what, int e)
{
	const char *rel = w->path.len > 1 ? w->path.buf + 1 : "";
	xb_error("%s %s%s: %s", what, w->rootdir, rel, strerror(e));
	return -e;
}

static int list_dir(struct walk *w, int dfd, struct strvec *names)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return walk_fail(w, "listing", e);
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(names, de->d_name);
		errno = 0;
	}
	int e = errno;
	closedir(d);
	if (e)
		return walk_fail(w, "listing", e);
	strvec_sort(names);
	return 0;
}

static int walk_dir(struct walk *w, int dfd)
{
	cleanup_strvec struct strvec names = STRVEC_INIT;
	size_t base = w->path.len;
	int r = list_dir(w, dfd, &names);

	for (size_t i = 0; !r && i < names.n; i++) {
		const char *name = names.v[i];
		struct stat st;
		strbuf_setlen(&w->path, base);
		strbuf_addf(&w->path, "/%s", name);
		if (xb_interrupted) {
			r = -XB_EINTR;
		} else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = walk_fail(w, "reading", errno);
		} else {
			r = w->visit(w, dfd, name, &st);
			if (!r && S_ISDIR(st.st_mode) && st.st_dev != w->dev) {
				xb_debug("not entering %s%s: another file system is mounted there",
				         w->rootdir, w->path.buf + 1);
			} else if (!r && S_ISDIR(st.st_mode)) {
				cleanup_fd int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY |
				                                       O_NOFOLLOW | O_CLOEXEC);
				r = sub < 0 ? walk_fail(w, "opening", errno) : walk_dir(w, sub);
			}
		}
	}
	strbuf_setlen(&w->path, base);
	return r;
}

int walk_tree(struct walk *w)
{
	cleanup_fd int fd = open(w->rootdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	int r;

	strbuf_reset(&w->path);
	strbuf_addstr(&w->path, ".");
	if (fd < 0 || fstat(fd, &st) < 0)
		return walk_fail(w, "opening", errno);
	w->dev = st.st_dev;
	r = w->visit(w, fd, ".", &st);
	return r ? r : walk_dir(w, fd);
}

const char *walk_special_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFCHR: return "character device";
	case S_IFBLK: return "block device";
	case S_IFIFO: return "FIFO";
	case S_IFSOCK: return "socket";
	default: return NULL;
	}
}
