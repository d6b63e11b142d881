/* localdebs: --include's .deb files as an index (see localdebs.h). */
#include "localdebs.h"

#include "../base/hash.h"
#include "../dpkg/debfile.h"
#include "../dpkg/debinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

bool localdebs_is_path(const char *spec)
{
	return spec[0] == '/' || str_starts_with(spec, "./") || str_starts_with(spec, "../") ||
	       str_ends_with(spec, ".deb");
}

/* One stanza: the control file as the package has it, then where it is. */
static int add_stanza(const char *file, struct strbuf *out, struct strvec *includes)
{
	cleanup_free char *abs = realpath(file, NULL);
	struct debinfo pkg = { 0 };
	char sha[65];
	struct stat st;
	int r = abs ? 0 : -errno;
	if (r < 0) {
		xb_error("--include=%s: %s", file, strerror(errno));
		return r;
	}
	cleanup_fd int fd = open(abs, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || (r = xb_hash_fd(XB_SHA256, fd, sha)) < 0) {
		r = r < 0 ? r : -errno;
		xb_error("--include=%s: %s", file, strerror(-r));
		return r;
	}
	if ((r = debfile_control(abs, &pkg)) == 0) {
		const struct debinfo_file *c = debinfo_file(&pkg, "control");
		size_t len = c->len;
		while (len && (c->data[len - 1] == '\n' || c->data[len - 1] == ' '))
			len--;
		strbuf_add(out, c->data, len);
		strbuf_addf(out, "\nFilename: %s\nSize: %llu\nSHA256: %s\n\n", abs + 1,
		            (unsigned long long)st.st_size, sha);
		const char *version = deb822_get(&pkg.control, "Version");
		strvec_pushf(includes, "%s=%s/%s", pkg.name, version, LOCALDEBS_SUITE);
		xb_info("local package %s %s %s from %s", pkg.name, version, pkg.arch, abs);
	}
	debinfo_release(&pkg);
	return r;
}

int localdebs_index(const struct strvec *files, const char *workdir, char **index,
                    struct strvec *includes)
{
	cleanup_strbuf struct strbuf text = STRBUF_INIT;
	int r = 0;
	*index = NULL;
	for (size_t i = 0; !r && i < files->n; i++)
		r = add_stanza(files->v[i], &text, includes);
	if (r < 0)
		return r;
	char *path = xasprintf("%s/local_Packages", workdir);
	if ((r = xb_write_file_at(AT_FDCWD, path, text.buf, text.len, 0644)) < 0) {
		xb_error("writing %s: %s", path, strerror(-r));
		free(path);
		return r;
	}
	*index = path;
	return 0;
}
