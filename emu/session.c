/* session: the account from the root's own /etc/passwd and /etc/group
 * (read by hand: NSS modules from the root must not be loaded into xboot,
 * which may not even be of the root's architecture), then the command. */
#include "session.h"
#include "../core/base/inroot.h"
#include "../core/base/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>

#define CANNOT_START 125

/* One of the root's account files: a regular one, and not too large (a
 * FIFO or /dev/zero there would hang or fill this process). */
static int read_account_file(const char *path, struct strbuf *sb)
{
	cleanup_fd int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return root < 0 ? -errno : inroot_read_file(root, path, 64u << 20, sb);
}

struct account {
	uid_t uid;
	gid_t gid;
	char *name, *home, *shell; /* malloc'd; name may be NULL (a bare UID) */
};

static void account_release(struct account *a)
{
	free(a->name);
	free(a->home);
	free(a->shell);
}

static bool parse_id(const char *s, unsigned long *v)
{
	char *end;
	if (!*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !errno && !*end && *v < 4294967295UL;
}

/* The passwd line whose name (or uid, when spec is a number) is spec. */
static bool find_account(const char *spec, struct account *a)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_strvec struct strvec lines = STRVEC_INIT;
	unsigned long id;
	bool numeric = parse_id(spec, &id);
	if (read_account_file("etc/passwd", &sb) == 0)
		strvec_split(&lines, sb.buf, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		cleanup_strvec struct strvec f = STRVEC_INIT;
		unsigned long uid, gid;
		strvec_split(&f, lines.v[i], ":");
		if (f.n < 7 || !parse_id(f.v[2], &uid) || !parse_id(f.v[3], &gid))
			continue;
		if (numeric ? uid != id : strcmp(f.v[0], spec) != 0)
			continue;
		*a = (struct account){ (uid_t)uid, (gid_t)gid, xstrdup(f.v[0]), xstrdup(f.v[5]),
				       xstrdup(f.v[6]) };
		return true;
	}
	if (!numeric)
		return false;
	/* A uid the root does not know: its own group, no home. */
	*a = (struct account){ (uid_t)id, (gid_t)id, NULL, xstrdup("/"), xstrdup("/bin/sh") };
	return true;
}

/* The supplementary groups that list the user as a member. */
static size_t member_groups(const char *name, gid_t primary, gid_t *v, size_t max)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_strvec struct strvec lines = STRVEC_INIT;
	size_t n = 0;
	v[n++] = primary;
	if (!name || read_account_file("etc/group", &sb) < 0)
		return n;
	strvec_split(&lines, sb.buf, "\n");
	for (size_t i = 0; i < lines.n && n < max; i++) {
		cleanup_strvec struct strvec f = STRVEC_INIT;
		cleanup_strvec struct strvec members = STRVEC_INIT;
		unsigned long gid;
		strvec_split(&f, lines.v[i], ":");
		if (f.n < 4 || !parse_id(f.v[2], &gid) || (gid_t)gid == primary)
			continue;
		strvec_split(&members, f.v[3], ",");
		if (strvec_has(&members, name))
			v[n++] = (gid_t)gid;
	}
	return n;
}

/* Becomes the user for good; this process only waits for the command, so
 * nothing is lost by dropping root here. */
static int become(const struct account *a, const char *spec)
{
	gid_t groups[64];
	size_t n = member_groups(a->name, a->gid, groups, ARRAY_SIZE(groups));
	const char *what = "setgroups";
	/* Denied where the user namespace was made without newgidmap: then the
	 * process keeps the groups it has, which that namespace maps to none. */
	if (setgroups(n, groups) < 0 && errno != EPERM)
		goto fail;
	what = "setgid";
	if (setgid(a->gid) < 0)
		goto fail;
	what = "setuid";
	if (setuid(a->uid) < 0)
		goto fail;
	return 0;
fail:;
	int r = -errno;
	xb_error("--user=%s: %s(%lu): %s%s", spec, what,
		 (unsigned long)(what[3] == 'u' ? a->uid : a->gid), strerror(-r),
		 r == -EINVAL ? " (the id is not mapped in this user namespace)" : "");
	return r;
}

/* Without a command: the account's shell, else the first shell there is.
 * A firmware tree's /bin/sh may be missing or a link to nothing while its
 * busybox is there, which is a shell when called so. */
static int pick_shell(const struct account *a, struct strvec *argv)
{
	static const char *const shells[] = { "/bin/sh", "/bin/bash", "/bin/ash", "/usr/bin/bash",
		                              "/bin/busybox", "/usr/bin/busybox" };
	cleanup_strvec struct strvec tried = STRVEC_INIT;
	if (*a->shell)
		strvec_push(&tried, a->shell);
	for (size_t i = 0; i < ARRAY_SIZE(shells); i++)
		if (!strvec_has(&tried, shells[i]))
			strvec_push(&tried, shells[i]);
	for (size_t i = 0; i < tried.n; i++) {
		if (access(tried.v[i], X_OK) < 0)
			continue;
		strvec_push(argv, tried.v[i]);
		if (str_ends_with(tried.v[i], "/busybox"))
			strvec_push(argv, "sh");
		return 0;
	}
	cleanup_free char *list = strvec_join(&tried, ", ");
	xb_error("no shell in the root (looked for %s); give a command to run", list);
	return -ENOENT;
}

int emu_session_run(void *ctx)
{
	struct emu_session *s = ctx;
	struct account a = { 0 };
	struct strvec env = STRVEC_INIT;
	struct spawn_opts so = SPAWN_OPTS_INIT;
	const char *term = getenv("TERM");
	int status = CANNOT_START;

	if (!find_account(s->user ? s->user : "0", &a)) {
		if (s->user) {
			xb_error("--user=%s: no such user in the root's /etc/passwd", s->user);
			return CANNOT_START;
		}
		a = (struct account){ 0, 0, xstrdup("root"), xstrdup("/root"), xstrdup("/bin/sh") };
	}
	if (s->user && become(&a, s->user) < 0)
		goto out;
	strvec_pushl(&env, a.uid == 0 ? "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
				      : "PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games",
		     NULL);
	strvec_pushf(&env, "HOME=%s", a.home);
	strvec_pushf(&env, "USER=%s", a.name ? a.name : s->user);
	strvec_pushf(&env, "LOGNAME=%s", a.name ? a.name : s->user);
	strvec_pushf(&env, "SHELL=%s", a.shell);
	strvec_pushf(&env, "TERM=%s", term ? term : "dumb");
	/* Later entries win: getenv() takes the first, so drop overridden ones. */
	for (size_t i = 0; i < s->env.n; i++) {
		size_t k = strcspn(s->env.v[i], "=") + 1;
		for (size_t j = 0; j < env.n; j++)
			if (!strncmp(env.v[j], s->env.v[i], k)) {
				free(env.v[j]);
				env.v[j] = xstrdup(s->env.v[i]);
				k = 0;
				break;
			}
		if (k)
			strvec_push(&env, s->env.v[i]);
	}
	if (!s->argv.n && pick_shell(&a, &s->argv) < 0)
		goto out;
	so.envp = env.v;
	so.cwd = s->workdir ? s->workdir : access(a.home, X_OK) == 0 ? a.home : "/";
	xb_spawn(s->argv.v, &so, &status);
out:
	strvec_clear(&env);
	account_release(&a);
	return status;
}
