/* policy: the syntax Debian policy gives the fields that become file
 * names and paths — package names and architectures — for checking what
 * an index or a control file says before it is used (versions are
 * dpkgver's).  Lengths are given, for fields that are slices of a file. */
#ifndef XB_POLICY_H
#define XB_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* [a-z0-9][a-z0-9+.-]+ (policy 5.6.1). */
bool policy_package_ok(const char *s, size_t n);
/* [a-z0-9-]+, "all" and "any" included. */
bool policy_arch_ok(const char *s, size_t n);

#endif
