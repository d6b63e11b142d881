/* session: what `xboot enter` runs inside the prepared root — a command, or
 * the user's login shell — as root or as another user of the root, with a
 * clean environment. */
#ifndef XB_EMU_SESSION_H
#define XB_EMU_SESSION_H

#include "../core/base/util.h"

/* The caller owns the vectors. */
struct emu_session {
	struct strvec argv;  /* empty: the user's shell from /etc/passwd, else the first of
	                        /bin/sh, bash, ash, busybox sh that is there */
	struct strvec env;   /* NAME=VALUE added to (or overriding) the default environment */
	const char *workdir; /* NULL: the user's home when it exists, else / */
	const char *user;    /* NAME or UID; NULL: root */
};
/* emu_launch_run()'s fn: runs the session's command inside the root (ctx is
 * the struct emu_session) and returns its exit status, 128+N when signal N
 * ended it, 125 when it could not be started (reported). */
int emu_session_run(void *ctx);

#endif
