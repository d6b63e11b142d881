/* debfile: reading one .deb and extracting it (see debfile.h). */
#include "debfile.h"
#include "dpkgfilter.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "fsmerge.h"
#include "../base/hash.h"

#define BUFSZ (64 * 1024)
/* What a control.tar may hold: no package has more than a few MiB of
 * scripts, md5sums and conffiles; a bomb of compressed zeros would
 * otherwise be read into memory (several packages are read at once). */
#define CONTROL_MAX (64u << 20)  /* bytes, all members together */
#define CONTROL_MEMBERS 256

/* The .deb being read, for the helpers below. */
struct deb_ctx {
	const char *deb;      /* for messages */
	struct archive *ar;   /* the outer ar archive */
	char *buf;            /* BUFSZ bytes, for reading members */
	struct debinfo *pkg;
	/* A package without an md5sums member gets one computed while its
	 * files stream by, as dpkg does, so that dpkg --verify works. */
	bool gen_md5;
	struct strbuf md5sums;
};

static int parse_fail(const char *deb, struct archive *a)
{
	const char *why = archive_error_string(a);
	xb_error("unpacking %s: %s", deb, why ? why : "unknown archive error");
	return -XB_EPARSE;
}

/* Refuses what could climb out: an absolute path or a ".." component. */
static bool path_unsafe(const char *p)
{
	if (p[0] == '/')
		return true;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		while (*p == '/')
			p++;
	}
	return false;
}

/* The nested tar reads its compressed bytes from the current ar member. */
static la_ssize_t member_read(struct archive *inner, void *cd, const void **buf)
{
	struct deb_ctx *c = cd;
	la_ssize_t n = archive_read_data(c->ar, c->buf, BUFSZ);
	if (n < 0)
		archive_set_error(inner, archive_errno(c->ar), "%s", archive_error_string(c->ar));
	*buf = c->buf;
	return n;
}

/* Only in-process decompressors: an external program would run inside the
 * target, possibly of another architecture. */
static struct archive *open_member(struct deb_ctx *c)
{
	struct archive *in = archive_read_new();
	if (!in)
		return NULL;
	if (archive_read_support_format_tar(in) != ARCHIVE_OK ||
	    archive_read_support_filter_gzip(in) != ARCHIVE_OK ||
	    archive_read_support_filter_xz(in) != ARCHIVE_OK ||
	    archive_read_support_filter_lzma(in) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(in) != ARCHIVE_OK ||
	    archive_read_support_filter_bzip2(in) != ARCHIVE_OK) {
		xb_error("unpacking %s: libarchive lacks a built-in decompressor", c->deb);
		archive_read_free(in);
		return NULL;
	}
	if (archive_read_open(in, c, NULL, member_read, NULL) != ARCHIVE_OK) {
		parse_fail(c->deb, in);
		archive_read_free(in);
		return NULL;
	}
	return in;
}

static int control_too_large(struct deb_ctx *c)
{
	xb_error("unpacking %s: control.tar holds more than %u MiB or %u members; no package's "
	         "does", c->deb, CONTROL_MAX >> 20, CONTROL_MEMBERS);
	return -XB_EPARSE;
}

/* Appends the member's data to sb; *total counts the bytes of the whole
 * control.tar read so far, which CONTROL_MAX caps. */
static int read_entry_data(struct deb_ctx *c, struct archive *in, struct archive_entry *e,
                           struct strbuf *sb, size_t *total)
{
	if (archive_entry_size(e) > (la_int64_t)(CONTROL_MAX - *total))
		return control_too_large(c);
	/* Blocks, not archive_read_data(): c->buf holds the compressed input. */
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(in, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN || off < 0)
			return parse_fail(c->deb, in);
		if ((uint64_t)off + size > CONTROL_MAX - *total)
			return control_too_large(c);
		while (sb->len < (size_t)off)
			strbuf_addch(sb, '\0');
		strbuf_add(sb, buf, size);
	}
}

static int read_control(struct deb_ctx *c)
{
	struct archive *in = open_member(c);
	struct archive_entry *e;
	size_t total = 0, members = 0;
	int r = in ? 0 : -XB_EPARSE, ar;
	while (!r && (ar = archive_read_next_header(in, &e)) != ARCHIVE_EOF) {
		if (ar < ARCHIVE_WARN) {
			r = parse_fail(c->deb, in);
			break;
		}
		if (++members > CONTROL_MEMBERS) {
			r = control_too_large(c);
			break;
		}
		const char *name = archive_entry_pathname(e);
		if (!name || archive_entry_filetype(e) != AE_IFREG)
			continue;
		while (name[0] == '.' && name[1] == '/')
			name += 2;
		if (!*name || strchr(name, '/') || name[0] == '.') {
			xb_warn("unpacking %s: ignoring control member %s", c->deb, name);
			continue;
		}
		struct strbuf sb = STRBUF_INIT;
		r = read_entry_data(c, in, e, &sb, &total);
		size_t len = sb.len;
		total += len;
		if (!r)
			debinfo_add_file(c->pkg, name, strbuf_detach(&sb), len);
		strbuf_release(&sb);
	}
	if (in)
		archive_read_free(in);
	return r ? r : debinfo_load_control(c->pkg);
}

