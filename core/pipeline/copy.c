/* copy: host files into a tree through a chrooted writer (see copy.h). */
#include "copy.h"

#include "../base/inroot.h"
#include "../base/spawn.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

struct copy {
	const char *root, *what;
	char *const *srcs;
	size_t n;
	bool contents;
	char *dir;  /* where in the tree the entries go (absolute inside it) */
	char *name; /* the one source's name there, when dst was not a directory */
	int tar_fd; /* tar-in: the user's tarball (any compression) instead of srcs; else -1 */
};

static char *trimmed(const char *path)
{
	char *p = xstrdup(path);
	for (size_t n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
		p[n - 1] = '\0';
	return p;
}

/* Decides c->dir and c->name from dst, resolved inside the tree. */
static int place(struct copy *c, const char *dst)
{
	cleanup_free char *d = trimmed(dst);
	cleanup_fd int rootfd = open(c->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = rootfd < 0 ? -errno : inroot_open(rootfd, d, O_PATH | O_DIRECTORY, 0);
	if (fd >= 0)
		close(fd);
	if (c->contents || fd >= 0) {
		c->dir = xasprintf("%s%s", d[0] == '/' ? "" : "/", d);
		return 0;
	}
	char *slash = strrchr(d, '/');
	if ((fd != -ENOENT && fd != -ENOTDIR) || c->n != 1 || (slash && !slash[1])) {
		xb_error("%s: %s is not a directory in the tree", c->what, dst);
		return -XB_EUSAGE;
	}
	c->name = xstrdup(slash ? slash + 1 : d);
	if (slash)
		*slash = '\0';
	c->dir = xasprintf("/%s", d + (d[0] == '/'));
	return 0;
}

static int check_sources(const struct copy *c)
{
	struct stat st;
	for (size_t i = 0; i < c->n; i++) {
		if (lstat(c->srcs[i], &st) < 0) {
			xb_error("%s: %s: %s", c->what, c->srcs[i], strerror(errno));
			return -errno;
		}
		if (c->contents && !S_ISDIR(st.st_mode)) {
			xb_error("%s: %s is not a directory", c->what, c->srcs[i]);
			return -XB_EUSAGE;
		}
	}
	return 0;
}

static int fail(const struct copy *c, struct archive *a, const char *doing)
{
	const char *why = archive_error_string(a);
	if (archive_errno(a) == EPIPE)
		return -EPIPE; /* the writer stopped: its status tells (run_copy) */
	xb_error("%s: %s: %s", c->what, doing, why ? why : "unknown archive error");
	return -EIO;
}

static int copy_blocks(const struct copy *c, struct archive *in, struct archive *disk,
                       const char *name)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	for (;;) {
		int r = archive_read_data_block(in, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return fail(c, in, "reading the copy");
		if (archive_write_data_block(disk, buf, size, off) < ARCHIVE_WARN)
			return fail(c, disk, name);
	}
}

static int enter_tree(const struct copy *c, int rootfd)
{
	if (fchdir(rootfd) < 0 || chroot(".") < 0 ||
	    (c->contents && xb_mkdir_p_at(AT_FDCWD, c->dir, 0755) < 0) || chdir(c->dir) < 0) {
		int e = errno;
		xb_error("%s: %s in the tree: %s", c->what, c->dir, strerror(e));
		return -e;
	}
	return 0;
}

static void drain(int fd)
{
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		;
}

/* The child, chrooted into the tree: extracts the tar on fd into c->dir. */
static int extract(const struct copy *c, int rootfd, int fd)
{
	struct archive *in = archive_read_new(), *disk = archive_write_disk_new();
	struct archive_entry *e;
	int r = enter_tree(c, rootfd), ar;
	archive_read_support_format_tar(in);
	if (c->tar_fd >= 0)
		archive_read_support_filter_all(in);
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
	                                     ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
	                                     ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	                                     ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	if (!r && archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK)
		r = fail(c, in, "reading the copy");
	while (!r && (ar = archive_read_next_header(in, &e)) != ARCHIVE_EOF) {
		const char *name = archive_entry_pathname(e);
		if (ar < ARCHIVE_WARN)
			r = fail(c, in, "reading the copy");
		else if (archive_write_header(disk, e) < ARCHIVE_WARN)
			r = fail(c, disk, name);
		else if (archive_entry_size(e) > 0)
			r = copy_blocks(c, in, disk, name);
		if (!r && archive_write_finish_entry(disk) < ARCHIVE_WARN)
			r = fail(c, disk, name);
	}
	if (!r && archive_write_close(disk) < ARCHIVE_WARN)
		r = fail(c, disk, "finishing the copy");
	archive_write_free(disk);
	archive_read_free(in);
	/* The end-of-archive blocks come before the writer's last padding:
	 * read to its end, so that the writer never writes to a closed pipe
	 * unless this side failed. */
	if (!r && c->tar_fd < 0)
		drain(fd);
	return r;
}

/* One host source into the tar on out, its entries named as they go into
 * the tree: NAME[/...], or ./... for a directory's contents. */
static int add_source(const struct copy *c, struct archive *out, const char *src)
{
	cleanup_free char *s = trimmed(src);
	const char *slash = strrchr(s, '/');
	const char *base = c->contents ? "." : c->name ? c->name : slash && slash[1] ? slash + 1 : s;
	struct archive *disk = archive_read_disk_new();
	struct archive_entry *e = archive_entry_new();
	char buf[65536];
	int r = 0, ar;
	archive_read_disk_set_symlink_physical(disk);
	if (archive_read_disk_open(disk, s) != ARCHIVE_OK)
		r = fail(c, disk, s);
	while (!r && (ar = archive_read_next_header2(disk, e)) != ARCHIVE_EOF) {
		if (ar < ARCHIVE_WARN) {
			r = fail(c, disk, s);
			break;
		}
		const char *path = archive_entry_pathname(e);
		cleanup_free char *name = xasprintf("%s%s", base, path + strlen(s));
		archive_entry_set_pathname(e, name);
		if (archive_write_header(out, e) < ARCHIVE_WARN)
			r = fail(c, out, "writing the copy");
		for (la_ssize_t got; !r && (got = archive_read_data(disk, buf, sizeof(buf))) != 0;)
			if (got < 0 || archive_write_data(out, buf, (size_t)got) < 0)
				r = fail(c, got < 0 ? disk : out, path);
		archive_read_disk_descend(disk);
	}
	archive_entry_free(e);
	archive_read_free(disk);
	return r;
}

static int stream_sources(const struct copy *c, int fd)
{
	struct archive *out = archive_write_new();
	int r = 0;
	archive_write_set_format_pax_restricted(out);
	if (archive_write_open_fd(out, fd) != ARCHIVE_OK)
		r = fail(c, out, "writing the copy");
	for (size_t i = 0; !r && i < c->n; i++)
		r = add_source(c, out, c->srcs[i]);
	if (!r && archive_write_close(out) != ARCHIVE_OK)
		r = fail(c, out, "writing the copy");
	archive_write_free(out);
	return r;
}

/* The writer's result: it reports its own failures, but not a signal
 * that killed it (a SIGKILL of ours after a failure here is no news). */
static int wait_for(const struct copy *c, pid_t pid, bool killed)
{
	int st, r = xb_waitpid(pid, &st);
	if (r < 0) {
		xb_error("%s: waiting for its writer: %s", c->what, strerror(-r));
		return r;
	}
	if (WIFSIGNALED(st) && !killed)
		xb_error("%s: its writer was killed by signal %d (%s)", c->what, WTERMSIG(st),
		         strsignal(WTERMSIG(st)));
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -XB_ECHILD;
}

/* Forks the writer and feeds it; the writer reports its own errors. */
static int run_copy(const struct copy *c)
{
	cleanup_fd int rootfd = open(c->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int p[2];
	if (rootfd < 0 || pipe2(p, O_CLOEXEC) < 0) {
		xb_error("%s: %s: %s", c->what, c->root, strerror(errno));
		return -errno;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		_exit(extract(c, rootfd, p[0]) ? 1 : 0);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		xb_error("%s: fork: %s", c->what, strerror(errno));
		return -errno;
	}
	/* A writer that stopped must not take xboot down with SIGPIPE. */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	int r = stream_sources(c, p[1]);
	close(p[1]);
	/* EPIPE: the writer is gone, and its status says whether it failed
	 * (and said why) or had read the whole archive. */
	bool killed = r && r != -EPIPE;
	if (killed)
		kill(pid, SIGKILL);
	int w = wait_for(c, pid, killed);
	signal(SIGPIPE, old);
	return r && r != -EPIPE ? r : w;
}

int copy_into_tree(const char *root, char *const *srcs, size_t n, const char *dst, bool contents,
                   const char *what)
{
	struct copy c = { root, what, srcs, n, contents, NULL, NULL, -1 };
	int r = check_sources(&c);
	if (!r)
		r = place(&c, dst);
	if (!r)
		r = run_copy(&c);
	free(c.dir);
	free(c.name);
	return r;
}

/* The writer alone, reading the tarball. */
static int run_tar_in(const struct copy *c)
{
	cleanup_fd int rootfd = open(c->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		xb_error("%s: %s: %s", c->what, c->root, strerror(errno));
		return -errno;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(extract(c, rootfd, c->tar_fd) ? 1 : 0);
	if (pid < 0) {
		xb_error("%s: fork: %s", c->what, strerror(errno));
		return -errno;
	}
	return wait_for(c, pid, false);
}

int copy_tar_into_tree(const char *root, const char *tarball, const char *dst, const char *what)
{
	char *srcs[] = { (char *)tarball };
	struct copy c = { root, what, srcs, 1, true, NULL, NULL, -1 };
	int r = place(&c, dst);
	if (!r && (c.tar_fd = open(tarball, O_RDONLY | O_CLOEXEC)) < 0) {
		r = -errno;
		xb_error("%s: %s: %s", what, tarball, strerror(errno));
	}
	if (!r)
		r = run_tar_in(&c);
	if (c.tar_fd >= 0)
		close(c.tar_fd);
	free(c.dir);
	free(c.name);
	return r;
}
