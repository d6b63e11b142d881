/* image: what an image file is, and its tree unpacked (see image.h). */
#include "image.h"

#include "../core/base/fileio.h"
#include "../core/base/inroot.h"
#include "../core/base/spawn.h"
#include "caps.h"
#include "jail.h"
#include "seccomp.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/mman.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* ---- what an image is ---- */

static bool is_oci_dir(int dfd)
{
	struct stat st;
	return fstatat(dfd, "oci-layout", &st, 0) == 0 && S_ISREG(st.st_mode) &&
	       fstatat(dfd, "index.json", &st, 0) == 0 && S_ISREG(st.st_mode);
}

/* A tar whose first members hold an oci-layout file is an image layout. */
static bool is_oci_tar(const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	bool oci = false;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK) {
		for (int i = 0; i < 16 && !oci && archive_read_next_header(a, &e) == ARCHIVE_OK; i++) {
			const char *n = archive_entry_pathname(e);
			oci = n && (!strcmp(n, "oci-layout") || !strcmp(n, "./oci-layout"));
		}
	}
	archive_read_free(a);
	return oci;
}

static bool is_archive(const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	bool ok = archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK &&
	          archive_read_next_header(a, &e) == ARCHIVE_OK;
	archive_read_free(a);
	return ok;
}

int emu_image_kind(const char *path, enum emu_image_kind *kind)
{
	unsigned char h[1082] = { 0 };
	cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int r = -errno;
		xb_error("entering %s: %s", path, strerror(-r));
		return r;
	}
	*kind = EMU_IMAGE_NONE;
	if (S_ISDIR(st.st_mode)) {
		if (is_oci_dir(fd))
			*kind = EMU_IMAGE_OCI;
		return 0;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		xb_error("entering %s: neither a directory nor an image file", path);
		return -XB_EUSAGE;
	}
	ssize_t n = pread(fd, h, sizeof(h), 0);
	if (n >= 4 && !memcmp(h, "hsqs", 4))
		*kind = EMU_IMAGE_SQUASHFS;
	else if (n >= 1082 && h[1080] == 0x53 && h[1081] == 0xef)
		*kind = EMU_IMAGE_EXT;
	else if (is_oci_tar(path))
		*kind = EMU_IMAGE_OCI;
	else if (is_archive(path))
		*kind = EMU_IMAGE_ARCHIVE;
	else {
		xb_error("entering %s: no image xboot knows (squashfs, ext2/3/4, tar, cpio, OCI)", path);
		return -XB_EUSAGE;
	}
	return 0;
}

/* ---- unpacking ---- */

/* A whiteout of an OCI layer: ".wh.NAME" removes NAME of the layers below,
 * ".wh..wh..opq" all that its directory held.  Its base name, or NULL for
 * a member that is none; *opaque for the second kind. */
static const char *whiteout(const char *path, bool *opaque)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	*opaque = !strcmp(base, ".wh..wh..opq");
	return str_starts_with(base, ".wh.") ? base : NULL;
}

