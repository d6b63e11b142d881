/* setup: TARGET and the tree before anything is unpacked (see setup.h). */
#include "setup.h"
#include "../base/devfiles.h"
#include "../base/inroot.h"
#include "../dpkg/dpkgdb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* An archive TARGET may be replaced, but not be a directory (but for an
 * OCI image layout there); its directory must exist (checked here, not
 * after the whole run). */
static int check_archive_target(const char *target, enum output_format f)
{
	struct stat st;
	cleanup_free char *layout = xasprintf("%s/oci-layout", target);
	if (!strcmp(target, "-"))
		return 0;
	if (f == OUTPUT_OCI && lstat(target, &st) == 0 &&
	    (!S_ISDIR(st.st_mode) || access(layout, F_OK) < 0)) {
		xb_error("%s exists and is no OCI image layout; an image replaces only one", target);
		return -EEXIST;
	}
	if (f != OUTPUT_OCI && stat(target, &st) == 0 && S_ISDIR(st.st_mode)) {
		xb_error("%s is a directory; an archive needs a file name", target);
		return -EISDIR;
	}
	cleanup_free char *dir = xstrdup(target);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else if (slash)
		dir[1] = '\0';
	if (slash && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		xb_error("cannot write %s: no directory %s", target, dir);
		return -ENOENT;
	}
	return 0;
}

/* TARGET must be a new or empty directory, and never the host's root. */
static int check_target(const char *target, bool check_empty)
{
	struct stat st;
	char *real = realpath(target, NULL);
	bool is_root = real && !strcmp(real, "/");
	free(real);
	if (is_root) {
		xb_error("refusing to bootstrap into %s: it is the root directory", target);
		return -XB_EUSAGE;
	}
	if (stat(target, &st) < 0) {
		if (errno != ENOENT) {
			xb_error("checking %s: %s", target, strerror(errno));
			return -errno;
		}
		int r = xb_mkdir_p_at(AT_FDCWD, target, 0755);
		if (r)
			xb_error("creating %s: %s", target, strerror(-r));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		xb_error("%s exists and is not a directory", target);
		return -ENOTDIR;
	}
	if (!check_empty)
		return 0;
	DIR *d = opendir(target);
	struct dirent *e;
	bool empty = true;
	if (!d) {
		xb_error("reading %s: %s", target, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "lost+found"))
			empty = false;
	closedir(d);
	if (!empty) {
		xb_error("%s is not empty; xboot bootstraps into a new or empty directory "
		         "(--skip=check/empty allows one that is not)", target);
		return -ENOTEMPTY;
	}
	return 0;
}

int setup_check_target(const struct xb_plan *p)
{
	if (p->format == OUTPUT_NULL)
		return 0;
	return p->format != OUTPUT_DIR ? check_archive_target(p->target, p->format)
	                               : check_target(p->target, p->check_empty);
}

/* dir and its link usr/dir at the root, as merged /usr has them. */
static int merged_link(int fd, const char *dir)
{
	cleanup_free char *usr = xasprintf("usr/%s", dir);
	int r = inroot_mkdir_p(fd, usr, 0755);
	if (!r && symlinkat(usr, fd, dir) < 0 && errno != EEXIST)
		r = -errno;
	return r;
}

/* One entry of /dev: a directory, a link, or (nodes) a device, root's,
 * with the table's mode.  What is there already stays. */
static int make_devfile(int devfd, const struct devfile *d, bool nodes)
{
	int r = 0;
	if (S_ISDIR(d->mode))
		r = mkdirat(devfd, d->name, d->mode & 07777);
	else if (S_ISLNK(d->mode))
		r = symlinkat(d->link, devfd, d->name);
	else if (nodes)
		r = mknodat(devfd, d->name, d->mode, makedev(d->major, d->minor));
	else
		return 0;
	if (r < 0)
		return errno == EEXIST ? 0 : -errno;
	/* the umask took its share */
	return S_ISLNK(d->mode) ? 0 : fchmodat(devfd, d->name, d->mode & 07777, 0) < 0 ? -errno : 0;
}

