/* enter: `xboot enter`, a command or a shell in a root filesystem of any
 * architecture, in private namespaces.  cmd/enter.c fills struct
 * enter_opts from the command line; enter_run() decides the rest — the
 * root's architecture (--arch, else the ELF header of its shell, busybox,
 * init or first program, or its dpkg: emu/arch), whether DIR is an image
 * file to unpack into a tmpfs or a directory to overlay (emu/overlay),
 * every installed emulator registered for nested roots, the host's
 * resolv.conf unless there is no network — and runs it (emu/launch,
 * emu/session). */
#ifndef XB_ENTER_H
#define XB_ENTER_H

#include "../base/util.h"

struct enter_opts {
	const char *root;             /* DIR */
	struct strvec argv;           /* empty: the user's login shell */
	struct strvec env;            /* NAME=VALUE, over the default environment */
	struct strvec binds, ro_binds;/* "SRC[:DST]" */
	const char *user;             /* NAME or UID of the root; NULL: root */
	const char *workdir;          /* NULL: the user's home, else / */
	const char *hostname;         /* NULL: from DIR/etc/hostname */
	bool net_none;                /* a network namespace of its own, lo only */
	bool no_seccomp;              /* leave out the host-protection filter */
	struct strvec caps_add, caps_drop; /* --capability, --drop-capability lists */
	const char *arch;             /* --arch: DIR's architecture; NULL: from its ELF files */
	bool ephemeral;               /* --ephemeral: writes go to a tmpfs overlay, discarded */
	bool volatile_;               /* --volatile: only /etc and /var writable, so */
};
#define ENTER_OPTS_INIT { NULL, STRVEC_INIT, STRVEC_INIT, STRVEC_INIT, STRVEC_INIT, NULL, NULL, \
	                  NULL, false, false, STRVEC_INIT, STRVEC_INIT, NULL, false, false }
void enter_opts_release(struct enter_opts *o);

/* Runs the command; *code gets its exit status (128+N for signal N, 125
 * when it could not be started).  Returns 0, or a negative code when the
 * namespaces could not be set up (reported). */
int enter_run(const struct enter_opts *o, int *code);

#endif