static int apply_whiteout(int dirfd, const char *path)
{
	bool opaque;
	const char *base = whiteout(path, &opaque);
	cleanup_free char *dir = xstrndup(path, (size_t)(base - path));
	cleanup_free char *target = opaque ? xstrdup(dir) : xasprintf("%s%s", dir, base + 4);
	if (!opaque)
		return inroot_rm_rf(dirfd, target);
	cleanup_fd int d = inroot_open(dirfd, dir, O_RDONLY | O_DIRECTORY, 0);
	if (d < 0)
		return d == -ENOENT ? 0 : d;
	int r = 0;
	cleanup_strvec struct strvec names = STRVEC_INIT;
	DIR *dp = fdopendir(dup(d));
	for (struct dirent *e; dp && (e = readdir(dp));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			strvec_push(&names, e->d_name);
	if (dp)
		closedir(dp);
	for (size_t i = 0; i < names.n && r == 0; i++)
		r = inroot_rm_rf(d, names.v[i]);
	return r;
}

/* A name that would land outside the tree: absolute, or with a ".."
 * component.  libarchive refuses those too (and paths through symlinks),
 * but only for the member: for xboot, an image that tries is no image to
 * enter, whatever the member is. */
static bool escapes(const char *name)
{
	if (!name)
		return false;
	if (*name == '/')
		return true;
	for (const char *p = name; *p; p += strcspn(p, "/"), p += *p == '/') {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
	}
	return false;
}

/* The data of the current member, a into w: the worst libarchive status. */
static int copy_data(struct archive *a, struct archive *w)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int k;
	while ((k = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		la_ssize_t n = archive_write_data_block(w, buf, size, off);
		if (n < ARCHIVE_OK)
			return (int)n;
	}
	return k == ARCHIVE_EOF ? ARCHIVE_OK : k;
}

/* A device node under /dev: the session's own /dev goes over the image's. */
static bool session_dev(struct archive_entry *e, const char *name)
{
	unsigned type = archive_entry_filetype(e);
	return (type == AE_IFCHR || type == AE_IFBLK) &&
	       (str_starts_with(name, "dev/") || str_starts_with(name, "./dev/"));
}

/* One member made on disk: 0; 1 when it was made without some of its
 * metadata or, for a device node, not made (what the session may not do);
 * -XB_EPARSE, reported, when it could not be made at all: libarchive's
 * refusal of a path through a symlink is one, and the image is refused
 * with it (for a device node, not made either way, it is only skipped).
 * Only a regular file's data is written: a size on anything else (a
 * directory, a symlink) has nothing to go to. */
static int extract_member(struct archive *a, struct archive *w, struct archive_entry *e,
                          const char *path)
{
	unsigned type = archive_entry_filetype(e);
	int k = archive_write_header(w, e);
	bool node = type == AE_IFCHR || type == AE_IFBLK;
	if (k >= ARCHIVE_WARN && type == AE_IFREG && archive_entry_size(e) > 0) {
		int d = copy_data(a, w);
		k = d < k ? d : k;
	}
	int f = archive_write_finish_entry(w); /* even after a failed header, as extract2 does */
	k = f < k ? f : k;
	if (k == ARCHIVE_OK)
		return 0;
	if (k == ARCHIVE_WARN || (k == ARCHIVE_FAILED && node))
		return 1;
	const char *name = archive_entry_pathname(e);
	const char *why = archive_error_string(w) ? archive_error_string(w) : archive_error_string(a);
	xb_error("unpacking %s: %s: %s", path, name ? name : "?", why ? why : "cannot be made");
	return -XB_EPARSE;
}

/* One pass over the archive on fd (path, for messages) into dirfd: pass 0
 * applies an OCI layer's whiteouts, pass 1 makes the rest.  The working
 * directory is the tree's for the whole pass: libarchive sets directory
 * modes and times at the close, relative to it.  No name lookup: owners
 * are the image's numeric ids, not the host's for the image's names. */
static int extract_pass(int fd, const char *path, int dirfd, bool oci, int pass, int *skipped,
                        int *warned)
{
	const int flags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
	                  ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	                  ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
	struct archive *a = archive_read_new(), *w = archive_write_disk_new();
	struct archive_entry *e;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_write_disk_set_options(w, flags);
	cleanup_fd int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = 0, k = ARCHIVE_OK;
	if (lseek(fd, 0, SEEK_SET) < 0 || fchdir(dirfd) < 0) {
		r = -errno;
		xb_error("unpacking %s: %s", path, strerror(-r));
	} else if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
		xb_error("unpacking %s: %s", path, archive_error_string(a));
		r = -XB_EPARSE;
	}
	/* a warning (a name in no known charset, say) leaves the member usable */
	while (r == 0 && ((k = archive_read_next_header(a, &e)) == ARCHIVE_OK || k == ARCHIVE_WARN)) {
		bool opaque;
		const char *name = archive_entry_pathname(e);
		*warned += k == ARCHIVE_WARN;
		if (!name || escapes(name) || escapes(archive_entry_hardlink(e))) {
			xb_error("unpacking %s: %s: a member outside the tree", path, name ? name : "?");
			r = -XB_EPARSE;
		} else if (oci && whiteout(name, &opaque)) {
			if (pass == 0 && (r = apply_whiteout(dirfd, name)) < 0)
				xb_error("unpacking %s: whiteout %s: %s", path, name, strerror(-r));
		} else if (pass == 1 && !session_dev(e, name)) {
			r = extract_member(a, w, e, path);
			*skipped += r == 1;
			r = r == 1 ? 0 : r;
		}
	}
	if (r == 0 && k != ARCHIVE_EOF) {
		xb_error("unpacking %s: %s", path, archive_error_string(a));
		r = -XB_EPARSE;
	}
	if (archive_write_close(w) < ARCHIVE_WARN && r == 0) {
		xb_error("unpacking %s: %s", path, archive_error_string(w));
		r = -XB_EPARSE;
	}
	if (cwd >= 0 && fchdir(cwd) < 0)
		r = r ? r : -errno;
	archive_write_free(w);
	archive_read_free(a);
	return r;
}

