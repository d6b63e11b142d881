/* maintscript: the registries a maintainer script's words name.  See maintscript.h. */
#include "maintscript.h"
#include "../base/strvec.h"
#include "../base/util.h"

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
	{ "c_rehash", MAINTSCRIPT_CACERTS },
	{ "ca-certificates", MAINTSCRIPT_CACERTS },
	{ "ca-certificates.conf", MAINTSCRIPT_CACERTS },
	{ "certs", MAINTSCRIPT_CACERTS },
	{ "chage", MAINTSCRIPT_ACCOUNTS },
	{ "chfn", MAINTSCRIPT_ACCOUNTS },
	{ "chgpasswd", MAINTSCRIPT_ACCOUNTS },
	{ "chpasswd", MAINTSCRIPT_ACCOUNTS },
	{ "chsh", MAINTSCRIPT_ACCOUNTS | MAINTSCRIPT_SHELLS },
	{ "confmodule", MAINTSCRIPT_DEBCONF },
	{ "debconf", MAINTSCRIPT_DEBCONF },
	{ "debconf-set-selections", MAINTSCRIPT_DEBCONF },
	{ "delgroup", MAINTSCRIPT_ACCOUNTS },
	{ "deluser", MAINTSCRIPT_ACCOUNTS },
	{ "dpkg-reconfigure", MAINTSCRIPT_DEBCONF },
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
	{ "locale", MAINTSCRIPT_LOCALE },
	{ "locale-gen", MAINTSCRIPT_LOCALE },
	{ "locale.gen", MAINTSCRIPT_LOCALE },
	{ "localedef", MAINTSCRIPT_LOCALE },
	{ "make-ssl-cert", MAINTSCRIPT_CACERTS },
	{ "newusers", MAINTSCRIPT_ACCOUNTS },
	{ "nsswitch.conf", MAINTSCRIPT_NSS },
	{ "pam-auth-update", MAINTSCRIPT_PAM | MAINTSCRIPT_DEBCONF },
	{ "passwd", MAINTSCRIPT_ACCOUNTS },
	{ "pwconv", MAINTSCRIPT_ACCOUNTS },
	{ "pwunconv", MAINTSCRIPT_ACCOUNTS },
	{ "rehash", MAINTSCRIPT_CACERTS },
	{ "remove-shell", MAINTSCRIPT_SHELLS },
	{ "shadow", MAINTSCRIPT_ACCOUNTS },
	{ "shadowconfig", MAINTSCRIPT_ACCOUNTS },
	{ "shells", MAINTSCRIPT_SHELLS },
	{ "systemd-sysusers", MAINTSCRIPT_ACCOUNTS },
	{ "ucf", MAINTSCRIPT_UCF | MAINTSCRIPT_DEBCONF },
	{ "ucfq", MAINTSCRIPT_UCF },
	{ "ucfr", MAINTSCRIPT_UCF },
	{ "update-alternatives", MAINTSCRIPT_ALTERNATIVES },
	/* reads the certificates packages ship (all unpacked before a script
	 * that runs it starts), rebuilds what the class names, runs update.d's
	 * hooks */
	{ "update-ca-certificates", MAINTSCRIPT_CACERTS },
	{ "update-locale", MAINTSCRIPT_LOCALE },
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
 * update-initramfs, ...), which runs alone. */
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

/* What ends a word of a command, or (from its third byte) the command. */
#define CMD_END " \t\n;|&)`"

/* Fields of dpkg-query -W's format that configuring a package leaves as
 * they are (xboot's unpack writes the conffiles' hashes), sorted. */
static const char *const still_fields[] = {
	"Architecture", "Conffiles", "Depends", "Description", "Essential", "Maintainer",
	"Multi-Arch", "Package", "Pre-Depends", "Priority", "Provides", "Section", "Source",
	"Version", "binary:Package", "binary:Summary", "db:Status-Want", "source:Package",
	"source:Version",
};

static int cmp_str(const void *key, const void *elt)
{
	return strcmp(key, *(const char *const *)elt);
}

/* Whether the ${NAME} at s (len bytes left) is one of still_fields. */
static bool still_field(const char *s, size_t len, size_t *used)
{
	char name[32];
	size_t n = 0;
	while (n + 2 < len && s[n + 2] != '}' && n < sizeof(name) - 1)
		n++;
	*used = n + 2;
	if (n + 2 >= len || s[n + 2] != '}')
		return false;
	memcpy(name, s + 2, n);
	name[n] = '\0';
	return bsearch(name, still_fields, sizeof(still_fields) / sizeof(still_fields[0]),
	               sizeof(still_fields[0]), cmp_str) != NULL;
}

