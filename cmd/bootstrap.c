/* bootstrap: `xboot [OPTIONS] SUITE TARGET [MIRROR…]`, parsed into a plan. */
#include "cmd.h"

#include "../core/pipeline/bootstrap.h"
#include "../fetch/cache.h"
#include "../fetch/http.h"
#include "../fetch/mirror.h"
#include "../emu/userns.h"

#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>

static const char usage[] =
	"usage: xboot [OPTIONS] SUITE TARGET [MIRROR...]\n"
	"       xboot enter [OPTIONS] DIR [CMD [ARG...]]\n"
	"\n"
	"Builds a Debian root filesystem of SUITE (a codename such as trixie, or an\n"
	"alias such as stable) in the directory TARGET, for any architecture.\n"
	"\n"
	"  --arch=ARCH             target architecture (default: the host's)\n"
	"  --variant=NAME          essential, minbase, buildd, important (default), standard\n"
	"  --components=A,B        archive components (default: main)\n"
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
	"  --ignore-valid-until    accept an expired Release file (snapshot mirrors)\n"
	"  --no-check-sig          do not check signatures (hashes are still checked)\n"
	"  --remove-emulator       remove the qemu emulator from TARGET at the end\n"
	"  --mode=MODE             root, unshare (an ordinary user, through a user namespace)\n"
	"                          or auto (default: root as root, unshare otherwise)\n"
	"  --format=FORMAT         directory, tar, tar.gz, tar.xz, tar.zst, squashfs or ext4\n"
	"                          (default: from TARGET's name; - is a tar on stdout)\n"
	"  --setup-hook=CMD        run CMD with the tree as $1 before unpacking (repeatable)\n"
	"  --extract-hook=CMD      ... after unpacking, before any script runs\n"
	"  --essential-hook=CMD    ... once the essential packages are configured\n"
	"  --customize-hook=CMD    ... at the end; CMD may also be copy-in SRC... DST,\n"
	"                          copy-out SRC... DST, sync-in SRC DST or sync-out SRC DST\n"
	"  --hook-dir=DIR          run DIR's executables setup*, extract*, essential*,\n"
	"                          customize* at those points\n"
	"  --aptopt=OPT            a line (or a file) for TARGET's apt configuration\n"
	"  --dpkgopt=OPT           a line (or a file) for TARGET's dpkg configuration\n"
	"  -q, --quiet             print errors and warnings only\n"
	"  -v, --verbose           print more, including the maintainer scripts' output\n"
	"  -h, --help              print this help\n"
	"\n"
	"MIRROR defaults to the Debian mirror of the host's apt configuration.\n"
	"See xboot(1).\n";

enum {
	OPT_ARCH = 256, OPT_VARIANT, OPT_COMPONENTS, OPT_INCLUDE, OPT_EXCLUDE, OPT_KEYRING,
	OPT_JOBS, OPT_CACHE_DIR, OPT_NO_CACHE, OPT_IGNORE_VALID_UNTIL, OPT_NO_CHECK_SIG,
	OPT_REMOVE_EMULATOR, OPT_TIMEOUT, OPT_SETUP_HOOK, OPT_EXTRACT_HOOK, OPT_ESSENTIAL_HOOK,
	OPT_CUSTOMIZE_HOOK, OPT_HOOK_DIR, OPT_APTOPT, OPT_DPKGOPT, OPT_FORMAT, OPT_MODE, OPT_UPDATES,
	OPT_SCRIPT_JOBS,
};

