/* plan: everything one bootstrap needs to know, built once by cmd/ from the
 * command line and the templates, and read-only afterwards. */
#ifndef XB_PLAN_H
#define XB_PLAN_H

#include "../base/util.h"
#include "hooks.h"
#include "../output/output.h"
#include "../../fetch/mirror.h"
#include "../../emu/arch.h"

struct xb_plan {
	char *suite;                 /* as given: codename or alias */
	char *target;                /* the directory to build */
	struct mirror_entries sources; /* URIs (the first serves the suite), suites, components */
	bool updates;                /* --updates: add SUITE-updates and SUITE-security */
	const struct emu_arch *arch; /* the target architecture */
	char *variant;               /* essential|minbase|buildd|important|standard|extract */
	struct strvec components;
	struct strvec include, exclude;
	struct strvec keyrings;
	int jobs;                    /* parallel downloads */
	int script_jobs;             /* maintainer scripts at once; 0: one per CPU */
	char *cache_dir;             /* NULL with no_cache */
	bool no_cache;
	bool ignore_valid_until, no_check_sig;
	bool remove_emulator;
	bool merged_usr;             /* create /bin -> usr/bin etc. before unpacking */
	struct hooks hooks;
	struct strvec aptopts, dpkgopts; /* lines (or files) for apt.conf.d, dpkg.cfg.d */
	long long source_date_epoch; /* SOURCE_DATE_EPOCH, or -1 */
	enum output_format format;   /* OUTPUT_DIR: target is the tree itself */
	bool format_given;           /* --format, rather than TARGET's name */
	enum { PLAN_MODE_AUTO, PLAN_MODE_ROOT, PLAN_MODE_UNSHARE } mode; /* not AUTO once complete */
};

void plan_release(struct xb_plan *p);

/* The templates directory (rootfs-templates): $XBOOT_TEMPLATES, the
 * build tree's, or the installed one.  Not to be freed. */
const char *plan_templates_dir(void);

/* Reads the distribution template (rootfs-templates/debian.conf) and fills
 * what the user left empty: keyrings and components.  Reports errors. */
int plan_apply_template(struct xb_plan *p, const char *distribution);

#endif
