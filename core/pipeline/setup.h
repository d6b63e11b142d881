/* setup: the tree before anything is unpacked or run in it — TARGET
 * checked (a new or empty directory, or an archive's name in an existing
 * directory), the skeleton with merged /usr's links, and the user's apt
 * and dpkg options. */
#ifndef XB_SETUP_H
#define XB_SETUP_H

#include "plan.h"

/* TARGET as the plan's output needs it: a new or empty directory (made
 * here; never the host's root), or for an archive a name that is not a
 * directory, in a directory that exists.  Reports errors. */
int setup_check_target(const struct xb_plan *p);

/* The directories every tree has, and /dev's entries (before the setup
 * hooks).  Reports errors. */
int setup_skeleton(const struct xb_plan *p, const char *root);

/* With merged /usr, the root's links to usr/ (once the packages are
 * known, before they are unpacked), so that packages shipping /bin/x land
 * in /usr/bin/x: bin, sbin and lib, and the architecture's multilib ones
 * too unless distro_links (base-files ships them all, as trixie's does);
 * with --no-merged-usr, debootstrap's marker file instead.  Reports
 * errors. */
int setup_merged_usr(const struct xb_plan *p, const char *root, bool distro_links);

/* After the setup hooks: what they put in the tree's etc/apt takes
 * effect for the bootstrap, as in mmdebstrap: the entries of its
 * sources.list and sources.list.d join sources (those not there already),
 * trusted.gpg and trusted.gpg.d's keyrings join keyrings.  No sources at
 * all is an error (reported). */
int setup_tree_apt(const struct xb_plan *p, const char *root, struct fetch_sources *sources,
                   struct strvec *keyrings);

/* --aptopt and --dpkgopt into etc/apt/apt.conf.d/99xboot and
 * etc/dpkg/dpkg.cfg.d/99xboot, before anything runs in the tree. */
int setup_options(const struct xb_plan *p, const char *root);

/* Writes text to root/path (rootfd open on root) atomically, the path
 * resolved inside the tree, reporting a failure naming the file. */
int setup_write_file(int rootfd, const char *root, const char *path, const char *text);

#endif
