/* aptlists: apt's lists in the tree (see aptlists.h). */
#include "aptlists.h"

#include "copy.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

/* apt's URItoFileName: no scheme and no user or password, the characters
 * apt quotes as %xx, then '/' as '_'. */
char *aptlists_prefix(const char *uri, const char *suite)
{
	static const char quoted[] = "\\|{}[]<>\"^~_=!@#$%&*";
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	const char *s = strstr(uri, "://"), *at, *slash;
	s = s ? s + 3 : uri;
	slash = strchr(s, '/');
	if ((at = strchr(s, '@')) && (!slash || at < slash))
		s = at + 1;
	size_t n = strlen(suite);
	cleanup_free char *full = n && suite[n - 1] == '/' ? xasprintf("%s/%s", s, suite)
	                                                   : xasprintf("%s/dists/%s/", s, suite);
	for (char *p = full; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr(quoted, c))
			strbuf_addf(&sb, "%%%02x", c);
		else
			strbuf_addch(&sb, c == '/' ? '_' : (char)c);
	}
	return strbuf_detach(&sb);
}

char *aptlists_stage_dir(const char *workdir, const char *dir)
{
	char *s = xasprintf("%s/stage/%s", workdir, dir);
	for (char *c = s + strlen(workdir) + 7; *c; c++)
		*c = *c == '/' ? '_' : *c;
	return s;
}

int aptlists_stage(const char *workdir, const char *dir, const char *src, const char *name)
{
	cleanup_free char *top = xasprintf("%s/stage", workdir);
	cleanup_free char *stage = aptlists_stage_dir(workdir, dir);
	cleanup_free char *dst = xasprintf("%s/%s", stage, name);
	int r = 0;
	if ((mkdir(top, 0755) < 0 && errno != EEXIST) || (mkdir(stage, 0755) < 0 && errno != EEXIST))
		r = -errno;
	if (!r)
		r = xb_link_or_copy(src, dst);
	if (r < 0)
		xb_error("staging %s for the tree's %s: %s", src, dir, strerror(-r));
	return r;
}

int aptlists_install(const char *workdir, const char *dir, const char *root)
{
	cleanup_free char *stage = aptlists_stage_dir(workdir, dir);
	cleanup_free char *what = xasprintf("the tree's %s", dir);
	char *srcs[] = { stage };
	struct stat st;
	if (stat(stage, &st) < 0)
		return 0;
	int r = copy_into_tree(root, srcs, 1, dir, true, what);
	xb_rm_rf_at(AT_FDCWD, stage);
	return r;
}
