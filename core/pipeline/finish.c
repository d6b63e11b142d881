/* finish: the files a bootstrapped tree gets at the end (see finish.h).
 * Packages and scripts have run in the tree by now: every path written,
 * read or removed is resolved inside it. */
#include "finish.h"

#include "setup.h"
#include "../base/inroot.h"
#include "../dpkg/dpkgdb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

/* Empties a directory of the target, keeping the names in keep. */
static void clean_dir(int rootfd, const char *dir, const char *const *keep)
{
	int fd = inroot_open(rootfd, dir, O_RDONLY | O_DIRECTORY, 0);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		bool kept = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
		for (size_t i = 0; keep[i] && !kept; i++)
			kept = !strcmp(e->d_name, keep[i]);
		if (!kept)
			xb_rm_rf_at(dirfd(d), e->d_name);
	}
	closedir(d);
}

/* shadow's lines with the last password change (field 3) at the epoch. */
static void shadow_at(const struct strbuf *in, long long epoch, struct strbuf *out)
{
	const char *text = in->buf, *end = in->buf + in->len;
	for (const char *line = text, *nl; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		/* name:password:lastchange:... */
		const char *c1 = memchr(line, ':', (size_t)(nl - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1)) : NULL;
		const char *c3 = c2 ? memchr(c2 + 1, ':', (size_t)(nl - c2 - 1)) : NULL;
		if (c3 && c3 > c2 + 1) {
			strbuf_add(out, line, (size_t)(c2 + 1 - line));
			strbuf_addf(out, "%lld", epoch / 86400);
			strbuf_add(out, c3, (size_t)(nl - c3));
		} else {
			strbuf_add(out, line, (size_t)(nl - line));
		}
		strbuf_addch(out, '\n');
	}
}

/* etc/shadow read and rewritten inside the tree: a new file renamed over
 * the old one (a failed write leaves the old one whole), with its mode,
 * owner and group.  What is not a regular file there is left alone. */
static int reproducible_shadow(int rootfd, const char *root, long long epoch)
{
	cleanup_strbuf struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	cleanup_free char *last = NULL;
	cleanup_fd int dir = inroot_parent(rootfd, "etc/shadow", false, &last);
	cleanup_fd int ifd = dir < 0 ? -1 : openat(dir, last, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	                                                      O_CLOEXEC);
	struct stat st;
	if (ifd < 0 || fstat(ifd, &st) < 0 || !S_ISREG(st.st_mode) || xb_read_fd(ifd, &in) < 0)
		return 0;
	shadow_at(&in, epoch, &out);
	int r = xb_write_file_at(dir, last, out.buf, out.len, st.st_mode & 07777);
	if (!r && fchownat(dir, last, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	if (r)
		xb_error("writing %s/etc/shadow: %s", root, strerror(-r));
	return r;
}

/* With SOURCE_DATE_EPOCH the tree must not depend on when it was built:
 * password ages count from it, and logs and caches with times go. */
static int make_reproducible(int rootfd, const char *root, long long epoch)
{
	static const char *const timed[] = {
		"var/log/dpkg.log", "var/log/alternatives.log", "var/log/apt/history.log",
		"var/log/apt/term.log", "var/log/apt/eipp.log.xz", "var/log/xboot.log",
		"var/cache/ldconfig/aux-cache", "etc/shadow-", "etc/gshadow-", "etc/passwd-",
		"etc/group-", DPKGDB "/status-old", DPKGDB "/diversions-old",
	};
	for (size_t i = 0; i < ARRAY_SIZE(timed); i++)
		inroot_unlink(rootfd, timed[i]);
	return reproducible_shadow(rootfd, root, epoch);
}

/* The host's resolv.conf, as debootstrap and mmdebstrap leave it, so that a
 * plain chroot of the tree resolves names; one a package put there (a link
 * to systemd-resolved's stub, say) stays. */
static int copy_resolv_conf(int rootfd, const char *root)
{
	cleanup_strbuf struct strbuf host = STRBUF_INIT;
	cleanup_fd int there = inroot_open(rootfd, "etc/resolv.conf", O_PATH | O_NOFOLLOW, 0);
	if (there != -ENOENT || xb_read_file("/etc/resolv.conf", &host) < 0)
		return 0;
	return setup_write_file(rootfd, root, "etc/resolv.conf", host.buf);
}

int finish_tree(const struct xb_plan *p, const struct fetch_sources *src, const char *root)
{
	static const char *const keep_lists[] = { "lock", "partial", "auxfiles", NULL };
	static const char *const keep_archives[] = { "lock", "partial", NULL };
	cleanup_fd int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_strbuf struct strbuf sources = STRBUF_INIT;
	int r = 0;

	if (rootfd < 0) {
		xb_error("opening %s: %s", root, strerror(errno));
		return -errno;
	}
	fetch_sources_write(src, &sources);
	r = setup_write_file(rootfd, root, "etc/apt/sources.list", sources.buf);
	if (!r)
		r = setup_write_file(rootfd, root, "etc/hostname", "localhost\n");
	if (!r)
		r = setup_write_file(rootfd, root, "etc/fstab", "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n");
	if (!r)
		r = setup_write_file(rootfd, root, "etc/machine-id", "");
	if (!r)
		r = copy_resolv_conf(rootfd, root);
	clean_dir(rootfd, "var/lib/apt/lists", keep_lists);
	clean_dir(rootfd, "var/cache/apt/archives", keep_archives);
	inroot_unlink(rootfd, "var/cache/apt/pkgcache.bin");
	inroot_unlink(rootfd, "var/cache/apt/srcpkgcache.bin");
	if (!r && p->source_date_epoch >= 0)
		r = make_reproducible(rootfd, root, p->source_date_epoch);
	return r;
}
