/* archtab: the architecture table as data (emu/archtab.c), one row per
 * qemu-user target (two for qemu-arm: armhf and armel), the architectures
 * xboot bootstraps first.  Read through emu/arch.h; only arch.c includes
 * this. */
#ifndef XB_EMU_ARCHTAB_H
#define XB_EMU_ARCHTAB_H

#include "arch.h"

extern const struct emu_arch emu_archtab[];
extern const size_t emu_archtab_len;

#endif
