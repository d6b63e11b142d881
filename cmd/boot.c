/* boot: `xboot boot [OPTIONS] IMAGE [-- CMD [ARG...]]` parsed into struct
 * boot_opts for core/pipeline/boot. */
#include "cmd.h"

#include "../core/pipeline/boot.h"

#define OPTIONS(OPT, FLAG)                                                         \
	OPT("arch", ARCH) OPT("timeout", TIMEOUT) OPT("memory", MEMORY) OPT("cpus", CPUS) \
	OPT("network", NETWORK) OPT("accel", ACCEL) OPT("firmware", FIRMWARE)
CMD_OPTIONS(OPTIONS);

static const char usage[] =
	"usage: xboot boot [OPTIONS] IMAGE|DIR [-- CMD [ARG...]]\n"
	"\n"
	"Boots the disk image IMAGE (as xboot makes it: TARGET NAME.img), or a disk\n"
	"made of the root file system DIR for this boot only, under\n"
	"qemu-system with UEFI firmware, KVM where it works, TCG otherwise.  Without\n"
	"CMD, the serial console is the terminal (Ctrl-A X ends qemu).  With CMD, it\n"
	"runs once the system is up, its output is printed, the guest powers off,\n"
	"and the exit status is CMD's.\n"
	"\n"
	"  --arch=ARCH             the image's architecture (default: its root partition's)\n"
	"  --timeout=SECONDS       stop the guest after this long (default: none)\n"
	"  --memory=MIB            the guest's memory (default 1024)\n"
	"  --cpus=N                its processors (default: 2; 1 on one core, and for x86\n"
	"                          under TCG)\n"
	"  --network=user|none     qemu's user-mode network (default) or none\n"
	"  --accel=auto|kvm|tcg    KVM when a probe guest runs under it (default), or force\n"
	"  --firmware=uefi|u-boot  UEFI and systemd-boot (default), or U-Boot's distro boot\n"
	"                          of the ESP's extlinux.conf, as armhf boards do (no CMD)\n"
	"  -q, --quiet             print only errors and warnings\n"
	"  -v, --verbose           print more\n"
	"  -h, --help              print this help\n";

static int parse_option(struct boot_opts *o, int c, const char *arg)
{
	static const char *const networks[] = { "user", "none" };
	static const char *const accels[] = { "auto", "kvm", "tcg" };
	static const char *const firmwares[] = { "uefi", "u-boot" };
	int r;
	if (cmd_verbosity(c))
		return 0;
	switch (c) {
	case OPT_ARCH: o->arch = arg; return 0;
	case OPT_TIMEOUT: return cmd_number("timeout", arg, 7 * 24 * 3600, &o->timeout);
	case OPT_MEMORY: return cmd_number("memory", arg, 1 << 20, &o->memory);
	case OPT_CPUS: return cmd_number("cpus", arg, 64, &o->cpus);
	case OPT_NETWORK:
		if ((r = cmd_one_of("network", arg, networks, ARRAY_SIZE(networks))) < 0)
			return r;
		o->net_none = r == 1;
		return 0;
	case OPT_ACCEL:
		if ((r = cmd_one_of("accel", arg, accels, ARRAY_SIZE(accels))) < 0)
			return r;
		o->accel = r == 1 ? BOOT_ACCEL_KVM : r == 2 ? BOOT_ACCEL_TCG : BOOT_ACCEL_AUTO;
		return 0;
	case OPT_FIRMWARE:
		if ((r = cmd_one_of("firmware", arg, firmwares, ARRAY_SIZE(firmwares))) < 0)
			return r;
		o->uboot = r == 1;
		return 0;
	case 'h': fputs(usage, stdout); return 1;
	default:
		fputs("Try 'xboot boot --help' for more information.\n", stderr);
		return -XB_EUSAGE;
	}
}

int cmd_boot(int argc, char **argv)
{
	struct boot_opts o = BOOT_OPTS_INIT;
	int c, r = 0, code = 0;
	/* '+': options end at IMAGE; "--" then starts CMD */
	while (r == 0 && (c = getopt_long(argc, argv, "+" CMD_SHORT_OPTIONS, options, NULL)) != -1)
		r = parse_option(&o, c, optarg);
	if (r == 0 && optind >= argc) {
		xb_error("boot: expected IMAGE (see 'xboot boot --help')");
		r = -XB_EUSAGE;
	}
	if (r == 0) {
		o.image = argv[optind++];
		if (optind < argc && strcmp(argv[optind], "--")) {
			xb_error("boot: expected -- before the command (xboot boot IMAGE -- CMD)");
			r = -XB_EUSAGE;
		}
		for (int i = optind + 1; r == 0 && i < argc; i++)
			strvec_push(&o.argv, argv[i]);
	}
	if (r == 0 && optind + 1 == argc) {
		xb_error("boot: expected a command after --");
		r = -XB_EUSAGE;
	}
	if (r == 0 && o.uboot && o.argv.n) {
		xb_error("--firmware=u-boot boots the image's extlinux.conf as it is: a command needs "
		         "--firmware=uefi (systemd-boot takes it from SMBIOS)");
		r = -XB_EUSAGE;
	}
	if (r == 0) {
		cmd_install_signal_handlers();
		r = boot_run(&o, &code);
	}
	boot_opts_release(&o);
	if (r > 0)
		return 0;
	return r < 0 ? cmd_exit_code(r) : code;
}
