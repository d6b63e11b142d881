/* inroot: RESOLVE_IN_ROOT, by the kernel or by hand (see inroot.h). */
#include "inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "util.h"

#define MAX_LINKS 40 /* as the kernel's ELOOP limit */

/* The walk: dirs[0] is the root, dirs[n-1] where we are; ".." pops but
 * never below the root, as in a chroot.  rest is what is left to walk. */
struct walk_state {
	int dirs[256];
	int n, links;
	struct strbuf rest;
};

static void ws_pop_all(struct walk_state *w)
{
	while (w->n > 1)
		close(w->dirs[--w->n]);
}

/* Drops the component just walked: rest becomes next. */
static void ws_advance(struct walk_state *w, const char *next)
{
	memmove(w->rest.buf, next, strlen(next) + 1);
	strbuf_setlen(&w->rest, strlen(w->rest.buf));
}

/* name is a symlink in the current directory: its target, then what was
 * left after it, becomes the rest of the walk. */
static int ws_follow(struct walk_state *w, const char *name, const char *next, bool no_symlinks)
{
	cleanup_strbuf struct strbuf nb = STRBUF_INIT;
	if (no_symlinks || ++w->links > MAX_LINKS)
		return -ELOOP;
	int r = xb_readlink_at(w->dirs[w->n - 1], name, &nb);
	if (r < 0)
		return r;
	strbuf_addch(&nb, '/');
	strbuf_addstr(&nb, next);
	strbuf_release(&w->rest);
	w->rest = nb;
	nb = (struct strbuf)STRBUF_INIT;
	return 0;
}

/* Steps into the directory name. */
static int ws_enter(struct walk_state *w, const char *name)
{
	int fd = openat(w->dirs[w->n - 1], name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (w->n == (int)ARRAY_SIZE(w->dirs)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	w->dirs[w->n++] = fd;
	return 0;
}

/* Resolves w->rest and opens its last component with flags. */
static int walk_open(struct walk_state *w, int flags, bool no_symlinks)
{
	for (;;) {
		char *p = w->rest.buf;
		if (*p == '/')
			ws_pop_all(w);
		p += strspn(p, "/");
		if (!*p) { /* the directory we are in */
			int fd = openat(w->dirs[w->n - 1], ".", flags | O_CLOEXEC);
			return fd < 0 ? -errno : fd;
		}
		size_t len = strcspn(p, "/");
		cleanup_free char *name = xstrndup(p, len);
		const char *next = p + len + strspn(p + len, "/"); /* not "/...": that is absolute */
		bool last = !*next;
		int cur = w->dirs[w->n - 1], r;
		struct stat st;
		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			if (!strcmp(name, "..") && w->n > 1)
				close(w->dirs[--w->n]);
			ws_advance(w, next);
			continue;
		}
		if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
		    !(last && (flags & O_NOFOLLOW))) {
			if ((r = ws_follow(w, name, next, no_symlinks)) < 0)
				return r;
			continue;
		}
		if (last) {
			int fd = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC);
			return fd < 0 ? -errno : fd;
		}
		if ((r = ws_enter(w, name)) < 0)
			return r;
		ws_advance(w, next);
	}
}

int inroot_open(int rootfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				.resolve = resolve | RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd < 0 ? -errno : fd;
	return inroot_open_walk(rootfd, path, flags, resolve);
}

int inroot_open_walk(int rootfd, const char *path, int flags, uint64_t resolve)
{
	struct walk_state w = { .n = 1, .rest = STRBUF_INIT };
	w.dirs[0] = rootfd;
	strbuf_addstr(&w.rest, path);
	int r = walk_open(&w, flags, resolve & RESOLVE_NO_SYMLINKS);
	ws_pop_all(&w);
	strbuf_release(&w.rest);
	return r;
}

int inroot_mkdir_p(int rootfd, const char *dir, mode_t mode)
{
	cleanup_free char *p = xstrdup(dir);
	for (char *s = p;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		int fd = inroot_open(rootfd, p, O_PATH | O_DIRECTORY, 0);
		if (fd == -ENOENT) {
			cleanup_free char *last = NULL;
			cleanup_fd int pfd = inroot_parent(rootfd, p, false, &last);
			if (pfd < 0)
				return pfd;
			if (mkdirat(pfd, last, mode) < 0 && errno != EEXIST)
				return -errno;
			fd = inroot_open(rootfd, p, O_PATH | O_DIRECTORY, 0);
		}
		if (fd < 0)
			return fd;
		close(fd);
		*s = c;
		if (!c)
			return 0;
	}
}

int inroot_parent(int rootfd, const char *path, bool make_parents, char **last)
{
	cleanup_free char *p = xstrdup(path);
	size_t n = strlen(p);
	while (n && p[n - 1] == '/')
		p[--n] = '\0';
	char *slash = strrchr(p, '/');
	const char *name = slash ? slash + 1 : p;
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (slash)
		*slash = '\0';
	const char *dir = slash ? p : "";
	int r = make_parents && *dir ? inroot_mkdir_p(rootfd, dir, 0755) : 0;
	int fd = r < 0 ? r : inroot_open(rootfd, dir, O_PATH | O_DIRECTORY, 0);
	if (fd >= 0)
		*last = xstrdup(name);
	return fd;
}

int inroot_write_file(int rootfd, const char *path, const void *data, size_t len, mode_t mode)
{
	cleanup_free char *last = NULL;
	cleanup_fd int dir = inroot_parent(rootfd, path, true, &last);
	return dir < 0 ? dir : xb_write_file_at(dir, last, data, len, mode);
}

int inroot_unlink(int rootfd, const char *path)
{
	cleanup_free char *last = NULL;
	cleanup_fd int dir = inroot_parent(rootfd, path, false, &last);
	if (dir < 0)
		return dir == -ENOENT ? 0 : dir;
	return unlinkat(dir, last, 0) < 0 && errno != ENOENT ? -errno : 0;
}

int inroot_rm_rf(int rootfd, const char *path)
{
	cleanup_free char *last = NULL;
	cleanup_fd int dir = inroot_parent(rootfd, path, false, &last);
	if (dir < 0)
		return dir == -ENOENT ? 0 : dir;
	return xb_rm_rf_at(dir, last);
}

int inroot_open_regular(int rootfd, const char *path)
{
	int fd = inroot_open(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	struct stat st;
	if (fd < 0)
		return fd;
	int e = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
	if (e) {
		close(fd);
		return e;
	}
	return fd;
}

int inroot_read_file(int rootfd, const char *path, size_t max, struct strbuf *sb)
{
	cleanup_fd int fd = inroot_open_regular(rootfd, path);
	return fd < 0 ? fd : xb_read_fd_max(fd, max, sb);
}
