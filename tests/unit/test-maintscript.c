/* test-maintscript: the registries read from maintainer scripts, on the
 * shapes of text Debian's scripts have, and the conflict rule. */
#include "../../core/secondstage/maintscript.h"
#include "../../core/base/strvec.h"
#include "tap.h"

#include <string.h>

static unsigned cls(const char *text)
{
	return maintscript_classes(text, strlen(text), NULL, NULL);
}

static bool only_adduser(const char *tool)
{
	return !strcmp(tool, "adduser");
}

static void test_words(void)
{
	CHECK(cls("#!/bin/sh\nset -e\nmkdir -p /var/lib/foo\n") == 0, "no registry");
	CHECK(cls(". /usr/share/debconf/confmodule\ndb_get foo/bar\n") == MAINTSCRIPT_DEBCONF,
	      "debconf through confmodule");
	CHECK(cls("use Debconf::Client::ConfModule ':all';\n") == MAINTSCRIPT_DEBCONF,
	      "perl's debconf, in any case");
	CHECK(cls("ucf /usr/share/foo/foo.conf /etc/foo.conf\n") ==
	      (MAINTSCRIPT_UCF | MAINTSCRIPT_DEBCONF), "ucf asks through debconf");
	CHECK(cls("adduser --system --group _apt\n") == MAINTSCRIPT_ACCOUNTS, "adduser");
	CHECK(cls("chown root:staff /var/local\n") == MAINTSCRIPT_BASE_NAMES,
	      "chown to base-passwd's names");
	CHECK(cls("chown root:_ssh /var/local\n") == MAINTSCRIPT_ACCOUNTS, "chown to other names");
	CHECK(cls("dpkg-divert --package x --rename --add /bin/gzip\n") ==
	      (MAINTSCRIPT_DIVERT | MAINTSCRIPT_DIVERT_ADD | MAINTSCRIPT_GLOBAL), "dpkg-divert runs alone");
	CHECK(cls("  update-alternatives --install /usr/bin/pager pager /bin/more 50\n") ==
	      MAINTSCRIPT_ALTERNATIVES, "update-alternatives");
	CHECK(cls("if [ -x /usr/sbin/update-shells ]; then update-shells; fi\n") == MAINTSCRIPT_SHELLS,
	      "a path names the tool too");
	CHECK(cls("dpkg-statoverride --add root crontab 2755 /usr/bin/crontab\n") ==
	      (MAINTSCRIPT_STATOVERRIDE | MAINTSCRIPT_ACCOUNTS), "statoverride names owners");
	CHECK(cls("ldconfig\n") == MAINTSCRIPT_LDCONFIG, "ldconfig");
	CHECK(cls("update-rc.d foo defaults >/dev/null\n") == MAINTSCRIPT_INIT, "update-rc.d");
	CHECK(cls("deb-systemd-helper enable foo.timer\nsystemctl --system daemon-reload\n") == 0,
	      "per-unit tools are no registry");
	CHECK(cls("invoke-rc.d foo restart\n") == 0, "invoke-rc.d is stopped by policy-rc.d");
	CHECK(cls("echo 'See ldconfig.'\n") == MAINTSCRIPT_LDCONFIG, "a trailing dot is no part");
	CHECK(cls("my-ldconfig-wrapper\n") == 0, "words are whole");
}

