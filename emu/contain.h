/* contain: how far a sandbox's command is kept from the host — decided by
 * emu_launch_run() before the sandbox starts, enforced once its root is
 * set up.
 *
 * The strongest, when xboot is the host's root: root inside is an
 * unprivileged range of host ids (emu/idrange), and the tree is seen
 * through an idmapped mount of it, so that files keep the owners real root
 * would give them.  When xboot is no host root (an ordinary user, unshare
 * mode, xboot inside a sandbox of its own), root inside is whatever xboot
 * is.  Where an idmapped mount or a user namespace cannot be had, root
 * inside is the host's root, and one warning says so and why.  In every
 * mode the masks of emu/mounts, the capability bounds of emu/caps and
 * mounts locked by a user namespace of the command's own keep it from
 * undoing any of this. */
#ifndef XB_EMU_CONTAIN_H
#define XB_EMU_CONTAIN_H

#include "idrange.h"
#include "../core/base/strvec.h"

enum emu_contain_mode {
	EMU_CONTAIN_MAPPED,       /* root inside: an unprivileged host range */
	EMU_CONTAIN_UNPRIVILEGED, /* xboot itself is no host root */
	EMU_CONTAIN_IDENTITY,     /* the host's root, in a user namespace of its own */
	EMU_CONTAIN_REAL_ROOT,    /* the host's root, no user namespace (xboot chrooted) */
};

struct emu_contain {
	enum emu_contain_mode mode;
	struct emu_idrange range; /* MAPPED */
	int tree_fd;              /* MAPPED: the detached idmapped mount of the root, or -1 */
	char *why;                /* why the mode is not MAPPED though xboot is host root */
	/* MAPPED: each bind's source (the binds, then the read-only ones) as a
	 * detached mount, idmapped like the tree where its file system can
	 * be, nosuid, nodev, read-only as asked.  The sandbox's root cannot
	 * reach them by path (root-only directories on the way are not its),
	 * nor idmap a host mount.  NULL otherwise. */
	int *bind_fd;
	size_t nbind;
};
#define EMU_CONTAIN_INIT { EMU_CONTAIN_UNPRIVILEGED, EMU_IDRANGE_INIT, -1, NULL, NULL, 0 }
void emu_contain_release(struct emu_contain *c);

/* Before the sandbox starts: the mode xboot can have for root, and in
 * MAPPED mode the sources of binds and ro_binds ("SRC[:DST]", either may be
 * NULL).  Falling back is no error; -errno for a bind source that cannot
 * be opened, or what should never fail (reported). */
int emu_contain_prepare(const char *root, const struct strvec *binds, const struct strvec *ro_binds,
                        struct emu_contain *c);
/* The sandbox got no user namespace: real root, for this reason. */
void emu_contain_no_userns(struct emu_contain *c, const char *why);
/* Says, once per process, which protection is in force, with how (may be
 * NULL: what else to know, e.g. how emulators run): a warning where root
 * inside is the host's root, a -v line otherwise. */
void emu_contain_say(const struct emu_contain *c, const char *root, const char *how);

/* In the sandbox's init, its root in place: a user namespace and a mount
 * namespace of its own, so that every mount it inherits is locked (the
 * read-only ones stay read-only, the masks stay, nodev and nosuid stay).
 * Reports errors. */
int emu_contain_lock(void);
/* Then the capability bounding set: nspawn's default set with add and
 * without drop; never, for the host's root, what emu/caps forbids it.
 * Reports errors. */
int emu_contain_caps(const struct emu_contain *c, uint64_t add, uint64_t drop);

#endif
