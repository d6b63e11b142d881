/* enter: the decisions of `xboot enter` (see enter.h). */
#include "enter.h"

#include "../../emu/caps.h"
#include "../../emu/launch.h"
#include "../../emu/session.h"

void enter_opts_release(struct enter_opts *o)
{
	strvec_clear(&o->argv);
	strvec_clear(&o->env);
	strvec_clear(&o->binds);
	strvec_clear(&o->ro_binds);
	strvec_clear(&o->caps_add);
	strvec_clear(&o->caps_drop);
}

/* The union of the lists, each "CAP_A,CAP_B" or "all". */
static int parse_caps(const char *opt, const struct strvec *lists, uint64_t *mask)
{
	*mask = 0;
	for (size_t i = 0; i < lists->n; i++) {
		uint64_t m;
		int r = emu_caps_parse(opt, lists->v[i], &m);
		if (r < 0)
			return r;
		*mask |= m;
	}
	return 0;
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
	int r = parse_caps("capability", &o->caps_add, &lo.caps_add);
	if (r == 0)
		r = parse_caps("drop-capability", &o->caps_drop, &lo.caps_drop);
	return r < 0 ? r : emu_launch_run(&lo, emu_session_run, &s, code);
}
