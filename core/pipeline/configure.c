/* configure: the second stage around core/secondstage (see configure.h). */
#include "configure.h"

#include <string.h>

#include "../base/progress.h"
#include "../secondstage/secondstage.h"
#include "../../emu/emulator.h"
#include "../../emu/launch.h"

/* One launch of (part of) the second stage. */
static int launch_part(const struct emu_launch_opts *lo, struct secondstage *ss)
{
	int code = 0;
	int r = emu_launch_run(lo, secondstage_run, ss, &code);
	if (r)
		return r;
	if (xb_interrupted)
		return -XB_EINTR;
	if (code == 130)
		return -XB_EINTR;
	/* The second stage reports its own failures (and exits 1); a signal
	 * that killed it had nobody to say so. */
	if (code > 128)
		xb_error("the second stage was killed by signal %d (%s)", code - 128, strsignal(code - 128));
	return code ? -XB_ECHILD : 0;
}

/* The scripts, in one launch or, for an --essential-hook, two. */
static int run_scripts(const struct xb_plan *p, const struct hooks_env *he,
                       const struct emu_launch_opts *lo, struct secondstage *ss)
{
	int r = 0;
	if (hooks_any(&p->hooks, HOOK_ESSENTIAL)) {
		ss->part = SECONDSTAGE_ESSENTIAL;
		r = launch_part(lo, ss);
		if (!r)
			r = hooks_run(&p->hooks, HOOK_ESSENTIAL, he);
		ss->part = SECONDSTAGE_REST;
		ss->ready_fd = -1; /* the first part waited for the whole unpack */
	}
	return r ? r : launch_part(lo, ss);
}

int configure_prepare(const struct xb_plan *p, const char *root)
{
	int r;
	if (!emu_arch_is_native(p->arch)) {
		cleanup_free char *emu = NULL;
		if ((r = emu_emulator_find(p->arch, &emu)) < 0 ||
		    (r = emu_emulator_install(p->arch, emu, root)) < 0)
			return r;
		xb_info("running the second stage under %s", emu);
	}
	return secondstage_prepare(root);
}

int configure_tree(const struct xb_plan *p, const struct hooks_env *he, const struct xb_pkg *pkgs,
                   size_t n, int log_fd, const char *log_name, int ready_fd)
{
	const char *root = he->root;
	struct emu_launch_opts lo = EMU_LAUNCH_OPTS_INIT;
	struct secondstage ss = { pkgs, n, log_fd, log_name,
	                          (unsigned)(p->script_jobs > 0 ? p->script_jobs : xb_ncpus()),
	                          SECONDSTAGE_ALL, ready_fd };
	bool foreign = !emu_arch_is_native(p->arch);
	long long t0 = progress_now_ms();
	int r;

	lo.root = root;
	lo.arch = foreign ? p->arch : NULL;
	lo.keep_tmp = true;
	lo.hostname = "localhost";
	lo.kill_on_signal = true;
	/* Maintainer scripts come from whatever repository was named: the
	 * same filter as enter's. */
	lo.seccomp = true;
	r = run_scripts(p, he, &lo, &ss);
	if (!r)
		xb_info("configured %zu packages in %.1f s", n,
		        (double)(progress_now_ms() - t0) / 1000.0);
	return r;
}

int configure_done(const struct xb_plan *p, const char *root)
{
	int r = secondstage_cleanup(root);
	if (!r && !emu_arch_is_native(p->arch) && p->remove_emulator)
		r = emu_emulator_remove(p->arch, root);
	return r;
}
