/* vm: the machines of emu/vm.h. */
#include "vm.h"

static const struct emu_vm vms[] = {
	{ "amd64", "x64", "4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "ttyS0", "qemu-system-x86_64",
	  "qemu-system-x86", "q35", "max", "/usr/share/OVMF/OVMF_CODE_4M.fd",
	  "/usr/share/OVMF/OVMF_VARS_4M.fd", "ovmf", false, NULL, 1 },
	{ "arm64", "aa64", "b921b045-1df0-41c3-af44-4c6f280d3fae", "ttyAMA0", "qemu-system-aarch64",
	  "qemu-system-arm", "virt", "max", "/usr/share/AAVMF/AAVMF_CODE.fd",
	  "/usr/share/AAVMF/AAVMF_VARS.fd", "qemu-efi-aarch64", false, NULL, 2 },
	{ "armhf", "arm", "69dad710-2ce4-4e3c-b16c-21a1d49abed3", "ttyAMA0", "qemu-system-arm",
	  "qemu-system-arm", "virt", "max", "/usr/share/AAVMF/AAVMF32_CODE.fd",
	  "/usr/share/AAVMF/AAVMF32_VARS.fd", "qemu-efi-arm", true,
	  "/usr/lib/u-boot/qemu_arm/u-boot.bin", 2 },
	/* ovmf-ia32's firmware wants SMM and secure flash, not set up here */
	{ "i386", "ia32", "44479540-f297-41b2-9af7-d131d5f0458a", "ttyS0", "qemu-system-i386",
	  "qemu-system-x86", "q35", "max", NULL, NULL, NULL, false, NULL, 1 },
	{ "riscv64", "riscv64", "72ec70a6-cf74-40e6-bd49-4bda08e8f224", "ttyS0",
	  "qemu-system-riscv64", "qemu-system-misc", "virt", "max", NULL, NULL, NULL, false, NULL, 2 },
};

const struct emu_vm *emu_vm_find(const char *deb)
{
	for (size_t i = 0; i < ARRAY_SIZE(vms); i++)
		if (!strcmp(vms[i].deb, deb))
			return &vms[i];
	return NULL;
}

const struct emu_vm *emu_vm_by_root_type(const char *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(vms); i++)
		if (!strcmp(vms[i].root_type, type))
			return &vms[i];
	return NULL;
}

const char *emu_vm_names(void)
{
	return "amd64, arm64, armhf, i386, riscv64";
}
