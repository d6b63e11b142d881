/* localdebs: .deb files named in --include (./kernel.deb, /abs/u-boot.deb)
 * as one more index: a Packages file made of their control files, with
 * their path as Filename (under file:///), their size and SHA256, which
 * the resolver reads beside the archive's, so that their dependencies
 * come from there.  They are then fetched, checked and cached as any
 * other package. */
#ifndef XB_LOCALDEBS_H
#define XB_LOCALDEBS_H

#include "../base/util.h"

/* The suite the local index counts as in --include's NAME/SUITE. */
#define LOCALDEBS_SUITE "(local)"
/* Its mirror: Filename is each file's absolute path without the "/". */
#define LOCALDEBS_MIRROR "file://"

/* Whether an --include entry names a file rather than a package. */
bool localdebs_is_path(const char *spec);

/* Writes WORKDIR/local_Packages for the files and appends to includes
 * "NAME=VERSION/(local)" for each, so that this one is installed even
 * where an index has the same name.  *index gets the path (caller frees).
 * Reports errors. */
int localdebs_index(const struct strvec *files, const char *workdir, char **index,
                    struct strvec *includes);

#endif