/* Extracts path into dirfd, as root of the namespace: owners, modes, times
 * and xattrs kept; "..", absolute names and paths through symlinks
 * refused, so nothing lands outside.  oci: whiteouts applied first, and
 * not extracted.  What the namespace may not make (device nodes, some
 * xattrs) is skipped with one warning.  Names are read as UTF-8 (pax
 * headers are), whatever the caller's locale. */
static int extract(int fd, const char *path, int dirfd, bool oci)
{
	int r = 0, skipped = 0, warned = 0;
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t old = utf8 ? uselocale(utf8) : (locale_t)0;
	for (int pass = oci ? 0 : 1; pass < 2 && r == 0; pass++)
		r = extract_pass(fd, path, dirfd, oci, pass, &skipped, &warned);
	if (utf8) {
		uselocale(old);
		freelocale(utf8);
	}
	if (skipped)
		xb_warn("unpacking %s: %d members the session cannot make (device nodes, "
		        "some extended attributes) left out", path, skipped);
	if (warned)
		xb_warn("unpacking %s: %d members with a header libarchive warned about", path, warned);
	return r;
}

/* Runs an unpacking tool with its stderr kept in err; *status its exit. */
static int run_tool(char *const *argv, struct strbuf *err, int *status)
{
	struct spawn_opts so = SPAWN_OPTS_INIT;
	cleanup_fd int memfd = memfd_create("xboot-unpack", MFD_CLOEXEC);
	so.in_fd = -2;
	so.out_fd = memfd;
	so.err_fd = memfd;
	*status = 0;
	int r = memfd < 0 ? -errno : xb_spawn(argv, &so, status);
	if (memfd >= 0 && lseek(memfd, 0, SEEK_SET) == 0)
		xb_read_fd_max(memfd, 1u << 20, err);
	return r;
}

/* What the session cannot make (device nodes, in a user namespace) is left
 * out: silently under /dev, where the session's own /dev goes, with one
 * warning elsewhere.  Any other complaint of the tool's is an error. */
static int tool_result(const char *image, const char *tool, int r, int status,
                       const struct strbuf *err)
{
	int devs = 0, other = 0;
	const char *last = NULL;
	for (const char *l = err->buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t n = strcspn(l, "\n");
		bool node = memmem(l, n, "character device", 16) || memmem(l, n, "block device", 12);
		if (node && !memmem(l, n, "/dev/", 5))
			devs++;
		else if (!node && !str_starts_with(l, "debugfs ") && n)
			other++, last = l;
	}
	if (r < 0 && status != 2 && status != 126 && status != 127)
		other++;
	if (other || (r < 0 && status != 2)) {
		if (status != 126 && status != 127)
			xb_error("unpacking %s: %s: %.*s", image, tool, last ? (int)strcspn(last, "\n") : 20,
			         last ? last : "failed (exit status)");
		return r < 0 ? r : -XB_EPARSE;
	}
	if (devs)
		xb_warn("unpacking %s: %d device nodes the session cannot make left out", image, devs);
	return 0;
}
/* ---- OCI image layouts ---- */

/* The "sha256:HEX" digests of the objects in the JSON value of key (an
 * array or an object), in order, into out.  The text is hostile: only 64
 * hex digits are taken, never a path. */
