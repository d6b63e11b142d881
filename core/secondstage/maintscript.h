/* maintscript: what shared state a maintainer script may touch, read from
 * its text, so that the second stage can run scripts side by side without
 * changing what a sequential dpkg run would leave.
 *
 * Debian policy has maintainer scripts change what other packages own only
 * through registry tools (adduser, dpkg-divert, update-alternatives, debconf,
 * ucf, ...).  Each registry is a class; two scripts that share a class, or
 * where either is of the GLOBAL class, never run at once, and run in install
 * order.  A word this module does not know is no class: a script's own
 * files and per-unit tools (deb-systemd-helper) commute with others'.  A
 * few commands are read with their arguments: chown and chgrp to ids,
 * dpkg-statoverride --list and dpkg-query -W of fields that configuring
 * leaves alone touch no shared state that changes as scripts run. */
#ifndef XB_MAINTSCRIPT_H
#define XB_MAINTSCRIPT_H

#include <stdbool.h>
#include <stddef.h>

struct strvec;

enum {
	MAINTSCRIPT_DEBCONF = 1u << 0,      /* the debconf database (it refuses a second user) */
	MAINTSCRIPT_ACCOUNTS = 1u << 1,     /* /etc/passwd, group, shadow: writers and readers */
	MAINTSCRIPT_DIVERT = 1u << 2,       /* dpkg-divert */
	MAINTSCRIPT_ALTERNATIVES = 1u << 3, /* update-alternatives */
	MAINTSCRIPT_STATOVERRIDE = 1u << 4, /* dpkg-statoverride */
	MAINTSCRIPT_SHELLS = 1u << 5,       /* /etc/shells */
	MAINTSCRIPT_UCF = 1u << 6,          /* ucf's registry (ucf asks through debconf too) */
	MAINTSCRIPT_INIT = 1u << 7,         /* init script links: insserv, and update-rc.d
	                                     * where insserv or OpenRC is installed */
	MAINTSCRIPT_LDCONFIG = 1u << 8,     /* /etc/ld.so.cache (one temporary name) */
	MAINTSCRIPT_TRIGGERS = 1u << 9,     /* dpkg-trigger */
	MAINTSCRIPT_PAM = 1u << 10,         /* pam-auth-update */
	MAINTSCRIPT_NSS = 1u << 11,         /* /etc/nsswitch.conf, which postinsts edit */
	MAINTSCRIPT_CACERTS = 1u << 12,     /* /etc/ssl/certs and the CA bundle: what
	                                     * update-ca-certificates (and its hooks)
	                                     * rebuild, and what writes a cert there */
	MAINTSCRIPT_LOCALE = 1u << 13,      /* /etc/locale.gen, /etc/default/locale and
	                                     * the compiled locales */
	MAINTSCRIPT_STATOVERRIDE_READ = 1u << 14, /* dpkg-statoverride --list: after the
	                                     * writers before it, not before those after */
	MAINTSCRIPT_BASE_NAMES = 1u << 15,  /* chown or chgrp to base-passwd's users
	                                     * and groups only: ACCOUNTS until
	                                     * base-passwd is configured, nothing after */
	MAINTSCRIPT_UNDIVERT = 1u << 16,    /* dpkg-divert --rename --remove of diversions
	                                     * the packages it names hold (the
	                                     * undiverted list): it moves a file only
	                                     * where one of them holds one.  GLOBAL
	                                     * until the caller clears it, knowing
	                                     * the registry holds none of theirs */
	MAINTSCRIPT_DIVERT_ADD = 1u << 17,  /* dpkg-divert that may add a diversion
	                                     * (--add, or no action named) */
	MAINTSCRIPT_STATUS = 1u << 18,      /* dpkg-query of what configuring changes
	                                     * (a status) or of diversions (-L, -S):
	                                     * alone, as GLOBAL; among preinsts, which
	                                     * configure nothing, DIVERT (the caller's) */
	MAINTSCRIPT_GLOBAL = 1u << 31,      /* unknown registry, a binary script, or
	                                     * dpkg-divert's rename (which moves files
	                                     * others run): alone */
};

/* The classes of a script's text (a shell or perl script, or anything).
 * installed(tool) says whether a command is there to run (an update-*
 * word is often a subcommand, or a tool of a package not installed);
 * NULL: assume it is.  undiverted, where not NULL, gets the packages of
 * MAINTSCRIPT_UNDIVERT, each once (the caller releases it). */
unsigned maintscript_classes(const char *text, size_t len, bool (*installed)(const char *tool),
                             struct strvec *undiverted);

/* May a script of classes b, later in install order, not start while one
 * of classes a, earlier, has not ended? */
bool maintscript_conflict(unsigned a, unsigned b);

#endif
