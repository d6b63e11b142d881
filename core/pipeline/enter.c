/* enter: the decisions of `xboot enter` (see enter.h). */
#include "enter.h"

#include "../../emu/launch.h"
#include "../../emu/session.h"

void enter_opts_release(struct enter_opts *o)
{
	strvec_clear(&o->argv);
	strvec_clear(&o->env);
	strvec_clear(&o->binds);
	strvec_clear(&o->ro_binds);
}

int enter_run(const struct enter_opts *o, int *code)
{
	struct emu_launch_opts lo = EMU_LAUNCH_OPTS_INIT;
	/* The session borrows o's vectors; it runs in the namespace's child,
	 * so what it adds there never reaches this process. */
	struct emu_session s = { o->argv, o->env, o->workdir, o->user };
	const struct emu_arch *a = emu_arch_of_root(o->root);
	lo.root = o->root;
	lo.arch = a && !emu_arch_is_native(a) ? a : NULL;
	lo.all_emulators = true;
	lo.net_none = o->net_none;
	lo.resolv_conf = !o->net_none;
	lo.seccomp = !o->no_seccomp;
	lo.hostname = o->hostname;
	lo.binds = &o->binds;
	lo.ro_binds = &o->ro_binds;
	return emu_launch_run(&lo, emu_session_run, &s, code);
}
