/* plan: the decisions of a bootstrap's plan (see plan.h). */
#include "plan.h"
#include "localdebs.h"

#include "../../fetch/cache.h"

#include <errno.h>
#include <sys/stat.h>

void plan_release(struct xb_plan *p)
{
	char **strings[] = { &p->suite, &p->target, &p->arch_name, &p->variant_name, &p->distribution,
		             &p->format_name, &p->cache_dir, &p->security_uri, &p->logfile,
		             &p->make_tarball, &p->unpack_tarball, &p->oci_tag,
		             &p->oci_descriptor, &p->root_fs, &p->root_password_file };
	struct strvec *vectors[] = { &p->mirrors, &p->components, &p->include, &p->exclude,
		                     &p->keyrings, &p->aptopts, &p->dpkgopts, &p->skip,
		                     &p->local_debs, &p->mirror_candidates, &p->foreign_archs,
		                     &p->platforms, &p->ssh_keys, &p->boot_packages };
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++)
		free(xb_steal(strings[i]));
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++)
		strvec_clear(vectors[i]);
	hooks_release(&p->hooks);
	template_release(&p->tmpl);
	fetch_sources_release(&p->sources);
}

static int unknown_arch(const char *name)
{
	size_t n;
	const struct emu_arch *all = emu_arch_all(&n);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", all[i].deb);
	xb_error("unknown architecture %s (known: %s)", name, sb.buf);
	strbuf_release(&sb);
	return -XB_EARCH;
}

/* --arch's list (comma or white space between, given once or more, as
 * mmdebstrap takes it): the first is the tree's, the others are dpkg's
 * foreign architectures; a name listed again is dropped. */
static int pick_arch(struct xb_plan *p)
{
	if (!p->arch_name) {
		if ((p->arch = emu_arch_host()))
			return 0;
		xb_error("cannot tell the host's architecture; use --arch");
		return -XB_EARCH;
	}
	cleanup_free char *list = xstrdup(p->arch_name);
	char *save = NULL;
	for (char *w = strtok_r(list, ", \t\n", &save); w; w = strtok_r(NULL, ", \t\n", &save)) {
		const struct emu_arch *a = emu_arch_find(w);
		if (!a)
			return unknown_arch(w);
		if (!p->arch)
			p->arch = a;
		else if (a != p->arch && !strvec_has(&p->foreign_archs, a->deb))
			strvec_push(&p->foreign_archs, a->deb);
	}
	if (!p->arch) {
		xb_error("--arch: no architecture in \"%s\"", p->arch_name);
		return -XB_EUSAGE;
	}
	return 0;
}

/* The template's keyrings, which must be there unless nothing is verified. */
static int template_keyrings(struct xb_plan *p)
{
	const struct template *t = &p->tmpl;
	for (size_t i = 0; !p->no_check_sig && !p->unpack_tarball && i < t->keyrings.n; i++) {
		if (access(t->keyrings.v[i], R_OK) == 0)
			continue;
		xb_error("%s's keyring %s: %s; install %s, or give --keyring=FILE", t->name,
		         t->keyrings.v[i], strerror(errno),
		         t->keyring_package ? t->keyring_package : "it");
		return -XB_EUSAGE;
	}
	strvec_pushv(&p->keyrings, &t->keyrings);
	return 0;
}

/* The template's defaults, and the variant, which must be one of its. */
static int apply_template(struct xb_plan *p)
{
	int r = template_pick(p->distribution, p->suite, &p->mirrors, &p->tmpl);
	if (r < 0)
		return r;
	xb_debug("the %s template: %s", p->tmpl.name, p->tmpl.path);
	if (!p->keyrings.n && (r = template_keyrings(p)) < 0)
		return r;
	if (!p->components.n)
		strvec_pushv(&p->components, &p->tmpl.components);
	/* "main main" is main once, in sources.list too */
	strvec_uniq(&p->components);
	strvec_uniq(&p->include);
	/* A container image wants less than a root file system, as image
	 * builders make them: minbase unless asked. */
	bool oci = p->format == OUTPUT_OCI || p->format == OUTPUT_OCI_TAR;
	const char *name = p->variant_name ? p->variant_name : oci ? "minbase" : p->tmpl.default_variant;
	if ((p->variant = template_variant(&p->tmpl, name)))
		return 0;
	cleanup_free char *known = template_variant_names(&p->tmpl, " ");
	xb_error("unknown variant %s (known: %s)", name, known);
	return -XB_EUSAGE;
}

