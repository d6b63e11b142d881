/* emulator: finding the host's static qemu-user emulator for an
 * architecture and copying it into a rootfs. */
#ifndef XB_EMU_EMULATOR_H
#define XB_EMU_EMULATOR_H

#include "arch.h"

/* Finds qemu-QEMU-static (or the static qemu-QEMU that trixie's names link
 * to) in /usr/bin, /usr/local/bin and /usr/libexec/qemu-binfmt, resolves
 * symlinks, and checks it is statically linked.  *path is malloc'd.  When
 * none is usable, reports one line naming the package to install; -ENOENT. */
int emu_emulator_find(const struct emu_arch *a, char **path);
/* The same search without messages: the static emulator's resolved path
 * (malloc'd) or NULL; when dynamic is non-NULL it gets the first
 * dynamically linked candidate found (malloc'd) when no static one is. */
char *emu_emulator_path(const struct emu_arch *a, char **dynamic);
/* The package that has the static emulators on this host: qemu-user from
 * Debian 13 on, else qemu-user-static. */
const char *emu_emulator_package(void);
/* Copies emu to TARGET/usr/bin/qemu-QEMU-static (mode 0755, atomically). */
int emu_emulator_install(const struct emu_arch *a, const char *emu, const char *target);
/* Removes TARGET/usr/bin/qemu-QEMU-static. */
int emu_emulator_remove(const struct emu_arch *a, const char *target);

#endif
