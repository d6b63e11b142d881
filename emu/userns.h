/* userns: --mode=unshare.  The calling process becomes root of a new user
 * namespace, its user mapped to 0 and its subordinate range (/etc/subuid,
 * /etc/subgid) to 1..65536, so that an ordinary user's bootstrap gives
 * files their real owners as seen inside, and archives written from inside
 * carry them.  Everything after it (unpacking, the second stage, the
 * output) runs in that namespace. */
#ifndef XB_EMU_USERNS_H
#define XB_EMU_USERNS_H

#include "../core/base/util.h"

/* Checks what unshare mode needs (newuidmap, newgidmap, subordinate ranges
 * for an ordinary user) and enters the namespace.  Each missing piece gets
 * one error saying what to install or set.  Call before any thread. */
int emu_userns_become_root(void);

/* The calling process (single-threaded) becomes root of a new user
 * namespace, with the namespaces of flags (CLONE_NEWNS...) too; a helper
 * forked first writes its maps, each id it has onto itself (for root; an
 * ordinary user as emu_idmap_write maps one).  Reports errors. */
int emu_userns_enter(int flags);

#endif
