/* hooks: running the user's hooks (see hooks.h).  The special forms never
 * follow a symlink of the tree out of it: what goes in is written by a
 * writer chrooted into the tree (core/pipeline/copy), what comes out is
 * read from paths resolved inside it, then handed to cp(1). */
#include "hooks.h"

#include "../base/spawn.h"
#include "../base/inroot.h"
#include "copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

static const char *const kind_names[HOOK_NKINDS] = { "setup", "extract", "essential", "customize" };

bool hooks_any(const struct hooks *h, enum hook_kind k)
{
	return h->cmds[k].n > 0 || h->dirs.n > 0;
}

void hooks_release(struct hooks *h)
{
	for (int k = 0; k < HOOK_NKINDS; k++)
		strvec_clear(&h->cmds[k]);
	strvec_clear(&h->dirs);
}

/* The host path of PATH inside the tree, resolved inside it (caller
 * frees), or NULL with an error reported. */
static char *inside(const char *target, const char *path, const char *hook)
{
	cleanup_fd int rootfd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = rootfd < 0 ? -errno : inroot_open(rootfd, path, O_PATH, 0);
	if (fd < 0) {
		xb_error("%s hook: %s in %s: %s", hook, path, target, strerror(-fd));
		return NULL;
	}
	cleanup_free char *proc = xasprintf("/proc/self/fd/%d", fd);
	char *real = realpath(proc, NULL);
	close(fd);
	if (!real)
		xb_error("%s hook: %s in %s: %s", hook, path, target, strerror(errno));
	return real;
}

static int run_argv(char *const *argv, const char *hook, const char *what)
{
	int status = 0;
	struct spawn_opts o = SPAWN_OPTS_INIT;
	o.in_fd = -2;
	int r = xb_spawn(argv, &o, &status);
	if (r == -XB_ECHILD && status != 126 && status != 127)
		xb_error("the %s hook '%s' failed (exit status %d)", hook, what, status);
	return r;
}

/* copy-out SRC... DST and sync-out SRC DST: the sources resolved inside
 * the tree, copied to the host's DST with cp -a (a directory's contents
 * for sync). */
static int copy_out(const struct strvec *words, const char *target, const char *hook,
                    const char *cmd, bool sync)
{
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	strvec_pushl(&argv, "cp", "-a", "--", NULL);
	for (size_t i = 1; i + 1 < words->n; i++) {
		cleanup_free char *src = inside(target, words->v[i], hook);
		if (!src)
			return -XB_EUNSAFE;
		strvec_pushf(&argv, "%s%s", src, sync ? "/." : "");
	}
	strvec_push(&argv, words->v[words->n - 1]);
	return run_argv(argv.v, hook, cmd);
}

/* copy-in SRC... DST, copy-out SRC... DST, sync-in SRC DST, sync-out SRC
 * DST: the in forms copy from the host into the tree, the out forms the
 * other way; sync copies a directory's contents rather than itself. */
static int run_special(const char *cmd, const char *target, const char *hook)
{
	cleanup_strvec struct strvec words = STRVEC_INIT;
	strvec_split(&words, cmd, " \t");
	const char *form = words.v[0];
	bool in = !strcmp(form, "copy-in") || !strcmp(form, "sync-in");
	bool sync = !strncmp(form, "sync-", 5);
	if (words.n < 3 || (sync && words.n != 3)) {
		xb_error("the %s hook '%s': expected %s SRC%s DST", hook, cmd, form, sync ? "" : "...");
		return -XB_EUSAGE;
	}
	if (!in)
		return copy_out(&words, target, hook, cmd, sync);
	cleanup_free char *what = xasprintf("the %s hook '%s'", hook, cmd);
	return copy_into_tree(target, words.v + 1, words.n - 2, words.v[words.n - 1], sync, what);
}

static bool is_special(const char *cmd)
{
	static const char *const forms[] = { "copy-in ", "copy-out ", "sync-in ", "sync-out " };
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++)
		if (str_starts_with(cmd, forms[i]))
			return true;
	return false;
}

/* scandir() filters take no context: the kind being run is here. */
static const char *scan_kind;
static int scan_filter(const struct dirent *d)
{
	return d->d_name[0] != '.' && str_starts_with(d->d_name, scan_kind);
}

static int run_dir(const char *dir, enum hook_kind k, const char *target)
{
	struct dirent **names;
	scan_kind = kind_names[k];
	int n = scandir(dir, &names, scan_filter, alphasort), r = 0;
	if (n < 0) {
		xb_error("--hook-dir=%s: %s", dir, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		cleanup_free char *path = xasprintf("%s/%s", dir, names[i]->d_name);
		struct stat st;
		if (!r && stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0) {
			char *argv[] = { path, (char *)target, NULL };
			r = run_argv(argv, kind_names[k], path);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int hooks_run(const struct hooks *h, enum hook_kind k, const char *target)
{
	const char *kind = kind_names[k];
	int r = 0;
	for (size_t i = 0; !r && i < h->cmds[k].n; i++) {
		const char *cmd = h->cmds[k].v[i];
		xb_info("running the %s hook '%s'", kind, cmd);
		if (is_special(cmd)) {
			r = run_special(cmd, target, kind);
		} else {
			char *argv[] = { "sh", "-c", (char *)cmd, "sh", (char *)target, NULL };
			r = run_argv(argv, kind, cmd);
		}
	}
	for (size_t i = 0; !r && i < h->dirs.n; i++)
		r = run_dir(h->dirs.v[i], k, target);
	return r;
}
