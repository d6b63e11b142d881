/* idmap: identity maps for root, the user (and subordinate ranges) for an
 * ordinary user. */
#include "idmap.h"
#include "../core/base/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int write_proc(pid_t pid, const char *file, const char *text)
{
	cleanup_free char *path = xasprintf("/proc/%ld/%s", (long)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r = fd < 0 ? -errno : xb_write_all(fd, text, strlen(text));
	if (fd >= 0)
		close(fd);
	if (r < 0)
		xb_error("writing %s: %s", path, strerror(-r));
	return r;
}

bool emu_idmap_find_entry(const char *file, bool (*match)(const struct strvec *f, void *ctx),
                          void *ctx)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_strvec struct strvec lines = STRVEC_INIT;
	if (xb_read_file(file, &sb) < 0)
		return false;
	strvec_split(&lines, sb.buf, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		cleanup_strvec struct strvec f = STRVEC_INIT;
		strvec_split(&f, lines.v[i], ":");
		if (match(&f, ctx))
			return true;
	}
	return false;
}

struct subid_want {
	const char *id, *name;          /* the user, by id or by name (may be NULL) */
	unsigned long start, count;     /* what its first line gives */
};

static bool subid_line(const struct strvec *f, void *ctx)
{
	struct subid_want *w = ctx;
	if (f->n != 3 || (strcmp(f->v[0], w->id) && (!w->name || strcmp(f->v[0], w->name))))
		return false;
	w->start = strtoul(f->v[1], NULL, 10);
	w->count = strtoul(f->v[2], NULL, 10);
	return true;
}

/* The first range of /etc/subuid or /etc/subgid for the user, if any. */
static bool subid_range(const char *file, unsigned long id, const char *name,
			unsigned long *start, unsigned long *count)
{
	cleanup_free char *idstr = xasprintf("%lu", id);
	struct subid_want w = { idstr, name, 0, 0 };
	if (!emu_idmap_find_entry(file, subid_line, &w))
		return false;
	*start = w.start;
	*count = w.count > 65536 ? 65536 : w.count;
	return *count > 0;
}

/* Non-root: the user becomes 0, and with newuidmap and a subordinate
 * range 1..65536 map onto that range too; else only the user is mapped. */
static int map_user(pid_t pid, const char *tool, const char *file, unsigned long id,
		    const char *name, bool *mapped)
{
	unsigned long start, count;
	*mapped = false;
	if (access(tool, X_OK) < 0 || !subid_range(file, id, name, &start, &count))
		return 0;
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	strvec_pushl(&argv, tool, NULL);
	strvec_pushf(&argv, "%ld", (long)pid);
	strvec_pushl(&argv, "0", NULL);
	strvec_pushf(&argv, "%lu", id);
	strvec_pushl(&argv, "1", "1", NULL);
	strvec_pushf(&argv, "%lu", start);
	strvec_pushf(&argv, "%lu", count);
	int st;
	int r = xb_spawn(argv.v, NULL, &st);
	if (r == -XB_ECHILD && st != 126 && st != 127) /* else xb_spawn said why */
		xb_error("mapping ids with %s: exit status %d", tool, st);
	if (r < 0)
		return r;
	*mapped = true;
	return 0;
}

/* Our own map (/proc/self/uid_map or gid_map) turned into the identity
 * over the same ids: in the initial namespace "0 0 4294967295", nested
 * only what the outer namespace gave us.  *has5: gid 5 is among them. */
static char *identity_map(const char *file, bool *has5)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_strvec struct strvec lines = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT;
	*has5 = false;
	if (xb_read_file(file, &sb) < 0)
		return xstrdup("0 0 4294967295\n");
	strvec_split(&lines, sb.buf, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		unsigned long in, outside, count;
		if (sscanf(lines.v[i], "%lu %lu %lu", &in, &outside, &count) != 3)
			continue;
		strbuf_addf(&out, "%lu %lu %lu\n", in, in, count);
		if (in <= 5 && 5 - in < count)
			*has5 = true;
	}
	return strbuf_detach(&out);
}