/* Of apt's options of an entry, those xboot acts on are fetch/sources'. */
static void warn_options(const struct fetch_source *e)
{
	static const char *const known[] = { "signed-by=", "trusted=", "arch=", "architectures=" };
	for (size_t i = 0; i < e->options.n; i++) {
		bool ok = false;
		for (size_t k = 0; k < ARRAY_SIZE(known) && !ok; k++)
			ok = str_starts_with(e->options.v[i], known[k]);
		if (!ok)
			xb_warn("mirror %s: xboot does not act on its option %.*s", e->uri,
			        (int)strcspn(e->options.v[i], "="), e->options.v[i]);
	}
}

/* No MIRROR: the host's apt sources that are no security archive are the
 * candidates, which the run probes for SUITE with Origin Debian (stages);
 * with none, Debian's own mirror, as debootstrap and mmdebstrap use. */
static void default_mirror(struct xb_plan *p, const struct fetch_sources *apt)
{
	for (size_t i = 0; i < apt->n; i++)
		if (!fetch_source_is_security(&apt->v[i]) &&
		    !strvec_has(&p->mirror_candidates, apt->v[i].uri))
			strvec_push(&p->mirror_candidates, apt->v[i].uri);
	fetch_sources_add(&p->sources, p->mirror_candidates.n ? p->mirror_candidates.v[0]
	                                                    : PLAN_DEBIAN_MIRROR, NULL, NULL);
}

/* SUITE left out: the sources named it. */
static int suite_from_sources(struct xb_plan *p)
{
	for (size_t i = 0; i < p->sources.n; i++) {
		if (p->sources.v[i].suite) {
			p->suite = xstrdup(p->sources.v[i].suite);
			return 0;
		}
	}
	if (p->sources_from_tree) {
		p->suite = xstrdup("");
		return 0;
	}
	xb_error("no SUITE given, and no sources on standard input or in a file to name one");
	return -XB_EUSAGE;
}

/* MIRROR arguments, or the host's Debian mirror; with --updates, the
 * host's security archive too.  Suites and components get filled in. */
static int pick_sources(struct xb_plan *p)
{
	cleanup_free char *host = NULL;
	bool hooked = hooks_any(&p->hooks, HOOK_SETUP);
	int r = 0;
	if (!p->suite && !p->mirrors.n && !isatty(STDIN_FILENO))
		strvec_push(&p->mirrors, "-");
	for (size_t i = 0; !r && i < p->mirrors.n; i++)
		r = fetch_sources_parse_arg(p->mirrors.v[i], hooked, &p->sources);
	if (r < 0)
		return r;
	if (p->unpack_tarball) { /* its sources are in it */
		if (!p->suite) {
			xb_error("--unpack-tarball: give SUITE as --make-tarball had it");
			return -XB_EUSAGE;
		}
		if (access(p->unpack_tarball, R_OK) < 0) {
			xb_error("--unpack-tarball=%s: %s", p->unpack_tarball, strerror(errno));
			return -XB_EUSAGE;
		}
		return 0;
	}
	/* An empty sources file with a setup hook: the hook writes them. */
	p->sources_from_tree = hooked && p->mirrors.n && !p->sources.n;
	if (!p->suite && (r = suite_from_sources(p)) < 0)
		return r;
	if (p->sources_from_tree)
		return 0;
	if (!p->sources.n || p->updates) {
		struct fetch_sources apt = FETCH_SOURCES_INIT;
		fetch_sources_from_apt(NULL, &apt);
		const struct fetch_source *s = fetch_sources_find(&apt, true);
		const char *own = template_mirror(&p->tmpl, p->arch->deb);
		if (!p->sources.n && own)
			fetch_sources_add(&p->sources, own, NULL, NULL);
		else if (!p->sources.n)
			default_mirror(p, &apt);
		/* the host's security archive is Debian's; another distribution
		 * keeps its -security suite beside the others */
		if (p->updates && p->tmpl.mirrors.n)
			p->security_uri = xstrdup(p->sources.v[0].uri);
		else if (p->updates && s)
			p->security_uri = xstrdup(s->uri);
		fetch_sources_release(&apt);
	}
	if (p->updates && !p->security_uri) {
		xb_error("--updates: no security archive in the host's apt configuration");
		return -XB_EUSAGE;
	}
	for (size_t i = 0; i < p->sources.n; i++)
		warn_options(&p->sources.v[i]);
	fetch_sources_default(&p->sources, p->suite, &p->components);
	return 0;
}