static void test_unknown_registries(void)
{
	/* ca-certificates' postinst: its registry, not the whole tree (it ran
	 * alone for 105 s of trixie armhf standard's second stage) */
	CHECK(cls("update-ca-certificates --fresh\n") == MAINTSCRIPT_CACERTS, "update-ca-certificates");
	CHECK(cls("cp x /etc/ssl/certs/y.pem\n") == MAINTSCRIPT_CACERTS, "a cert written to /etc/ssl/certs");
	CHECK(maintscript_conflict(cls("update-ca-certificates\n"),
	                           cls("make-ssl-cert generate-default-snakeoil\n")),
	      "update-ca-certificates and a cert's writer, in order");
	CHECK(cls("update-locale LANG=C.UTF-8\nlocale-gen\n") == MAINTSCRIPT_LOCALE, "locales");
	CHECK(!maintscript_conflict(cls("update-ca-certificates\n"), cls("py3compile -p foo\n")),
	      "update-ca-certificates beside a byte-compilation");
	CHECK(cls("update-mime-database /usr/share/mime\n") == MAINTSCRIPT_GLOBAL,
	      "an update-* tool runs alone");
	const char *t = "deb-systemd-helper update-state foo.timer\nupdate-menus\n";
	CHECK(maintscript_classes(t, strlen(t), only_adduser, NULL) == 0,
	      "update-* words that are no installed tool");
	t = "adduser --system foo\nupdate-foo\n";
	const char *rc = "update-rc.d procps defaults >/dev/null || exit 1\n";
	CHECK(maintscript_classes(rc, strlen(rc), only_adduser, NULL) == 0,
	      "update-rc.d without insserv or OpenRC: the script's own links");
	CHECK(maintscript_classes(rc, strlen(rc), NULL, NULL) == MAINTSCRIPT_INIT,
	      "update-rc.d where insserv may be there");
	CHECK(maintscript_classes(t, strlen(t), only_adduser, NULL) == MAINTSCRIPT_ACCOUNTS,
	      "the table does not depend on what is installed");
	const char bin[] = "\177ELF\0\0\0adduser";
	CHECK(maintscript_classes(bin, sizeof(bin) - 1, NULL, NULL) == MAINTSCRIPT_GLOBAL,
	      "a binary runs alone");
	/* comments name tools they do not run; a # in a word or quotes is none */
	CHECK(cls("# e.g. dpkg-statoverride --add root staff 2775 /x\n") == 0, "a comment");
	CHECK(cls("true  # adduser is not run here\nupdate-alternatives --auto x\n") ==
	      MAINTSCRIPT_ALTERNATIVES, "a comment after a command");
	CHECK(cls("echo \"# not a comment\"; adduser foo\n") == MAINTSCRIPT_ACCOUNTS, "# in quotes");
	CHECK(cls("n=${#x}; adduser foo\n") == MAINTSCRIPT_ACCOUNTS, "# in a word");
	/* owners by id, and the statoverride registry's list, read no accounts */
	CHECK(cls("chown root:adm /var/log/x\n") == MAINTSCRIPT_BASE_NAMES, "chown to base names");
	CHECK(cls("chown sshd:adm /var/log/x\n") == MAINTSCRIPT_ACCOUNTS, "chown to a made user");
	CHECK(cls("chgrp \"staff\" /x; chown www-data.www-data /y\n") == MAINTSCRIPT_BASE_NAMES,
	      "quoted, and user.group");
	/* python3.13-minimal's postinst */
	CHECK(cls("if [ -e /etc/staff-group-for-usr-local ]; then\n perm=2755; group=staff\nelse\n"
	          " perm=755; group=root\nfi\nchown root:$group /usr/local/lib/x 2>/dev/null || true\n") ==
	      MAINTSCRIPT_BASE_NAMES, "a variable set to base names only");
	CHECK(cls("group=root\n[ -n \"$1\" ] && group=$1\nchown root:$group /x\n") == MAINTSCRIPT_ACCOUNTS,
	      "a variable set to something else too");
	CHECK(cls("read group\nchgrp ${group} /x\n") == MAINTSCRIPT_ACCOUNTS, "a variable read");
	CHECK(cls("chgrp ${group} /x\n") == MAINTSCRIPT_ACCOUNTS, "a variable from the environment");
	CHECK(cls("g=adm\nchgrp ${g:-root} /x\n") == MAINTSCRIPT_ACCOUNTS, "an expansion with a default");
	CHECK(cls("grep -q ^x: /etc/group\n") == MAINTSCRIPT_ACCOUNTS, "/etc/group read");
	CHECK(cls("for f in /etc/iproute2/group /etc/iproute2/rt_tables; do :; done\n") == 0,
	      "another file called group");
	CHECK(cls("echo \"the group is fine\"\n") == 0, "the word group elsewhere");
	CHECK(cls("chown -R $USER /x\n") == MAINTSCRIPT_ACCOUNTS, "chown to a variable");
	CHECK(cls("chgrp $(stat -L -c %g /usr/local) /usr/local/share/x\n") == 0, "chgrp to stat's id");
	CHECK(cls("chown -h 0:0 /x\n") == 0, "chown to numbers");
	CHECK(cls("chown\n") == MAINTSCRIPT_ACCOUNTS, "chown named alone");
	CHECK(cls("if ! dpkg-statoverride --list /usr/local/x >/dev/null; then :; fi\n") ==
	      MAINTSCRIPT_STATOVERRIDE_READ, "dpkg-statoverride --list");
	unsigned rd = cls("dpkg-statoverride --list /x\n"),
	         wr = cls("dpkg-statoverride --update --add root crontab 2755 /y\n");
	CHECK(maintscript_conflict(wr, rd) && !maintscript_conflict(rd, wr) &&
	      !maintscript_conflict(rd, rd), "a reader after the writers before it, only");
	/* dpkg-divert that moves nothing meets only the other diverters */
	CHECK(cls("fn=$(dpkg-divert --truename \"/usr/sbin/$n\")\n") == MAINTSCRIPT_DIVERT,
	      "dpkg-divert --truename");
	CHECK(cls("dpkg-divert --quiet --add --no-rename --package base-files --divert /.x /x\n") ==
	      (MAINTSCRIPT_DIVERT | MAINTSCRIPT_DIVERT_ADD), "dpkg-divert --no-rename");
	CHECK(cls("dpkg-divert --package dash --no-rename --remove \"$dfile\"\n") == MAINTSCRIPT_DIVERT,
	      "dpkg-divert --no-rename --remove adds none");
	CHECK(cls("dpkg-divert --add /x\n") ==
	      (MAINTSCRIPT_DIVERT | MAINTSCRIPT_DIVERT_ADD | MAINTSCRIPT_GLOBAL),
	      "dpkg-divert that may rename runs alone");
	CHECK(cls("dpkg-divert --no-rename --divert /x.d /x\n") ==
	      (MAINTSCRIPT_DIVERT | MAINTSCRIPT_DIVERT_ADD), "no action named: --add");
	CHECK(cls("dpkg-statoverride --update --add root crontab 2755 /usr/bin/crontab\n") ==
	      (MAINTSCRIPT_STATOVERRIDE | MAINTSCRIPT_ACCOUNTS), "dpkg-statoverride --add");
	/* dpkg-query: what configuring changes makes it run alone */
	CHECK(cls("dpkg-query -W -f='${binary:Package} ${Status}\\n' $check 2>/dev/null |\n") ==
	      MAINTSCRIPT_STATUS, "dpkg-query of Status runs alone");
	CHECK(cls("if [ \"$(dpkg-query -W -f='${db:Status-Want}' locales-all 2>/dev/null)\" = x ]\n") ==
	      0, "dpkg-query of the want flag commutes");
	CHECK(cls("old=\"$(dpkg-query -W -f='${Conffiles}' $pkg | \\\n sed -n -e \"\\' ${conffile} ' p\")\"\n") ==
	      0, "dpkg-query of Conffiles commutes; the pipe's shell variables are not its");
	CHECK(cls("dpkg-query -f '${Version}' -W base-files\n") == 0, "-f before -W");
	CHECK(cls("dpkg-query -L base-files | grep -q x\n") == MAINTSCRIPT_STATUS, "-L runs alone");
	CHECK(cls("dpkg-query -S /bin/sh\n") == MAINTSCRIPT_STATUS, "-S (diversions) runs alone");
	CHECK(cls("dpkg-query -W \\\n  -f='${Status}' foo\n") == MAINTSCRIPT_STATUS,
	      "a format on a continued line");
	CHECK(cls("dpkg-query -W -f='${Version}|${Status}' foo\n") == MAINTSCRIPT_STATUS,
	      "a pipe inside the format's quotes");
	CHECK(cls("dpkg-query -l foo\n") == MAINTSCRIPT_STATUS, "-l runs alone");
	CHECK(cls("echo \"see dpkg-query(1)\"\n") == MAINTSCRIPT_STATUS, "dpkg-query named in passing");
	CHECK(cls("dpkg-query -W foo\n") == 0, "-W's own format: name and version");
	CHECK(cls("sed -i 's/^hosts:/& mdns/' /etc/nsswitch.conf\n") == MAINTSCRIPT_NSS,
	      "nsswitch.conf, edited in place");
	CHECK(cls("") == 0, "empty");
}

