/* debinfo: one .deb's control data as it is unpacked (see debinfo.h). */
#include "debinfo.h"

#include <errno.h>
#include <fcntl.h>

#include "dpkgdb.h"
#include "../base/dpkgver.h"
#include "../base/hash.h"
#include "../base/policy.h"

void debinfo_add_file(struct debinfo *p, const char *name, char *data, size_t len)
{
	if (p->nfiles == p->afiles) {
		p->afiles = p->afiles ? p->afiles * 2 : 8;
		p->files = xrealloc(p->files, p->afiles * sizeof(*p->files));
	}
	p->files[p->nfiles++] = (struct debinfo_file){ xstrdup(name), data, len };
	if (!strcmp(name, "triggers")) {
		free(p->triggers);
		p->triggers = xstrndup(data, len);
	}
}

const struct debinfo_file *debinfo_file(const struct debinfo *p, const char *name)
{
	for (size_t i = 0; i < p->nfiles; i++)
		if (!strcmp(p->files[i].name, name))
			return &p->files[i];
	return NULL;
}

int debinfo_load_control(struct debinfo *p)
{
	const struct debinfo_file *c = debinfo_file(p, "control");
	size_t pos = 0;
	if (!c || deb822_parse(c->data, c->len, &pos, &p->control) != 1) {
		xb_error("unpacking %s: %s", p->deb, c ? "malformed control file" : "no control file");
		return -XB_EPARSE;
	}
	p->name = deb822_get(&p->control, "Package");
	p->arch = deb822_get(&p->control, "Architecture");
	/* They become file names in info/: only what policy allows. */
	if (!p->name || !policy_package_ok(p->name, strlen(p->name)) || !p->arch ||
	    !policy_arch_ok(p->arch, strlen(p->arch))) {
		xb_error("unpacking %s: control file lacks a valid Package or Architecture", p->deb);
		return -XB_EPARSE;
	}
	const char *version = deb822_get(&p->control, "Version");
	if (!version || dpkgver_valid(version) < 0) {
		xb_error("unpacking %s: control file has %s Version%s%s", p->deb,
		         version ? "an invalid" : "no", version ? " " : "", version ? version : "");
		return -XB_EPARSE;
	}
	const char *ma = deb822_get(&p->control, "Multi-Arch");
	p->ma_same = ma && !strcmp(ma, "same");
	p->info_name = dpkgdb_info_name(p->name, p->arch, p->ma_same);
	return 0;
}

void debinfo_add_path(struct debinfo *p, const char *member)
{
	if (!p->list.len)
		strbuf_addstr(&p->list, "/.\n");
	while (member[0] == '.' && member[1] == '/')
		member += 2;
	while (*member == '/')
		member++;
	size_t n = strlen(member);
	while (n && member[n - 1] == '/')
		n--;
	if (!n || (n == 1 && member[0] == '.'))
		return;
	strbuf_addch(&p->list, '/');
	strbuf_add(&p->list, member, n);
	strbuf_addch(&p->list, '\n');
}

/* A conffiles line is "PATH" or "FLAG... PATH" (remove-on-upgrade). */
static int hash_one(int rootfd, struct debinfo *p, char *line)
{
	char *path = strrchr(line, ' ');
	char *flags = NULL;
	if (path) {
		*path++ = '\0';
		flags = str_trim(line);
	} else {
		path = line;
	}
	if (path[0] != '/') {
		xb_error("unpacking %s: conffile %s is not an absolute path", p->deb, path);
		return -XB_EPARSE;
	}
	char hex[33] = "newconffile";
	int fd = openat(rootfd, path[1] ? path + 1 : ".", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		xb_error("unpacking %s: reading conffile %s: %s", p->deb, path, strerror(errno));
		return -errno;
	}
	if (fd >= 0) {
		int r = xb_hash_fd(XB_MD5, fd, hex);
		close(fd);
		if (r < 0) {
			xb_error("unpacking %s: reading conffile %s: %s", p->deb, path, strerror(-r));
			return r;
		}
	}
	strbuf_addf(&p->conffiles, "\n %s %s", path, hex);
	if (flags && *flags)
		strbuf_addf(&p->conffiles, " %s", flags);
	return 0;
}

int debinfo_hash_conffiles(int rootfd, struct debinfo *p)
{
	const struct debinfo_file *f = debinfo_file(p, "conffiles");
	if (!f)
		return 0;
	cleanup_free char *text = xstrndup(f->data, f->len);
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		l = str_trim(l);
		if (!*l)
			continue;
		int r = hash_one(rootfd, p, l);
		if (r < 0)
			return r;
	}
	return 0;
}

void debinfo_drop_files(struct debinfo *p)
{
	for (size_t i = 0; i < p->nfiles; i++) {
		free(p->files[i].name);
		free(p->files[i].data);
	}
	free(p->files);
	p->files = NULL;
	p->nfiles = p->afiles = 0;
}

void debinfo_release(struct debinfo *p)
{
	debinfo_drop_files(p);
	deb822_release(&p->control);
	free(p->info_name);
	free(p->triggers);
	strbuf_release(&p->list);
	strbuf_release(&p->conffiles);
	*p = (struct debinfo){ 0 };
}

/* Whether the conffiles member lists /path (a line's last word: newer
 * dpkg allows flags such as remove-on-upgrade before it). */
static bool conffile_listed(const struct debinfo_file *cf, const char *path)
{
	size_t plen = strlen(path);
	const char *p = cf->data, *end = cf->data + cf->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		while (le > p && (le[-1] == ' ' || le[-1] == '\t' || le[-1] == '\r'))
			le--;
		const char *w = (size_t)(le - p) > plen ? le - plen - 1 : NULL; /* the '/' */
		if (w && *w == '/' && !memcmp(w + 1, path, plen) &&
		    (w == p || w[-1] == ' ' || w[-1] == '\t'))
			return true;
		p = nl ? nl + 1 : end;
	}
	return false;
}

void debinfo_md5sums_add(const struct debinfo *p, struct strbuf *md5sums, const char *member,
                        const char *hex)
{
	while (*member == '.' && member[1] == '/')
		member++;
	while (*member == '/')
		member++;
	const struct debinfo_file *cf = debinfo_file(p, "conffiles");
	if (cf && conffile_listed(cf, member))
		return;
	strbuf_addf(md5sums, "%s  %s\n", hex, member);
}
