/* bootstrap: `xboot [OPTIONS] SUITE TARGET [MIRROR…]`, parsed into a plan. */
#include "cmd.h"

#include "../core/pipeline/bootstrap.h"
#include "../core/pipeline/enter.h"
#include "../core/pipeline/platforms.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <strings.h>

/* Each option once: OPT("name", ID) takes an argument, FLAG("name", ID)
 * none (see cmd.h). */
#define OPTIONS(OPT, FLAG)                                                              \
	OPT("arch", ARCH) OPT("variant", VARIANT) OPT("components", COMPONENTS)        \
	OPT("include", INCLUDE) OPT("exclude", EXCLUDE) OPT("keyring", KEYRING)        \
	OPT("jobs", JOBS) OPT("script-jobs", SCRIPT_JOBS) OPT("timeout", TIMEOUT)      \
	OPT("cache-dir", CACHE_DIR) FLAG("no-cache", NO_CACHE) FLAG("updates", UPDATES) \
	FLAG("ignore-valid-until", IGNORE_VALID_UNTIL) FLAG("no-check-sig", NO_CHECK_SIG) \
	FLAG("remove-emulator", REMOVE_EMULATOR) OPT("format", FORMAT) OPT("mode", MODE) \
	FLAG("allow-suite-change", ALLOW_SUITE_CHANGE) FLAG("timings", TIMINGS)        \
	FLAG("no-tree-cache", NO_TREE_CACHE) OPT("cache-max", CACHE_MAX)              \
	FLAG("allow-releaseinfo-change-suite", ALLOW_RELEASEINFO_CHANGE_SUITE)        \
	OPT("setup-hook", SETUP_HOOK) OPT("extract-hook", EXTRACT_HOOK)               \
	OPT("essential-hook", ESSENTIAL_HOOK) OPT("customize-hook", CUSTOMIZE_HOOK)    \
	OPT("chrooted-setup-hook", CHROOTED_SETUP_HOOK)                               \
	OPT("chrooted-extract-hook", CHROOTED_EXTRACT_HOOK)                           \
	OPT("chrooted-essential-hook", CHROOTED_ESSENTIAL_HOOK)                       \
	OPT("chrooted-customize-hook", CHROOTED_CUSTOMIZE_HOOK)                       \
	OPT("hook-dir", HOOK_DIR) OPT("aptopt", APTOPT) OPT("dpkgopt", DPKGOPT)        \
	OPT("skip", SKIP) OPT("logfile", LOGFILE) FLAG("version", VERSION)               \
	FLAG("merged-usr", MERGED_USR) FLAG("no-merged-usr", NO_MERGED_USR)           \
	FLAG("resolve-deps", RESOLVE_DEPS) FLAG("print-debs", PRINT_DEBS)                \
	FLAG("simulate", SIMULATE) FLAG("download-only", DOWNLOAD_ONLY)                \
	OPT("make-tarball", MAKE_TARBALL) OPT("unpack-tarball", UNPACK_TARBALL)        \
	FLAG("foreign", FOREIGN) FLAG("second-stage", SECOND_STAGE)                    \
	OPT("second-stage-target", SECOND_STAGE_TARGET)                               \
	FLAG("keep-debootstrap-dir", KEEP_DEBOOTSTRAP_DIR) OPT("tag", TAG)              \
	OPT("platforms", PLATFORMS) OPT("oci-descriptor", OCI_DESCRIPTOR)                 \
	OPT("size", SIZE) OPT("root-fs", ROOT_FS) FLAG("kernel", KERNEL)                   \
	OPT("root-password-file", ROOT_PASSWORD_FILE) OPT("ssh-key", SSH_KEY)         \
	OPT("distribution", DISTRIBUTION) OPT("list", LIST)
