/* idrange: picking and locking a host id range (see idrange.h). */
#include "idrange.h"
#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#define FIRST 0x80000ul
#define LAST 0x6fff0000ul
#define LOCK_DIR "/run/xboot/idrange"
#define MAX_TRIES 4096 /* slots looked at before giving up */

static const char *const passwd_files[] = { "/etc/passwd", "/etc/group", NULL };
static const char *const subid_files[] = { "/etc/subuid", "/etc/subgid", NULL };

static bool overlaps(unsigned long a, unsigned long n, unsigned long b, unsigned long m)
{
	return a < b + m && b < a + n;
}

struct range_want {
	unsigned long base, count; /* the range looked at */
	size_t field;              /* the 0-based field with the id */
	bool ranged;               /* the next field is a count */
};

static bool uses_range(const struct strvec *f, void *ctx)
{
	const struct range_want *w = ctx;
	if (f->n <= w->field + w->ranged)
		return false;
	unsigned long id = strtoul(f->v[w->field], NULL, 10);
	unsigned long n = w->ranged ? strtoul(f->v[w->field + 1], NULL, 10) : 1;
	return overlaps(w->base, w->count, id, n);
}

/* Does a line of the file use ids of the range? */
static bool file_uses(const char *file, size_t field, bool ranged, unsigned long base,
                      unsigned long count)
{
	struct range_want w = { base, count, field, ranged };
	return emu_idmap_find_entry(file, uses_range, &w);
}

bool emu_idrange_in_use(unsigned long base, unsigned long count, const char *const *passwd,
                        const char *const *subid)
{
	for (size_t i = 0; passwd[i]; i++)
		if (file_uses(passwd[i], 2, false, base, count))
			return true;
	for (size_t i = 0; subid[i]; i++)
		if (file_uses(subid[i], 1, true, base, count))
			return true;
	return false;
}

static uint64_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The range's lock file: free (then ours, for dir), or held for dir
 * already (then shared).  Returns the locked fd, or -1 when another DIR
 * holds it. */
static int take(unsigned long base, const char *dir)
{
	cleanup_free char *path = xasprintf(LOCK_DIR "/%lx", base);
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		if (ftruncate(fd, 0) == 0 && xb_write_all(fd, dir, strlen(dir)) == 0 &&
		    flock(fd, LOCK_SH) == 0)
			return fd;
	} else {
		cleanup_strbuf struct strbuf holder = STRBUF_INIT;
		if (xb_read_fd(fd, &holder) == 0 && !strcmp(holder.buf, dir) &&
		    flock(fd, LOCK_SH | LOCK_NB) == 0)
			return fd;
	}
	close(fd);
	return -1;
}

int emu_idrange_pick(const char *root, struct emu_idrange *r, char **why)
{
	cleanup_free char *dir = realpath(root, NULL);
	cleanup_fd int global = -1;
	const unsigned long slots = (LAST - FIRST) / EMU_IDRANGE_SIZE;
	*r = (struct emu_idrange)EMU_IDRANGE_INIT;
	if (!dir || xb_mkdir_p_at(AT_FDCWD, LOCK_DIR, 0700) < 0 ||
	    (global = open(LOCK_DIR "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(global, LOCK_EX) < 0) {
		*why = xasprintf("no lock for an id range in " LOCK_DIR ": %s", strerror(errno));
		return -errno;
	}
	unsigned long k0 = (unsigned long)(hash_path(dir) % slots);
	for (unsigned long i = 0; i < slots && i < MAX_TRIES; i++) {
		unsigned long base = FIRST + ((k0 + i) % slots) * EMU_IDRANGE_SIZE;
		if (emu_idrange_in_use(base, EMU_IDRANGE_SIZE, passwd_files, subid_files))
			continue;
		int fd = take(base, dir);
		if (fd >= 0) {
			*r = (struct emu_idrange){ base, fd };
			return 0;
		}
	}
	*why = xstrdup("every host id range looked at is in use");
	return -ENOSPC;
}

void emu_idrange_release(struct emu_idrange *r)
{
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	*r = (struct emu_idrange)EMU_IDRANGE_INIT;
}
