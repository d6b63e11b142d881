/* idmap: identity maps for root, the user (and subordinate ranges) for an
 * ordinary user. */
#include "idmap.h"
#include "../core/base/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>

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

/* The first range of /etc/subuid or /etc/subgid for the user, if any. */
static bool subid_range(const char *file, unsigned long id, const char *name,
			unsigned long *start, unsigned long *count)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_strvec struct strvec lines = STRVEC_INIT;
	cleanup_free char *idstr = xasprintf("%lu", id);
	if (xb_read_file(file, &sb) < 0)
		return false;
	strvec_split(&lines, sb.buf, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		cleanup_strvec struct strvec f = STRVEC_INIT;
		strvec_split(&f, lines.v[i], ":");
		if (f.n == 3 && (!strcmp(f.v[0], idstr) || (name && !strcmp(f.v[0], name)))) {
			*start = strtoul(f.v[1], NULL, 10);
			*count = strtoul(f.v[2], NULL, 10);
			if (*count > 65536)
				*count = 65536;
			return *count > 0;
		}
	}
	return false;
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