/* The names mmdebstrap and debootstrap give some of them. */
#define ALIASES(OPT, FLAG)                                                              \
	OPT("architectures", ARCH) OPT("hook-directory", HOOK_DIR)                    \
	FLAG("no-check-gpg", NO_CHECK_SIG) FLAG("dry-run", SIMULATE)
CMD_OPTIONS_ALIASED(OPTIONS, ALIASES);

static const char usage_head[] =
	"usage: xboot [OPTIONS] [SUITE [TARGET [MIRROR...]]]\n"
	"       xboot enter [OPTIONS] DIR [CMD [ARG...]]\n"
	"\n"
	"Builds a Debian root filesystem of SUITE (a codename such as trixie, or an\n"
	"alias such as stable) in the directory TARGET, for any architecture.\n"
	"\n"
	"  --arch=ARCH[,FOREIGN..] target architecture (default: the host's), then\n"
	"                          dpkg's foreign ones (multiarch); also --architectures\n";

static const char usage_tail[] =
	"  --distribution=NAME     the template: debian, ubuntu, devuan, raspbian (default:\n"
	"                          the one whose suites or mirrors SUITE or MIRROR names)\n"
	"  --components=A,B        archive components (default: the template's: main)\n"
	"  --updates               also SUITE-updates and SUITE-security (the latter from the\n"
	"                          security archive of the host's apt configuration)\n"
	"  --include=PKG,...       add packages\n"
	"  --exclude=PKG,...       drop packages from the variant's seed\n"
	"  --keyring=FILE          verify with FILE instead of the distribution's keyring\n"
	"                          (repeatable)\n"
	"  --jobs=N                parallel downloads (default 8)\n"
	"  --script-jobs=N         maintainer scripts run at once where they cannot\n"
	"                          interfere (default: the number of CPUs; 1: one at a time)\n"
	"  --timeout=SECONDS       give up on a mirror silent for this long (default 30)\n"
	"  --cache-dir=DIR         where downloaded packages are kept\n"
	"  --no-cache              keep no packages after the run\n"
	"  --no-tree-cache         neither use nor keep a configured tree in the cache\n"
	"  --cache-max=SIZE        the configured trees kept take at most SIZE (default 4G)\n"
	"  --ignore-valid-until    accept an expired Release file (snapshot mirrors)\n"
	"  --no-check-sig          do not check signatures (hashes are still checked);\n"
	"                          also --no-check-gpg\n"
	"  --allow-suite-change    accept a Release of another Suite and Codename than\n"
	"                          SUITE (apt: --allow-releaseinfo-change-suite)\n"
	"  --remove-emulator       remove the qemu emulator from TARGET at the end\n"
	"  --timings               print where the run's time went, phase by phase, at the end\n"
	"  --mode=MODE             root, unshare (an ordinary user, through a user namespace)\n"
	"                          or auto (default: root as root, unshare otherwise)\n"
	"  --format=FORMAT         directory, tar, tar.gz, tar.xz, tar.zst, squashfs, ext4,\n"
	"                          oci or oci.tar (default: from TARGET's name; - is a tar\n"
	"                          on stdout)\n"
	"  --tag=NAME:TAG          the name of an OCI image (default: debian:SUITE-ARCH)\n"
	"  --platforms=A,B,...     one OCI image of these architectures, each built by a run\n"
	"                          of its own, side by side\n"
	"  --kernel                install the distribution's kernel for --arch\n"
	"  --size=SIZE             a disk image's size (K, M, G, T; default: the tree + 30 %)\n"
	"  --root-fs=FS            a disk image's root file system: ext4 (default) or btrfs\n"
	"  --root-password-file=F  root's password: the first line of F\n"
	"  --ssh-key=FILE          a public key root logs in with over ssh (repeatable)\n"
	"  --setup-hook=CMD        run CMD with the tree as $1 before unpacking (repeatable)\n"
	"  --extract-hook=CMD      ... after unpacking, before any script runs\n"
	"  --essential-hook=CMD    ... once the essential packages are configured\n"
	"  --customize-hook=CMD    ... at the end; CMD may also be copy-in SRC... DST,\n"
	"                          copy-out SRC... DST, sync-in SRC DST, sync-out SRC DST,\n"
	"                          tar-in FILE DIR, tar-out DIR FILE, upload FILE PATH or\n"
	"                          download PATH FILE; hooks run contained, as the tree's root\n"
	"  --chrooted-customize-hook=CMD  CMD run inside the tree (also -setup, -extract,\n"
	"                          -essential)\n"
	"  --hook-dir=DIR          run DIR's executables setup*, extract*, essential*,\n"
	"                          customize* at those points (also --hook-directory)\n"
	"  --aptopt=OPT            a line (or a file) for TARGET's apt configuration\n"
	"  --dpkgopt=OPT           a line (or a file) for TARGET's dpkg configuration\n"
	"  --skip=STEP,...         output/dev: no /dev entries; output/mknod: no device nodes;\n"
	"                          cleanup/reproducible: keep the logs with times\n"
	"  --print-debs            print the packages that would be installed, and stop\n"
	"  --simulate, --dry-run   print them with versions and sizes; download nothing\n"
	"  --download-only         download the packages into the cache, and stop\n"
	"  --make-tarball=FILE     the packages and signed indices into FILE, and stop\n"
	"  --unpack-tarball=FILE   bootstrap from such a FILE, with no network\n"
	"  --foreign               do the native work only, and leave in TARGET the second\n"
	"                          stage, for the board: /debootstrap/debootstrap --second-stage\n"
	"  --second-stage [TARGET] run that second stage in TARGET here (under emulation\n"
	"                          if foreign); also --second-stage-target=TARGET\n"
	"  --logfile=FILE          write the log to FILE (default: TARGET's var/log/xboot.log)\n"
	"  --no-merged-usr         no merged /usr, where the suite allows it (--merged-usr and\n"
	"                          --resolve-deps are accepted and change nothing)\n"
	"  -q, -s, --quiet, --silent  print errors only\n"
	"  -v, --verbose           print more, including the maintainer scripts' output\n"
	"  -d, --debug             print even more\n"
	"  -h, --help              print this help\n"
	"      --version           print xboot's version\n"
	"      --list=KIND         print the options, architectures, distributions, suites,\n"
	"                          variants or formats xboot knows, one per line\n"
	"\n"
	"MIRROR defaults to the Debian mirror of the host's apt configuration.\n"
	"See xboot(1).\n";

