/* output: the formats and their names, and tarballs written with
 * libarchive from the sorted walk of the root tree (core/output/walk); images are
 * core/output/image's, the temporary file both are written to core/base/outfile's. */
#include "output.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "disk.h"
#include "image.h"
#include "oci.h"
#include "../base/devfiles.h"
#include "../base/hash.h"
#include "../base/hashtail.h"
#include "../base/outfile.h"
#include "walk.h"

/* Each format: its --format name, the endings of TARGET that pick it,
 * and for archives libarchive's filter (compression). */
static const struct {
	const char *name;
	enum output_format f;
	const char *suffixes[3];
	int filter;
} formats[] = {
	{ "directory", OUTPUT_DIR, { NULL }, -1 },
	/* before tar: the first ending that matches picks */
	{ "oci", OUTPUT_OCI, { ".oci" }, -1 },
	{ "oci.tar", OUTPUT_OCI_TAR, { ".oci.tar" }, -1 },
	{ "tar", OUTPUT_TAR, { ".tar" }, ARCHIVE_FILTER_NONE },
	{ "tar.gz", OUTPUT_TAR_GZ, { ".tar.gz", ".tgz" }, ARCHIVE_FILTER_GZIP },
	{ "tar.xz", OUTPUT_TAR_XZ, { ".tar.xz", ".txz" }, ARCHIVE_FILTER_XZ },
	{ "tar.zst", OUTPUT_TAR_ZST, { ".tar.zst", ".tzst" }, ARCHIVE_FILTER_ZSTD },
	{ "tar.bz2", OUTPUT_TAR_BZ2, { ".tar.bz2", ".tbz2", ".tbz" }, ARCHIVE_FILTER_BZIP2 },
	{ "tar.lz4", OUTPUT_TAR_LZ4, { ".tar.lz4" }, ARCHIVE_FILTER_LZ4 },
	{ "tar.lzma", OUTPUT_TAR_LZMA, { ".tar.lzma", ".tlz" }, ARCHIVE_FILTER_LZMA },
	{ "cpio", OUTPUT_CPIO, { ".cpio" }, ARCHIVE_FILTER_NONE },
	{ "squashfs", OUTPUT_SQUASHFS, { ".squashfs", ".sqfs" }, -1 },
	{ "ext4", OUTPUT_EXT4, { ".ext4" }, -1 },
	{ "disk", OUTPUT_DISK, { ".img" }, -1 },
	{ "null", OUTPUT_NULL, { NULL }, -1 },
};

static const char *format_names(struct strbuf *sb)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", formats[i].name);
	return sb->buf;
}

int output_format_parse(const char *name, enum output_format *f)
{
	cleanup_strbuf struct strbuf known = STRBUF_INIT;
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		if (!strcmp(name, formats[i].name)) {
			*f = formats[i].f;
			return 0;
		}
	}
	xb_error("unknown output format '%s' (%s)", name, format_names(&known));
	return -XB_EUSAGE;
}

const char *output_format_name(enum output_format f)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (formats[i].f == f)
			return formats[i].name;
	return "?";
}

const char *output_format_nth(size_t i)
{
	return i < ARRAY_SIZE(formats) ? formats[i].name : NULL;
}

bool output_format_is_archive(enum output_format f)
{
	return f != OUTPUT_DIR && f != OUTPUT_NULL;
}

bool output_format_is_stream(enum output_format f)
{
	return output_format_is_archive(f) && f != OUTPUT_SQUASHFS && f != OUTPUT_EXT4 &&
	       f != OUTPUT_OCI && f != OUTPUT_OCI_TAR && f != OUTPUT_DISK;
}

/* A name no directory gets: an archive's or a compressor's ending. */
static bool archive_name(const char *target)
{
	static const char *const endings[] = { ".gz", ".xz", ".zst", ".bz2", ".lz4", ".lzma",
		                               ".lz", ".lzo", ".Z", ".zip", ".7z", ".img", ".iso",
		                               ".ext2", ".ext3", ".erofs", ".cpio" };
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strstr(base, ".tar.") || strstr(base, ".cpio."))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(endings); i++)
		if (str_ends_with(base, endings[i]) && strlen(base) > strlen(endings[i]))
			return true;
	return false;
}

