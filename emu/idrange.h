/* idrange: the range of 65536 host ids that root and the other users of a
 * sandbox are on the host, when xboot runs as real root: as
 * systemd-nspawn's --private-users=pick does, a range in 0x80000 to
 * 0x6fff0000 that no user, group or subordinate range of the host's
 * passwd, group, subuid and subgid uses, chosen from a hash of DIR (so
 * one DIR gets the same range each time) and held with a lock file in
 * /run/xboot/idrange (so two sessions on one DIR share it, and sessions on
 * other DIRs keep out of it). */
#ifndef XB_EMU_IDRANGE_H
#define XB_EMU_IDRANGE_H

#include "../core/base/util.h"

#define EMU_IDRANGE_SIZE 65536ul

struct emu_idrange {
	unsigned long base; /* the host id that root inside is */
	int lock_fd;        /* flock(LOCK_SH) on the range's lock file, or -1 */
};
#define EMU_IDRANGE_INIT { 0, -1 }

/* Picks and locks a range for the root directory root.  Returns 0, or a
 * negative code with *why (malloc'd) saying why none could be had; reports
 * nothing (the caller falls back and says so). */
int emu_idrange_pick(const char *root, struct emu_idrange *r, char **why);
void emu_idrange_release(struct emu_idrange *r);

/* Whether [base, base + count) overlaps an id or subordinate range of
 * those files (passwd, group: third field; subuid, subgid: ranges), for
 * the tests.  Files that cannot be read count as empty. */
bool emu_idrange_in_use(unsigned long base, unsigned long count, const char *const *passwd,
                        const char *const *subid);

#endif
