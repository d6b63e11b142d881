/* twostage: the second stage left in the tree by --foreign (see
 * twostage.h).  The script is plain POSIX sh for the tree's /bin/sh
 * (dash, or busybox's); what it reads was checked by the first stage:
 * names, architectures and versions as pkgscan's policy allows them, so
 * they are words in a shell without quoting. */
#include <errno.h>
#include <fcntl.h>

#include "twostage.h"

#include "../base/inroot.h"
#include "../base/strbuf.h"
#include "../dpkg/dpkgdb.h"

static const char script[] =
	"#!/bin/sh\n"
	"# The second stage of a bootstrap that xboot --foreign began, as debootstrap's:\n"
	"# run as root inside the tree, on the machine it is for (or under emulation):\n"
	"#   chroot TARGET /debootstrap/debootstrap --second-stage\n"
	"# Each package's preinst in install order, then dpkg configures the phases\n"
	"# one after the other (the essential set, the required, the rest), then the\n"
	"# triggers; then the clean-up of a one-stage run.\n"
	"set -e\n"
	"dir=/" TWOSTAGE_DIR "\n"
	"stage= keep=\n"
	"for arg; do\n"
	"\tcase $arg in\n"
	"\t--second-stage) stage=1 ;;\n"
	"\t--keep-debootstrap-dir) keep=1 ;;\n"
	"\t--verbose | --second-stage-target=/) ;;\n"
	"\t*) echo \"E: unknown option $arg (usage: $dir/debootstrap --second-stage\" \\\n"
	"\t\t\"[--keep-debootstrap-dir])\" >&2; exit 2 ;;\n"
	"\tesac\n"
	"done\n"
	"if [ -z \"$stage\" ]; then\n"
	"\techo \"E: usage: $dir/debootstrap --second-stage [--keep-debootstrap-dir]\" >&2\n"
	"\texit 2\n"
	"fi\n"
	"if [ \"$(id -u)\" != 0 ] || [ ! -r \"$dir/packages\" ]; then\n"
	"\techo \"E: run as root inside the tree the first stage made ($dir/packages)\" >&2\n"
	"\texit 1\n"
	"fi\n"
	"export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \\\n"
	"\tLC_ALL=C.UTF-8 LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \\\n"
	"\tDEBCONF_NONINTERACTIVE_SEEN=true TERM=dumb\n"
	"umask 022\n"
	"cd /\n"
	". \"$dir/settings\"\n"
	"echo \"I: preparing the packages\"\n"
	"while read -r name arch info phase; do\n"
	"\tf=/var/lib/dpkg/info/$info.preinst\n"
	"\t[ -x \"$f\" ] || continue\n"
	"\tDPKG_MAINTSCRIPT_PACKAGE=$name DPKG_MAINTSCRIPT_ARCH=$arch \\\n"
	"\tDPKG_MAINTSCRIPT_NAME=preinst DPKG_MAINTSCRIPT_PACKAGE_REFCOUNT=1 \\\n"
	"\tDPKG_MAINTSCRIPT_DEBUG=0 DPKG_RUNNING_VERSION=$dpkg_version \\\n"
	"\tDPKG_ADMINDIR=/var/lib/dpkg DPKG_ROOT= DEBCONF_PACKAGE=$name \\\n"
	"\t\t\"$f\" install </dev/null\n"
	"done <\"$dir/packages\"\n"
	"for want in $phases; do\n"
	"\tset --\n"
	"\twhile read -r name arch info phase; do\n"
	"\t\t[ \"$phase\" = \"$want\" ] || continue\n"
	"\t\tif [ \"$arch\" = all ]; then set -- \"$@\" \"$name\"; else set -- \"$@\" \"$name:$arch\"; fi\n"
	"\tdone <\"$dir/packages\"\n"
	"\t[ $# -gt 0 ] || continue\n"
	"\techo \"I: configuring $# packages\"\n"
	"\tdpkg --force-depends --configure \"$@\" </dev/null\n"
	"done\n"
	"dpkg --configure --pending </dev/null\n"
	"if grep -q 'written by xboot' /usr/sbin/policy-rc.d 2>/dev/null; then\n"
	"\trm -f /usr/sbin/policy-rc.d\n"
	"fi\n"
	"[ ! -e /etc/machine-id ] || : >/etc/machine-id\n"
	"if id -u _apt >/dev/null 2>&1; then\n"
	"\tfor d in /var/cache/apt/archives/partial /var/lib/apt/lists/partial; do\n"
	"\t\t[ ! -d \"$d\" ] || { chown _apt:root \"$d\" && chmod 700 \"$d\"; }\n"
	"\tdone\n"
	"fi\n"
	"for f in $remove; do rm -f \"/$f\"; done\n"
	"[ -n \"$keep\" ] || rm -rf \"$dir\"\n"
	"echo \"I: base system installed successfully.\"\n";

/* "name arch info-name phase" per package, in install order. */
static void package_list(const struct xb_pkg *pkgs, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct xb_pkg *p = &pkgs[i];
		cleanup_free char *info = dpkgdb_info_name(p->name, p->arch, p->multi_arch &&
		                                           !strcmp(p->multi_arch, "same"));
		strbuf_addf(out, "%s %s %s %d\n", p->name, p->arch, info, p->phase);
	}
}

static void settings(const struct xb_pkg *pkgs, size_t n, const struct strvec *remove,
                     struct strbuf *out)
{
	ssize_t dpkg = resolve_find(pkgs, n, "dpkg");
	strbuf_addf(out, "dpkg_version='%s'\nphases='", dpkg < 0 ? "" : pkgs[dpkg].version);
	int ph = -1;
	for (size_t i = 0; i < n; i++) {
		if (pkgs[i].phase == ph)
			continue;
		strbuf_addf(out, "%s%d", ph < 0 ? "" : " ", pkgs[i].phase);
		ph = pkgs[i].phase;
	}
	strbuf_addstr(out, "'\nremove='");
	for (size_t i = 0; i < remove->n; i++)
		strbuf_addf(out, "%s%s", i ? " " : "", remove->v[i]);
	strbuf_addstr(out, "'\n");
}

int twostage_write(const char *target, const struct xb_pkg *pkgs, size_t n,
                   const struct strvec *remove)
{
	cleanup_fd int rootfd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_strbuf struct strbuf list = STRBUF_INIT, set = STRBUF_INIT;
	int r = rootfd < 0 ? -errno : inroot_mkdir_p(rootfd, TWOSTAGE_DIR, 0755);

	package_list(pkgs, n, &list);
	settings(pkgs, n, remove, &set);
	if (!r)
		r = inroot_write_file(rootfd, TWOSTAGE_DIR "/packages", list.buf, list.len, 0644);
	if (!r)
		r = inroot_write_file(rootfd, TWOSTAGE_DIR "/settings", set.buf, set.len, 0644);
	if (!r)
		r = inroot_write_file(rootfd, TWOSTAGE_DIR "/debootstrap", script, sizeof(script) - 1,
		                      0755);
	if (r)
		xb_error("writing the second stage into %s/%s: %s", target, TWOSTAGE_DIR, strerror(-r));
	return r;
}
