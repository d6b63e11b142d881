/* dpkgfilter: dpkg's --path-exclude and --path-include, as the native
 * unpack applies them: the patterns in order, the last that matches a
 * member's path decides (fnmatch without flags, so '*' crosses '/'), and
 * a directory or symlink an exclude takes is kept when an include could
 * bring back something below it.  What is filtered is not written, but
 * stays in the package's .list, as dpkg leaves it. */
#ifndef XB_DPKGFILTER_H
#define XB_DPKGFILTER_H

#include "../base/util.h"

struct dpkgfilter {
	struct strvec patterns; /* each "+PATTERN" (include) or "-PATTERN" (exclude) */
};
#define DPKGFILTER_INIT { STRVEC_INIT }

/* Adds the path-exclude= and path-include= lines of a dpkg option (one
 * line, or the lines of a file of options as --dpkgopt takes them). */
void dpkgfilter_add_option(struct dpkgfilter *f, const char *text);
bool dpkgfilter_any(const struct dpkgfilter *f);
/* Whether the member path ("./usr/share/doc/x", "/usr/share/doc/" ...)
 * is filtered out; dir_or_link: it is a directory or a symlink. */
bool dpkgfilter_skip(const struct dpkgfilter *f, const char *path, bool dir_or_link);
void dpkgfilter_release(struct dpkgfilter *f);

#endif