/* Options that cannot go together. */
static const int exclusive[][2] = {
	{ OPT_NO_CACHE, OPT_CACHE_DIR },
	{ OPT_MAKE_TARBALL, OPT_UNPACK_TARBALL },
};

/* --list=options is the command line's own; the rest the pipeline's. */
static int list(const char *kind)
{
	if (strcmp(kind, "options") != 0) {
		int r = plan_list(kind);
		return r < 0 ? r : 1;
	}
	for (size_t i = 0; options[i].name; i++)
		printf("--%s%s\n", options[i].name, options[i].has_arg ? "=" : "");
	return 1;
}

static int print_usage(void)
{
	cleanup_free char *variants = plan_variants_help();
	fputs(usage_head, stdout);
	printf("  --variant=NAME          %s\n", variants ? variants : "see the distribution template");
	fputs(usage_tail, stdout);
	return 1;
}


/* A size in bytes: digits, then K, M, G or T (powers of 1024, "MiB" too). */
static int parse_size(const char *opt, const char *s, uint64_t *v)
{
	static const char units[] = "KMGT";
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	const char *u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
	bool unit_ok = !*end || (u && (!end[1] || !strcasecmp(end + 1, "iB") ||
	                               !strcasecmp(end + 1, "B")));
	int shift = u ? 10 * (int)(u - units + 1) : 0;
	if (!*s || !isdigit((unsigned char)*s) || errno || !n || !unit_ok || n > (~0ull >> shift)) {
		xb_error("--%s=%s: expected a size, as 2G or 512M", opt, s);
		return -XB_EUSAGE;
	}
	*v = (uint64_t)n << shift;
	return 0;
}

