/* cache: the content-addressed store: .debs as DIR/sha256/<hex>.deb, and
 * decompressed Packages indices as DIR/indices/<hex>.  Files are only ever
 * put there whole after verification (renamed or linked: see http.c and
 * fetch_cache_keep_index), and are verified again on every use: the disk,
 * or another user of the cache, may have changed them since.  The shared
 * lock on DIR/.lock keeps a future cleaner (taking LOCK_EX) away while
 * runs use the cache. */
#include "cache.h"

#include "../core/base/fileio.h"
#include "../core/base/hash.h"
#include "../core/base/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>

/* Waits (telling the user) only when an exclusive holder is there. */
static int lock_shared(int fd, const char *dir)
{
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return -errno;
	xb_info("waiting for the lock on cache %s", dir);
	while (flock(fd, LOCK_SH) < 0) {
		if (errno != EINTR)
			return -errno;
		if (xb_interrupted)
			return -XB_EINTR;
	}
	return 0;
}

int fetch_cache_open(struct fetch_cache *c, const char *dir)
{
	cleanup_free char *sub = NULL, *lock = NULL;
	int r;

	c->dir = NULL;
	c->lock_fd = -1;
	if (!dir || !*dir) {
		xb_error("opening cache: no directory given");
		return -EINVAL;
	}
	sub = xasprintf("%s/sha256", dir);
	r = xb_mkdir_p_at(AT_FDCWD, sub, 0755);
	if (r == 0) {
		free(sub);
		sub = xasprintf("%s/indices", dir);
		r = xb_mkdir_p_at(AT_FDCWD, sub, 0755);
	}
	if (r < 0) {
		xb_error("opening cache %s: %s", dir, strerror(-r));
		return r;
	}
	lock = xasprintf("%s/.lock", dir);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		xb_error("opening cache %s: %s: %s", dir, lock, strerror(-r));
		return r;
	}
	r = lock_shared(fd, dir);
	if (r < 0) {
		if (r != -XB_EINTR)
			xb_error("opening cache %s: locking %s: %s", dir, lock, strerror(-r));
		close(fd);
		return r;
	}
	c->dir = xstrdup(dir);
	c->lock_fd = fd;
	return 0;
}

void fetch_cache_close(struct fetch_cache *c)
{
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	c->lock_fd = -1;
	free(c->dir);
	c->dir = NULL;
}

static bool valid_sha256(const char *hex)
{
	if (!hex)
		return false;
	size_t i;
	for (i = 0; hex[i]; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return false;
	return i == 64;
}

/* The name comes from an index or a Release: never let it climb out. */
static char *store_path(const struct fetch_cache *c, const char *sha256, bool index)
{
	if (!valid_sha256(sha256))
		return NULL;
	return index ? xasprintf("%s/indices/%s", c->dir, sha256)
	             : xasprintf("%s/sha256/%s.deb", c->dir, sha256);
}

char *fetch_cache_path(const struct fetch_cache *c, const char *sha256)
{
	return store_path(c, sha256, false);
}

char *fetch_cache_index_path(const struct fetch_cache *c, const char *sha256)
{
	return store_path(c, sha256, true);
}

static bool store_has(const struct fetch_cache *c, const char *sha256, uint64_t size, bool index)
{
	cleanup_free char *p = store_path(c, sha256, index);
	cleanup_fd int fd = p ? open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	struct stat st;
	char hex[65];

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	/* A name proves nothing about what is in the file now; one of another
	 * size than asked for is either that (a file cut short: removed, or
	 * it would stay, as a link never replaces it) or a wrong size asked. */
	if (xb_hash_fd(XB_SHA256, fd, hex) == 0 && !strcmp(hex, sha256))
		return (uint64_t)st.st_size == size;
	xb_warn("cache %s: %s does not have the content its name says; removed, and "
	        "downloaded again", c->dir, p);
	unlink(p);
	return false;
}

bool fetch_cache_has(const struct fetch_cache *c, const char *sha256, uint64_t size)
{
	return store_has(c, sha256, size, false);
}

bool fetch_cache_has_index(const struct fetch_cache *c, const char *sha256, uint64_t size)
{
	return store_has(c, sha256, size, true);
}

void fetch_cache_keep_index(const struct fetch_cache *c, const char *path, const char *sha256)
{
	cleanup_free char *dst = store_path(c, sha256, true);
	if (!dst)
		return;
	/* A link names the whole file at once; EEXIST: another run kept it. */
	if (link(path, dst) == 0 || errno == EEXIST)
		return;
	if (errno != EXDEV && errno != EPERM) {
		xb_debug("cache %s: keeping the index %s: %s", c->dir, path, strerror(errno));
		return;
	}
	/* Elsewhere a copy, nameless until it is whole (as downloads are). */
	struct outfile of = OUTFILE_INIT;
	cleanup_fd int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in >= 0 && outfile_open(&of, dst, true) == 0 && xb_copy_fd(in, of.fd) == 0)
		outfile_commit(&of);
	outfile_release(&of);
}

char *fetch_cache_default_dir(void)
{
	if (geteuid() == 0)
		return xstrdup("/var/cache/xboot");
	const char *xdg = getenv("XDG_CACHE_HOME");
	if (xdg && xdg[0] == '/') /* relative values are to be ignored */
		return xasprintf("%s/xboot", xdg);
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw && pw->pw_dir ? pw->pw_dir : "/tmp";
	}
	return xasprintf("%s/.cache/xboot", home);
}