/* /dev as debootstrap and mmdebstrap lay it out.  Device nodes only in a
 * directory built as root: an archive gets its own (core/output), and
 * unshare mode cannot make them. */
static int make_dev(const struct xb_plan *p, int rootfd, const char *root)
{
	size_t n;
	const struct devfile *d = devfiles_all(&n);
	bool nodes = p->dev_nodes && p->format == OUTPUT_DIR && p->mode == PLAN_MODE_ROOT;
	if (!p->dev_files)
		return 0;
	cleanup_fd int devfd = inroot_open(rootfd, "dev", O_RDONLY | O_DIRECTORY, 0);
	if (devfd < 0) {
		xb_error("opening %s/dev: %s", root, strerror(-devfd));
		return devfd;
	}
	for (size_t i = 0; i < n; i++) {
		int r = make_devfile(devfd, &d[i], nodes);
		if (r == -EPERM && nodes && S_ISCHR(d[i].mode)) {
			/* a container without CAP_MKNOD: the rest of /dev still */
			xb_warn("%s/dev: no device nodes (mknod: %s)", root, strerror(-r));
			nodes = false;
		} else if (r < 0) {
			xb_error("making %s/dev/%s: %s", root, d[i].name, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* --no-merged-usr, as debootstrap does it: where the packages leave the
 * choice to xboot, directories, and the file that keeps usr-is-merged
 * from converting the tree. */
static int unmerged(const struct xb_plan *p, int fd, const char *root, bool distro_links)
{
	static const char text[] = "this system will not be supported in the future\n";
	if (distro_links) {
		xb_error("--no-merged-usr: %s's base-files merges /usr itself", p->suite);
		return -XB_EUSAGE;
	}
	xb_warn("--no-merged-usr: a tree without merged /usr cannot be upgraded past bookworm");
	int r = inroot_write_file(fd, "etc/unsupported-skip-usrmerge-conversion", text,
	                          sizeof(text) - 1, 0644);
	if (r < 0)
		xb_error("preparing %s: %s", root, strerror(-r));
	return r;
}

/* Merged /usr: the root's own links, made before anything is unpacked so
 * that packages shipping /bin/x land in /usr/bin/x: bin, sbin, lib, and
 * unless the distribution ships its links itself the architecture's
 * multilib directories (debootstrap's table). */
int setup_skeleton(const struct xb_plan *p, const char *root)
{
	static const char *const dirs[] = { "usr/bin", "usr/sbin", "usr/lib", DPKGDB,
		                            "var/log", "etc", "tmp", "proc", "sys", "dev", "run", "root" };
	cleanup_fd int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = fd < 0 ? -errno : 0;

	for (size_t i = 0; !r && i < ARRAY_SIZE(dirs); i++)
		r = xb_mkdir_p_at(fd, dirs[i], !strcmp(dirs[i], "tmp") ? 01777 : 0755);
	if (!r)
		fchmodat(fd, "tmp", 01777, 0);
	if (r) {
		xb_error("preparing %s: %s", root, strerror(-r));
		return r;
	}
	return make_dev(p, fd, root);
}

int setup_merged_usr(const struct xb_plan *p, const char *root, bool distro_links)
{
	cleanup_fd int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_strvec struct strvec links = STRVEC_INIT;
	int r = fd < 0 ? -errno : 0;
	if (!r && p->tmpl.merged_usr && p->no_merged_usr)
		return unmerged(p, fd, root, distro_links);
	if (p->tmpl.merged_usr) {
		strvec_pushl(&links, "bin", "sbin", "lib", NULL);
		if (!distro_links)
			strvec_split(&links, p->arch->multilib, " ");
	}
	for (size_t i = 0; !r && i < links.n; i++)
		r = merged_link(fd, links.v[i]);
	if (r)
		xb_error("preparing %s: %s", root, strerror(-r));
	return r;
}

int setup_write_file(int rootfd, const char *target, const char *path, const char *text)
{
	int r = inroot_write_file(rootfd, path, text, strlen(text), 0644);
	if (r)
		xb_error("writing %s/%s: %s", target, path, strerror(-r));
	return r;
}

/* --aptopt and --dpkgopt, as mmdebstrap has them: a value naming an
 * existing file is copied, anything else is a line of its own (apt's get a
 * closing ';' when they lack one). */
static int write_opts(int rootfd, const char *root, const char *path,
                      const struct strvec *opts, bool apt)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	if (!opts->n)
		return 0;
	for (size_t i = 0; i < opts->n; i++) {
		const char *o = opts->v[i];
		size_t before = sb.len;
		if (xb_read_file(o, &sb) == 0) {
			if (sb.len > before && sb.buf[sb.len - 1] != '\n')
				strbuf_addch(&sb, '\n');
			continue;
		}
		strbuf_setlen(&sb, before); /* not a file (or not readable): the option itself */
		size_t len = strlen(o);
		while (len && (o[len - 1] == ' ' || o[len - 1] == '\n'))
			len--;
		strbuf_add(&sb, o, len);
		strbuf_addstr(&sb, apt && (!len || o[len - 1] != ';') ? ";\n" : "\n");
	}
	return setup_write_file(rootfd, root, path, sb.buf);
}

int setup_options(const struct xb_plan *p, const char *root)
{
	cleanup_fd int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		xb_error("opening %s: %s", root, strerror(errno));
		return -errno;
	}
	/* Packages are unpacked by now: every path is resolved inside. */
	inroot_mkdir_p(rootfd, "etc/apt/apt.conf.d", 0755);
	inroot_mkdir_p(rootfd, "etc/dpkg/dpkg.cfg.d", 0755);
	int r = write_opts(rootfd, root, "etc/apt/apt.conf.d/99xboot", &p->aptopts, true);
	return r ? r : write_opts(rootfd, root, "etc/dpkg/dpkg.cfg.d/99xboot", &p->dpkgopts, false);
}

/* Whether e is in s already (same URI and suite). */
static bool listed(const struct fetch_sources *s, const struct fetch_source *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].uri, e->uri) && s->v[i].suite && e->suite &&
		    !strcmp(s->v[i].suite, e->suite))
			return true;
	return false;
}

