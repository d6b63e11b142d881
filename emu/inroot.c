/* inroot: RESOLVE_IN_ROOT, by the kernel or by hand (see inroot.h). */
#include "inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define MAX_LINKS 40 /* as the kernel's ELOOP limit */

/* The walk: dirs[0] is the root, dirs[n-1] where we are; ".." pops but
 * never below the root, as in a chroot. */
struct walk_state {
	int dirs[256];
	int n;
};

static void ws_pop_all(struct walk_state *w)
{
	while (w->n > 1)
		close(w->dirs[--w->n]);
}

/* Resolves path (consumed: a copy that symlink targets are spliced into)
 * and opens its last component with flags. */
static int walk_open(struct walk_state *w, char *path, int flags, bool no_symlinks)
{
	int links = 0;
	struct strbuf rest = STRBUF_INIT;
	strbuf_addstr(&rest, path);
	int r = -ENOENT;
	for (;;) {
		char *p = rest.buf;
		if (*p == '/')
			ws_pop_all(w);
		p += strspn(p, "/");
		if (!*p) { /* the directory we are in */
			r = openat(w->dirs[w->n - 1], ".", flags | O_CLOEXEC);
			r = r < 0 ? -errno : r;
			break;
		}
		size_t len = strcspn(p, "/");
		cleanup_free char *name = xstrndup(p, len);
		bool last = !p[len + strspn(p + len, "/")];
		char *next = p + len + strspn(p + len, "/"); /* not "/...": that is absolute */
		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			if (!strcmp(name, "..") && w->n > 1)
				close(w->dirs[--w->n]);
			memmove(rest.buf, next, strlen(next) + 1);
			rest.len = strlen(rest.buf);
			continue;
		}
		int cur = w->dirs[w->n - 1];
		struct stat st;
		if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
		    !(last && (flags & O_NOFOLLOW))) {
			char target[4096];
			ssize_t n = readlinkat(cur, name, target, sizeof(target) - 1);
			if (no_symlinks || ++links > MAX_LINKS || n < 0) {
				r = n < 0 ? -errno : -ELOOP;
				break;
			}
			target[n] = '\0';
			struct strbuf nb = STRBUF_INIT;
			strbuf_addstr(&nb, target);
			strbuf_addch(&nb, '/');
			strbuf_addstr(&nb, next);
			strbuf_release(&rest);
			rest = nb;
			continue;
		}
		if (last) {
			r = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC);
			r = r < 0 ? -errno : r;
			break;
		}
		int fd = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || w->n == (int)ARRAY_SIZE(w->dirs)) {
			r = fd < 0 ? -errno : -ENAMETOOLONG;
			if (fd >= 0)
				close(fd);
			break;
		}
		w->dirs[w->n++] = fd;
		memmove(rest.buf, next, strlen(next) + 1);
		rest.len = strlen(rest.buf);
	}
	strbuf_release(&rest);
	return r;
}

int emu_inroot_open(int rootfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				.resolve = resolve | RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd < 0 ? -errno : fd;
	return emu_inroot_open_walk(rootfd, path, flags, resolve);
}

int emu_inroot_open_walk(int rootfd, const char *path, int flags, uint64_t resolve)
{
	struct walk_state w = { .n = 1 };
	w.dirs[0] = rootfd;
	cleanup_free char *copy = xstrdup(path);
	int r = walk_open(&w, copy, flags, resolve & RESOLVE_NO_SYMLINKS);
	ws_pop_all(&w);
	return r;
}
