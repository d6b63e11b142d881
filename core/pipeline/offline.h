/* offline: debootstrap's --make-tarball and --unpack-tarball.  The first
 * writes, once everything is downloaded, one tarball holding each source
 * as a mirror of its own (mirror-N/): the Release files as they were
 * fetched and signed, the Packages indices they list, the .debs at their
 * Filenames, and xboot-offline.sources naming the sources as given.  The
 * second unpacks that tarball and bootstraps from it with file:// URLs,
 * through the same checks (signatures against the keyrings, every index
 * and package against its hash) and no network; the tree's sources.list
 * and apt's lists name the original mirrors. */
#ifndef XB_OFFLINE_H
#define XB_OFFLINE_H

#include "stages.h"

#define OFFLINE_SOURCES "xboot-offline.sources"

/* Where source m's files go in the tarball ("mirror-M"; caller frees). */
char *offline_mirror_dir(size_t m);

/* The staged files (run->offline: pairs of host path and path in the
 * tarball) and the sources, as the tarball file (its name picks the
 * compression, a plain tar otherwise).  Reports errors. */
int offline_write(const struct run *run, const char *file);

/* Unpacks file into the work directory and replaces run->sources by its
 * sources, served from there.  Reports errors. */
int offline_open(struct run *run, const char *file);

#endif
