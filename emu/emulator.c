/* emulator: finding a static qemu-user binary on the host and copying it
 * into a rootfs. */
#include "emulator.h"

#include "../core/base/inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>

enum { EMU_NONE, EMU_DYNAMIC, EMU_STATIC };

/* Classifies path (after resolving symlinks); *real is malloc'd. */
static int probe(const char *path, char **real)
{
	char *r = realpath(path, NULL);
	if (!r)
		return EMU_NONE;
	int fd = open(r, O_RDONLY | O_CLOEXEC);
	struct emu_elf e;
	int kind = EMU_NONE;
	if (fd >= 0 && emu_elf_read(fd, &e) == 0) {
		kind = e.interp ? EMU_DYNAMIC : EMU_STATIC;
		emu_elf_release(&e);
	}
	if (fd >= 0)
		close(fd);
	if (kind == EMU_NONE || access(r, X_OK) < 0) {
		free(r);
		return EMU_NONE;
	}
	*real = r;
	return kind;
}

char *emu_emulator_path(const struct emu_arch *a, char **dynamic)
{
	/* bookworm: qemu-Q-static; trixie: the static qemu-Q, which the
	 * -static names and the binfmt -P names link to. */
	static const struct { const char *pre, *post; } names[] = {
		{ "/usr/bin/qemu-", "-static" }, { "/usr/local/bin/qemu-", "-static" },
		{ "/usr/libexec/qemu-binfmt/", "-binfmt-P" }, { "/usr/bin/qemu-", "" },
		{ "/usr/local/bin/qemu-", "" },
	};
	if (dynamic)
		*dynamic = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		cleanup_free char *p = xasprintf("%s%s%s", names[i].pre, a->qemu, names[i].post);
		char *real = NULL;
		int kind = probe(p, &real);
		if (kind == EMU_STATIC) {
			if (dynamic) {
				free(*dynamic);
				*dynamic = NULL;
			}
			return real;
		}
		if (kind == EMU_DYNAMIC && dynamic && !*dynamic)
			*dynamic = steal_pointer(&real);
		free(real);
	}
	return NULL;
}

/* The value of KEY= in os-release's text, unquoted (malloc'd), or NULL. */
static char *os_release(const char *text, const char *key)
{
	size_t k = strlen(key);
	for (const char *l = text; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, k) || l[k] != '=')
			continue;
		const char *v = l + k + 1;
		size_t n = strcspn(v, "\n");
		if (n >= 2 && (*v == '"' || *v == '\'') && v[n - 1] == *v) {
			v++;
			n -= 2;
		}
		return xstrndup(v, n);
	}
	return NULL;
}

const char *emu_emulator_package(void)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	if (xb_read_file("/etc/os-release", &sb) < 0 && xb_read_file("/usr/lib/os-release", &sb) < 0)
		return "qemu-user-static";
	cleanup_free char *id = os_release(sb.buf, "ID");
	cleanup_free char *version = os_release(sb.buf, "VERSION_ID");
	/* From Debian 13 on (testing and sid have no VERSION_ID) qemu-user
	 * is the static one and qemu-user-static a name kept for moving. */
	if (id && !strcmp(id, "debian") && (!version || atoi(version) >= 13))
		return "qemu-user";
	return "qemu-user-static";
}

int emu_emulator_find(const struct emu_arch *a, char **path)
{
	char *dyn = NULL;
	*path = emu_emulator_path(a, &dyn);
	if (*path)
		return 0;
	const char *pkg = emu_emulator_package();
	if (dyn)
		xb_error("emulator %s is dynamically linked; install %s", dyn, pkg);
	else /* each package's name for it: qemu-user's qemu-Q, qemu-user-static's -static */
		xb_error("no emulator for %s: install %s (qemu-%s%s not found)", a->deb, pkg, a->qemu,
			 strcmp(pkg, "qemu-user") ? "-static" : "");
	free(dyn);
	return -ENOENT;
}

/* TARGET/usr/bin, resolved inside the target, created when missing. */
static int open_usr_bin(const char *target, int *dfd)
{
	cleanup_fd int tfd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = tfd < 0 ? -errno : inroot_mkdir_p(tfd, "usr/bin", 0755);
	int fd = r < 0 ? r : inroot_open(tfd, "usr/bin", O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	*dfd = fd;
	return 0;
}

static int copy_fd(int in, int out)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		int r = xb_write_all(out, buf, (size_t)n);
		if (r < 0)
			return r;
	}
}

int emu_emulator_install(const struct emu_arch *a, const char *emu, const char *target)
{
	cleanup_free char *name = xasprintf("qemu-%s-static", a->qemu);
	cleanup_free char *tmp = xasprintf(".%s.xboot-%ld", name, (long)getpid());
	cleanup_fd int dfd = -1;
	cleanup_fd int in = -1;
	cleanup_fd int out = -1;
	const char *what = "opening";
	int r = open_usr_bin(target, &dfd);
	if (r < 0) {
		xb_error("installing emulator into %s/usr/bin: %s", target, xb_strerror(r));
		return r;
	}
	in = open(emu, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		r = -errno;
		xb_error("installing emulator: reading %s: %s", emu, strerror(-r));
		return r;
	}
	unlinkat(dfd, tmp, 0);
	out = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);
	if (out < 0)
		goto fail;
	what = "writing";
	r = copy_fd(in, out);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	if (fchmod(out, 0755) < 0 || close(steal_fd(&out)) < 0)
		goto fail;
	what = "renaming";
	if (renameat(dfd, tmp, dfd, name) < 0)
		goto fail;
	return 0;
fail:
	r = -errno;
	xb_error("installing emulator: %s %s/usr/bin/%s: %s", what, target, tmp, strerror(-r));
	unlinkat(dfd, tmp, 0);
	return r;
}

int emu_emulator_remove(const struct emu_arch *a, const char *target)
{
	cleanup_free char *name = xasprintf("qemu-%s-static", a->qemu);
	cleanup_fd int tfd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_fd int dfd = tfd < 0 ? -errno : inroot_open(tfd, "usr/bin", O_RDONLY | O_DIRECTORY, 0);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0 || (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)) {
		int r = dfd < 0 ? dfd : -errno;
		xb_error("removing %s/usr/bin/%s: %s", target, name, strerror(-r));
		return r;
	}
	return 0;
}
