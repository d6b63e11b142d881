/* caps: the capabilities a sandbox's command may have — at most
 * systemd-nspawn's default set (never CAP_SYS_MODULE, CAP_SYS_RAWIO,
 * CAP_SYS_TIME, CAP_MAC_*, CAP_SYSLOG, CAP_BPF, CAP_PERFMON), fewer where
 * inside root is the host's (no CAP_SYS_ADMIN, CAP_MKNOD: nothing inside
 * may undo the masks), with the user's --capability and --drop-capability
 * applied — enforced through the bounding set, which exec keeps. */
#ifndef XB_EMU_CAPS_H
#define XB_EMU_CAPS_H

#include "../core/base/util.h"

/* nspawn's default set, as a mask of 1 << CAP_*. */
uint64_t emu_caps_default(void);
/* What a command that is the host's root (identity map, or no user
 * namespace) may never have. */
uint64_t emu_caps_host_root_forbidden(void);
/* What no command may have, whatever the user adds. */
uint64_t emu_caps_forbidden(void);

/* Parses "CAP_A,cap_b,all" into *mask; reports an unknown name
 * (-XB_EUSAGE), naming opt. */
int emu_caps_parse(const char *opt, const char *list, uint64_t *mask);

/* Drops every capability not in keep from the bounding set and the
 * ambient and inheritable sets of the calling thread.  Reports errors. */
int emu_caps_bound(uint64_t keep);

#endif
