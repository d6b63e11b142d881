/* dbstate: status and trigger activations of configured packages.  See dbstate.h. */
#include "dbstate.h"

#include "../base/deb822.h"

#include <errno.h>
#include <fcntl.h>

#define DB "var/lib/dpkg"

static int read_db_file(int rootfd, const char *path, struct strbuf *out)
{
	int fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int r = fd < 0 ? -errno : xb_read_fd(fd, out);
	if (fd >= 0)
		close(fd);
	return r;
}

char *dbstate_info_name(const struct xb_pkg *p)
{
	if (p->multi_arch && !strcmp(p->multi_arch, "same"))
		return xasprintf("%s:%s", p->name, p->arch);
	return xstrdup(p->name);
}

int dbstate_mark_installed(int rootfd, const struct xb_pkg *p)
{
	cleanup_strbuf struct strbuf old = STRBUF_INIT, out = STRBUF_INIT;
	size_t pos = 0;
	bool found = false;
	int r = read_db_file(rootfd, DB "/status", &old);
	if (r < 0) {
		xb_error("configuring %s: reading /" DB "/status: %s", p->name, strerror(-r));
		return r;
	}
	for (;;) {
		cleanup_deb822 struct deb822 st = DEB822_INIT;
		if ((r = deb822_parse(old.buf, old.len, &pos, &st)) <= 0)
			break;
		const char *name = deb822_get(&st, "Package"), *arch = deb822_get(&st, "Architecture");
		if (name && arch && !strcmp(name, p->name) && !strcmp(arch, p->arch)) {
			deb822_set(&st, "Status", "install ok installed");
			deb822_unset(&st, "Triggers-Pending");
			deb822_unset(&st, "Triggers-Awaited");
			found = true;
		}
		deb822_write(&st, &out);
		strbuf_addch(&out, '\n');
	}
	if (r < 0 || !found) {
		xb_error("configuring %s: %s in /" DB "/status", p->name,
		         r < 0 ? "a malformed stanza" : "no stanza for it");
		return r < 0 ? r : -XB_EPARSE;
	}
	if ((r = xb_write_file_at(rootfd, DB "/status", out.buf, out.len, 0644)) < 0)
		xb_error("configuring %s: writing /" DB "/status: %s", p->name, strerror(-r));
	return r;
}

/* Position of the package a triggers file names ("pkg", "pkg:arch",
 * either with "/noawait"), or n. */
static size_t position(const struct xb_pkg *pkgs, size_t n, const char *who)
{
	size_t len = strcspn(who, "/ \t\n");
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(pkgs[i].name);
		if (len >= nl && !memcmp(who, pkgs[i].name, nl) &&
		    (len == nl || (who[nl] == ':' && len - nl - 1 == strlen(pkgs[i].arch) &&
		                   !memcmp(who + nl + 1, pkgs[i].arch, len - nl - 1))))
			return i;
	}
	return n;
}

/* Is a package before position j interested in trigger t?  Explicit
 * interests are listed in triggers/T; file triggers (t a path) in
 * triggers/File, where an interest in a directory covers what is below. */
static bool interested_before(int rootfd, const struct xb_pkg *pkgs, size_t n, size_t j,
                              const char *t)
{
	cleanup_strbuf struct strbuf text = STRBUF_INIT;
	bool file = t[0] == '/';
	cleanup_free char *path = xasprintf(DB "/triggers/%s", file ? "File" : t);
	if (read_db_file(rootfd, path, &text) < 0)
		return false;
	size_t pos = 0;
	char *line;
	bool hit = false;
	while (!hit && (line = deb822_next_line(text.buf, &pos))) {
		const char *who = line;
		if (file) {
			size_t pl = strcspn(line, " \t");
			who = line + pl + strspn(line + pl, " \t");
			hit = !strncmp(t, line, pl) && (t[pl] == '\0' || t[pl] == '/');
		} else {
			hit = true;
		}
		hit = hit && position(pkgs, n, who) < j;
		free(line);
	}
	return hit;
}

