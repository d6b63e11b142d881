/* contain: the containment mode and its enforcement (see contain.h). */
#include "contain.h"

#include "caps.h"
#include "idmap.h"
#include "mounts.h"
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>

static void close_binds(struct emu_contain *c)
{
	for (size_t i = 0; i < c->nbind; i++)
		if (c->bind_fd[i] >= 0)
			close(c->bind_fd[i]);
	free(c->bind_fd);
	c->bind_fd = NULL;
	c->nbind = 0;
}

void emu_contain_release(struct emu_contain *c)
{
	if (c->tree_fd >= 0)
		close(c->tree_fd);
	close_binds(c);
	emu_idrange_release(&c->range);
	free(c->why);
	*c = (struct emu_contain)EMU_CONTAIN_INIT;
}

/* The root, as a detached mount whose owners are mapped through userns:
 * with what is mounted below it when the file systems there can be
 * idmapped too, else alone.  nodev: a device node planted in the tree
 * opens nothing.  -errno (quietly) when DIR's file system cannot. */
static int idmapped_tree(const char *root, int userns, int *fd)
{
	struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NODEV,
		                .userns_fd = (uint64_t)userns };
	int r = 0;
	for (int rec = 1; rec >= 0; rec--) {
		unsigned int flags = rec ? AT_RECURSIVE : 0;
		int t = open_tree(AT_FDCWD, root, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | flags);
		if (t < 0)
			return -errno;
		if (mount_setattr(t, "", AT_EMPTY_PATH | flags, &a, sizeof(a)) == 0) {
			*fd = t;
			return 0;
		}
		r = -errno;
		close(t);
	}
	return r;
}

/* *userns gets the user namespace the tree's owners were mapped through. */
static int prepare_mapped(const char *root, struct emu_contain *c, int *userns)
{
	int r = emu_idrange_pick(root, &c->range, &c->why);
	if (r < 0)
		return r;
	if ((r = emu_idmap_userns(c->range.base, EMU_IDRANGE_SIZE, userns)) < 0) {
		c->why = xasprintf(r == -EPERM ? "user namespaces are refused here (chrooted?)"
		                               : "no user namespace for its ids: %s", strerror(-r));
		return r;
	}
	if ((r = idmapped_tree(root, *userns, &c->tree_fd)) < 0) {
		c->why = xasprintf("%s cannot be idmapped here (%s; Linux >= 5.12 and ext4, xfs, "
		                   "btrfs, tmpfs or overlayfs can)", root, strerror(-r));
		return r;
	}
	c->mode = EMU_CONTAIN_MAPPED;
	return 0;
}

/* spec's source as a detached mount with what is below it.  A file system
 * that cannot be idmapped is bound as it is: its files then show as
 * nobody's inside, as nspawn's binds without idmap do.  Reports errors. */
static int bind_source(const char *spec, int userns, bool ro, int *fd)
{
	cleanup_free char *src = emu_mounts_bind_src(spec);
	uint64_t attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ro ? MOUNT_ATTR_RDONLY : 0);
	int t = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (t < 0) {
		int r = -errno;
		xb_error("binding %s: %s", src, strerror(-r));
		return r;
	}
	struct mount_attr a = { .attr_set = attr | MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns };
	if (mount_setattr(t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0) {
		xb_debug("binding %s: no idmapped mount (%s); its owners show as nobody inside",
		         src, strerror(errno));
		a = (struct mount_attr){ .attr_set = attr };
		if (mount_setattr(t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0) {
			int r = -errno;
			xb_error("binding %s: setting nosuid, nodev%s: %s", src, ro ? ", ro" : "",
			         strerror(-r));
			close(t);
			return r;
		}
	}
	*fd = t;
	return 0;
}

static int prepare_binds(const struct strvec *binds, const struct strvec *ro_binds, int userns,
                         struct emu_contain *c)
{
	size_t nrw = binds ? binds->n : 0, nro = ro_binds ? ro_binds->n : 0;
	c->bind_fd = xcalloc(nrw + nro + 1, sizeof(*c->bind_fd));
	for (size_t i = 0; i < nrw + nro; i++) {
		bool ro = i >= nrw;
		int r = bind_source(ro ? ro_binds->v[i - nrw] : binds->v[i], userns, ro,
		                    &c->bind_fd[i]);
		if (r < 0)
			return r;
		c->nbind++;
	}
	return 0;
}

int emu_contain_prepare(const char *root, const struct strvec *binds, const struct strvec *ro_binds,
                        struct emu_contain *c)
{
	*c = (struct emu_contain)EMU_CONTAIN_INIT;
	if (!emu_idmap_is_host_root())
		return 0; /* UNPRIVILEGED: root inside is what xboot is */
	cleanup_fd int userns = -1;
	if (prepare_mapped(root, c, &userns) < 0) {
		emu_idrange_release(&c->range);
		c->mode = EMU_CONTAIN_IDENTITY;
		return 0;
	}
	int r = prepare_binds(binds, ro_binds, userns, c);
	if (r < 0)
		emu_contain_release(c);
	return r;
}

void emu_contain_no_userns(struct emu_contain *c, const char *why)
{
	if (c->tree_fd >= 0)
		close(c->tree_fd);
	c->tree_fd = -1;
	close_binds(c);
	emu_idrange_release(&c->range);
	free(c->why);
	c->why = xstrdup(why);
	c->mode = EMU_CONTAIN_REAL_ROOT;
}

void emu_contain_say(const struct emu_contain *c, const char *root, const char *how)
{
	static bool said;
	static const char kept[] = "masked /proc and /sys, locked mounts and no CAP_SYS_ADMIN or "
	                           "CAP_MKNOD keep it from the host";
	static const char kept_nons[] = "masked /proc and /sys and no CAP_SYS_ADMIN or CAP_MKNOD "
	                                "keep it from the host";
	const char *sep = how ? "; " : "", *more = how ? how : "";
	if (said)
		return;
	said = true;
	if (c->mode == EMU_CONTAIN_MAPPED)
		xb_debug("entering %s: root inside is host uid %lu, the tree seen through an idmapped "
		         "mount%s%s", root, c->range.base, sep, more);
	else if (c->mode == EMU_CONTAIN_UNPRIVILEGED)
		xb_debug("entering %s: a new user namespace, root inside is xboot's own user%s%s",
		         root, sep, more);
	else if (c->mode == EMU_CONTAIN_IDENTITY)
		xb_warn("entering %s: root inside is the host's root in a user namespace of its own, "
		        "as %s; %s%s%s", root, c->why, kept, sep, more);
	else
		xb_warn("no user namespace here (chrooted?): entering %s as real root in new "
		        "namespaces; %s%s%s", root, kept_nons, sep, more);
}

int emu_contain_lock(void)
{
	return emu_userns_enter(CLONE_NEWNS);
}

int emu_contain_caps(const struct emu_contain *c, uint64_t add, uint64_t drop)
{
	/* What the user adds is theirs to add, but never what no session
	 * holds (the kernel's, the clock, the LSMs), nor what only a root
	 * that is not the host's may hold. */
	bool host_root = c->mode == EMU_CONTAIN_IDENTITY || c->mode == EMU_CONTAIN_REAL_ROOT;
	uint64_t keep = ((emu_caps_default() | add) & ~emu_caps_forbidden()) & ~drop;
	return emu_caps_bound(host_root ? keep & ~emu_caps_host_root_forbidden() : keep);
}
