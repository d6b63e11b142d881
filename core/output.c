/* output: tarballs written with libarchive from a sorted walk of the root
 * tree; squashfs and ext4 images made by spawning mksquashfs and mke2fs;
 * the temporary file each is written to until it is complete. */
#include "output.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "spawn.h"

static const struct {
	const char *name;
	enum output_format f;
} formats[] = {
	{ "directory", OUTPUT_DIR },   { "tar", OUTPUT_TAR },
	{ "tar.gz", OUTPUT_TAR_GZ },   { "tar.xz", OUTPUT_TAR_XZ },
	{ "tar.zst", OUTPUT_TAR_ZST }, { "squashfs", OUTPUT_SQUASHFS },
	{ "ext4", OUTPUT_EXT4 },
};

static const struct {
	const char *suffix;
	enum output_format f;
} suffixes[] = {
	{ ".tar", OUTPUT_TAR },         { ".tar.gz", OUTPUT_TAR_GZ },
	{ ".tgz", OUTPUT_TAR_GZ },      { ".tar.xz", OUTPUT_TAR_XZ },
	{ ".txz", OUTPUT_TAR_XZ },      { ".tar.zst", OUTPUT_TAR_ZST },
	{ ".tzst", OUTPUT_TAR_ZST },    { ".squashfs", OUTPUT_SQUASHFS },
	{ ".sqfs", OUTPUT_SQUASHFS },   { ".ext4", OUTPUT_EXT4 },
};

int output_format_parse(const char *name, enum output_format *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		if (!strcmp(name, formats[i].name)) {
			*f = formats[i].f;
			return 0;
		}
	}
	xb_error("unknown output format '%s' (directory, tar, tar.gz, tar.xz, tar.zst, "
	         "squashfs or ext4)", name);
	return -XB_EUSAGE;
}

const char *output_format_name(enum output_format f)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (formats[i].f == f)
			return formats[i].name;
	return "?";
}

enum output_format output_format_of_target(const char *target)
{
	if (!strcmp(target, "-"))
		return OUTPUT_TAR;
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++)
		if (str_ends_with(target, suffixes[i].suffix) &&
		    strlen(target) > strlen(suffixes[i].suffix))
			return suffixes[i].f;
	return OUTPUT_DIR;
}

/* ---- walking the tree ---- */

/* A depth-first walk: each directory's names in strcmp() order, a
 * directory before its contents, so the order depends on nothing but the
 * names.  Mount points are visited but not entered (a /proc left mounted
 * must not end up in an archive). */
struct walk {
	const char *rootdir;
	dev_t dev;
	struct strbuf path; /* "." for the root, "./etc/passwd" below it */
	int (*visit)(struct walk *w, int dfd, const char *name, const struct stat *st);
	void *ctx;
};

/* Reports e for the entry being visited; returns -e. */
static int walk_fail(struct walk *w, const char *what, int e)
{
	const char *rel = w->path.len > 1 ? w->path.buf + 1 : "";
	xb_error("%s %s%s: %s", what, w->rootdir, rel, strerror(e));
	return -e;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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
	if (names->n)
		qsort(names->v, names->n, sizeof(*names->v), cmp_names);
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
		w->path.len = base;
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
	w->path.len = base;
	w->path.buf[base] = '\0';
	return r;
}

static int walk(struct walk *w)
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

/* What an archive leaves out, or NULL. */
static const char *special_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFCHR: return "character device";
	case S_IFBLK: return "block device";
	case S_IFIFO: return "FIFO";
	case S_IFSOCK: return "socket";
	default: return NULL;
	}
}

/* ---- the file being written ---- */

/* The temporary file an output is written to.  Where the file system has
 * O_TMPFILE it has no name until it is complete, so even a killed run
 * leaves nothing behind; images need a name for the tool to write to. */
struct outfile {
	const char *target;
	char *tmp; /* the temporary name */
	int fd;
	bool anon; /* fd is an O_TMPFILE: tmp does not exist yet */
};

static int outfile_open(struct outfile *of, const char *target, bool anon_ok)
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
static int outfile_commit(struct outfile *of)
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
static void outfile_release(struct outfile *of)
{
	if (of->fd >= 0)
		close(of->fd);
	if (of->tmp && !of->anon)
		unlink(of->tmp);
	free(of->tmp);
	*of = (struct outfile){ .fd = -1 };
}

/* ---- tarballs ---- */

struct tar {
	struct archive *a;
	const struct output_opts *o;
	const char *target;
	void *links;          /* tsearch() tree of struct link: files with nlink > 1 */
	dev_t out_dev;        /* the archive itself, should it be inside the tree */
	ino_t out_ino;
	char buf[64 * 1024];
};

struct link {
	dev_t dev;
	ino_t ino;
	char *path; /* the member the later names link to */
};

