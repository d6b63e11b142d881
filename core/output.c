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

/* ---- images ---- */

/* What an image needs to know of the tree before it is made. */
struct image_scan {
	struct strbuf skip;  /* mksquashfs -ef list, or debugfs commands */
	bool ext4;
	unsigned long long kib, inodes;
};

static int scan_visit(struct walk *w, int dfd, const char *name, const struct stat *st)
{
	struct image_scan *s = w->ctx;
	const char *kind = special_kind(st->st_mode);
	struct stat dir;
	(void)name;
	s->kib += (unsigned long long)st->st_blocks / 2;
	s->inodes++;
	if (!kind)
		return 0;
	xb_debug("leaving out %s %s%s", kind, w->rootdir, w->path.buf + 1);
	if (strpbrk(w->path.buf, "\n\"")) {
		xb_error("cannot leave out %s%s: a newline or quote in its name", w->rootdir,
		         w->path.buf + 1);
		return -EINVAL;
	}
	if (!s->ext4) {
		strbuf_addf(&s->skip, "%s\n", w->path.buf + 2);
		return 0;
	}
	/* debugfs stamps the directory with the time now: put its times back */
	if (fstat(dfd, &dir) < 0)
		return walk_fail(w, "reading", errno);
	size_t slash = (size_t)(strrchr(w->path.buf, '/') - w->path.buf);
	const char *parent = slash > 1 ? w->path.buf + 1 : "/";
	int plen = slash > 1 ? (int)slash - 1 : 1;
	strbuf_addf(&s->skip, "rm \"%s\"\n", w->path.buf + 1);
	strbuf_addf(&s->skip, "sif \"%.*s\" mtime @%lld\n", plen, parent, (long long)dir.st_mtime);
	strbuf_addf(&s->skip, "sif \"%.*s\" ctime @%lld\n", plen, parent, (long long)dir.st_ctime);
	return 0;
}