static int parse_int(const char *opt, const char *s, long max, int *out)
{
	long v;
	int r = cmd_number(opt, s, max, &v);
	if (!r)
		*out = (int)v;
	return r;
}

static void set_string(char **dst, const char *arg)
{
	free(*dst);
	*dst = xstrdup(arg);
}

static int parse_mode(const char *arg, enum plan_mode *mode)
{
	static const char *const names[] = { "auto", "root", "unshare" };
	static const enum plan_mode modes[] = { PLAN_MODE_AUTO, PLAN_MODE_ROOT, PLAN_MODE_UNSHARE };
	int i = cmd_one_of("mode", arg, names, ARRAY_SIZE(names));
	if (i >= 0)
		*mode = modes[i];
	return i < 0 ? i : 0;
}

/* The hooks' options, in the order of enum hook_kind. */
static const int hook_opts[HOOK_NKINDS] = {
	OPT_SETUP_HOOK, OPT_EXTRACT_HOOK, OPT_ESSENTIAL_HOOK, OPT_CUSTOMIZE_HOOK,
};
static const int chrooted_opts[HOOK_NKINDS] = {
	OPT_CHROOTED_SETUP_HOOK, OPT_CHROOTED_EXTRACT_HOOK, OPT_CHROOTED_ESSENTIAL_HOOK,
	OPT_CHROOTED_CUSTOMIZE_HOOK,
};

/* One list per kind keeps the order of the command line; a chrooted
 * hook is marked by its first byte (hooks.h). */
static bool parse_hook(struct xb_plan *p, int c, const char *arg)
{
	for (int k = 0; k < HOOK_NKINDS; k++) {
		if (c == hook_opts[k]) {
			strvec_push(&p->hooks.cmds[k], arg);
			return true;
		}
		if (c == chrooted_opts[k]) {
			strvec_pushf(&p->hooks.cmds[k], "%c%s", HOOK_CHROOTED, arg);
			return true;
		}
	}
	return false;
}

