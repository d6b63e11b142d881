/* seccomp: the filter that keeps programs run inside a rootfs from acting
 * on the host kernel (modules, kexec, clock, keyrings, bpf, tty injection).
 * Everything else is allowed; a denied call fails with EPERM. */
#ifndef XB_EMU_SECCOMP_H
#define XB_EMU_SECCOMP_H

#include "../core/base/util.h"

/* Loads the filter into the calling process (inherited by its children).
 * Returns 0 or a negative error, reported. */
int emu_seccomp_load(void);

#endif