static int pick_mode(struct xb_plan *p)
{
	if (p->mode == PLAN_MODE_AUTO)
		p->mode = geteuid() == 0 ? PLAN_MODE_ROOT : PLAN_MODE_UNSHARE;
	if (p->mode == PLAN_MODE_ROOT && geteuid() != 0) {
		xb_error("--mode=root needs root; as an ordinary user, use --mode=unshare");
		return -XB_EUSAGE;
	}
	return 0;
}

static int pick_output(struct xb_plan *p)
{
	if (p->format_name && output_format_parse(p->format_name, &p->format) < 0)
		return -XB_EUSAGE;
	if (!p->format_name && output_format_of_target(p->target, &p->format) < 0)
		return -XB_EUSAGE;
	if (!strcmp(p->target, "-") && !output_format_is_stream(p->format)) {
		xb_error("TARGET - is standard output: only a tar format goes there");
		return -XB_EUSAGE;
	}
	/* and no emulator left inside it */
	if (p->format == OUTPUT_OCI || p->format == OUTPUT_OCI_TAR)
		p->remove_emulator = true;
	if (p->oci_tag && p->format != OUTPUT_OCI && p->format != OUTPUT_OCI_TAR) {
		xb_error("--tag names an OCI image: TARGET NAME.oci or NAME.oci.tar, or --format=oci");
		return -XB_EUSAGE;
	}
	if (!strcmp(p->target, "-") && isatty(STDOUT_FILENO)) {
		xb_error("TARGET - writes a tar to standard output, which is a terminal; "
		         "redirect it to a file or a pipe");
		return -XB_EUSAGE;
	}
	return 0;
}

/* A disk image's machine and options; --kernel's package in --include,
 * the loader's among those added where the indices have them. */
static int pick_disk(struct xb_plan *p)
{
	bool disk = p->format == OUTPUT_DISK;
	if (!disk && (p->disk_size || p->root_fs)) {
		xb_error("--size and --root-fs are for a disk image: TARGET NAME.img or --format=disk");
		return -XB_EUSAGE;
	}
	if (disk && !(p->vm = emu_vm_find(p->arch->deb))) {
		xb_error("xboot makes disk images for %s, not %s", emu_vm_names(), p->arch->deb);
		return -XB_EARCH;
	}
	if (p->root_fs && strcmp(p->root_fs, "ext4") && strcmp(p->root_fs, "btrfs")) {
		xb_error("--root-fs=%s: ext4 or btrfs (mkfs.xfs fills one only from a protofile, "
		         "which loses the sticky bit, capabilities and hard links)", p->root_fs);
		return -XB_EUSAGE;
	}
	if (p->kernel) {
		size_t n = strlen(p->arch->deb), i = 0;
		while (i < p->tmpl.kernels.n && (strncmp(p->tmpl.kernels.v[i], p->arch->deb, n) ||
		                                 p->tmpl.kernels.v[i][n] != '='))
			i++;
		if (i == p->tmpl.kernels.n) {
			xb_error("--kernel: %s names no kernel for %s", p->tmpl.path, p->arch->deb);
			return -XB_EUSAGE;
		}
		strvec_push(&p->include, p->tmpl.kernels.v[i] + n + 1);
	}
	if (disk)
		strvec_pushv(&p->boot_packages, &p->tmpl.boot_packages);
	strvec_uniq(&p->include);
	return 0;
}

/* --skip: of mmdebstrap's steps, the ones xboot has, each turning off
 * some of the plan's steps (offsets of its bools); the rest are said to be
 * ignored (a script written for mmdebstrap may name them). */
