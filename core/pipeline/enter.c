/* enter: the decisions of `xboot enter` (see enter.h). */
#include "enter.h"

#include "../../emu/caps.h"
#include "../../emu/launch.h"
#include "../../emu/overlay.h"
#include "../../emu/session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

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
 * directory made for it here and locked (flock) while the session runs.
 * What a SIGKILL leaves is that empty directory, nothing mounted; the
 * next session sweeps such directories of its user's away: unlocked, so
 * nobody's, in any PID namespace, and not just made (the lock is taken
 * right after mkdtemp). */
#define IMAGE_ROOT "xboot-enter-"

static void sweep_image_roots(const char *tmp)
{
	cleanup_fd int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int dup_fd = dfd < 0 ? -1 : dup(dfd);
	DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
	if (!d && dup_fd >= 0)
		close(dup_fd);
	time_t now = time(NULL);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (!str_starts_with(e->d_name, IMAGE_ROOT))
			continue;
		cleanup_fd int fd = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == geteuid() && st.st_mtime < now - 5 &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dfd, e->d_name, AT_REMOVEDIR) == 0)
			xb_debug("removed %s/%s, left by a session that was killed", tmp, e->d_name);
	}
	if (d)
		closedir(d);
}

static int image_root(const char *image, char **dir, int *lock)
{
	const char *tmp = getenv("TMPDIR");
	tmp = tmp && *tmp ? tmp : "/tmp";
	sweep_image_roots(tmp);
	*dir = xasprintf("%s/" IMAGE_ROOT "XXXXXX", tmp);
	int r = mkdtemp(*dir) ? 0 : -errno;
	struct stat st;
	if (r == 0 && ((*lock = open(*dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	               flock(*lock, LOCK_EX) < 0 || fstat(*lock, &st) < 0)) {
		r = -errno;
		rmdir(*dir);
	}
	/* swept before it was locked (a clock far off): gone, and said so */
	if (r == 0 && st.st_nlink == 0)
		r = -ESTALE;
	if (r == 0)
		return 0;
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
	cleanup_fd int lock = -1;
	int r = emu_image_kind(o->root, &kind);
	if (r == 0 && kind != EMU_IMAGE_NONE)
		r = image_root(o->root, &dir, &lock);
	if (r < 0)
		return r;
	r = enter_in(o, dir, kind, code);
	if (dir && rmdir(dir) < 0)
		xb_warn("removing %s: %s", dir, strerror(errno));
	return r;
}