int emu_idmap_write(pid_t pid, bool *gid5)
{
	int r;
	*gid5 = false;
	if (geteuid() == 0) {
		/* Identity: files in the root keep their real owners. */
		bool unused;
		cleanup_free char *u = identity_map("/proc/self/uid_map", &unused);
		cleanup_free char *g = identity_map("/proc/self/gid_map", gid5);
		r = write_proc(pid, "uid_map", u);
		return r < 0 ? r : write_proc(pid, "gid_map", g);
	}
	/* The host's name for the user: /etc/subuid may list either. */
	struct passwd *pw = getpwuid(geteuid());
	const char *name = pw ? pw->pw_name : getenv("USER");
	bool umapped, gmapped;
	r = map_user(pid, "/usr/bin/newuidmap", "/etc/subuid", geteuid(), name, &umapped);
	if (r == 0)
		r = map_user(pid, "/usr/bin/newgidmap", "/etc/subgid", getegid(), name, &gmapped);
	if (r < 0)
		return r;
	cleanup_free char *u = xasprintf("0 %lu 1\n", (unsigned long)geteuid());
	cleanup_free char *g = xasprintf("0 %lu 1\n", (unsigned long)getegid());
	if (!umapped && (r = write_proc(pid, "uid_map", u)) < 0)
		return r;
	if (!gmapped && ((r = write_proc(pid, "setgroups", "deny")) < 0 ||
			 (r = write_proc(pid, "gid_map", g)) < 0))
		return r;
	*gid5 = gmapped;
	return 0;
}

bool emu_idmap_subid_range(const char *file, unsigned long id, const char *name)
{
	unsigned long start, count;
	return subid_range(file, id, name, &start, &count);
}

int emu_idmap_write_range(pid_t pid, unsigned long base, unsigned long size)
{
	cleanup_free char *map = xasprintf("0 %lu %lu\n", base, size);
	int r = write_proc(pid, "uid_map", map);
	return r < 0 ? r : write_proc(pid, "gid_map", map);
}

int emu_idmap_userns(unsigned long base, unsigned long size, int *fd)
{
	int go[2], ready[2], st;
	char c = 0;
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0) {
		xb_error("creating a user namespace for an idmapped mount: pipe: %s", strerror(errno));
		return -errno;
	}
	pid_t h = fork();
	if (h == 0) {
		/* Unshared, then waiting until its maps are written and the fd
		 * opened: the namespace outlives it through the fd.  The
		 * parent's ends closed, so that its death is an EOF. */
		close(go[1]);
		close(ready[0]);
		bool ok = unshare(CLONE_NEWUSER) == 0 && write(ready[1], "u", 1) == 1;
		_exit(ok && read(go[0], &c, 1) >= 0 ? 0 : 1);
	}
	close(go[0]);
	close(ready[1]);
	int r = h < 0 ? -errno : read(ready[0], &c, 1) == 1 ? 0 : -EPERM;
	cleanup_free char *ns = xasprintf("/proc/%ld/ns/user", (long)h);
	if (!r && (r = emu_idmap_write_range(h, base, size)) == 0 &&
	    (*fd = open(ns, O_RDONLY | O_CLOEXEC)) < 0) {
		r = -errno;
		xb_error("opening %s: %s", ns, strerror(errno));
	}
	close(go[1]);
	close(ready[0]);
	if (h > 0)
		xb_waitpid(h, &st);
	return r;
}

bool emu_idmap_is_host_root(void)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	unsigned long in, out, count;
	if (geteuid() != 0 || xb_read_file("/proc/self/uid_map", &sb) < 0)
		return false;
	return sscanf(sb.buf, "%lu %lu %lu", &in, &out, &count) == 3 && in == 0 && out == 0 &&
	       count == 4294967295ul;
}
