/* finish: configuration files written natively into the new tree. */
#include "finish.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

static int write_in(int rootfd, const char *target, const char *path, const char *text)
{
	int r = xb_write_file_at(rootfd, path, text, strlen(text), 0644);
	if (r)
		xb_error("writing %s/%s: %s", target, path, strerror(-r));
	return r;
}

/* Empties a directory of the target, keeping the names in keep. */
static void clean_dir(int rootfd, const char *dir, const char *const *keep)
{
	int fd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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

int finish_target(const struct xb_plan *p)
{
	static const char *const keep_lists[] = { "lock", "partial", "auxfiles", NULL };
	static const char *const keep_archives[] = { "lock", "partial", NULL };
	cleanup_fd int rootfd = open(p->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_strbuf struct strbuf sources = STRBUF_INIT;
	int r = 0;

	if (rootfd < 0) {
		xb_error("opening %s: %s", p->target, strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < p->mirrors.n; i++) {
		strbuf_addf(&sources, "deb %s %s", p->mirrors.v[i], p->suite);
		for (size_t c = 0; c < p->components.n; c++)
			strbuf_addf(&sources, " %s", p->components.v[c]);
		strbuf_addch(&sources, '\n');
	}
	xb_mkdir_p_at(rootfd, "etc/apt", 0755);
	r = write_in(rootfd, p->target, "etc/apt/sources.list", strbuf_str(&sources));
	if (!r)
		r = write_in(rootfd, p->target, "etc/hostname", "localhost\n");
	if (!r)
		r = write_in(rootfd, p->target, "etc/fstab", "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n");
	if (!r)
		r = write_in(rootfd, p->target, "etc/machine-id", "");
	clean_dir(rootfd, "var/lib/apt/lists", keep_lists);
	clean_dir(rootfd, "var/cache/apt/archives", keep_archives);
	unlinkat(rootfd, "var/cache/apt/pkgcache.bin", 0);
	unlinkat(rootfd, "var/cache/apt/srcpkgcache.bin", 0);
	return r;
}