#define STEP(field) offsetof(struct xb_plan, field)
static const struct {
	const char *name;
	size_t off[4]; /* 0: none (the plan starts with a pointer) */
} skips[] = {
	{ "output/dev", { STEP(dev_files), STEP(dev_nodes) } },
	{ "output/mknod", { STEP(dev_nodes) } },
	{ "cleanup", { STEP(cleanup_apt_lists), STEP(cleanup_apt_cache), STEP(cleanup_tmp),
	               STEP(cleanup_reproducible) } },
	{ "cleanup/apt", { STEP(cleanup_apt_lists), STEP(cleanup_apt_cache) } },
	{ "cleanup/apt/lists", { STEP(cleanup_apt_lists) } },
	{ "cleanup/apt/cache", { STEP(cleanup_apt_cache) } },
	{ "cleanup/tmp", { STEP(cleanup_tmp) } },
	{ "cleanup/reproducible", { STEP(cleanup_reproducible) } },
	{ "check/empty", { STEP(check_empty) } },
	{ "essential/unlink", { STEP(unlink_debs) } },
};

static void pick_skips(struct xb_plan *p)
{
	for (size_t k = 0; k < ARRAY_SIZE(skips); k++)
		for (size_t j = 0; j < ARRAY_SIZE(skips[k].off) && skips[k].off[j]; j++)
			*(bool *)((char *)p + skips[k].off[j]) = true;
	for (size_t i = 0; i < p->skip.n; i++) {
		size_t k = 0;
		while (k < ARRAY_SIZE(skips) && strcmp(skips[k].name, p->skip.v[i]))
			k++;
		if (k == ARRAY_SIZE(skips)) {
			xb_warn("--skip=%s: xboot has no such step; ignored", p->skip.v[i]);
			continue;
		}
		for (size_t j = 0; j < ARRAY_SIZE(skips[k].off) && skips[k].off[j]; j++)
			*(bool *)((char *)p + skips[k].off[j]) = false;
	}
}

int plan_read_epoch(struct xb_plan *p)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	p->source_date_epoch = -1;
	if (!sde || !*sde)
		return 0;
	char *end;
	errno = 0;
	long long v = strtoll(sde, &end, 10);
	if (*end || v < 0 || errno) {
		xb_error("SOURCE_DATE_EPOCH=%s: expected seconds since 1970", sde);
		return -XB_EUSAGE;
	}
	p->source_date_epoch = v;
	return 0;
}

/* The files the user named, checked now rather than after the download
 * (before the template adds its keyrings, which gpgv's step reports). */
/* --include's .deb files apart from its package names. */
static int pick_local_debs(struct xb_plan *p)
{
	struct strvec names = STRVEC_INIT;
	for (size_t i = 0; i < p->include.n; i++) {
		const char *s = p->include.v[i];
		if (!localdebs_is_path(s)) {
			strvec_push(&names, s);
			continue;
		}
		if (access(s, R_OK) < 0) {
			xb_error("--include=%s: %s", s, strerror(errno));
			strvec_clear(&names);
			return -XB_EUSAGE;
		}
		strvec_push(&p->local_debs, s);
	}
	strvec_clear(&p->include);
	p->include = names;
	return 0;
}

