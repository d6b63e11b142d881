/* plan: everything one bootstrap needs to know.  cmd/ fills in what the
 * user said (the first part of struct xb_plan); plan_complete() decides
 * the rest once — defaults from the host and the distribution template,
 * the sources with their suites and components, the mode, the output —
 * and checks it all before anything is fetched.  Read-only afterwards. */
#ifndef XB_PLAN_H
#define XB_PLAN_H

#include "../base/util.h"
#include "hooks.h"
#include "template.h"
#include "../output/output.h"
#include "../../fetch/sources.h"
#include "../../emu/arch.h"
#include "../../emu/vm.h"

enum plan_mode { PLAN_MODE_AUTO, PLAN_MODE_ROOT, PLAN_MODE_UNSHARE };

/* Where there is no MIRROR and the host's apt configuration names none. */
#define PLAN_DEBIAN_MIRROR "http://deb.debian.org/debian"

/* Where a run stops short of a tree (debootstrap's offline options). */
enum plan_stop {
	PLAN_STOP_NONE,
	PLAN_STOP_PRINT_DEBS, /* --print-debs: the package names, on stdout */
	PLAN_STOP_SIMULATE,   /* --simulate, --dry-run: the set with sizes, nothing fetched */
	PLAN_STOP_DOWNLOAD,   /* --download-only: the packages into the cache */
};

struct xb_plan {
	/* What the user said; cmd/ fills these (strings owned by the plan). */
	char *suite;                 /* as given: codename or alias; NULL: from the sources */
	char *target;                /* the directory to build, or the archive to write */
	struct strvec mirrors;       /* MIRROR arguments; none: the host's Debian mirror */
	char *arch_name;             /* --arch, the lists of every one; NULL: the host's */
	char *variant_name;          /* --variant; NULL: the template's default */
	char *distribution;          /* --distribution; NULL: by SUITE or MIRROR */
	char *format_name;           /* --format; NULL: from TARGET's name */
	struct strvec components;    /* --components; empty: the template's */
	struct strvec include, exclude; /* include: NAME, NAME=VERSION, NAME/SUITE or a .deb */
	struct strvec keyrings;      /* --keyring; empty: the template's */
	bool updates;                /* --updates: add SUITE-updates and SUITE-security */
	int jobs;                    /* parallel downloads; 0: the default */
	int script_jobs;             /* maintainer scripts at once; 0: one per CPU */
	long timeout;                /* seconds to connect, and of silence; 0: the default */
	char *cache_dir;             /* --cache-dir; NULL: the user's default */
	bool no_cache;
	bool no_tree_cache;          /* --no-tree-cache: no configured-tree snapshots */
	uint64_t cache_max;          /* --cache-max: their bytes at most; 0: the default */
	bool ignore_valid_until, no_check_sig, allow_suite_change;
	bool remove_emulator;
	bool timings;                /* --timings: where the time went, at the end */
	struct hooks hooks;
	struct strvec aptopts, dpkgopts; /* lines (or files) for apt.conf.d, dpkg.cfg.d */
	struct strvec skip;          /* --skip: mmdebstrap's step names */
	char *logfile;               /* --logfile: the log on the host; NULL: in TARGET */
	bool no_merged_usr;          /* --no-merged-usr */
	enum plan_mode mode;
	enum plan_stop stop;         /* TARGET is neither made nor written unless NONE */
	char *make_tarball;          /* --make-tarball=FILE (stop is DOWNLOAD) */
	char *unpack_tarball;        /* --unpack-tarball=FILE: the sources come from it */
	char *oci_tag;               /* --tag=NAME:TAG of an OCI image; NULL: plan_oci_ref() */
	char *oci_descriptor;        /* --oci-descriptor=FILE: the manifest's descriptor too */
	uint64_t disk_size;          /* --size: a disk image's bytes; 0: from the tree */
	char *root_fs;               /* --root-fs: a disk's root file system; NULL: ext4 */
	bool kernel;                 /* --kernel: the template's kernel package for --arch */
	char *root_password_file;    /* --root-password-file=FILE */
	struct strvec ssh_keys;      /* --ssh-key=FILE: root's authorized_keys */
	struct strvec platforms;     /* --platforms: one image of these (core/pipeline/platforms) */
	bool two_stage;              /* --foreign: the second stage is left in TARGET */
	bool second_stage;           /* --second-stage: run it in TARGET (no plan_complete) */
	bool keep_debootstrap_dir;   /* --keep-debootstrap-dir, for it */

	/* What plan_complete() decides. */
	struct template tmpl;                   /* the distribution's */
	const struct template_variant *variant; /* in tmpl */
	const struct emu_arch *arch;   /* the tree's (the first of --arch's list) */
	const struct emu_vm *vm;       /* a disk image's machine (OUTPUT_DISK only) */
	struct strvec boot_packages;   /* its loader's: added where the indices have them */
	struct strvec foreign_archs;   /* the rest of the list: dpkg's foreign ones */
	struct strvec local_debs;      /* --include's .deb files (moved out of include) */
	struct fetch_sources sources;  /* suites and components filled in */
	bool sources_from_tree;        /* none given (an empty file): the setup hooks write them */
	struct strvec mirror_candidates; /* no MIRROR: the host's apt mirrors, for sources.v[0] */
	char *security_uri;            /* with --updates: the host's security archive */
	enum output_format format;     /* OUTPUT_DIR: target is the tree itself */
	long long source_date_epoch;   /* SOURCE_DATE_EPOCH, or -1 */
	bool dev_files;                /* /dev's entries (devfiles) in the tree and archives */
	bool dev_nodes;                /* and its device nodes: made in a root-mode directory,
	                                  written into archives in either mode */
	/* The steps --skip can turn off (mmdebstrap's names in plan.c). */
	bool cleanup_reproducible;     /* remove the logs mmdebstrap removes */
	bool cleanup_apt_lists;        /* empty var/lib/apt/lists at the end */
	bool cleanup_apt_cache;        /* empty var/cache/apt (archives, *.bin) */
	bool cleanup_tmp;              /* empty /tmp */
	bool check_empty;              /* refuse a TARGET directory that is not empty */
	bool unlink_debs;              /* else the essential .debs stay in var/cache/apt/archives */
};

/* Decides what the user left open and checks what was given; reports
 * each problem once (-XB_EUSAGE for the command line's, -XB_EARCH for an
 * unknown architecture). */
int plan_complete(struct xb_plan *p);
void plan_release(struct xb_plan *p);

/* SOURCE_DATE_EPOCH into p->source_date_epoch (plan_complete() does it). */
int plan_read_epoch(struct xb_plan *p);

/* The name of the OCI image: --tag, else debian:SUITE-ARCH, or debian:SUITE
 * for --platforms' image of several.  The caller frees it. */
char *plan_oci_ref(const struct xb_plan *p);

/* The template's variants for the usage text: "essential, minbase, ..."
 * and the default (the caller frees the string; NULL when the template
 * cannot be read, reported). */
char *plan_variants_help(void);

/* --list=KIND: prints the architectures, distributions, formats, suites
 * or variants xboot knows, one per line, for scripts and shell completion;
 * reports an unknown KIND (-XB_EUSAGE). */
int plan_list(const char *kind);

#endif