static void json_digests(const char *text, const char *key, struct strvec *out)
{
	cleanup_free char *quoted = xasprintf("\"%s\"", key);
	const char *p = strstr(text, quoted);
	if (!p || !(p = strpbrk(p + strlen(quoted), "[{")))
		return;
	int depth = 0;
	bool in_string = false;
	for (const char *q = p; *q; q++) {
		if (in_string) {
			if (*q == '\\' && q[1])
				q++;
			else if (*q == '"')
				in_string = false;
			continue;
		}
		if (*q == '"' && str_starts_with(q, "\"digest\"")) {
			const char *v = strstr(q + 8, "\"sha256:");
			if (v && strspn(v + 8, "0123456789abcdef") == 64 && v[72] == '"')
				strvec_pushf(out, "%.64s", v + 8);
			q = v ? v + 8 : q + 7;
			continue;
		}
		if (*q == '"')
			in_string = true;
		else if (*q == '[' || *q == '{')
			depth++;
		else if ((*q == ']' || *q == '}') && --depth == 0)
			return;
	}
}

/* Everything of the layout is opened inside it: a planted symlink reads
 * nothing of the host's. */
static int read_json(int layoutfd, const char *name, struct strbuf *sb)
{
	int r = inroot_read_file(layoutfd, name, 16u << 20, sb);
	if (r < 0)
		xb_error("reading the OCI layout's %s: %s", name, strerror(-r));
	return r;
}

/* The layers of the layout's first image, lowest first, into layers. */
static int oci_layers(int layoutfd, struct strvec *layers)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	int r = read_json(layoutfd, "index.json", &sb);
	/* an index may point at an index (one per platform) */
	for (int level = 0; r == 0 && level < 3; level++) {
		cleanup_strvec struct strvec m = STRVEC_INIT;
		json_digests(sb.buf, "manifests", &m);
		if (!m.n) {
			json_digests(sb.buf, "layers", layers);
			break;
		}
		cleanup_free char *blob = xasprintf("blobs/sha256/%s", m.v[0]);
		strbuf_reset(&sb);
		r = read_json(layoutfd, blob, &sb);
	}
	if (r == 0 && !layers->n) {
		xb_error("reading the OCI layout: no image with layers in it");
		r = -XB_EPARSE;
	}
	return r;
}