static const struct option options[] = {
	{ "arch", required_argument, NULL, OPT_ARCH },
	{ "variant", required_argument, NULL, OPT_VARIANT },
	{ "components", required_argument, NULL, OPT_COMPONENTS },
	{ "include", required_argument, NULL, OPT_INCLUDE },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "keyring", required_argument, NULL, OPT_KEYRING },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "script-jobs", required_argument, NULL, OPT_SCRIPT_JOBS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
	{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
	{ "ignore-valid-until", no_argument, NULL, OPT_IGNORE_VALID_UNTIL },
	{ "no-check-sig", no_argument, NULL, OPT_NO_CHECK_SIG },
	{ "remove-emulator", no_argument, NULL, OPT_REMOVE_EMULATOR },
	{ "setup-hook", required_argument, NULL, OPT_SETUP_HOOK },
	{ "extract-hook", required_argument, NULL, OPT_EXTRACT_HOOK },
	{ "essential-hook", required_argument, NULL, OPT_ESSENTIAL_HOOK },
	{ "customize-hook", required_argument, NULL, OPT_CUSTOMIZE_HOOK },
	{ "hook-dir", required_argument, NULL, OPT_HOOK_DIR },
	{ "aptopt", required_argument, NULL, OPT_APTOPT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "updates", no_argument, NULL, OPT_UPDATES },
	{ "dpkgopt", required_argument, NULL, OPT_DPKGOPT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_jobs(const char *opt, const char *s, int *jobs)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 64) {
		xb_error("--%s=%s: expected a number from 1 to 64", opt, s);
		return -XB_EUSAGE;
	}
	*jobs = (int)v;
	return 0;
}

static int parse_timeout(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 3600) {
		xb_error("--timeout=%s: expected seconds from 1 to 3600", s);
		return -XB_EUSAGE;
	}
	fetch_set_timeout(v);
	return 0;
}

static int parse_hook_dir(struct xb_plan *p, const char *dir)
{
	struct stat st;
	int r = stat(dir, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (r) {
		xb_error("--hook-dir=%s: %s", dir, strerror(-r));
		return -XB_EUSAGE;
	}
	strvec_push(&p->hooks.dirs, dir);
	return 0;
}

static int parse_option(struct xb_plan *p, int c, const char *arg)
{
	switch (c) {
	case OPT_ARCH:
		if (!(p->arch = emu_arch_find(arg))) {
			size_t n;
			const struct emu_arch *all = emu_arch_all(&n);
			struct strbuf sb = STRBUF_INIT;
			for (size_t i = 0; i < n; i++)
				strbuf_addf(&sb, "%s%s", i ? " " : "", all[i].deb);
			xb_error("unknown architecture %s (known: %s)", arg, sb.buf);
			strbuf_release(&sb);
			return -XB_EARCH;
		}
		return 0;
	case OPT_VARIANT: free(p->variant); p->variant = xstrdup(arg); return 0;
	case OPT_COMPONENTS: strvec_clear(&p->components); strvec_split(&p->components, arg, ", "); return 0;
	case OPT_INCLUDE: strvec_split(&p->include, arg, ", "); return 0;
	case OPT_EXCLUDE: strvec_split(&p->exclude, arg, ", "); return 0;
	case OPT_KEYRING:
		if (access(arg, R_OK) < 0) {
			xb_error("--keyring=%s: %s", arg, strerror(errno));
			return -XB_EUSAGE;
		}
		strvec_push(&p->keyrings, arg);
		return 0;
	case OPT_JOBS: return parse_jobs("jobs", arg, &p->jobs);
	case OPT_SCRIPT_JOBS: return parse_jobs("script-jobs", arg, &p->script_jobs);
	case OPT_TIMEOUT: return parse_timeout(arg);
	case OPT_CACHE_DIR: free(p->cache_dir); p->cache_dir = xstrdup(arg); return 0;
	case OPT_NO_CACHE: p->no_cache = true; return 0;
	case OPT_IGNORE_VALID_UNTIL: p->ignore_valid_until = true; return 0;
	case OPT_NO_CHECK_SIG: p->no_check_sig = true; return 0;
	case OPT_REMOVE_EMULATOR: p->remove_emulator = true; return 0;
	case OPT_SETUP_HOOK: strvec_push(&p->hooks.cmds[HOOK_SETUP], arg); return 0;
	case OPT_EXTRACT_HOOK: strvec_push(&p->hooks.cmds[HOOK_EXTRACT], arg); return 0;
	case OPT_ESSENTIAL_HOOK: strvec_push(&p->hooks.cmds[HOOK_ESSENTIAL], arg); return 0;
	case OPT_CUSTOMIZE_HOOK: strvec_push(&p->hooks.cmds[HOOK_CUSTOMIZE], arg); return 0;
	case OPT_HOOK_DIR: return parse_hook_dir(p, arg);
	case OPT_APTOPT: strvec_push(&p->aptopts, arg); return 0;
	case OPT_DPKGOPT: strvec_push(&p->dpkgopts, arg); return 0;
	case OPT_UPDATES: p->updates = true; return 0;
	case OPT_MODE:
		if (strcmp(arg, "auto") && strcmp(arg, "root") && strcmp(arg, "unshare")) {
			xb_error("--mode=%s: expected auto, root or unshare", arg);
			return -XB_EUSAGE;
		}
		p->mode = !strcmp(arg, "root") ? PLAN_MODE_ROOT
		          : !strcmp(arg, "unshare") ? PLAN_MODE_UNSHARE : PLAN_MODE_AUTO;
		return 0;
	case OPT_FORMAT:
		if (output_format_parse(arg, &p->format) < 0)
			return -XB_EUSAGE;
		p->format_given = true;
		return 0;
	case 'q': xb_verbosity = 0; return 0;
	case 'v': xb_verbosity = 2; return 0;
	case 'h': fputs(usage, stdout); return 1;
	default:
		fputs("Try 'xboot --help' for more information.\n", stderr);
		return -XB_EUSAGE;
	}
}

static int parse_args(struct xb_plan *p, int argc, char **argv)
{
	int c, r;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "qvh", options, NULL)) != -1)
		if ((r = parse_option(p, c, optarg)) != 0)
			return r;
	if (argc - optind < 2) {
		xb_error("expected SUITE and TARGET (see 'xboot --help')");
		return -XB_EUSAGE;
	}
	p->suite = xstrdup(argv[optind]);
	p->target = xstrdup(argv[optind + 1]);
	for (int i = optind + 2; i < argc; i++)
		if ((r = mirror_parse_arg(argv[i], &p->sources)) < 0)
			return r;
	return 0;
}

