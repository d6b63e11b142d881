/* finish: the files a bootstrapped tree gets at the end (see finish.h).
 * Packages and scripts have run in the tree by now: every path written,
 * read or removed is resolved inside it. */
#include "finish.h"

#include "aptlists.h"
#include "setup.h"
#include "../base/inroot.h"
#include "../dpkg/dpkgdb.h"
#include "../pkgset/order.h"

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
/* What mmdebstrap removes from every tree (unless --skip=cleanup/reproducible):
 * logs with times, ldconfig's cache of mtimes, dbus's machine id. */
static const char *const unreproducible[] = {
	"var/log/dpkg.log", "var/log/apt/history.log", "var/log/apt/term.log",
	"var/log/alternatives.log", "var/cache/ldconfig/aux-cache", "var/log/apt/eipp.log.xz",
	"var/lib/dbus/machine-id",
};

static void remove_unreproducible(int rootfd)
{
	for (size_t i = 0; i < ARRAY_SIZE(unreproducible); i++)
		inroot_unlink(rootfd, unreproducible[i]);
}

void finish_after_scripts(const struct xb_plan *p, struct strvec *out)
{
	for (size_t i = 0; p->cleanup_reproducible && i < ARRAY_SIZE(unreproducible); i++)
		strvec_push(out, unreproducible[i]);
}

/* With SOURCE_DATE_EPOCH, also what holds the time of this run. */
static int make_reproducible(int rootfd, const char *root, long long epoch)
{
	static const char *const timed[] = {
		"var/log/xboot.log", "etc/shadow-", "etc/gshadow-", "etc/passwd-", "etc/group-",
	};
	for (size_t i = 0; i < ARRAY_SIZE(timed); i++)
		inroot_unlink(rootfd, timed[i]);
	return reproducible_shadow(rootfd, root, epoch);
}

/* The uid of user in the tree's etc/passwd, or -1. */
static long tree_uid(int rootfd, const char *user)
{
	cleanup_strbuf struct strbuf pw = STRBUF_INIT;
	cleanup_strvec struct strvec lines = STRVEC_INIT;
	if (inroot_read_file(rootfd, "etc/passwd", 1 << 20, &pw) < 0)
		return -1;
	strvec_split(&lines, pw.buf, "\n");
	size_t n = strlen(user);
	for (size_t i = 0; i < lines.n; i++) {
		const char *l = lines.v[i];
		const char *id = strncmp(l, user, n) || l[n] != ':' ? NULL : strchr(l + n + 1, ':');
		if (id)
			return strtol(id + 1, NULL, 10);
	}
	return -1;
}

/* apt's download directories, as apt leaves them once it has run: its
 * sandbox user's, mode 0700. */
static void apt_partial_dirs(int rootfd)
{
	static const char *const dirs[] = { "var/cache/apt/archives/partial",
		                            "var/lib/apt/lists/partial" };
	long uid = tree_uid(rootfd, "_apt");
	for (size_t i = 0; uid > 0 && i < ARRAY_SIZE(dirs); i++) {
		cleanup_fd int fd = inroot_open(rootfd, dirs[i], O_RDONLY | O_DIRECTORY, 0);
		if (fd >= 0 && fchown(fd, (uid_t)uid, 0) == 0)
			fchmod(fd, 0700);
	}
}

/* What apt and dpkg leave in a tree they made: their lock files (where
 * apt is), /run/lock (Debian's /var/lock leads there), dpkg's list of
 * architectures; an etc/machine-id a package made is emptied, for the
 * first boot to fill, and none is made where no package made one. */
static int apt_and_dpkg_files(const struct xb_plan *p, int rootfd, const char *root)
{
	static const char *const locks[] = { "var/cache/apt/archives", "var/lib/apt/lists" };
	int r = 0;
	for (size_t i = 0; !r && i < ARRAY_SIZE(locks); i++) {
		cleanup_fd int dir = inroot_open(rootfd, locks[i], O_PATH | O_DIRECTORY, 0);
		cleanup_free char *lock = xasprintf("%s/lock", locks[i]);
		if (dir >= 0)
			r = inroot_write_file(rootfd, lock, "", 0, 0640);
	}
	apt_partial_dirs(rootfd);
	cleanup_fd int run = r ? -1 : inroot_open(rootfd, "run", O_PATH | O_DIRECTORY, 0);
	if (run >= 0 && mkdirat(run, "lock", 01777) == 0)
		fchmodat(run, "lock", 01777, 0);
	cleanup_strbuf struct strbuf arch = STRBUF_INIT;
	strbuf_addf(&arch, "%s\n", p->arch->deb);
	for (size_t i = 0; i < p->foreign_archs.n; i++)
		strbuf_addf(&arch, "%s\n", p->foreign_archs.v[i]);
	if (!r)
		r = inroot_write_file(rootfd, DPKGDB "/arch", arch.buf, arch.len, 0644);
	cleanup_fd int mid = inroot_open(rootfd, "etc/machine-id", O_PATH | O_NOFOLLOW, 0);
	if (!r && mid != -ENOENT)
		r = inroot_write_file(rootfd, "etc/machine-id", "", 0, 0644);
	if (r < 0)
		xb_error("finishing %s: %s", root, strerror(-r));
	return r;
}

