/* idmap: the uid and gid maps of the user namespaces emu_launch_run()
 * makes, written from outside them (the parent), after they exist. */
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

/* Maps 0..size-1 of pid's new user namespace onto host ids base.. (uids
 * and gids alike): the root of a sandbox as an unprivileged host range.
 * Needs root in the initial namespace.  Reports errors. */
int emu_idmap_write_range(pid_t pid, unsigned long base, unsigned long size);

/* A user namespace mapped as emu_idmap_write_range() maps, held by the fd
 * put in *fd (O_CLOEXEC), for an idmapped mount: a helper process creates
 * it, its maps are written, the helper is gone.  -EPERM, quietly, where
 * user namespaces are refused (xboot chrooted); other errors reported. */
int emu_idmap_userns(unsigned long base, unsigned long size, int *fd);

/* Whether the calling process's root is the host's (its user namespace
 * maps uid 0 onto host uid 0): then a namespace of its own can give its
 * sandbox an unprivileged range. */
bool emu_idmap_is_host_root(void);

/* Whether match(fields, ctx) holds for a line of file (passwd, group,
 * subuid, subgid: fields split at ':').  A file that cannot be read has no
 * lines. */
bool emu_idmap_find_entry(const char *file, bool (*match)(const struct strvec *f, void *ctx),
                          void *ctx);

/* Whether file (/etc/subuid or /etc/subgid) gives the user (by id or by
 * name) a range. */
bool emu_idmap_subid_range(const char *file, unsigned long id, const char *name);

#endif
