/* hooks: running the user's hooks (see hooks.h).  Commands run contained
 * (emu/launch); the special forms run here, as xboot, and never follow a
 * symlink of the tree out of it: what goes in is written by a writer
 * chrooted into the tree (core/pipeline/copy), what comes out is read
 * from paths resolved inside it, then handed to cp(1) or written as a
 * tarball (core/output). */
#include "hooks.h"

#include "../base/spawn.h"
#include "../base/inroot.h"
#include "../base/progress.h"
#include "../base/timings.h"
#include "copy.h"
#include "../output/output.h"
#include "../../emu/launch.h"
#include "../../emu/session.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
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

/* What a contained command runs: argv with the variables set, its
 * status returned. */
struct hook_cmd {
	char **argv;
	int root_arg; /* argv[root_arg] is the tree: the path the namespace sees it by */
	const struct hooks_env *env;
	const struct strvec *vars;
	int exe_fd;   /* an executable hook, opened by xboot: where its directory is the
	                 host root's alone, it runs as /dev/fd/N.  Else -1 */
};

/* mmdebstrap's MMDEBSTRAP_APT_CONFIG: the host's apt on the tree at root,
 * as the namespace sees it.  Returns the file's path (caller frees), or
 * NULL (reported). */
static char *write_apt_config(const struct hooks_env *e, const char *root)
{
	const char *dir = emu_launch_scratch ? emu_launch_scratch : e->workdir;
	char *path = xasprintf("%s/apt.conf", dir);
	cleanup_free char *text = xasprintf(
		"Apt::Architecture \"%s\";\nApt::Architectures \"%s\";\nDir \"%s/\";\n"
		"Dir::State::Status \"%s/var/lib/dpkg/status\";\nDPkg::Chroot-Directory \"%s\";\n",
		e->arch_name, e->arch_name, root, root, root);
	int r = xb_write_file_at(AT_FDCWD, path, text, strlen(text), 0644);
	if (r < 0) {
		xb_error("writing %s: %s", path, strerror(-r));
		free(path);
		return NULL;
	}
	return path;
}

static int hook_child(void *ctx)
{
	const struct hook_cmd *c = ctx;
	struct spawn_opts o = SPAWN_OPTS_INIT;
	int status = 0;
	char exe[32];
	cleanup_free char *apt = write_apt_config(c->env, emu_launch_root_path);
	if (!apt)
		return 125;
	c->argv[c->root_arg] = (char *)emu_launch_root_path;
	if (c->exe_fd >= 0 && access(c->argv[0], X_OK) < 0) {
		snprintf(exe, sizeof(exe), "/dev/fd/%d", c->exe_fd);
		fcntl(c->exe_fd, F_SETFD, 0); /* a script's interpreter opens it */
		c->argv[0] = exe;
	}
	for (size_t i = 0; i < c->vars->n; i++)
		putenv(c->vars->v[i]);
	setenv("MMDEBSTRAP_APT_CONFIG", apt, 1);
	setenv("XBOOT_APT_CONFIG", apt, 1);
	o.in_fd = -2;
	xb_spawn(c->argv, &o, &status);
	return status;
}

/* mmdebstrap's variables for hooks, under its names and xboot's (the apt
 * configuration's is set where the hook runs). */
static void hook_vars(const struct hooks_env *e, const char *kind, struct strvec *v)
{
	static const char *const prefixes[] = { "MMDEBSTRAP_", "XBOOT_" };
	cleanup_strbuf struct strbuf self = STRBUF_INIT;
	if (xb_readlink_at(AT_FDCWD, "/proc/self/exe", &self) < 0)
		strbuf_addstr(&self, "xboot");
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		const char *p = prefixes[i];
		strvec_pushf(v, "%sHOOK=%s", p, kind);
		strvec_pushf(v, "%sMODE=%s", p, e->mode);
		strvec_pushf(v, "%sFORMAT=%s", p, e->format);
		strvec_pushf(v, "%sVERBOSITY=%d", p, xb_verbosity);
		strvec_pushf(v, "%sARGV0=%s", p, self.buf);
	}
}