static bool activates(const char *directive)
{
	return !strcmp(directive, "activate") || !strcmp(directive, "activate-await") ||
	       !strcmp(directive, "activate-noawait");
}

/* A file trigger's absolute path, or an explicit name that is a file name
 * in triggers/ (the control file comes from a package). */
static bool valid_name(const char *t)
{
	return t[0] == '/' || (t[0] != '.' && t[0] != '#' && !strchr(t, '/'));
}

int dbstate_activate_triggers(int rootfd, const struct xb_pkg *pkgs, size_t n, size_t from,
                              size_t to)
{
	cleanup_strbuf struct strbuf add = STRBUF_INIT;
	cleanup_strvec struct strvec seen = STRVEC_INIT;
	for (size_t j = from; j < to; j++) {
		cleanup_strbuf struct strbuf text = STRBUF_INIT;
		cleanup_free char *info = dbstate_info_name(&pkgs[j]);
		cleanup_free char *path = xasprintf(DB "/info/%s.triggers", info);
		int r = read_db_file(rootfd, path, &text);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			xb_error("reading /%s: %s", path, strerror(-r));
			return r;
		}
		size_t pos = 0;
		char *line;
		while ((line = deb822_next_line(text.buf, &pos))) {
			char *save = NULL, *dir = strtok_r(line, " \t", &save);
			char *t = strtok_r(NULL, " \t", &save);
			if (dir && t && activates(dir) && valid_name(t) &&
			    !strvec_has(&seen, t) && interested_before(rootfd, pkgs, n, j, t)) {
				strvec_push(&seen, t);
				strbuf_addf(&add, "%s -\n", t);
			}
			free(line);
		}
	}
	if (!add.len)
		return 0;
	cleanup_strbuf struct strbuf un = STRBUF_INIT;
	int r = read_db_file(rootfd, DB "/triggers/Unincorp", &un);
	if (r < 0 && r != -ENOENT) {
		xb_error("reading /" DB "/triggers/Unincorp: %s", strerror(-r));
		return r;
	}
	if (un.len && un.buf[un.len - 1] != '\n')
		strbuf_addch(&un, '\n');
	strbuf_add(&un, add.buf, add.len);
	if ((r = xb_write_file_at(rootfd, DB "/triggers/Unincorp", un.buf, un.len, 0644)) < 0)
		xb_error("writing /" DB "/triggers/Unincorp: %s", strerror(-r));
	return r;
}

int dbstate_drop_early_activations(int rootfd, const struct xb_pkg *pkgs, size_t n, size_t j)
{
	cleanup_strbuf struct strbuf un = STRBUF_INIT, out = STRBUF_INIT;
	/* dpkg-trigger's own lock: a script may be adding lines meanwhile. */
	cleanup_fd int lock = openat(rootfd, DB "/triggers/Lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (lock < 0 || fcntl(lock, F_SETLKW, &fl) < 0) {
		xb_error("locking /" DB "/triggers/Lock: %s", strerror(errno));
		return -errno;
	}
	int r = read_db_file(rootfd, DB "/triggers/Unincorp", &un);
	if (r == -ENOENT || (!r && !un.len))
		return 0;
	if (r < 0) {
		xb_error("reading /" DB "/triggers/Unincorp: %s", strerror(-r));
		return r;
	}
	size_t pos = 0;
	char *line;
	while ((line = deb822_next_line(un.buf, &pos))) {
		size_t tl = strcspn(line, " \t");
		cleanup_free char *t = xstrndup(line, tl);
		if (valid_name(t) && interested_before(rootfd, pkgs, n, j, t))
			strbuf_addf(&out, "%s\n", line);
		free(line);
	}
	if (out.len == un.len)
		return 0;
	if ((r = xb_write_file_at(rootfd, DB "/triggers/Unincorp", out.buf, out.len, 0644)) < 0)
		xb_error("writing /" DB "/triggers/Unincorp: %s", strerror(-r));
	return r;
}