/* Finds a tool in PATH or the sbin directories a user's PATH may lack. */
static char *find_tool(const char *name)
{
	cleanup_strvec struct strvec dirs = STRVEC_INIT;
	const char *path = getenv("PATH");
	strvec_split(&dirs, path ? path : "/usr/bin:/bin", ":");
	strvec_pushl(&dirs, "/usr/sbin", "/sbin", NULL);
	for (size_t i = 0; i < dirs.n; i++) {
		char *p = xasprintf("%s/%s", dirs.v[i], name);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* The environment without the variables the tools read times from,
 * plus E2FSPROGS_FAKE_TIME when there is an epoch (mksquashfs refuses
 * SOURCE_DATE_EPOCH next to -mkfs-time, so it gets options instead). */
static void tool_env(struct strvec *env, const struct output_opts *o, bool ext4)
{
	extern char **environ;
	for (char **e = environ; *e; e++)
		if (!str_starts_with(*e, "SOURCE_DATE_EPOCH=") &&
		    !str_starts_with(*e, "E2FSPROGS_FAKE_TIME="))
			strvec_push(env, *e);
	if (ext4 && o->source_date_epoch >= 0)
		strvec_pushf(env, "E2FSPROGS_FAKE_TIME=%lld", o->source_date_epoch);
}

/* Runs a tool with stdout on stderr (stdout may be the user's pipe).  With
 * errs, stdout is dropped and stderr lines are collected there instead:
 * debugfs says nothing but errors after its banner, and exits 0 anyway. */
static int run_tool(struct strvec *argv, const struct output_opts *o, bool ext4,
                    const char *target, struct strbuf *errs)
{
	cleanup_strvec struct strvec env = STRVEC_INIT;
	cleanup_strbuf struct strbuf junk = STRBUF_INIT;
	struct spawn_opts so = SPAWN_OPTS_INIT;
	cleanup_fd int efd = errs ? memfd_create("xboot-stderr", MFD_CLOEXEC) : -1;
	int status;
	tool_env(&env, o, ext4);
	so.envp = env.v;
	so.in_fd = -2;
	so.out_fd = STDERR_FILENO;
	so.capture = errs ? &junk : NULL;
	so.err_fd = efd;
	int r = xb_spawn(argv->v, &so, &status);
	if (r < 0 && status != 126 && status != 127) /* those xb_spawn reported */
		xb_error("writing %s: %s failed with exit status %d", target, argv->v[0], status);
	if (efd >= 0 && lseek(efd, 0, SEEK_SET) == 0)
		xb_read_fd(efd, errs);
	return r;
}

/* A UUID that depends on the epoch only, so that images of the same tree
 * are equal without all having the nil UUID. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

static char *epoch_uuid(long long epoch)
{
	uint64_t hi = (mix((uint64_t)epoch) & ~0xf000ull) | 0x4000u;
	uint64_t lo = (mix(hi) & ~(3ull << 62)) | (2ull << 62);
	return xasprintf("%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
	                 (unsigned long long)(hi >> 16) & 0xffff, (unsigned long long)hi & 0xffff,
	                 (unsigned long long)(lo >> 48), (unsigned long long)lo & 0xffffffffffffull);
}

/* Passes a list to a tool as /proc/self/fd/N of an inherited memfd, so
 * there is no file to clean up. */
static int list_fd(const struct strbuf *sb, struct strvec *argv, const char *opt)
{
	int fd = memfd_create("xboot-list", 0);
	if (fd < 0 || xb_write_all(fd, sb->buf, sb->len) < 0) {
		int r = -errno;
		xb_error("creating a list for %s: %s", argv->v[0], strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	strvec_pushl(argv, opt, NULL);
	strvec_pushf(argv, "/proc/self/fd/%d", fd);
	return fd;
}

static int make_squashfs(const char *tool, const char *rootdir, struct outfile *of,
                         struct image_scan *s, const struct output_opts *o)
{
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	cleanup_fd int lfd = -1;
	strvec_pushl(&argv, tool, rootdir, of->tmp, "-noappend", "-quiet", "-no-progress",
	             "-one-file-system", NULL);
	if (o->source_date_epoch >= 0) {
		strvec_push(&argv, "-mkfs-time");
		strvec_pushf(&argv, "%lld", o->source_date_epoch);
		strvec_push(&argv, "-all-time");
		strvec_pushf(&argv, "%lld", o->source_date_epoch);
	}
	if (s->skip.len && (lfd = list_fd(&s->skip, &argv, "-ef")) < 0)
		return lfd;
	return run_tool(&argv, o, false, of->target, NULL);
}

/* du of the tree plus a fifth, the inode tables and room for the journal
 * and metadata; inodes counted with a fifth to spare. */
static int make_ext4(const char *tool, const char *rootdir, struct outfile *of,
                     struct image_scan *s, const struct output_opts *o)
{
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	cleanup_free char *uuid = NULL;
	unsigned long long kib = s->kib + s->kib / 5 + s->inodes / 4 + 16384;
	strvec_pushl(&argv, tool, "-q", "-F", "-t", "ext4", "-b", "4096", "-d", rootdir, NULL);
	strvec_push(&argv, "-N");
	strvec_pushf(&argv, "%llu", s->inodes + s->inodes / 5 + 64);
	if (o->source_date_epoch >= 0) {
		uuid = epoch_uuid(o->source_date_epoch);
		strvec_pushl(&argv, "-U", uuid, "-E", NULL);
		strvec_pushf(&argv, "hash_seed=%s", uuid);
	}
	strvec_push(&argv, of->tmp);
	strvec_pushf(&argv, "%lluk", kib);
	int r = run_tool(&argv, o, true, of->target, NULL);
	if (r < 0 || !s->skip.len)
		return r;
	/* mke2fs -d copies device nodes; debugfs takes them out again */
	cleanup_free char *debugfs = find_tool("debugfs");
	cleanup_strvec struct strvec dargv = STRVEC_INIT;
	cleanup_fd int lfd = -1;
	strvec_pushl(&dargv, debugfs ? debugfs : "debugfs", "-w", NULL);
	if ((lfd = list_fd(&s->skip, &dargv, "-f")) < 0)
		return lfd;
	strvec_push(&dargv, of->tmp);
	cleanup_strbuf struct strbuf errs = STRBUF_INIT;
	r = run_tool(&dargv, o, true, of->target, &errs);
	char *nl = errs.buf ? strchr(errs.buf, '\n') : NULL; /* past the banner */
	if (!r && nl && nl[1]) {
		xb_error("writing %s: leaving out device nodes: %s", of->target, str_trim(nl + 1));
		r = -XB_ECHILD;
	}
	return r;
}

static int write_image(const char *rootdir, const char *target, enum output_format f,
                       const struct output_opts *o)
{
	bool ext4 = f == OUTPUT_EXT4;
	const char *what = ext4 ? "an ext4" : "a squashfs";
	if (!strcmp(target, "-")) {
		xb_error("cannot write %s image to standard output", what);
		return -XB_EUSAGE;
	}
	if (o->map_owner) {
		xb_error("writing %s: owners cannot be mapped in %s image; make it inside the "
		         "user namespace", target, what);
		return -ENOTSUP;
	}
	cleanup_free char *tool = find_tool(ext4 ? "mke2fs" : "mksquashfs");
	if (!tool) {
		xb_error("writing %s: %s not found; install %s", target,
		         ext4 ? "mke2fs" : "mksquashfs", ext4 ? "e2fsprogs" : "squashfs-tools");
		return -ENOENT;
	}
	struct image_scan s = { .skip = STRBUF_INIT, .ext4 = ext4 };
	struct walk w = { .rootdir = rootdir, .path = STRBUF_INIT, .visit = scan_visit, .ctx = &s };
	struct outfile of = { .fd = -1 };
	int r = walk(&w);
	if (!r)
		r = outfile_open(&of, target, false);
	if (!r)
		r = ext4 ? make_ext4(tool, rootdir, &of, &s, o) : make_squashfs(tool, rootdir, &of, &s, o);
	if (!r)
		r = outfile_commit(&of);
	outfile_release(&of);
	strbuf_release(&s.skip);
	strbuf_release(&w.path);
	return r;
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