/* A hook's command in the contained namespaces: on the host's files
 * (host_view), or with chrooted inside the tree as `enter` runs it. */
static int run_contained(const struct hooks_env *e, const char *kind, char **argv, int root_arg,
                         int exe_fd, bool chrooted, const char *what)
{
	struct emu_launch_opts lo = EMU_LAUNCH_OPTS_INIT;
	cleanup_strvec struct strvec vars = STRVEC_INIT;
	struct emu_session s = { STRVEC_INIT, STRVEC_INIT, "/", NULL };
	int code = 0, r;
	lo.root = e->root;
	lo.arch = e->arch;
	lo.keep_tmp = true;
	lo.kill_on_signal = true;
	lo.seccomp = true;
	lo.host_view = !chrooted;
	hook_vars(e, kind, &vars);
	if (chrooted) {
		strvec_pushl(&s.argv, "/bin/sh", "-c", argv[2], NULL);
		strvec_pushv(&s.env, &vars);
		r = emu_launch_run(&lo, emu_session_run, &s, &code);
		strvec_clear(&s.argv);
		strvec_clear(&s.env);
	} else {
		struct hook_cmd c = { argv, root_arg, e, &vars, exe_fd };
		r = emu_launch_run(&lo, hook_child, &c, &code);
	}
	if (r < 0)
		return r;
	if (xb_interrupted || code == 130)
		return -XB_EINTR;
	if (code > 128 && code - 128 < SIGRTMIN)
		xb_error("the %s hook '%s' was killed by signal %d (%s)", kind, what, code - 128,
		         strsignal(code - 128));
	else if (code && code != 125 && code != 126 && code != 127)
		xb_error("the %s hook '%s' failed (exit status %d)", kind, what, code);
	return code ? -XB_ECHILD : 0;
}

/* Host-side commands (cp for copy-out) run as xboot. */
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

/* copy-out SRC... DST, sync-out SRC DST and download SRC DST: the
 * sources resolved inside the tree, copied to the host's DST with cp -a
 * (a directory's contents for sync). */
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

/* tar-out DIR FILE: DIR of the tree as a tarball on the host, written as
 * xboot writes its own (numeric owners, sorted); FILE's name picks the
 * compression, a plain tar otherwise. */
static int tar_out(const struct strvec *words, const char *target, const char *hook)
{
	cleanup_free char *src = inside(target, words->v[1], hook);
	enum output_format f = OUTPUT_TAR;
	if (!src)
		return -XB_EUNSAFE;
	if (output_format_of_target(words->v[2], &f) < 0 || !output_format_is_stream(f))
		f = OUTPUT_TAR;
	return output_write(src, words->v[2], f, NULL);
}

static const struct {
	const char *name;
	bool in, sync;
	size_t words; /* 0: two or more paths */
} forms[] = {
	{ "copy-in", true, false, 0 },   { "copy-out", false, false, 0 },
	{ "sync-in", true, true, 3 },    { "sync-out", false, true, 3 },
	{ "tar-in", true, false, 3 },    { "tar-out", false, false, 3 },
	{ "upload", true, false, 3 },    { "download", false, false, 3 },
};

static int find_form(const char *cmd)
{
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		size_t n = strlen(forms[i].name);
		if (!strncmp(cmd, forms[i].name, n) && (cmd[n] == ' ' || cmd[n] == '\t'))
			return (int)i;
	}
	return -1;
}

bool hooks_read_host(const struct hooks *h, enum hook_kind k)
{
	for (size_t i = 0; i < h->cmds[k].n; i++) {
		int form = find_form(h->cmds[k].v[i]);
		if (form >= 0 && forms[form].in)
			return true;
	}
	return false;
}

/* The special forms, run by xboot itself: the in forms from the host
 * into the tree (through core/pipeline/copy's writer), the out forms the
 * other way (sources resolved inside the tree). */