static int check_files(const struct xb_plan *p)
{
	for (size_t i = 0; i < p->keyrings.n; i++) {
		if (access(p->keyrings.v[i], R_OK) < 0) {
			xb_error("--keyring=%s: %s", p->keyrings.v[i], strerror(errno));
			return -XB_EUSAGE;
		}
	}
	for (size_t i = 0; i < p->hooks.dirs.n; i++) {
		struct stat st;
		const char *dir = p->hooks.dirs.v[i];
		int e = stat(dir, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
		if (e) {
			xb_error("--hook-dir=%s: %s", dir, strerror(e));
			return -XB_EUSAGE;
		}
	}
	return 0;
}

/* --foreign leaves the scripts for later: what needs them run cannot be. */
static int check_two_stage(const struct xb_plan *p)
{
	if (!p->two_stage)
		return 0;
	if (hooks_any(&p->hooks, HOOK_ESSENTIAL) || hooks_any(&p->hooks, HOOK_CUSTOMIZE)) {
		xb_error("--foreign: essential and customize hooks need the configured tree; "
		         "run them after the second stage");
		return -XB_EUSAGE;
	}
	if (p->stop != PLAN_STOP_NONE) {
		xb_error("--foreign: nothing is unpacked with --print-debs, --simulate or a download "
		         "only");
		return -XB_EUSAGE;
	}
	if (p->root_password_file || p->format == OUTPUT_DISK) {
		xb_error("--foreign: %s needs the configured tree; set it after the second stage",
		         p->root_password_file ? "--root-password-file" : "a disk image");
		return -XB_EUSAGE;
	}
	return 0;
}

int plan_complete(struct xb_plan *p)
{
	int r;
	if ((r = pick_arch(p)) < 0 || (r = pick_local_debs(p)) < 0 || (r = check_files(p)) < 0 ||
	    (r = pick_output(p)) < 0 || (r = check_two_stage(p)) < 0 ||
	    (r = apply_template(p)) < 0 || (r = pick_disk(p)) < 0 ||
	    (r = pick_sources(p)) < 0 || (r = pick_mode(p)) < 0 ||
	    (r = plan_read_epoch(p)) < 0)
		return r;
	pick_skips(p);
	if (!p->no_cache && !p->cache_dir)
		p->cache_dir = fetch_cache_default_dir();
	return 0;
}

char *plan_oci_ref(const struct xb_plan *p)
{
	const char *suite = p->suite ? p->suite : "custom";
	if (p->oci_tag)
		return xstrdup(p->oci_tag);
	if (!p->tmpl.name) { /* --platforms: the plan is its runs' */
		struct template t = { 0 };
		xb_mute_errors(true);
		int r = template_pick(p->distribution, p->suite, &p->mirrors, &t);
		xb_mute_errors(false);
		char *ref = xasprintf("%s:%s", r == 0 ? t.name : "debian", suite);
		template_release(&t);
		return ref;
	}
	if (p->platforms.n)
		return xasprintf("%s:%s", p->tmpl.name, suite);
	return xasprintf("%s:%s-%s", p->tmpl.name, suite, p->arch->deb);
}

char *plan_variants_help(void)
{
	struct template t = { 0 };
	char *s = NULL;
	if (template_load("debian", &t) == 0) {
		cleanup_free char *names = template_variant_names(&t, ", ");
		s = xasprintf("%s (default: %s)", names, t.default_variant);
	}
	template_release(&t);
	return s;
}

/* The suites the templates name, then Debian's aliases, which the signed
 * Release files resolve. */
static void list_suites(const struct strvec *names)
{
	static const char *const aliases[] = { "oldstable", "stable", "testing", "unstable",
		                               "experimental" };
	for (size_t i = 0; i < names->n; i++) {
		struct template t = { 0 };
		if (template_load(names->v[i], &t) == 0)
			for (size_t k = 0; k < t.suites.n; k++)
				puts(t.suites.v[k]);
		template_release(&t);
	}
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		puts(aliases[i]);
}

int plan_list(const char *kind)
{
	static const char *const kinds[] = { "architectures", "distributions", "formats",
		                             "suites", "variants" };
	cleanup_strvec struct strvec names = STRVEC_INIT;
	size_t n = 0;
	if (!strcmp(kind, "architectures")) {
		const struct emu_arch *a = emu_arch_all(&n);
		for (size_t i = 0; i < n; i++)
			puts(a[i].deb);
	} else if (!strcmp(kind, "formats")) {
		for (const char *f; (f = output_format_nth(n)); n++)
			puts(f);
	} else if (!strcmp(kind, "distributions") || !strcmp(kind, "suites")) {
		int r = template_names(&names);
		if (r < 0) {
			xb_error("listing the templates: %s", strerror(-r));
			return r;
		}
		if (kind[0] == 's')
			list_suites(&names);
		for (size_t i = 0; kind[0] == 'd' && i < names.n; i++)
			puts(names.v[i]);
	} else if (!strcmp(kind, "variants")) {
		struct template t = { 0 };
		int r = template_load("debian", &t);
		cleanup_free char *all = r == 0 ? template_variant_names(&t, "\n") : NULL;
		template_release(&t);
		if (r < 0)
			return r;
		puts(all);
	} else {
		cleanup_strbuf struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", kinds[i]);
		xb_error("--list=%s: expected %s or options", kind, sb.buf);
		return -XB_EUSAGE;
	}
	return 0;
}