/* --remove on behalf of packages named: alone only where they hold a
 * diversion, which the caller knows */
static void test_undivert(void)
{
	/* trixie's gzip postinst, on continued lines */
	const char *gz = "for tool in zcat zgrep; do\n"
	                 "  if [ \"$(dpkg-divert --truename \"/usr/bin/$tool\")\" = x ]; then\n"
	                 "    dpkg-divert --rename --package zutils \\\n"
	                 "\t\t--divert \"/usr/bin/$tool.usr-is-merged\" \\\n"
	                 "\t\t--remove \"/usr/bin/$tool\"\n  fi\ndone\n";
	struct strvec names = STRVEC_INIT;
	CHECK(maintscript_classes(gz, strlen(gz), NULL, &names) ==
	      (MAINTSCRIPT_DIVERT | MAINTSCRIPT_UNDIVERT), "gzip's postinst: zutils' diversions");
	CHECK(names.n == 1 && !strcmp(names.v[0], "zutils"), "the package it names, once");
	CHECK(maintscript_conflict(MAINTSCRIPT_DIVERT | MAINTSCRIPT_UNDIVERT, 0) &&
	      maintscript_conflict(0, MAINTSCRIPT_UNDIVERT), "alone until the caller knows better");
	strvec_clear(&names);
	const char *two = "dpkg-divert --package a --rename --remove /x\n"
	                  "dpkg-divert --package b --rename --remove /y\n"
	                  "dpkg-divert --package a --rename --remove /z\n";
	maintscript_classes(two, strlen(two), NULL, &names);
	CHECK(names.n == 2 && !strcmp(names.v[0], "a") && !strcmp(names.v[1], "b"), "each package once");
	strvec_clear(&names);
	const char *joined = "dpkg-divert --package=c --rename --remove /x\n";
	CHECK(maintscript_classes(joined, strlen(joined), NULL, &names) ==
	      (MAINTSCRIPT_DIVERT | MAINTSCRIPT_UNDIVERT), "--package=NAME");
	CHECK(names.n == 1 && !strcmp(names.v[0], "c"), "the package it names");
	strvec_clear(&names);
	const char *twice = "dpkg-divert --package a --package=b --rename --remove /x\n";
	maintscript_classes(twice, strlen(twice), NULL, &names);
	CHECK(names.n == 1 && !strcmp(names.v[0], "b"), "given twice: the last, as getopt");
	strvec_clear(&names);
	CHECK(cls("dpkg-divert --package a --package \"$p\" --rename --remove /x\n") ==
	      (MAINTSCRIPT_DIVERT | MAINTSCRIPT_GLOBAL), "given twice, once in a variable");
	CHECK(cls("dpkg-divert --package=\"$pkg\" --rename --remove /x\n") ==
	      (MAINTSCRIPT_DIVERT | MAINTSCRIPT_GLOBAL), "--package= of a variable");
	CHECK(cls("dpkg-divert --package \"$pkg\" --rename --remove /x\n") ==
	      (MAINTSCRIPT_DIVERT | MAINTSCRIPT_GLOBAL), "a package in a variable");
	CHECK(cls("dpkg-divert --rename --remove /x\n") == (MAINTSCRIPT_DIVERT | MAINTSCRIPT_GLOBAL),
	      "whoever holds it");
	CHECK(cls("dpkg-divert --package a --rename --remove /x\ndpkg-divert --add /y\n") ==
	      (MAINTSCRIPT_DIVERT | MAINTSCRIPT_UNDIVERT | MAINTSCRIPT_DIVERT_ADD | MAINTSCRIPT_GLOBAL),
	      "and one that adds");
	CHECK(cls("dpkg-divert --package a --rename --add --remove /x\n") ==
	      (MAINTSCRIPT_DIVERT | MAINTSCRIPT_DIVERT_ADD | MAINTSCRIPT_GLOBAL), "--add and --remove");
	CHECK(cls("chown \\\n 0:0 /x\n") == 0, "a continued line's arguments");
}

static void test_conflict(void)
{
	CHECK(!maintscript_conflict(0, 0), "no registries");
	CHECK(!maintscript_conflict(MAINTSCRIPT_DEBCONF, MAINTSCRIPT_ACCOUNTS), "different ones");
	CHECK(maintscript_conflict(MAINTSCRIPT_DEBCONF | MAINTSCRIPT_DIVERT, MAINTSCRIPT_DIVERT),
	      "a shared one");
	CHECK(maintscript_conflict(MAINTSCRIPT_GLOBAL, 0) && maintscript_conflict(0, MAINTSCRIPT_GLOBAL),
	      "GLOBAL against anything");
	CHECK(maintscript_conflict(MAINTSCRIPT_STATUS, 0) && maintscript_conflict(0, MAINTSCRIPT_STATUS),
	      "STATUS, as the caller leaves it, too");
}

int main(void)
{
	test_words();
	test_unknown_registries();
	test_undivert();
	test_conflict();
	return tap_done();
}