static int parse_option(struct xb_plan *p, int c, const char *arg)
{
	if (parse_hook(p, c, arg) || cmd_verbosity(c))
		return 0;
	switch (c) {
	case OPT_ARCH: /* mmdebstrap's lists add up: --arch=a --arch=b,c */
		if (p->arch_name) {
			char *both = xasprintf("%s,%s", p->arch_name, arg);
			free(p->arch_name);
			p->arch_name = both;
		} else {
			p->arch_name = xstrdup(arg);
		}
		return 0;
	case OPT_VARIANT: set_string(&p->variant_name, arg); return 0;
	case OPT_DISTRIBUTION: set_string(&p->distribution, arg); return 0;
	case OPT_LIST: return list(arg);
	case OPT_FORMAT: set_string(&p->format_name, arg); return 0;
	case OPT_CACHE_DIR: set_string(&p->cache_dir, arg); return 0;
	case OPT_COMPONENTS: strvec_clear(&p->components); strvec_split(&p->components, arg, ", "); return 0;
	case OPT_INCLUDE: strvec_split(&p->include, arg, ", "); return 0;
	case OPT_EXCLUDE: strvec_split(&p->exclude, arg, ", "); return 0;
	case OPT_KEYRING: strvec_push(&p->keyrings, arg); return 0;
	case OPT_HOOK_DIR: strvec_push(&p->hooks.dirs, arg); return 0;
	case OPT_APTOPT: strvec_push(&p->aptopts, arg); return 0;
	case OPT_DPKGOPT: strvec_push(&p->dpkgopts, arg); return 0;
	case OPT_SKIP: strvec_split(&p->skip, arg, ", "); return 0;
	case OPT_JOBS: return parse_int("jobs", arg, 64, &p->jobs);
	case OPT_SCRIPT_JOBS: return parse_int("script-jobs", arg, 64, &p->script_jobs);
	case OPT_TIMEOUT: return cmd_number("timeout", arg, 3600, &p->timeout);
	case OPT_NO_CACHE: p->no_cache = true; return 0;
	case OPT_IGNORE_VALID_UNTIL: p->ignore_valid_until = true; return 0;
	case OPT_NO_CHECK_SIG: p->no_check_sig = true; return 0;
	case OPT_ALLOW_SUITE_CHANGE:
	case OPT_ALLOW_RELEASEINFO_CHANGE_SUITE: p->allow_suite_change = true; return 0;
	case OPT_REMOVE_EMULATOR: p->remove_emulator = true; return 0;
	case OPT_TIMINGS: p->timings = true; return 0;
	case OPT_NO_TREE_CACHE: p->no_tree_cache = true; return 0;
	case OPT_CACHE_MAX: return parse_size("cache-max", arg, &p->cache_max);
	case OPT_UPDATES: p->updates = true; return 0;
	case OPT_MODE: return parse_mode(arg, &p->mode);
	case OPT_LOGFILE: set_string(&p->logfile, arg); return 0;
	case OPT_NO_MERGED_USR: p->no_merged_usr = true; return 0;
	case OPT_MERGED_USR: p->no_merged_usr = false; return 0;
	case OPT_RESOLVE_DEPS: return 0;
	case OPT_PRINT_DEBS: p->stop = PLAN_STOP_PRINT_DEBS; return 0;
	case OPT_SIMULATE: p->stop = PLAN_STOP_SIMULATE; return 0;
	case OPT_DOWNLOAD_ONLY: p->stop = PLAN_STOP_DOWNLOAD; return 0;
	case OPT_MAKE_TARBALL: p->stop = PLAN_STOP_DOWNLOAD; set_string(&p->make_tarball, arg); return 0;
	case OPT_UNPACK_TARBALL: set_string(&p->unpack_tarball, arg); return 0;
	case OPT_FOREIGN: p->two_stage = true; return 0;
	case OPT_TAG: set_string(&p->oci_tag, arg); return 0;
	case OPT_OCI_DESCRIPTOR: set_string(&p->oci_descriptor, arg); return 0;
	case OPT_SIZE: return parse_size("size", arg, &p->disk_size);
	case OPT_ROOT_FS: set_string(&p->root_fs, arg); return 0;
	case OPT_KERNEL: p->kernel = true; return 0;
	case OPT_ROOT_PASSWORD_FILE: set_string(&p->root_password_file, arg); return 0;
	case OPT_SSH_KEY: strvec_push(&p->ssh_keys, arg); return 0;
	case OPT_PLATFORMS: strvec_split(&p->platforms, arg, ", "); return 0;
	case OPT_SECOND_STAGE: p->second_stage = true; return 0;
	case OPT_SECOND_STAGE_TARGET: p->second_stage = true; set_string(&p->target, arg); return 0;
	case OPT_KEEP_DEBOOTSTRAP_DIR: p->keep_debootstrap_dir = true; return 0;
	case OPT_VERSION: puts("xboot " XB_VERSION); return 1;
	case 'h': return print_usage();
	default:
		fputs("Try 'xboot --help' for more information.\n", stderr);
		return -XB_EUSAGE;
	}
}