static bool query_option(const char *t, size_t n)
{
	static const char *const ok[] = { "-W", "--show", "-f", "--showformat" };
	for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
		size_t m = strlen(ok[k]);
		if (n >= m && !memcmp(t, ok[k], m) &&
		    (n == m || (m <= 2 && t[m] != '-' && strchr("='\"", t[m])) || t[m] == '='))
			return true;
	}
	return false;
}

/* A dpkg-query command, from its first argument to where the shell ends
 * it: its answer changes as packages get configured (their Status, the
 * diversions of -S), so it runs alone, unless it is -W with a format of
 * fields that stay as they are: a package's conffiles, its version, the
 * want flag. */
static unsigned query_classes(const char *s, size_t len)
{
	bool show = false, other = false, start = true;
	char q = 0;
	for (size_t i = 0; i < len && !other; i++) {
		char c = s[i];
		if (!q && strchr(CMD_END + 2, c))
			break;
		if (c == '\\') { /* an escaped character, or a line continued */
			i++;
			continue;
		}
		if (c == '$' && i + 1 < len && s[i + 1] == '{') {
			size_t used;
			other = !still_field(s + i, len - i, &used);
			i += used;
			start = false;
			continue;
		}
		if (q) {
			q = c == q ? 0 : q;
		} else if (c == '\'' || c == '"') {
			q = c;
		} else if (c == ' ' || c == '\t') {
			start = true;
			continue;
		} else if (start && c == '-') {
			size_t n = strcspn(s + i, CMD_END);
			bool is_show = (n == 2 && !memcmp(s + i, "-W", 2)) ||
			               (n == 6 && !memcmp(s + i, "--show", 6));
			show |= is_show;
			other = !is_show && !query_option(s + i, n);
		}
		start = false;
	}
	return other || !show ? MAINTSCRIPT_STATUS : 0;
}

/* The next word of the same command line at s: where it starts, or len.
 * A backslash at the end of a line goes on to the next. */
static size_t next_arg(const char *s, size_t len, size_t from)
{
	for (;;) {
		while (from < len && (s[from] == ' ' || s[from] == '\t'))
			from++;
		if (from + 1 >= len || s[from] != '\\' || s[from + 1] != '\n')
			break;
		from += 2;
	}
	return from < len && !strchr(CMD_END + 2, s[from]) ? from : len;
}

/* The users and groups base-passwd makes, with the same ids everywhere
 * (its passwd.master and group.master), sorted: no script adds or removes
 * them, so once base-passwd is configured they are no shared state. */
static const char *const base_names[] = {
	"adm", "audio", "backup", "bin", "cdrom", "daemon", "dialout", "dip", "disk", "fax",
	"floppy", "games", "irc", "kmem", "list", "lp", "mail", "man", "news", "nobody",
	"nogroup", "operator", "plugdev", "proxy", "root", "sasl", "shadow", "src", "staff",
	"sudo", "sync", "sys", "tape", "tty", "users", "utmp", "uucp", "video", "voice", "www-data",
};

/* A name of base-passwd's or an id: s, n bytes, quotes left out. */
static bool base_name(const char *s, size_t n)
{
	char name[16];
	size_t k = 0, digits = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\'')
			continue;
		if (k == sizeof(name) - 1)
			return false;
		digits += isdigit((unsigned char)s[i]) != 0;
		name[k++] = s[i];
	}
	name[k] = '\0';
	return k && (digits == k || bsearch(name, base_names, sizeof(base_names) / sizeof(base_names[0]),
	                                    sizeof(base_names[0]), cmp_str));
}

/* Whether the shell variable var (vlen bytes) of the script holds only
 * base-passwd's names: every word of that name in the text is a use
 * ($var, ${var}) or an assignment of such a name, and there is one. */
static bool base_names_var(const char *text, size_t len, const char *var, size_t vlen)
{
	bool assigned = false;
	for (const char *p = text; (p = memmem(p, len - (size_t)(p - text), var, vlen)); p += vlen) {
		size_t at = (size_t)(p - text), end = at + vlen;
		if ((at && word_char(text[at - 1])) || (end < len && word_char(text[end])))
			continue; /* part of a longer word */
		if (at && text[at - 1] == '$')
			continue;
		if (at > 1 && text[at - 1] == '{' && text[at - 2] == '$' && end < len && text[end] == '}')
			continue;
		if (end < len && text[end] == '=' && (!at || strchr(" \t\n;&|(", text[at - 1])) &&
		    base_name(text + end + 1, strcspn(text + end + 1, CMD_END))) {
			assigned = true;
			continue;
		}
		return false; /* read, for, ${var:-...}, or a word in a message */
	}
	return assigned;
}