int setup_tree_apt(const struct xb_plan *p, const char *root, struct fetch_sources *sources,
                   struct strvec *keyrings)
{
	cleanup_free char *etc = xasprintf("%s/etc/apt", root);
	cleanup_free char *parts = xasprintf("%s/trusted.gpg.d", etc);
	cleanup_free char *trusted = xasprintf("%s/trusted.gpg", etc);
	struct fetch_sources found = FETCH_SOURCES_INIT;
	fetch_sources_from_apt(etc, &found);
	fetch_sources_default(&found, p->suite, &p->components);
	for (size_t i = 0; i < found.n; i++) {
		const struct fetch_source *e = &found.v[i];
		if (listed(sources, e))
			continue;
		xb_info("the setup hooks' sources: %s %s", e->uri, e->suite);
		struct fetch_source *n = fetch_sources_add(sources, e->uri, e->suite, &e->components);
		strvec_pushv(&n->options, &e->options);
		n->in_tree = true;
	}
	fetch_sources_release(&found);
	if (access(trusted, R_OK) == 0)
		strvec_push(keyrings, trusted);
	DIR *d = opendir(parts);
	for (struct dirent *e; d && (e = readdir(d));)
		if (e->d_name[0] != '.' && (str_ends_with(e->d_name, ".gpg") || str_ends_with(e->d_name, ".asc")))
			strvec_pushf(keyrings, "%s/%s", parts, e->d_name);
	if (d)
		closedir(d);
	if (!sources->n) {
		xb_error("no sources: none given, and the setup hooks wrote none into %s", etc);
		return -XB_EUSAGE;
	}
	return 0;
}
