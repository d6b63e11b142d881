/* enter: the decisions of `xboot enter` (see enter.h). */
#include "enter.h"

#include "../../emu/caps.h"
#include "../../emu/launch.h"
#include "../../emu/overlay.h"
#include "../../emu/session.h"

#include <errno.h>

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

/* An image is unpacked in the session's own mount namespace, on an empty
 * directory made for it here (what a SIGKILL leaves is that empty
 * directory, nothing mounted). */
static int image_root(const char *image, char **dir)
{
	const char *tmp = getenv("TMPDIR");
	*dir = xasprintf("%s/xboot-enter-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(*dir))
		return 0;
	int r = -errno;
	xb_error("entering %s: creating %s: %s", image, *dir, strerror(-r));
	free(*dir);
	*dir = NULL;
	return r;
}

static int enter_in(const struct enter_opts *o, const char *dir, enum emu_image_kind kind, int *code)
{
	struct emu_launch_opts lo = EMU_LAUNCH_OPTS_INIT;
	/* The session borrows o's vectors; it runs in the namespace's child,
	 * so what it adds there never reaches this process. */
	struct emu_session s = { o->argv, o->env, o->workdir, o->user };
	const struct emu_arch *a = NULL;
	int ar = o->arch ? emu_arch_named(o->arch, &a) : emu_arch_detect(o->root, &a);
	if (ar < 0)
		return ar;
	lo.root = dir ? dir : o->root;
	lo.image = dir ? o->root : NULL;
	lo.image_kind = (int)kind;
	lo.ephemeral = o->ephemeral;
	lo.volatile_ = o->volatile_;
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

int enter_run(const struct enter_opts *o, int *code)
{
	enum emu_image_kind kind;
	cleanup_free char *dir = NULL;
	int r = emu_image_kind(o->root, &kind);
	if (r == 0 && kind != EMU_IMAGE_NONE)
		r = image_root(o->root, &dir);
	if (r < 0)
		return r;
	r = enter_in(o, dir, kind, code);
	if (dir && rmdir(dir) < 0)
		xb_warn("removing %s: %s", dir, strerror(errno));
	return r;
}