static int run_special(int form, const char *cmd, const char *target, const char *hook)
{
	cleanup_strvec struct strvec words = STRVEC_INIT;
	strvec_split(&words, cmd, " \t");
	const char *name = forms[form].name;
	if (words.n < 3 || (forms[form].words && words.n != forms[form].words)) {
		xb_error("the %s hook '%s': expected %s SRC%s DST", hook, cmd, name,
		         forms[form].words ? "" : "...");
		return -XB_EUSAGE;
	}
	cleanup_free char *what = xasprintf("the %s hook '%s'", hook, cmd);
	const char *dst = words.v[words.n - 1];
	if (!strcmp(name, "tar-in"))
		return copy_tar_into_tree(target, words.v[1], dst, what);
	if (!strcmp(name, "tar-out"))
		return tar_out(&words, target, hook);
	if (!forms[form].in)
		return copy_out(&words, target, hook, cmd, forms[form].sync);
	return copy_into_tree(target, words.v + 1, words.n - 2, dst, forms[form].sync, what);
}

/* An executable as the hook: run as `FILE TARGET`. */
static int run_exe(const struct hooks_env *e, const char *kind, const char *path)
{
	cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *argv[] = { (char *)path, (char *)e->root, NULL };
	if (fd < 0) {
		xb_error("the %s hook %s: %s", kind, path, strerror(errno));
		return -errno;
	}
	return run_contained(e, kind, argv, 1, fd, false, path);
}

/* scandir() filters take no context: the kind being run is here. */
static const char *scan_kind;
static int scan_filter(const struct dirent *d)
{
	return d->d_name[0] != '.' && str_starts_with(d->d_name, scan_kind);
}

static int run_dir(const char *dir, enum hook_kind k, const struct hooks_env *e)
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
		cleanup_free char *abs = realpath(path, NULL);
		struct stat st;
		if (!r && abs && stat(abs, &st) == 0 && S_ISREG(st.st_mode) && access(abs, X_OK) == 0) {
			xb_info("running the %s hook %s", kind_names[k], abs);
			r = run_exe(e, kind_names[k], abs);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

/* A command: a special form, a --chrooted-*-hook, a file to run with the
 * tree as $1 (as mmdebstrap runs an executable given as the hook), or
 * shell code. */
static int run_cmd(const char *cmd, enum hook_kind k, const struct hooks_env *e)
{
	const char *kind = kind_names[k];
	bool chrooted = cmd[0] == HOOK_CHROOTED;
	int form = chrooted ? -1 : find_form(cmd);
	struct stat st;
	cmd += chrooted;
	xb_info("running the %s%s hook '%s'", chrooted ? "chrooted " : "", kind, cmd);
	if (form >= 0)
		return run_special(form, cmd, e->root, kind);
	if (!chrooted && strchr(cmd, '/') && !strpbrk(cmd, " \t") && stat(cmd, &st) == 0 &&
	    S_ISREG(st.st_mode) && access(cmd, X_OK) == 0) {
		return run_exe(e, kind, cmd);
	}
	char *argv[] = { "sh", "-c", (char *)cmd, "sh", (char *)e->root, NULL };
	return run_contained(e, kind, argv, 4, -1, chrooted, cmd);
}

int hooks_run(const struct hooks *h, enum hook_kind k, const struct hooks_env *e)
{
	int r = 0;
	long long t0 = progress_now_ms();
	for (size_t i = 0; !r && i < h->cmds[k].n; i++)
		r = run_cmd(h->cmds[k].v[i], k, e);
	for (size_t i = 0; !r && i < h->dirs.n; i++)
		r = run_dir(h->dirs.v[i], k, e);
	if (h->cmds[k].n || h->dirs.n) {
		cleanup_free char *phase = xasprintf("%s hooks", kind_names[k]);
		timings_since(phase, t0);
	}
	return r;
}
