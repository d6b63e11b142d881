/* multiarch: dpkg's multiarch rules laid over libsolv, which has none of
 * its own (to libsolv, the "libc6" an i386 package depends on is met by
 * amd64's libc6, and two architectures of a package install side by side).
 *
 * Each architecture gets a namespace of names: the native one (and "all")
 * keeps Debian's names, a foreign architecture F's packages are renamed
 * NAME:F, the name apt and dpkg give them.  Each relation is then rewritten
 * into the namespace where dpkg looks for what meets it:
 *  - an unqualified Depends, Pre-Depends or Recommends, into the depending
 *    package's own (architecture "all" counts as native); NAME:ARCH into
 *    ARCH's; NAME:any into the own namespace's NAME:any, which each package
 *    provides in its own namespace, and a Multi-Arch: allowed one in all;
 *  - Provides of a Multi-Arch: foreign package into every namespace, those
 *    of others into their own;
 *  - Conflicts, Breaks and Replaces into every namespace (dpkg applies them
 *    to all architectures);
 *  - and what dpkg implies: a package not Multi-Arch: same conflicts with
 *    its name in the other namespaces, a Multi-Arch: same one with any other
 *    version of its name there.
 * With no foreign architecture nothing is changed. */
#ifndef XB_MULTIARCH_H
#define XB_MULTIARCH_H

#include <solv/pool.h>

#include "pkgscan.h"

/* The Packages files[0..n_files) into pool through ps (pkgscan_load()),
 * arch and the foreign ones (may be NULL) installable, and the considered
 * solvables rewritten as above (before whatprovides is made); *native gets
 * arch's id.  Errors are reported. */
int multiarch_load(Pool *pool, struct pkgscan *ps, const char *arch,
                   const struct strvec *foreign, char *const *files, size_t n_files, Id *native);

/* The Debian name of solvable p (without the ":F" given above), a copy the
 * caller frees. */
char *multiarch_debian_name(Pool *pool, Id p, Id native);

/* The solver's name for NAME[:ARCH] given by a user: NAME for NAME:native
 * or NAME:NATIVE-ARCH, else as given; 0 when the pool has no such string. */
Id multiarch_user_name(Pool *pool, const char *name, Id native);

#endif