/* chown and chgrp to ids (numbers, or what stat -c %u/%g says) read no
 * account database, and to base-passwd's names (literal, or in a variable
 * the script sets to them) only what base-passwd made; options (-R, -h)
 * come first. */
static unsigned owner_classes(const char *text, size_t tlen, const char *s, size_t len)
{
	size_t at = next_arg(s, len, 0);
	while (at < len && s[at] == '-')
		at = next_arg(s, len, at + strcspn(s + at, CMD_END));
	if (at < len && (isdigit((unsigned char)s[at]) || !strncmp(s + at, "$(stat ", 7)))
		return 0;
	if (at == len)
		return MAINTSCRIPT_ACCOUNTS;
	const char *arg = s + at, *end = arg + strcspn(arg, CMD_END);
	while (arg < end) { /* user:group, user.group or group, each part apart */
		const char *sep = arg;
		while (sep < end && *sep != ':' && *sep != '.')
			sep++;
		const char *v = arg;
		while (v < sep && (*v == '"' || *v == '\''))
			v++;
		if (v < sep && *v == '$') {
			bool braced = v + 1 < sep && v[1] == '{';
			const char *name = v + 1 + braced, *name_end = name;
			while (name_end < sep && word_char(*name_end) && *name_end != '.')
				name_end++;
			if (name_end == name || !base_names_var(text, tlen, name, (size_t)(name_end - name)))
				return MAINTSCRIPT_ACCOUNTS;
		} else if (sep > arg && !base_name(arg, (size_t)(sep - arg))) {
			return MAINTSCRIPT_ACCOUNTS;
		}
		arg = sep + (sep < end);
	}
	return MAINTSCRIPT_BASE_NAMES;
}

/* Whether the command at s (to where the shell ends it) has the option. */
static bool has_option(const char *s, size_t len, const char *opt)
{
	size_t m = strlen(opt);
	for (size_t at = next_arg(s, len, 0); at < len;) {
		size_t n = strcspn(s + at, CMD_END);
		if (n == m && !memcmp(s + at, opt, m))
			return true;
		at = next_arg(s, len, at + n);
	}
	return false;
}

/* dpkg-statoverride --list reads the registry (it takes no lock): it
 * comes after the writers before it, and a writer after it need not wait
 * (a package lists its own paths); the other actions write the registry,
 * and take user and group names. */
static unsigned statoverride_classes(const char *s, size_t len)
{
	if (has_option(s, len, "--list"))
		return MAINTSCRIPT_STATOVERRIDE_READ;
	return MAINTSCRIPT_STATOVERRIDE | MAINTSCRIPT_ACCOUNTS;
}

/* Whether the n bytes at v are a package's name as written. */
static bool is_package_name(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)v[i]) && !isdigit((unsigned char)v[i]) &&
		    !(i && strchr("+-.", v[i])))
			return false;
	return n > 0;
}

/* The value of the command's option opt ("opt VALUE" or "opt=VALUE"),
 * where it is a package's name as written (no variable, no quote), n
 * bytes; else NULL. Given twice, the last counts, as with getopt; any
 * value that is not a plain name leaves it in doubt (NULL). */
static const char *package_option(const char *s, size_t len, const char *opt, size_t *n)
{
	size_t m = strlen(opt);
	const char *last = NULL;
	for (size_t at = next_arg(s, len, 0); at < len;) {
		size_t k = strcspn(s + at, CMD_END);
		const char *v = s + at;
		bool is_opt = k == m && !memcmp(v, opt, m);
		bool joined = k > m && !memcmp(v, opt, m) && v[m] == '=';
		at = next_arg(s, len, at + k);
		if (joined) {
			last = v + m + 1;
			*n = k - m - 1;
		} else if (is_opt && at < len) {
			last = s + at;
			*n = strcspn(s + at, CMD_END);
		} else {
			continue;
		}
		if (!is_package_name(last, *n))
			return NULL;
	}
	return last;
}

/* dpkg-divert that moves no file (a query, or --no-rename) meets only
 * the other diverters; --rename moves the diverted file away for a
 * moment, and the file may be one every script runs: bookworm's dash
 * diverts /bin/sh, and a #!/bin/sh script started beside it fails.  But
 * --remove with --package P moves nothing unless P holds a diversion
 * (trixie's gzip clears zutils' that way in every tree). */
