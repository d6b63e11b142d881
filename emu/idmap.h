/* idmap: the uid and gid maps emu_launch_run() writes for its new user
 * namespace, from the parent, after the child has unshared. */
#ifndef XB_EMU_IDMAP_H
#define XB_EMU_IDMAP_H

#include "../core/base/util.h"

/* Writes /proc/PID/{uid_map,setgroups,gid_map} for the user namespace of
 * pid.  Root (in the initial namespace or in a nested one, e.g. inside
 * `xboot enter`) maps every id it has onto itself, so files keep their
 * owners; an ordinary user becomes 0, and with newuidmap/newgidmap and a
 * range in /etc/subuid and /etc/subgid, 1..65536 map onto that range.
 * *gid5 tells whether gid 5 (tty, for devpts) is mapped.  Reports errors. */
int emu_idmap_write(pid_t pid, bool *gid5);

/* Whether file (/etc/subuid or /etc/subgid) gives the user (by id or by
 * name) a range. */
bool emu_idmap_subid_range(const char *file, unsigned long id, const char *name);

#endif
