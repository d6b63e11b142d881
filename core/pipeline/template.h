/* template: a distribution as rootfs-templates/NAME.conf describes it —
 * the suites and mirrors that pick it, keyrings (and the package that
 * ships them), its default mirrors, components, whether xboot makes /usr merged, the suffixes of
 * the -updates and -security suites, and the variants with what seeds
 * each.  The file is the one source of these facts; the usage text, the
 * plan and the resolver read them from here.  template_release() frees. */
#ifndef XB_TEMPLATE_H
#define XB_TEMPLATE_H

#include "../base/util.h"

struct template_variant {
	char *name;
	struct strvec aliases;  /* other names it answers to ("required" for minbase) */
	struct strvec select;   /* "essential" or priorities (core/pkgset/resolve.h);
	                         * none: only what --include names */
	struct strvec packages; /* added where the indices have them */
	bool scripts;           /* false: unpacked only, no maintainer script runs */
};

struct template {
	char *name;                    /* "debian": the file's name */
	char *path;                    /* the file read, for messages */
	struct strvec suites;          /* the codenames that pick this template */
	struct strvec mirrors;         /* [ARCH=]URL, the default mirrors; none: the
	                                * host's apt configuration's (Debian) */
	struct strvec keyrings, components;
	char *keyring_package;         /* what ships the keyrings, for the error */
	char *default_variant;
	bool merged_usr;               /* xboot creates /bin -> usr/bin etc. */
	char *updates_suffix, *security_suffix;
	struct strvec kernels;         /* ARCH=PACKAGE: --kernel's package */
	struct strvec boot_packages;   /* what a disk image's loader comes from */
	struct template_variant *variants;
	size_t n_variants;
};

/* Reads DISTRIBUTION.conf of the templates directory ($XBOOT_TEMPLATES,
 * the checkout's rootfs-templates beside the binary, PREFIX/share/xboot
 * or /usr/share/xboot) into t (zero-initialised; the
 * caller releases it either way).  Reports errors: a missing or malformed
 * file, a variant that selects by something the resolver does not know. */
int template_load(const char *distribution, struct template *t);

/* The template a run uses: NAME when given (--distribution); else the one
 * one of whose default mirrors a MIRROR argument names, else the one whose
 * Suites has SUITE, else debian.  Reports errors as template_load. */
int template_pick(const char *name, const char *suite, const struct strvec *mirror_args,
                  struct template *t);
/* The templates there are, by name, sorted, into out; 0 or -errno. */
int template_names(struct strvec *out);
/* t's default mirror for the Debian architecture arch, or NULL (none: the
 * host's apt configuration is asked). */
const char *template_mirror(const struct template *t, const char *arch);
void template_release(struct template *t);

/* The variant of that name or alias, or NULL. */
const struct template_variant *template_variant(const struct template *t, const char *name);
/* The variants' names and aliases, joined by sep (the caller frees it). */
char *template_variant_names(const struct template *t, const char *sep);

#endif