/* security.capability is the one extended attribute a .deb may carry. */
static int set_caps(struct deb_ctx *c, struct archive_entry *e, const char *path)
{
	const char *name;
	const void *val;
	size_t size;
	if (archive_entry_xattr_reset(e) == 0 || archive_entry_filetype(e) != AE_IFREG)
		return 0;
	while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
		if (strcmp(name, "security.capability"))
			continue;
		if (lsetxattr(path, name, val, size, 0) < 0) {
			int err = errno;
			xb_error("unpacking %s: setting capabilities of %s: %s", c->deb, path, strerror(err));
			return -err;
		}
	}
	return 0;
}

static int write_fail(struct deb_ctx *c, struct archive *disk, const char *path)
{
	const char *why = archive_error_string(disk);
	int err = archive_errno(disk);
	xb_error("unpacking %s: writing %s: %s", c->deb, path, why ? why : "unknown error");
	return err > 0 ? -err : -EIO;
}

static void add_md5sum(struct deb_ctx *c, const char *path, struct xb_hash *h)
{
	char hex[33];
	xb_hash_final_hex(h, hex);
	debinfo_md5sums_add(c->pkg, &c->md5sums, path, hex);
}

static int copy_data(struct deb_ctx *c, struct archive *in, struct archive *disk,
                     struct archive_entry *e, const char *path)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	struct xb_hash *h = c->gen_md5 && archive_entry_filetype(e) == AE_IFREG ?
	                    xb_hash_new(XB_MD5) : NULL;
	for (;;) {
		int r = archive_read_data_block(in, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN || archive_write_data_block(disk, buf, size, off) < ARCHIVE_WARN) {
			xb_hash_free(h);
			return r < ARCHIVE_WARN ? parse_fail(c->deb, in) : write_fail(c, disk, path);
		}
		if (h)
			xb_hash_update(h, buf, size);
	}
	if (h)
		add_md5sum(c, path, h);
	return 0;
}

static int extract_locked(struct deb_ctx *c, struct archive *in, struct archive *disk,
                          struct archive_entry *e);

/* Packages are extracted concurrently, so one may lay out a directory
 * that another ships as a symlink, before that symlink exists; in order,
 * the first package's files would have gone through the symlink.  The
 * directory is then moved into the symlink's target, entry by entry, which
 * ends with the tree dpkg's order gives.  Symlink entries hold this lock
 * exclusively, every other entry shared, so none writes into the
 * directory while it moves. */
static pthread_rwlock_t tree_lock = PTHREAD_RWLOCK_INITIALIZER;

/* The symlink entry e goes where a real directory is: move the directory
 * aside, write the link, merge the directory into where it points. */