static unsigned divert_classes(const char *s, size_t len, struct strvec *undiverted)
{
	static const char *const queries[] = { "--truename", "--list", "--listpackage" };
	for (size_t k = 0; k < ARRAY_SIZE(queries); k++)
		if (has_option(s, len, queries[k]))
			return MAINTSCRIPT_DIVERT;
	bool add = has_option(s, len, "--add") || !has_option(s, len, "--remove");
	unsigned cls = MAINTSCRIPT_DIVERT | (add ? MAINTSCRIPT_DIVERT_ADD : 0);
	if (has_option(s, len, "--no-rename"))
		return cls;
	size_t n = 0;
	const char *pkg = package_option(s, len, "--package", &n);
	if (!pkg || add)
		return cls | MAINTSCRIPT_GLOBAL;
	if (undiverted) {
		cleanup_free char *name = xstrndup(pkg, n);
		if (!strvec_has(undiverted, name))
			strvec_push(undiverted, name);
	}
	return cls | MAINTSCRIPT_UNDIVERT;
}

/* The words whose arguments say more than the word does. */
static unsigned command_classes(const char *w, const char *text, size_t tlen, size_t i,
                                bool (*installed)(const char *tool), struct strvec *undiverted)
{
	const char *s = text + i;
	size_t len = tlen - i;
	if (!strcmp(w, "dpkg-query"))
		return query_classes(s, len);
	if (!strcmp(w, "chown") || !strcmp(w, "chgrp"))
		return owner_classes(text, tlen, s, len);
	if (!strcmp(w, "dpkg-statoverride"))
		return statoverride_classes(s, len);
	if (!strcmp(w, "dpkg-divert"))
		return divert_classes(s, len, undiverted);
	/* Without insserv or OpenRC, update-rc.d makes or removes the links
	 * of the one script it is named (S01name, K01name) and nothing else. */
	if (!strcmp(w, "update-rc.d") && installed && !installed("insserv") && !installed("openrc"))
		return 0;
	return word_classes(w, installed);
}

/* Words of a script's text, one by one, as the shell would see the
 * commands: lower-cased (Perl names Debconf::Client::ConfModule), none
 * from comments, which name tools they do not run. */
struct words {
	const char *text;
	size_t len, at;
	char q; /* the quote open on this line, as far as one line shows */
	char w[64];
};

/* The next word into ws->w; false at the end.  ws->at is where it ends. */
static bool next_word(struct words *ws)
{
	const char *text = ws->text;
	size_t len = ws->len, i = ws->at;
	while (i < len) {
		for (; i < len && !word_char(text[i]); i++) {
			char c = text[i];
			if (c == '\n')
				ws->q = 0;
			else if (c == '\'' || c == '"')
				ws->q = !ws->q ? c : ws->q == c ? 0 : ws->q;
			else if (c == '#' && !ws->q && (!i || strchr(" \t\n", text[i - 1])))
				while (i + 1 < len && text[i + 1] != '\n')
					i++;
		}
		size_t start = i;
		while (i < len && word_char(text[i]))
			i++;
		size_t n = i - start;
		/* A longer word is no tool name in the table or an update-* one
		 * worth a class; trailing dots end sentences, not names. */
		while (n && text[start + n - 1] == '.')
			n--;
		if (!n || n >= sizeof(ws->w))
			continue;
		for (size_t k = 0; k < n; k++)
			ws->w[k] = (char)tolower((unsigned char)text[start + k]);
		ws->w[n] = '\0';
		/* /etc/group is the file; a word "group" elsewhere is a
		 * variable's name or another file (tools that read the file
		 * have words of their own) */
		if (!strcmp(ws->w, "group") && (start < 5 || memcmp(text + start - 5, "/etc/", 5)))
			continue;
		ws->at = i;
		return true;
	}
	ws->at = len;
	return false;
}

unsigned maintscript_classes(const char *text, size_t len, bool (*installed)(const char *tool),
                             struct strvec *undiverted)
{
	unsigned cls = 0;
	if (memchr(text, '\0', len))
		return MAINTSCRIPT_GLOBAL; /* not a script we can read */
	for (struct words ws = { .text = text, .len = len }; next_word(&ws);)
		cls |= command_classes(ws.w, text, len, ws.at, installed, undiverted);
	return cls;
}

bool maintscript_conflict(unsigned a, unsigned b)
{
	const unsigned reads = MAINTSCRIPT_STATOVERRIDE_READ;
	const unsigned alone = MAINTSCRIPT_GLOBAL | MAINTSCRIPT_UNDIVERT | MAINTSCRIPT_STATUS;
	if ((a & MAINTSCRIPT_STATOVERRIDE) && (b & reads))
		return true;
	return (a & b & ~reads) || (a & alone) || (b & alone);
}