static int complete_plan(struct xb_plan *p)
{
	if (!p->arch && !(p->arch = emu_arch_host())) {
		xb_error("cannot tell the host's architecture; use --arch");
		return -XB_EARCH;
	}
	if (!p->sources.uris.n) {
		cleanup_free char *m = mirror_from_apt(NULL, false);
		if (!m) {
			xb_error("no Debian mirror in the host's apt configuration; give one after TARGET");
			return -XB_EUSAGE;
		}
		mirror_parse_arg(m, &p->sources);
	}
	if (!p->no_cache && !p->cache_dir)
		p->cache_dir = cache_default_dir();
	if (p->mode == PLAN_MODE_AUTO)
		p->mode = geteuid() == 0 ? PLAN_MODE_ROOT : PLAN_MODE_UNSHARE;
	if (p->mode == PLAN_MODE_ROOT && geteuid() != 0) {
		xb_error("--mode=root needs root; as an ordinary user, use --mode=unshare");
		return -XB_EUSAGE;
	}
	if (!p->format_given)
		p->format = output_format_of_target(p->target);
	if (!strcmp(p->target, "-") && p->format == OUTPUT_DIR) {
		xb_error("TARGET - is standard output: only a tar format goes there");
		return -XB_EUSAGE;
	}
	p->source_date_epoch = -1;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		errno = 0;
		long long v = strtoll(sde, &end, 10);
		if (*end || v < 0 || errno) {
			xb_error("SOURCE_DATE_EPOCH=%s: expected seconds since 1970", sde);
			return -XB_EUSAGE;
		}
		p->source_date_epoch = v;
	}
	return plan_apply_template(p, "debian");
}

int cmd_bootstrap(int argc, char **argv)
{
	struct xb_plan plan = { 0 };
	int r = parse_args(&plan, argc, argv);
	if (r == 0)
		r = complete_plan(&plan);
	/* Before any thread: the whole run moves into the namespace. */
	if (r == 0 && plan.mode == PLAN_MODE_UNSHARE)
		r = emu_userns_become_root();
	if (r == 0) {
		cmd_install_signal_handlers();
		if ((r = fetch_global_init()) == 0) {
			r = bootstrap_run(&plan);
			fetch_global_cleanup();
		}
	}
	plan_release(&plan);
	return r > 0 ? 0 : cmd_exit_code(r);
}