static int link_cmp(const void *a, const void *b)
{
	const struct link *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void link_free(void *p)
{
	struct link *l = p;
	free(l->path);
	free(l);
}

/* The member st was first archived as, or NULL (and remembers path). */
static const char *link_seen(struct tar *t, const struct stat *st, const char *path)
{
	struct link key = { st->st_dev, st->st_ino, NULL };
	struct link **found = tfind(&key, &t->links, link_cmp);
	if (found)
		return (*found)->path;
	struct link *l = xmalloc(sizeof(*l));
	*l = (struct link){ st->st_dev, st->st_ino, xstrdup(path) };
	if (!tsearch(l, &t->links, link_cmp))
		abort(); /* out of memory */
	return NULL;
}

static int tar_fail(struct tar *t)
{
	const char *why = archive_error_string(t->a);
	int e = archive_errno(t->a);
	xb_error("writing %s: %s", t->target, why ? why : strerror(e > 0 ? e : EIO));
	return e > 0 ? -e : -EIO;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Adds the file's capabilities.  A v3 blob names the owner of the user
 * namespace it was set in; an archive is extracted in another one, so it
 * gets the v2 form, which applies wherever the file lands. */
static int add_caps(struct walk *w, int fd, struct archive_entry *e)
{
	static const char name[] = "security.capability";
	ssize_t n = fgetxattr(fd, name, NULL, 0);
	if (n < 0 && (errno == ENODATA || errno == ENOTSUP))
		return 0;
	cleanup_free unsigned char *v = n > 0 ? xmalloc((size_t)n) : NULL;
	if (n > 0)
		n = fgetxattr(fd, name, v, (size_t)n);
	if (n < 0)
		return walk_fail(w, "reading capabilities of", errno);
	if (n == 24 && (le32(v) & 0xFF000000u) == 0x03000000u) {
		v[3] = 0x02; /* revision byte of the little-endian magic */
		n = 20;
	}
	archive_entry_xattr_add_entry(e, name, v, (size_t)n);
	return 0;
}

static int add_symlink(struct walk *w, int dfd, const char *name, const struct stat *st,
                       struct archive_entry *e)
{
	size_t size = st->st_size > 0 ? (size_t)st->st_size + 1 : 256;
	for (;;) {
		cleanup_free char *buf = xmalloc(size);
		ssize_t n = readlinkat(dfd, name, buf, size);
		if (n < 0)
			return walk_fail(w, "reading", errno);
		if ((size_t)n < size) {
			buf[n] = '\0';
			archive_entry_copy_symlink(e, buf);
			return 0;
		}
		size *= 2;
	}
}

static int copy_data(struct walk *w, struct tar *t, int fd, off_t size)
{
	while (size > 0) {
		size_t want = size < (off_t)sizeof(t->buf) ? (size_t)size : sizeof(t->buf);
		ssize_t n = read(fd, t->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return walk_fail(w, "reading", n < 0 ? errno : EIO); /* shrank meanwhile */
		if (archive_write_data(t->a, t->buf, (size_t)n) < 0)
			return tar_fail(t);
		size -= n;
	}
	return 0;
}

static inline void entry_freep(struct archive_entry **e) { archive_entry_free(*e); }

static int tar_visit(struct walk *w, int dfd, const char *name, const struct stat *st)
{
	struct tar *t = w->ctx;
	const char *kind = special_kind(st->st_mode);
	if (kind) {
		xb_debug("writing %s: leaving out %s %s", t->target, kind, w->path.buf);
		return 0;
	}
	if (st->st_dev == t->out_dev && st->st_ino == t->out_ino)
		return 0;

	__attribute__((cleanup(entry_freep))) struct archive_entry *e = archive_entry_new();
	cleanup_fd int fd = -1;
	uid_t uid = st->st_uid;
	gid_t gid = st->st_gid;
	time_t mtime = st->st_mtim.tv_sec;
	int r = 0;

	if (t->o->map_owner && (r = t->o->map_owner(t->o->ctx, &uid, &gid)) < 0)
		return r;
	if (t->o->source_date_epoch >= 0 && mtime > t->o->source_date_epoch)
		mtime = (time_t)t->o->source_date_epoch;
	archive_entry_copy_pathname(e, w->path.len == 1 ? "./" : w->path.buf);
	archive_entry_set_mode(e, st->st_mode);
	archive_entry_set_uid(e, uid);
	archive_entry_set_gid(e, gid);
	archive_entry_set_mtime(e, mtime, 0);

	const char *first;
	if (S_ISLNK(st->st_mode)) {
		r = add_symlink(w, dfd, name, st, e);
	} else if (S_ISREG(st->st_mode) && st->st_nlink > 1 &&
	           (first = link_seen(t, st, w->path.buf))) {
		archive_entry_copy_hardlink(e, first);
		archive_entry_set_size(e, 0);
	} else if (S_ISREG(st->st_mode)) {
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return walk_fail(w, "opening", errno);
		archive_entry_set_size(e, st->st_size);
		r = add_caps(w, fd, e);
	}
	if (r)
		return r;
	if (archive_write_header(t->a, e) < ARCHIVE_WARN)
		return tar_fail(t);
	if (fd >= 0 && (r = copy_data(w, t, fd, st->st_size)) < 0)
		return r;
	return 0;
}

/* xz and zstd give the same bytes for any number of threads above one
 * (and other bytes for one), so a one-core machine uses two as well. */
static int compress_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 2 ? (int)n : 2;
}

static int tar_setup(struct tar *t, enum output_format f)
{
	char opt[64];
	int r = archive_write_set_format_pax(t->a);
	/* GNU tar reads SCHILY.xattr and warns about LIBARCHIVE.xattr */
	if (r == ARCHIVE_OK)
		r = archive_write_set_format_option(t->a, "pax", "xattrheader", "SCHILY");
	if (r == ARCHIVE_OK && f == OUTPUT_TAR_GZ) {
		r = archive_write_add_filter_gzip(t->a);
		if (r == ARCHIVE_OK) /* no time stamp in the gzip header */
			r = archive_write_set_filter_option(t->a, "gzip", "timestamp", NULL);
	} else if (r == ARCHIVE_OK && f == OUTPUT_TAR_XZ) {
		r = archive_write_add_filter_xz(t->a);
		snprintf(opt, sizeof(opt), "%d", compress_threads());
		if (r == ARCHIVE_OK)
			r = archive_write_set_filter_option(t->a, "xz", "threads", opt);
	} else if (r == ARCHIVE_OK && f == OUTPUT_TAR_ZST) {
		r = archive_write_add_filter_zstd(t->a);
		snprintf(opt, sizeof(opt), "%d", compress_threads());
		if (r == ARCHIVE_OK)
			r = archive_write_set_filter_option(t->a, "zstd", "threads", opt);
	}
	/* libarchive pads the last block for stdout and devices only unless
	 * told; the same bytes everywhere: a full 10240-byte block for a plain
	 * tar (as GNU tar does), none after compression. */
	if (r == ARCHIVE_OK)
		r = archive_write_set_bytes_in_last_block(t->a, f == OUTPUT_TAR ? 0 : 1);
	return r < ARCHIVE_WARN ? tar_fail(t) : 0;
}

static int write_tar(const char *rootdir, const char *target, enum output_format f,
                     const struct output_opts *o)
{
	bool to_stdout = !strcmp(target, "-");
	struct outfile of = { .fd = -1 };
	struct tar *t = xcalloc(1, sizeof(*t));
	struct walk w = { .rootdir = rootdir, .path = STRBUF_INIT, .visit = tar_visit, .ctx = t };
	struct stat st;
	int r;

	t->o = o;
	t->target = to_stdout ? "standard output" : target;
	t->a = archive_write_new();
	if (!t->a)
		abort(); /* out of memory */
	r = to_stdout ? 0 : outfile_open(&of, target, true);
	if (r < 0)
		goto out;
	int fd = to_stdout ? STDOUT_FILENO : of.fd;
	if (fstat(fd, &st) == 0) {
		t->out_dev = st.st_dev;
		t->out_ino = st.st_ino;
	}
	r = tar_setup(t, f);
	if (r < 0)
		goto out;
	if (archive_write_open_fd(t->a, fd) != ARCHIVE_OK) {
		r = tar_fail(t);
		goto out;
	}
	r = walk(&w);
	if (archive_write_close(t->a) != ARCHIVE_OK && !r)
		r = tar_fail(t);
	if (!r && !to_stdout)
		r = outfile_commit(&of);
out:
	archive_write_free(t->a);
	tdestroy(t->links, link_free);
	free(t);
	strbuf_release(&w.path);
	outfile_release(&of);
	return r;
}

static int write_image(const char *rootdir, const char *target, enum output_format f,
                       const struct output_opts *o)
{
	(void)rootdir; (void)o; (void)f;
	xb_error("writing %s: not yet", target);
	return -ENOTSUP;
}

int output_write(const char *rootdir, const char *target, enum output_format f,
                 const struct output_opts *o)
{
	static const struct output_opts defaults = OUTPUT_OPTS_INIT;
	if (!o)
		o = &defaults;
	switch (f) {
	case OUTPUT_TAR:
	case OUTPUT_TAR_GZ:
	case OUTPUT_TAR_XZ:
	case OUTPUT_TAR_ZST:
		return write_tar(rootdir, target, f, o);
	case OUTPUT_SQUASHFS:
	case OUTPUT_EXT4:
		return write_image(rootdir, target, f, o);
	case OUTPUT_DIR:
		break;
	}
	struct stat a, b;
	if (stat(rootdir, &a) == 0 && stat(target, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		return 0;
	xb_error("writing %s: a directory output is the root tree itself (%s)", target, rootdir);
	return -EINVAL;
}