int output_format_of_target(const char *target, enum output_format *f)
{
	cleanup_strbuf struct strbuf known = STRBUF_INIT;
	*f = OUTPUT_DIR;
	if (!strcmp(target, "-")) {
		*f = OUTPUT_TAR;
		return 0;
	}
	if (!strcmp(target, "/dev/null")) {
		*f = OUTPUT_NULL;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		for (size_t k = 0; k < ARRAY_SIZE(formats[i].suffixes); k++) {
			const char *sfx = formats[i].suffixes[k];
			if (sfx && str_ends_with(target, sfx) && strlen(target) > strlen(sfx)) {
				*f = formats[i].f;
				return 0;
			}
		}
	}
	if (!archive_name(target))
		return 0;
	xb_error("%s: xboot cannot tell or cannot write this kind of archive (it writes %s; "
	         "--format= picks one)", target, format_names(&known));
	return -XB_EUSAGE;
}

static int filter_of(enum output_format f)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (formats[i].f == f)
			return formats[i].filter;
	return -1;
}

/* ---- tarballs ---- */

struct tar {
	struct archive *a;
	const struct output_opts *o;
	const char *target;
	void *links;          /* tsearch() tree of struct link: files with nlink > 1 */
	bool copy_links;      /* cpio: each hard link as a copy (newc's links need inodes) */
	dev_t out_dev;        /* the archive itself, should it be inside the tree */
	ino_t out_ino;
	int fd;               /* where it goes */
	struct hashtail *tail; /* o->sha256 of a file: taken behind the writing */
	struct xb_hash *hash; /* o->sha256 of what cannot be read back; NULL: none */
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

static int add_symlink(struct walk *w, int dfd, const char *name, struct archive_entry *e)
{
	cleanup_strbuf struct strbuf target = STRBUF_INIT;
	int r = xb_readlink_at(dfd, name, &target);
	if (r < 0)
		return walk_fail(w, "reading", -r);
	archive_entry_copy_symlink(e, target.buf);
	return 0;
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

/* /dev's device nodes, right after the directory, with its time. */
static int add_dev_nodes(struct tar *t, time_t mtime)
{
	size_t n;
	const struct devfile *d = devfiles_all(&n);
	for (size_t i = 0; i < n; i++) {
		if (!S_ISCHR(d[i].mode))
			continue;
		__attribute__((cleanup(entry_freep))) struct archive_entry *e = archive_entry_new();
		cleanup_free char *path = xasprintf("./dev/%s", d[i].name);
		archive_entry_copy_pathname(e, path);
		archive_entry_set_mode(e, d[i].mode);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		archive_entry_set_mtime(e, mtime, 0);
		archive_entry_set_size(e, 0);
		archive_entry_set_rdevmajor(e, d[i].major);
		archive_entry_set_rdevminor(e, d[i].minor);
		if (archive_write_header(t->a, e) < ARCHIVE_WARN)
			return tar_fail(t);
	}
	return 0;
}

static int tar_visit(struct walk *w, int dfd, const char *name, const struct stat *st)
{
	struct tar *t = w->ctx;
	const char *kind = walk_special_kind(st->st_mode);
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
	archive_entry_set_size(e, 0); /* cpio wants it of every entry; a file's comes below */

	const char *first;
	if (S_ISLNK(st->st_mode)) {
		r = add_symlink(w, dfd, name, e);
	} else if (S_ISREG(st->st_mode) && st->st_nlink > 1 && !t->copy_links &&
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
	if (S_ISDIR(st->st_mode) && t->o->dev_nodes && !strcmp(w->path.buf, "./dev"))
		return add_dev_nodes(t, mtime);
	return 0;
}

/* xz and zstd give the same bytes for any number of threads above one
 * (and other bytes for one), so a one-core machine uses two as well. */
static int compress_threads(void)
{
	int n = xb_ncpus();
	return n > 2 ? n : 2;
}

static int tar_setup(struct tar *t, enum output_format f)
{
	char opt[64];
	int filter = filter_of(f), r;
	snprintf(opt, sizeof(opt), "%d", compress_threads());
	if (f == OUTPUT_CPIO) {
		r = archive_write_set_format_cpio_newc(t->a);
	} else {
		r = archive_write_set_format_pax(t->a);
		/* GNU tar reads SCHILY.xattr and warns about LIBARCHIVE.xattr */
		if (r == ARCHIVE_OK)
			r = archive_write_set_format_option(t->a, "pax", "xattrheader", "SCHILY");
	}
	if (r == ARCHIVE_OK)
		r = archive_write_add_filter(t->a, filter);
	if (r == ARCHIVE_OK && filter == ARCHIVE_FILTER_GZIP) /* no time stamp in the header */
		r = archive_write_set_filter_option(t->a, "gzip", "timestamp", NULL);
	else if (r == ARCHIVE_OK && filter == ARCHIVE_FILTER_XZ)
		r = archive_write_set_filter_option(t->a, "xz", "threads", opt);
	else if (r == ARCHIVE_OK && filter == ARCHIVE_FILTER_ZSTD)
		r = archive_write_set_filter_option(t->a, "zstd", "threads", opt);
	/* libarchive pads the last block for stdout and devices only unless
	 * told; the same bytes everywhere: a full 10240-byte block for a plain
	 * tar (as GNU tar does), none after compression or for cpio. */
	if (r == ARCHIVE_OK)
		r = archive_write_set_bytes_in_last_block(t->a, f == OUTPUT_TAR ? 0 : 1);
	return r < ARCHIVE_WARN ? tar_fail(t) : 0;
}

/* libarchive's writer when the bytes are hashed too. */
static la_ssize_t tar_out(struct archive *a, void *ctx, const void *buf, size_t n)
{
	struct tar *t = ctx;
	int r = xb_write_all(t->fd, buf, n);
	if (r < 0) {
		archive_set_error(a, -r, "%s", strerror(-r));
		return -1;
	}
	if (t->tail)
		hashtail_wrote(t->tail, n);
	else
		xb_hash_update(t->hash, buf, n);
	return (la_ssize_t)n;
}

static int write_tar(const char *rootdir, const char *target, enum output_format f,
                     const struct output_opts *o)
{
	bool to_stdout = !strcmp(target, "-");
	struct outfile of = OUTFILE_INIT;
	struct tar *t = xcalloc(1, sizeof(*t));
	struct walk w = { .rootdir = rootdir, .path = STRBUF_INIT, .visit = tar_visit, .ctx = t };
	struct stat st;
	int r;

	t->o = o;
	t->copy_links = f == OUTPUT_CPIO;
	t->target = to_stdout ? "standard output" : target;
	t->a = archive_write_new();
	if (!t->a)
		abort(); /* out of memory */
	r = to_stdout ? 0 : outfile_open(&of, target, true);
	if (r < 0)
		goto out;
	t->fd = to_stdout ? STDOUT_FILENO : of.fd;
	if (fstat(t->fd, &st) == 0) {
		t->out_dev = st.st_dev;
		t->out_ino = st.st_ino;
	}
	r = tar_setup(t, f);
	if (r < 0)
		goto out;
	t->tail = o->sha256 ? hashtail_start(t->fd, XB_SHA256) : NULL;
	t->hash = o->sha256 && !t->tail ? xb_hash_new(XB_SHA256) : NULL;
	if ((o->sha256 ? archive_write_open2(t->a, t, NULL, tar_out, NULL, NULL)
	             : archive_write_open_fd(t->a, t->fd)) != ARCHIVE_OK) {
		r = tar_fail(t);
		goto out;
	}
	r = walk_tree(&w);
	if (archive_write_close(t->a) != ARCHIVE_OK && !r)
		r = tar_fail(t);
	if (t->tail) {
		int rt = hashtail_finish(xb_steal(&t->tail), r ? NULL : o->sha256);
		if (rt < 0)
			xb_error("reading %s back for its digest: %s", t->target, strerror(-rt));
		r = r ? r : rt;
	}
	if (!r && t->hash)
		xb_hash_final_hex(xb_steal(&t->hash), o->sha256);
	if (!r && !to_stdout)
		r = outfile_commit(&of);
out:
	if (t->tail)
		hashtail_finish(t->tail, NULL);
	if (t->hash)
		xb_hash_free(t->hash);
	archive_write_free(t->a);
	tdestroy(t->links, link_free);
	free(t);
	strbuf_release(&w.path);
	outfile_release(&of);
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
	case OUTPUT_TAR_BZ2:
	case OUTPUT_TAR_LZ4:
	case OUTPUT_TAR_LZMA:
	case OUTPUT_CPIO:
		return write_tar(rootdir, target, f, o);
	case OUTPUT_NULL:
		return 0;
	case OUTPUT_SQUASHFS:
	case OUTPUT_EXT4:
		return image_write(rootdir, target, f, o);
	case OUTPUT_OCI:
	case OUTPUT_OCI_TAR:
		return oci_write(rootdir, target, f, o);
	case OUTPUT_DISK:
		return disk_write(rootdir, target, o);
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
