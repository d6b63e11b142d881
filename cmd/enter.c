/* enter: `xboot enter [OPTIONS] DIR [CMD [ARG…]]` parsed into struct
 * enter_opts for core/pipeline/enter. */
#include "cmd.h"

#include "../core/pipeline/enter.h"

/* Each option once (see cmd.h). */
#define OPTIONS(OPT, FLAG)                                                         \
	OPT("bind", BIND) OPT("ro-bind", RO_BIND) OPT("network", NETWORK) OPT("user", USER) \
	OPT("setenv", SETENV) OPT("workdir", WORKDIR) OPT("hostname", HOSTNAME)    \
	OPT("capability", CAPABILITY) OPT("drop-capability", DROP_CAPABILITY)      \
	FLAG("no-seccomp", NO_SECCOMP) OPT("arch", ARCH) FLAG("ephemeral", EPHEMERAL)  \
	FLAG("volatile", VOLATILE)
CMD_OPTIONS(OPTIONS);

static const char usage[] =
	"usage: xboot enter [OPTIONS] DIR|IMAGE [CMD [ARG...]]\n"
	"\n"
	"Runs CMD (default: the user's login shell) as root, or as --user, inside\n"
	"the root filesystem DIR, of any architecture qemu-user runs, in private\n"
	"namespaces.  IMAGE (squashfs, ext2/3/4, tar of any compression, cpio, OCI)\n"
	"is never modified: the session writes to a tmpfs, discarded at its end.\n"
	"\n"
	"  --arch=NAME             DIR's architecture (default: from the ELF header of\n"
	"                          its /bin/sh, busybox or init), a Debian or qemu name\n"
	"  --ephemeral             writes go to a tmpfs over DIR, discarded at the end\n"
	"  --volatile              only /etc and /var writable, so; the rest read-only\n"
	"  --bind=SRC[:DST]        bind-mount SRC of the host at DST inside (repeatable)\n"
	"  --ro-bind=SRC[:DST]     the same, read-only\n"
	"  --network=host|none     share the host's network (default) or have none\n"
	"  --user=NAME|UID         run CMD as this user of DIR (default root)\n"
	"  --setenv=K=V            set an environment variable (repeatable)\n"
	"  --workdir=DIR           directory to start CMD in (default: the user's home)\n"
	"  --hostname=NAME         hostname inside (default: DIR/etc/hostname)\n"
	"  --capability=CAP,...    keep these capabilities too (beyond nspawn's default set)\n"
	"  --drop-capability=CAP,... drop these capabilities\n"
	"  --no-seccomp            do not load the host-protection seccomp filter\n"
	"  -q, --quiet             print only errors and warnings\n"
	"  -v, --verbose           print more (which namespaces and binfmt_misc are used)\n"
	"  -h, --help              print this help\n";

static int parse_option(struct enter_opts *o, int c, const char *arg)
{
	if (cmd_verbosity(c))
		return 0;
	switch (c) {
	case OPT_BIND: strvec_push(&o->binds, arg); return 0;
	case OPT_RO_BIND: strvec_push(&o->ro_binds, arg); return 0;
	case OPT_NETWORK: {
		static const char *const networks[] = { "host", "none" };
		int r = cmd_one_of("network", arg, networks, ARRAY_SIZE(networks));
		o->net_none = r == 1;
		return r < 0 ? r : 0;
	}
	case OPT_USER:
		if (!*arg) {
			xb_error("--user: expected a user name or uid");
			return -XB_EUSAGE;
		}
		o->user = arg;
		return 0;
	case OPT_SETENV:
		if (!strchr(arg, '=') || arg[0] == '=') {
			xb_error("--setenv=%s: expected NAME=VALUE", arg);
			return -XB_EUSAGE;
		}
		strvec_push(&o->env, arg);
		return 0;
	case OPT_WORKDIR: o->workdir = arg; return 0;
	case OPT_HOSTNAME: o->hostname = arg; return 0;
	case OPT_CAPABILITY: strvec_push(&o->caps_add, arg); return 0;
	case OPT_DROP_CAPABILITY: strvec_push(&o->caps_drop, arg); return 0;
	case OPT_NO_SECCOMP: o->no_seccomp = true; return 0;
	case OPT_ARCH: o->arch = arg; return 0;
	case OPT_EPHEMERAL: o->ephemeral = true; return 0;
	case OPT_VOLATILE: o->volatile_ = true; return 0;
	case 'h': fputs(usage, stdout); return 1;
	default:
		fputs("Try 'xboot enter --help' for more information.\n", stderr);
		return -XB_EUSAGE;
	}
}

int cmd_enter(int argc, char **argv)
{
	struct enter_opts o = ENTER_OPTS_INIT;
	int c, r = 0, code = 0;

	/* '+': options end at DIR; what follows is the command's own. */
	while (r == 0 && (c = getopt_long(argc, argv, "+" CMD_SHORT_OPTIONS, options, NULL)) != -1)
		r = parse_option(&o, c, optarg);
	if (r == 0 && optind >= argc) {
		xb_error("enter: expected DIR or IMAGE (see 'xboot enter --help')");
		r = -XB_EUSAGE;
	}
	if (r == 0) {
		o.root = argv[optind];
		for (int i = optind + 1; i < argc; i++)
			strvec_push(&o.argv, argv[i]);
		r = enter_run(&o, &code);
	}
	enter_opts_release(&o);
	if (r > 0)
		return 0;
	return r < 0 ? cmd_exit_code(r) : code;
}
