/* devfiles: the /dev that debootstrap and mmdebstrap give every tree — the
 * directories pts and shm, the links fd, stdin, stdout and stderr into
 * /proc/self/fd, and the character devices console, full, null, ptmx,
 * random, tty, urandom and zero, all root's, with mmdebstrap's modes.  The
 * one table that the tree (setup) and the archives (output) both read. */
#ifndef XB_DEVFILES_H
#define XB_DEVFILES_H

#include <sys/types.h>

struct devfile {
	const char *name;      /* below dev/ */
	mode_t mode;           /* file type and permissions */
	const char *link;      /* a symlink's target, else NULL */
	unsigned major, minor; /* a device's numbers */
};

/* The table, in the order of its names; *n gets its length. */
const struct devfile *devfiles_all(size_t *n);

#endif