/* The host's file at path (etc/resolv.conf, etc/hostname) with its mode,
 * as debootstrap and mmdebstrap copy them, or fallback (mode 0644; NULL:
 * nothing) where the host has none.  keep: one a package put there (a
 * link to systemd-resolved's stub, say) stays. */
static int copy_host_file(int rootfd, const char *root, const char *path, const char *fallback,
                          bool keep)
{
	cleanup_strbuf struct strbuf host = STRBUF_INIT;
	cleanup_free char *abs = xasprintf("/%s", path);
	cleanup_fd int there = inroot_open(rootfd, path, O_PATH | O_NOFOLLOW, 0);
	struct stat st;
	if (keep && there != -ENOENT)
		return 0;
	bool have = stat(abs, &st) == 0 && S_ISREG(st.st_mode) && xb_read_file(abs, &host) == 0;
	if (!have && !fallback)
		return 0;
	const char *text = have ? host.buf : fallback;
	int r = inroot_write_file(rootfd, path, text, strlen(text), have ? st.st_mode & 0777 : 0644);
	if (r < 0)
		xb_error("writing %s/%s: %s", root, path, strerror(-r));
	return r;
}

/* Whether the variant selects by a priority: mmdebstrap installs such a
 * set with apt after the essential one, and apt marks what came only as a
 * dependency as installed automatically. */
static bool apt_installs(const struct xb_plan *p, const struct xb_pkg *pkgs, size_t n)
{
	bool apt = resolve_find(pkgs, n, "apt") >= 0, prio = false;
	for (size_t i = 0; i < p->variant->select.n; i++)
		prio |= strcmp(p->variant->select.v[i], "essential") != 0;
	return apt && prio;
}

int finish_apt_states(const struct xb_plan *p, const char *root, const struct xb_pkg *pkgs,
                      size_t n)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_strvec struct strvec stanzas = STRVEC_INIT;
	if (!apt_installs(p, pkgs, n))
		return 0;
	/* apt counts "all" as the native architecture. */
	for (size_t i = 0; i < n; i++)
		if (!pkgs[i].requested && pkgs[i].phase != ORDER_ESSENTIAL)
			strvec_pushf(&stanzas, "Package: %s\nArchitecture: %s\nAuto-Installed: 1\n\n",
			             pkgs[i].name, strcmp(pkgs[i].arch, "all") ? pkgs[i].arch
			                                                       : p->arch->deb);
	if (!stanzas.n)
		return 0;
	strvec_sort(&stanzas);
	for (size_t i = 0; i < stanzas.n; i++)
		strbuf_addstr(&sb, stanzas.v[i]);
	cleanup_fd int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = rootfd < 0 ? -errno
	                   : inroot_write_file(rootfd, "var/lib/apt/extended_states", sb.buf, sb.len, 0644);
	if (r < 0)
		xb_error("writing %s/var/lib/apt/extended_states: %s", root, strerror(-r));
	return r;
}

int finish_tree(const struct xb_plan *p, const struct fetch_sources *src, const char *root)
{
	cleanup_fd int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_strbuf struct strbuf sources = STRBUF_INIT;
	int r = 0;

	if (rootfd < 0) {
		xb_error("opening %s: %s", root, strerror(errno));
		return -errno;
	}
	if (src) {
		fetch_sources_write(src, &sources);
		r = setup_write_file(rootfd, root, "etc/apt/sources.list", sources.buf);
	}
	if (!r)
		r = copy_host_file(rootfd, root, "etc/hostname", "localhost\n", false);
	if (!r)
		r = setup_write_file(rootfd, root, "etc/fstab", "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n");
	if (!r)
		r = apt_and_dpkg_files(p, rootfd, root);
	if (!r)
		r = copy_host_file(rootfd, root, "etc/resolv.conf", NULL, true);
	return r;
}

int finish_cleanup(const struct xb_plan *p, const char *root)
{
	static const char *const keep_lists[] = { "lock", "partial", "auxfiles", NULL };
	static const char *const keep_archives[] = { "lock", "partial", NULL };
	static const char *const keep_none[] = { NULL };
	cleanup_fd int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0) {
		xb_error("opening %s: %s", root, strerror(errno));
		return -errno;
	}
	if (p->cleanup_apt_lists)
		clean_dir(rootfd, APT_LISTS, keep_lists);
	if (p->cleanup_apt_cache) {
		clean_dir(rootfd, APT_ARCHIVES, keep_archives);
		inroot_unlink(rootfd, "var/cache/apt/pkgcache.bin");
		inroot_unlink(rootfd, "var/cache/apt/srcpkgcache.bin");
	}
	if (p->cleanup_tmp)
		clean_dir(rootfd, "tmp", keep_none);
	if (p->cleanup_reproducible)
		remove_unreproducible(rootfd);
	return p->source_date_epoch >= 0 ? make_reproducible(rootfd, root, p->source_date_epoch) : 0;
}