/* drop (argc slots) gets the words --platforms took, for platform_args(). */
static int parse_args(struct xb_plan *p, int argc, char **argv, char **drop)
{
	struct cmd_excl excl = CMD_EXCL_INIT(options, exclusive);
	int c, r;
	opterr = 1;
	while ((c = getopt_long(argc, argv, CMD_SHORT_OPTIONS, options, NULL)) != -1) {
		if ((r = cmd_exclusive(&excl, c)) != 0 || (r = parse_option(p, c, optarg)) != 0)
			return r;
		/* Whatever its spelling (--platforms X, --platf=X), getopt has
		 * just passed over it and not yet moved any word. */
		if (c == OPT_PLATFORMS) {
			*drop++ = argv[optind - 1];
			if (optarg == argv[optind - 1])
				*drop++ = argv[optind - 2];
		}
	}
	int n = argc - optind;
	if (p->second_stage) {
		if (n > (p->target ? 0 : 1) || (!p->target && !n)) {
			xb_error("--second-stage: expected TARGET, the tree --foreign made, only");
			return -XB_EUSAGE;
		}
		if (!p->target)
			p->target = xstrdup(argv[optind]);
		return 0;
	}
	/* mmdebstrap's [SUITE [TARGET [MIRROR...]]]: no TARGET is a tar on
	 * stdout, no SUITE takes the sources from stdin. */
	if (n == 0 && isatty(STDIN_FILENO)) {
		xb_error("expected SUITE and TARGET (see 'xboot --help')");
		return -XB_EUSAGE;
	}
	p->suite = n > 0 && *argv[optind] ? xstrdup(argv[optind]) : NULL;
	p->target = xstrdup(n > 1 ? argv[optind + 1] : "-");
	for (int i = optind + 2; i < argc; i++)
		strvec_push(&p->mirrors, argv[i]);
	return 0;
}

/* debootstrap --second-stage --second-stage-target=TARGET: the script
 * the first stage left, run in TARGET as `xboot enter` would run it. */
static int second_stage(const struct xb_plan *p)
{
	struct enter_opts o = ENTER_OPTS_INIT;
	int code = 0;
	o.root = p->target;
	o.workdir = "/";
	strvec_pushl(&o.argv, "/debootstrap/debootstrap", "--second-stage", NULL);
	if (p->keep_debootstrap_dir)
		strvec_push(&o.argv, "--keep-debootstrap-dir");
	int r = enter_run(&o, &code);
	enter_opts_release(&o);
	if (!r && code)
		xb_error("the second stage in %s failed (exit status %d)", p->target, code);
	return r < 0 ? r : code ? -XB_ECHILD : 0;
}

/* The options of argv (as given, before getopt reorders it) for each of
 * --platforms' runs: every word but the positional ones and drop's. */
static void platform_args(char **given, int argc, char **argv, char **drop,
                          struct strvec *out)
{
	for (int i = 1; i < argc; i++) {
		bool skip = false;
		for (int k = optind; k < argc && !skip; k++)
			skip = given[i] == argv[k];
		for (char **d = drop; *d && !skip; d++)
			skip = given[i] == *d;
		if (!skip)
			strvec_push(out, given[i]);
	}
}

int cmd_bootstrap(int argc, char **argv)
{
	struct xb_plan plan = { 0 };
	cleanup_free char **given = xcalloc((size_t)argc + 1, sizeof(*given));
	cleanup_free char **drop = xcalloc((size_t)argc + 1, sizeof(*drop));
	memcpy(given, argv, (size_t)argc * sizeof(*argv));
	int r = parse_args(&plan, argc, argv, drop);
	if (r == 0 && plan.platforms.n) {
		cleanup_strvec struct strvec args = STRVEC_INIT;
		platform_args(given, argc, argv, drop, &args);
		cmd_install_signal_handlers();
		r = platforms_run(&plan, &args);
		plan_release(&plan);
		return cmd_exit_code(r);
	}
	if (r == 0 && plan.second_stage) {
		r = second_stage(&plan);
		plan_release(&plan);
		return cmd_exit_code(r);
	}
	if (r == 0)
		r = plan_complete(&plan);
	if (r == 0) {
		cmd_install_signal_handlers();
		r = bootstrap_run(&plan);
	}
	plan_release(&plan);
	return r > 0 ? 0 : cmd_exit_code(r);
}
