/* maintscript: the registries a maintainer script's words name.  See maintscript.h. */
#include "maintscript.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct word {
	const char *w;
	unsigned cls;
};

/* Sorted by word, for bsearch.  Not here: deb-systemd-helper and
 * systemctl, which in a chroot (no systemd running) only link or unlink
 * the units they are named, as a package's own files; invoke-rc.d and
 * deb-systemd-invoke, which the policy-rc.d of the second stage stops. */
static const struct word words[] = {
	{ "add-shell", MAINTSCRIPT_SHELLS },
	{ "addgroup", MAINTSCRIPT_ACCOUNTS },
	{ "adduser", MAINTSCRIPT_ACCOUNTS },
	{ "chage", MAINTSCRIPT_ACCOUNTS },
	{ "chfn", MAINTSCRIPT_ACCOUNTS },
	{ "chgpasswd", MAINTSCRIPT_ACCOUNTS },
	{ "chgrp", MAINTSCRIPT_ACCOUNTS },
	{ "chown", MAINTSCRIPT_ACCOUNTS },
	{ "chpasswd", MAINTSCRIPT_ACCOUNTS },
	{ "chsh", MAINTSCRIPT_ACCOUNTS | MAINTSCRIPT_SHELLS },
	{ "confmodule", MAINTSCRIPT_DEBCONF },
	{ "debconf", MAINTSCRIPT_DEBCONF },
	{ "debconf-set-selections", MAINTSCRIPT_DEBCONF },
	{ "delgroup", MAINTSCRIPT_ACCOUNTS },
	{ "deluser", MAINTSCRIPT_ACCOUNTS },
	/* --rename moves the diverted file away for a moment, and the file
	 * may be one every script runs: bookworm's dash diverts /bin/sh, and
	 * a #!/bin/sh script started beside it fails with ENOENT. */
	{ "dpkg-divert", MAINTSCRIPT_DIVERT | MAINTSCRIPT_GLOBAL },
	{ "dpkg-query", MAINTSCRIPT_GLOBAL },
	{ "dpkg-reconfigure", MAINTSCRIPT_DEBCONF },
	{ "dpkg-statoverride", MAINTSCRIPT_STATOVERRIDE | MAINTSCRIPT_ACCOUNTS },
	{ "dpkg-trigger", MAINTSCRIPT_TRIGGERS },
	{ "getent", MAINTSCRIPT_ACCOUNTS },
	{ "gpasswd", MAINTSCRIPT_ACCOUNTS },
	{ "group", MAINTSCRIPT_ACCOUNTS },
	{ "groupadd", MAINTSCRIPT_ACCOUNTS },
	{ "groupdel", MAINTSCRIPT_ACCOUNTS },
	{ "groupmod", MAINTSCRIPT_ACCOUNTS },
	{ "grpconv", MAINTSCRIPT_ACCOUNTS },
	{ "grpunconv", MAINTSCRIPT_ACCOUNTS },
	{ "gshadow", MAINTSCRIPT_ACCOUNTS },
	{ "insserv", MAINTSCRIPT_INIT },
	{ "install-info", MAINTSCRIPT_GLOBAL },
	{ "ldconfig", MAINTSCRIPT_LDCONFIG },
	{ "newusers", MAINTSCRIPT_ACCOUNTS },
	{ "nsswitch.conf", MAINTSCRIPT_NSS },
	{ "pam-auth-update", MAINTSCRIPT_PAM | MAINTSCRIPT_DEBCONF },
	{ "passwd", MAINTSCRIPT_ACCOUNTS },
	{ "pwconv", MAINTSCRIPT_ACCOUNTS },
	{ "pwunconv", MAINTSCRIPT_ACCOUNTS },
	{ "remove-shell", MAINTSCRIPT_SHELLS },
	{ "shadow", MAINTSCRIPT_ACCOUNTS },
	{ "shadowconfig", MAINTSCRIPT_ACCOUNTS },
	{ "shells", MAINTSCRIPT_SHELLS },
	{ "systemd-sysusers", MAINTSCRIPT_ACCOUNTS },
	{ "ucf", MAINTSCRIPT_UCF | MAINTSCRIPT_DEBCONF },
	{ "ucfq", MAINTSCRIPT_UCF },
	{ "ucfr", MAINTSCRIPT_UCF },
	{ "update-alternatives", MAINTSCRIPT_ALTERNATIVES },
	{ "update-passwd", MAINTSCRIPT_ACCOUNTS },
	{ "update-rc.d", MAINTSCRIPT_INIT },
	{ "update-shells", MAINTSCRIPT_SHELLS },
	{ "useradd", MAINTSCRIPT_ACCOUNTS },
	{ "userdel", MAINTSCRIPT_ACCOUNTS },
	{ "usermod", MAINTSCRIPT_ACCOUNTS },
};

static int cmp_word(const void *key, const void *elt)
{
	return strcmp(key, ((const struct word *)elt)->w);
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '+';
}

/* A registry named here by a word: the table's, or any other update-*
 * tool that is installed (the Debian naming of registries: update-mime,
 * update-initramfs, update-ca-certificates, ...), which runs alone. */
static unsigned word_classes(const char *w, bool (*installed)(const char *tool))
{
	const struct word *hit = bsearch(w, words, sizeof(words) / sizeof(words[0]),
	                                 sizeof(words[0]), cmp_word);
	if (hit)
		return hit->cls;
	if (!strncmp(w, "update-", 7) && (!installed || installed(w)))
		return MAINTSCRIPT_GLOBAL;
	return 0;
}

unsigned maintscript_classes(const char *text, size_t len, bool (*installed)(const char *tool))
{
	unsigned cls = 0;
	char w[64];
	size_t i = 0;

	if (memchr(text, '\0', len))
		return MAINTSCRIPT_GLOBAL; /* not a script we can read */
	while (i < len) {
		while (i < len && !word_char(text[i]))
			i++;
		size_t start = i;
		while (i < len && word_char(text[i]))
			i++;
		size_t n = i - start;
		/* A longer word is no tool name in the table or an update-* one
		 * worth a class; trailing dots end sentences, not names. */
		while (n && text[start + n - 1] == '.')
			n--;
		if (!n || n >= sizeof(w))
			continue;
		/* Perl names Debconf::Client::ConfModule. */
		for (size_t k = 0; k < n; k++)
			w[k] = (char)tolower((unsigned char)text[start + k]);
		w[n] = '\0';
		cls |= word_classes(w, installed);
	}
	return cls;
}

bool maintscript_conflict(unsigned a, unsigned b)
{
	return (a & b) || (a & MAINTSCRIPT_GLOBAL) || (b & MAINTSCRIPT_GLOBAL);
}
