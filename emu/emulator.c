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

int emu_emulator_find(const struct emu_arch *a, char **path)
{
	char *dyn = NULL;
	*path = emu_emulator_path(a, &dyn);
	if (*path)
		return 0;
	if (dyn)
		xb_error("emulator %s is dynamically linked; install qemu-user-static", dyn);
	else
		xb_error("no emulator for %s: install qemu-user-static (qemu-%s-static not found)",
			 a->deb, a->qemu);
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