static int dir_to_symlink(struct deb_ctx *c, struct archive *disk, struct archive_entry *e,
                          const char *path)
{
	cleanup_free char *aside = xasprintf("%s.xboot-dir", path);
	if (rename(path, aside) < 0) {
		xb_error("unpacking %s: moving directory %s aside: %s", c->deb, path, strerror(errno));
		return -errno;
	}
	if (archive_write_header(disk, e) < ARCHIVE_WARN) {
		/* The directory back where it was, not left under another name. */
		unlink(path);
		rename(aside, path);
		return write_fail(c, disk, path);
	}
	int r = 0, from = open(aside, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int to = from < 0 ? -1 : open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (from < 0 || to < 0) {
		r = -errno;
		if (from >= 0)
			close(from);
	} else {
		r = fsmerge_into(from, to, c->deb, path); /* closes from */
	}
	if (to >= 0)
		close(to);
	if (!r && rmdir(aside) < 0)
		r = -errno;
	if (r && r != -EEXIST) /* fsmerge_into reported a directory meeting a file */
		xb_error("unpacking %s: replacing directory %s by a symlink: %s", c->deb, path,
		         strerror(-r));
	return r;
}

static int extract_entry(struct deb_ctx *c, struct archive *in, struct archive *disk,
                         struct archive_entry *e)
{
	bool link_entry = archive_entry_filetype(e) == AE_IFLNK;
	if (link_entry)
		pthread_rwlock_wrlock(&tree_lock);
	else
		pthread_rwlock_rdlock(&tree_lock);
	int r = extract_locked(c, in, disk, e);
	pthread_rwlock_unlock(&tree_lock);
	return r;
}

static int extract_locked(struct deb_ctx *c, struct archive *in, struct archive *disk,
                          struct archive_entry *e)
{
	const char *path = archive_entry_pathname(e), *link = archive_entry_hardlink(e);
	if (!path)
		return parse_fail(c->deb, in);
	if (path_unsafe(path)) {
		xb_error("unpacking %s: member %s would land outside the target", c->deb, path);
		return -XB_EUNSAFE;
	}
	if (link && path_unsafe(link)) {
		xb_error("unpacking %s: hard link %s points outside the target (%s)", c->deb,
		         path, link);
		return -XB_EUNSAFE;
	}
	/* The .list file has a path a line, so dpkg refuses these names. */
	if (strchr(path, '\n') || (link && strchr(link, '\n'))) {
		xb_error("unpacking %s: a member's name has a newline in it", c->deb);
		return -XB_EPARSE;
	}
	debinfo_add_path(c->pkg, path);
	/* Filtered out: listed all the same, as dpkg lists it, and not written. */
	unsigned type = archive_entry_filetype(e);
	if (dpkgfilter_skip(c->pkg->filter, path, type == AE_IFDIR || type == AE_IFLNK))
		return archive_read_data_skip(in) < ARCHIVE_WARN ? parse_fail(c->deb, in) : 0;
	struct stat st;
	int r;
	if (archive_entry_filetype(e) == AE_IFLNK && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return dir_to_symlink(c, disk, e, path);
	r = archive_write_header(disk, e);
	if (r < ARCHIVE_WARN)
		return write_fail(c, disk, path);
	if (r == ARCHIVE_WARN)
		xb_warn("unpacking %s: %s: %s", c->deb, path, archive_error_string(disk));
	if (archive_entry_size(e) > 0 && !link && (r = copy_data(c, in, disk, e, path)) < 0)
		return r;
	if (archive_entry_size(e) == 0 && !link && c->gen_md5 &&
	    archive_entry_filetype(e) == AE_IFREG)
		add_md5sum(c, path, xb_hash_new(XB_MD5));
	if (archive_write_finish_entry(disk) < ARCHIVE_WARN)
		return write_fail(c, disk, path);
	return set_caps(c, e, path);
}

/* archive_write_disk_new() reads the umask by setting it to 0 and back;
 * another thread creating a file meanwhile would get the wrong mode. */
static struct archive *new_disk_writer(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&lock);
	struct archive *a = archive_write_disk_new();
	pthread_mutex_unlock(&lock);
	return a;
}

/* No standard lookup: it would read the target's passwd and NSS modules.
 * No SECURE_SYMLINKS nor UNLINK: the target's own symlinks (merged /usr)
 * must be followed, which the chroot makes safe. */
static int extract_data(struct deb_ctx *c)
{
	struct archive *in = open_member(c), *disk = new_disk_writer();
	struct archive_entry *e;
	int r = in ? 0 : -XB_EPARSE, ar;
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
	                                     ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	                                     ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	while (!r && (ar = archive_read_next_header(in, &e)) != ARCHIVE_EOF) {
		if (xb_interrupted)
			r = -XB_EINTR;
		else if (ar < ARCHIVE_WARN)
			r = parse_fail(c->deb, in);
		else
			r = extract_entry(c, in, disk, e);
	}
	/* Applies the deferred directory modes and times. */
	if (archive_write_close(disk) < ARCHIVE_WARN && !r)
		r = write_fail(c, disk, "directories");
	archive_write_free(disk);
	if (in)
		archive_read_free(in);
	return r;
}

static int check_binary(struct deb_ctx *c)
{
	char v[16] = "";
	la_ssize_t n = archive_read_data(c->ar, v, sizeof(v) - 1);
	if (n < 0)
		return parse_fail(c->deb, c->ar);
	if (strncmp(v, "2.", 2)) {
		xb_error("unpacking %s: unsupported format version in debian-binary", c->deb);
		return -XB_EPARSE;
	}
	return 0;
}

/* The data.tar entries of the ar archive c->ar, until one is named path. */
static int find_entry(struct deb_ctx *c, const char *path, bool *is_link)
{
	struct archive *in = open_member(c);
	struct archive_entry *e;
	int r = in ? 0 : -XB_EPARSE, ar;
	while (!r && (ar = archive_read_next_header(in, &e)) != ARCHIVE_EOF) {
		const char *name = ar < ARCHIVE_WARN ? NULL : archive_entry_pathname(e);
		if (!name) {
			r = parse_fail(c->deb, in);
		} else if (!strcmp(name + (name[0] == '.' && name[1] == '/' ? 2 : 0), path)) {
			*is_link = archive_entry_filetype(e) == AE_IFLNK;
			break;
		}
	}
	if (in)
		archive_read_free(in);
	return r;
}

/* Opens c->deb on fd and reads up to its first member named prefix*:
 * 0 there, 1 when it has none, or an error (reported). */
static int seek_member(struct deb_ctx *c, int fd, const char *prefix)
{
	struct archive_entry *e;
	int ar;
	archive_read_support_format_ar(c->ar);
	if (fd < 0) {
		xb_error("opening %s: %s", c->deb, strerror(errno));
		return -errno;
	}
	if (archive_read_open_fd(c->ar, fd, BUFSZ) != ARCHIVE_OK)
		return parse_fail(c->deb, c->ar);
	while ((ar = archive_read_next_header(c->ar, &e)) != ARCHIVE_EOF) {
		const char *name = ar < ARCHIVE_WARN ? NULL : archive_entry_pathname(e);
		if (!name)
			return parse_fail(c->deb, c->ar);
		if (str_starts_with(name, prefix))
			return 0;
	}
	return 1;
}

int debfile_ships_symlink(const char *deb, const char *path, bool *is_link)
{
	cleanup_free char *buf = xmalloc(BUFSZ);
	cleanup_fd int fd = open(deb, O_RDONLY | O_CLOEXEC);
	struct deb_ctx c = { deb, archive_read_new(), buf, NULL, false, STRBUF_INIT };
	*is_link = false;
	int r = seek_member(&c, fd, "data.tar");
	if (r == 0)
		r = find_entry(&c, path, is_link);
	archive_read_free(c.ar);
	return r < 0 ? r : 0;
}

int debfile_control(const char *deb, struct debinfo *pkg)
{
	cleanup_free char *buf = xmalloc(BUFSZ);
	cleanup_fd int fd = open(deb, O_RDONLY | O_CLOEXEC);
	struct deb_ctx c = { deb, archive_read_new(), buf, pkg, false, STRBUF_INIT };
	pkg->deb = deb;
	int r = seek_member(&c, fd, "control.tar");
	if (r == 0)
		r = read_control(&c);
	if (r == 1) {
		xb_error("reading %s: no control.tar member", deb);
		r = -XB_EPARSE;
	}
	archive_read_free(c.ar);
	strbuf_release(&c.md5sums);
	return r;
}

/* Members must come in dpkg's order: debian-binary, control.tar*, data.tar*;
 * names starting with '_' are extensions dpkg skips. */
int debfile_unpack(const char *deb, int fd, struct debinfo *pkg, int rootfd,
                   debfile_defer_fn defer, void *ctx, bool *deferred)
{
	cleanup_free char *buf = xmalloc(BUFSZ);
	struct deb_ctx c = { deb, archive_read_new(), buf, pkg, false, STRBUF_INIT };
	struct archive_entry *e;
	int r = 0, ar, stage = 0;

	pkg->deb = deb;
	archive_read_support_format_ar(c.ar);
	if (archive_read_open_fd(c.ar, fd, BUFSZ) != ARCHIVE_OK)
		r = parse_fail(deb, c.ar);
	while (!r && stage < 3 && (ar = archive_read_next_header(c.ar, &e)) != ARCHIVE_EOF) {
		const char *name = ar < ARCHIVE_WARN ? NULL : archive_entry_pathname(e);
		if (!name)
			r = parse_fail(deb, c.ar);
		else if (stage == 0 && !strcmp(name, "debian-binary"))
			r = check_binary(&c);
		else if (stage > 0 && name[0] == '_')
			continue;
		else if (stage == 1 && str_starts_with(name, "control.tar"))
			r = read_control(&c);
		else if (stage == 2 && str_starts_with(name, "data.tar")) {
			if (defer && defer(pkg, ctx)) {
				*deferred = true;
				break;
			}
			c.gen_md5 = !debinfo_file(pkg, "md5sums");
			r = extract_data(&c);
		}
		else
			break;
		stage++;
	}
	if (deferred && *deferred) {
		archive_read_free(c.ar);
		return 0;
	}
	if (!r && stage < 3) {
		static const char *const want[] = { "debian-binary", "control.tar", "data.tar" };
		xb_error("unpacking %s: not a debian package (no %s where expected)", deb, want[stage]);
		r = -XB_EPARSE;
	}
	archive_read_free(c.ar);
	if (!r && c.gen_md5) {
		size_t len = c.md5sums.len;
		debinfo_add_file(pkg, "md5sums", strbuf_detach(&c.md5sums), len);
	}
	strbuf_release(&c.md5sums);
	return r ? r : debinfo_hash_conffiles(rootfd, pkg);
}
