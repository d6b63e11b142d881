/* secondstage: preinst scripts and dpkg --configure inside the target. */
#include "secondstage.h"

#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

static const char policy_rc_d[] = "#!/bin/sh\n# written by xboot for the bootstrap; removed after it\nexit 101\n";

int secondstage_prepare(const char *target)
{
	cleanup_free char *dir = xasprintf("%s/usr/sbin", target);
	int r = xb_mkdir_p_at(AT_FDCWD, dir, 0755);
	cleanup_free char *path = xasprintf("%s/policy-rc.d", dir);
	if (!r)
		r = xb_write_file_at(AT_FDCWD, path, policy_rc_d, sizeof(policy_rc_d) - 1, 0755);
	if (r)
		xb_error("writing %s: %s", path, strerror(-r));
	return r;
}

int secondstage_cleanup(const char *target)
{
	cleanup_free char *path = xasprintf("%s/usr/sbin/policy-rc.d", target);
	if (unlink(path) < 0 && errno != ENOENT) {
		xb_error("removing %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static void base_env(struct strvec *env)
{
	strvec_pushl(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	             "HOME=/root", "LC_ALL=C.UTF-8", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive",
	             "DEBCONF_NONINTERACTIVE_SEEN=true", "DPKG_ADMINDIR=/var/lib/dpkg", "DPKG_ROOT=",
	             "TERM=dumb", NULL);
}

static const char *dpkg_version(const struct secondstage *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->pkgs[i].name, "dpkg"))
			return s->pkgs[i].version;
	return "";
}

static int run(const struct secondstage *s, char *const *argv, char *const *envp, const char *what)
{
	struct spawn_opts o = SPAWN_OPTS_INIT;
	int status;
	o.envp = envp;
	o.in_fd = -2;
	if (s->log_fd >= 0 && xb_verbosity < 2)
		o.out_fd = o.err_fd = s->log_fd;
	int r = xb_spawn(argv, &o, &status);
	if (r == -XB_ECHILD && status != 126 && status != 127)
		xb_error("%s failed (exit status %d)%s", what, status,
		         s->log_fd >= 0 && xb_verbosity < 2 ? "; its output is in /var/log/xboot.log" : "");
	return r;
}

static int run_preinst(const struct secondstage *s, const struct xb_pkg *p)
{
	bool same = p->multi_arch && !strcmp(p->multi_arch, "same");
	cleanup_free char *script = same ? xasprintf("/var/lib/dpkg/info/%s:%s.preinst", p->name, p->arch)
	                                 : xasprintf("/var/lib/dpkg/info/%s.preinst", p->name);
	if (access(script, F_OK) < 0)
		return 0;
	cleanup_strvec struct strvec env = STRVEC_INIT;
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	base_env(&env);
	strvec_pushf(&env, "DPKG_MAINTSCRIPT_PACKAGE=%s", p->name);
	strvec_pushf(&env, "DPKG_MAINTSCRIPT_ARCH=%s", p->arch);
	strvec_push(&env, "DPKG_MAINTSCRIPT_NAME=preinst");
	strvec_push(&env, "DPKG_MAINTSCRIPT_PACKAGE_REFCOUNT=1");
	strvec_pushf(&env, "DPKG_RUNNING_VERSION=%s", dpkg_version(s));
	strvec_pushl(&argv, script, "install", NULL);
	cleanup_free char *what = xasprintf("the preinst script of %s", p->name);
	return run(s, argv.v, env.v, what);
}

int secondstage_run(void *ctx)
{
	const struct secondstage *s = ctx;
	cleanup_strvec struct strvec env = STRVEC_INIT;
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	int r;

	base_env(&env);
	if (s->part == SECONDSTAGE_REST)
		goto rest;
	for (size_t i = 0; i < s->n; i++) {
		if (xb_interrupted)
			return 130;
		if ((r = run_preinst(s, &s->pkgs[i])) < 0)
			return 1;
	}
	/* The essential set first: the other packages' scripts may use it
	 * without declaring so.  Its libraries are unpacked already, so
	 * configuring it before them is safe. */
	strvec_pushl(&argv, "dpkg", "--force-depends", "--configure", NULL);
	size_t n0 = argv.n;
	for (size_t i = 0; i < s->n; i++)
		if (s->pkgs[i].essential)
			strvec_push(&argv, s->pkgs[i].name);
	if (argv.n > n0 && run(s, argv.v, env.v, "configuring the essential packages") < 0)
		return 1;
	if (s->part == SECONDSTAGE_ESSENTIAL)
		return xb_interrupted ? 130 : 0;
rest:
	strvec_clear(&argv);
	strvec_pushl(&argv, "dpkg", "--configure", "--pending", NULL);
	if (run(s, argv.v, env.v, "configuring the packages") < 0)
		return 1;
	return xb_interrupted ? 130 : 0;
}