static int oci_unpack(const char *image, int image_fd, int rootfd)
{
	cleanup_strvec struct strvec layers = STRVEC_INIT;
	cleanup_fd int layout = -1;
	bool tar = false;
	struct stat st;
	int r = fstat(image_fd, &st) < 0 ? -errno : 0;
	if (r == 0 && S_ISDIR(st.st_mode) && (layout = dup(image_fd)) < 0)
		r = -errno;
	if (r == 0 && !S_ISDIR(st.st_mode)) { /* its tar: unpacked beside the tree first */
		tar = true;
		if (mkdirat(rootfd, ".xboot-oci", 0700) < 0 ||
		    (layout = openat(rootfd, ".xboot-oci", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			r = -errno;
		if (r == 0)
			r = extract(image_fd, image, layout, false);
	}
	if (r == 0)
		r = oci_layers(layout, &layers);
	for (size_t i = 0; r == 0 && i < layers.n; i++) {
		cleanup_free char *name = xasprintf("blobs/sha256/%s", layers.v[i]);
		cleanup_fd int blob = inroot_open_regular(layout, name);
		r = blob < 0 ? blob : extract(blob, name, rootfd, true);
		if (blob < 0)
			xb_error("opening the OCI layout's %s: %s", name, strerror(-r));
	}
	if (tar)
		inroot_rm_rf(rootfd, ".xboot-oci");
	if (r < 0 && r != -XB_EPARSE && layout < 0)
		xb_error("unpacking %s: %s", image, strerror(-r));
	return r;
}

/* What an unpacking tool may do as root of the namespace: make the
 * tree's files with their owners and modes (device nodes where the
 * namespace may), nothing else. */
#define TOOL_CAPS                                                                              \
	((1ull << CAP_CHOWN) | (1ull << CAP_DAC_OVERRIDE) | (1ull << CAP_DAC_READ_SEARCH) |         \
	 (1ull << CAP_FOWNER) | (1ull << CAP_FSETID) | (1ull << CAP_MKNOD) | (1ull << CAP_SETFCAP))

/* Runs the tool (argv[0] a name, its arguments naming /image and /dest)
 * in a jail holding the image's read-only mount (image) and the tree
 * (rootfd) at /dest, with its output kept in err and its exit in
 * *status, as run_tool.  Reports what keeps it from running. */
static int run_jailed(const char *imgpath, char **argv, int image, int rootfd,
                      struct strbuf *err, int *status)
{
	cleanup_free char *path = emu_jail_which(argv[0]);
	cleanup_fd int memfd = memfd_create("xboot-unpack", MFD_CLOEXEC);
	cleanup_fd int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cleanup_fd int jail = -1;
	int r = !path ? -ENOENT : memfd < 0 || devnull < 0 ? -errno : 0;
	if (r == 0 && (jail = emu_jail_make(rootfd, image, rootfd)) < 0)
		r = jail;
	pid_t pid = r < 0 ? -1 : fork();
	if (pid == 0) {
		if (dup2(devnull, 0) < 0 || dup2(memfd, 1) < 0 || dup2(memfd, 2) < 0 ||
		    emu_jail_enter(jail) < 0 || close_range(3, ~0u, 0) < 0 ||
		    emu_caps_bound(TOOL_CAPS) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    emu_seccomp_load() < 0)
			_exit(126);
		emu_jail_exec(path, argv);
	}
	if (r == 0 && pid < 0)
		r = -errno;
	int ws = 0;
	if (pid > 0)
		xb_waitpid(pid, &ws);
	*status = pid > 0 ? xb_wait_code(ws) : 127;
	emu_jail_drop(&jail);
	inroot_rm_rf(rootfd, ".xboot-helper");
	if (r < 0 || *status == 126 || *status == 127)
		xb_error("unpacking %s: running %s: %s", imgpath, argv[0],
		         r < 0 ? strerror(-r) : "it could not be started in its jail");
	if (memfd >= 0 && lseek(memfd, 0, SEEK_SET) == 0)
		xb_read_fd_max(memfd, 1u << 20, err);
	return r < 0 ? r : *status ? -XB_ECHILD : 0;
}

int emu_image_unpack(const char *image, int image_fd, enum emu_image_kind kind, int image_mnt,
                     int rootfd)
{
	cleanup_free char *path = xasprintf("/proc/self/fd/%d", image_fd);
	int r = 0;
	/* without a jail, the tools reach the tree through a descriptor they inherit */
	cleanup_fd int dest = dup(rootfd);
	cleanup_free char *to = xasprintf("/proc/self/fd/%d", dest);
	const char *src = image_mnt >= 0 ? "/image" : path, *dst = image_mnt >= 0 ? "/dest" : to;
	cleanup_free char *req = xasprintf("rdump / %s", dst);
	char *sq[] = { "unsquashfs", "-quiet", "-no-progress", "-force", "-dest", (char *)dst,
		       (char *)src, NULL };
	char *e2[] = { "debugfs", "-R", req, (char *)src, NULL };
	cleanup_strbuf struct strbuf err = STRBUF_INIT;
	int status;
	switch (kind) {
	case EMU_IMAGE_SQUASHFS:
	case EMU_IMAGE_EXT: {
		char **argv = kind == EMU_IMAGE_EXT ? e2 : sq;
		r = image_mnt >= 0 ? run_jailed(image, argv, image_mnt, rootfd, &err, &status)
		                   : run_tool(argv, &err, &status);
		r = tool_result(image, argv[0], r, status, &err);
		break;
	}
	case EMU_IMAGE_ARCHIVE: r = extract(image_fd, image, rootfd, false); break;
	case EMU_IMAGE_OCI: r = oci_unpack(image, image_fd, rootfd); break;
	case EMU_IMAGE_NONE: r = -EINVAL; break;
	}
	return r;
}
