/* boot: a disk image under qemu-system-ARCH; see boot.h. */
#include "boot.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/fileio.h"
#include "../base/progress.h"
#include "../base/spawn.h"
#include "../output/disk.h"
#include "../output/image.h"
#include "bootable.h"
#include "bootdisk.h"
#include "../../emu/arch.h"
#include "../../emu/vm.h"

#define PROBE_SECONDS 15
/* the guest's name of the disk guest_cmdline() writes CMD's script to */
#define SCRIPT_SERIAL "xboot-boot"
#define SCRIPT_DISK "/dev/disk/by-id/virtio-" SCRIPT_SERIAL

struct vm_run {
	const struct boot_opts *o;
	const char *image;            /* o->image, or the disk made of a directory */
	const struct emu_vm *vm;
	char *work;                   /* our temporary directory */
	int lock;                     /* work/lock, flocked while we run */
	struct bootdisk disk;         /* what the image holds */
	char *vars, *kernel, *console, *out, *script;
	bool kvm;
	char nonce[17];
	struct strbuf extra;          /* -smbios's kernel-cmdline-extra, with CMD */
};

static void vm_run_release(struct vm_run *v)
{
	if (v->work)
		xb_rm_rf_at(AT_FDCWD, v->work);
	if (v->lock >= 0)
		close(v->lock);
	free(v->work);
	bootdisk_release(&v->disk);
	free(v->vars);
	free(v->kernel);
	free(v->console);
	free(v->out);
	free(v->script);
	strbuf_release(&v->extra);
}

static int check_host(struct vm_run *v)
{
	cleanup_free char *qemu = NULL;
	if (v->o->uboot && !v->vm->uboot) {
		xb_error("--firmware=u-boot: xboot boots %s images with UEFI firmware only; U-Boot "
		         "is armhf's", v->vm->deb);
		return -ENOTSUP;
	}
	if (v->o->uboot && access(v->vm->uboot, F_OK) < 0) {
		xb_error("no U-Boot for qemu's %s machine (%s): install u-boot-qemu", v->vm->deb,
		         v->vm->uboot);
		return -ENOENT;
	}
	if (!v->o->uboot && !v->vm->fw_code) {
		xb_error("xboot cannot boot %s images: no UEFI firmware it knows how to start for "
		         "them", v->vm->deb);
		return -ENOTSUP;
	}
	if (!v->o->uboot && access(v->vm->fw_code, F_OK) < 0) {
		xb_error("no UEFI firmware for %s (%s): install %s", v->vm->deb, v->vm->fw_code,
		         v->vm->fw_package);
		return -ENOENT;
	}
	if (!(qemu = image_find_tool(v->vm->qemu))) {
		xb_error("%s not found: install %s", v->vm->qemu, v->vm->qemu_package);
		return -ENOENT;
	}
	if (v->o->uboot)
		return 0;
	/* a copy, never a link: qemu writes the variables */
	int r = xb_copy_file(v->vm->fw_vars, v->vars);
	if (r < 0)
		xb_error("copying the firmware's variables %s: %s", v->vm->fw_vars, strerror(-r));
	else if (chmod(v->vars, 0644) < 0)
		r = -errno;
	return r;
}

/* ---- qemu ---- */

/* One processor for an x86 guest under TCG: its kernel patches its own
 * code while it runs (text_poke's int3), and a second emulated CPU can
 * still run the stale translation (seen here: "Oops: int3" in
 * sched_clock_cpu, a panic at 5 s). */
static long default_cpus(const struct vm_run *v, bool kvm)
{
	return (!kvm && v->vm->tcg_cpus < 2) || xb_ncpus() < 2 ? 1 : 2;
}

static void machine_args(const struct vm_run *v, bool kvm, struct strvec *a)
{
	strvec_pushl(a, v->vm->qemu, "-machine", v->vm->machine, "-accel", kvm ? "kvm" : "tcg",
	             "-cpu", kvm ? "host" : v->vm->cpu, "-nodefaults", "-no-user-config",
	             "-display", "none", "-no-reboot", "-m", NULL);
	strvec_pushf(a, "%ld", v->o->memory);
	strvec_push(a, "-smp");
	strvec_pushf(a, "%ld", v->o->cpus ? v->o->cpus : default_cpus(v, kvm));
}

/* A path in qemu's option syntax: commas doubled, a relative one made
 * ./NAME (NAME: would name a protocol). */
static void qemu_opt_path(struct strbuf *sb, const char *path)
{
	if (path[0] != '/')
		strbuf_addstr(sb, "./");
	for (const char *c = path; *c; c++)
		*c == ',' ? strbuf_addstr(sb, ",,") : strbuf_addch(sb, *c);
}

static void push_opt(struct strvec *a, const char *opt, const char *prefix, const char *path)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, prefix);
	qemu_opt_path(&sb, path);
	strvec_pushl(a, opt, sb.buf, NULL);
}

/* qemu, as our child that dies with us; err_fd -1: its stderr is ours */
static int start_qemu(struct strvec *argv, bool terminal, int err_fd, pid_t *pid)
{
	struct spawn_opts so = SPAWN_OPTS_INIT;
	int status;
	so.die_with_parent = true;
	so.in_fd = terminal ? -1 : -2;
	so.err_fd = err_fd;
	xb_debug("running %s", argv->v[0]);
	return xb_spawn_start(argv->v, &so, pid, &status);
}

/* Looks for needle in what a log file gained since the last call: the
 * console is only read once, however long the guest takes. */
struct log_scan {
	const char *path, *needle;
	int fd;
	struct strbuf tail;           /* unread bytes, or the last needle-1 ones */
};
#define LOG_SCAN_INIT(p, n) { (p), (n), -1, STRBUF_INIT }

static bool log_scan_found(struct log_scan *s)
{
	char buf[16384];
	size_t keep = strlen(s->needle) - 1;
	if (s->fd < 0)
		s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
	for (ssize_t n; s->fd >= 0 && (n = read(s->fd, buf, sizeof(buf))) > 0;) {
		strbuf_add(&s->tail, buf, (size_t)n);
		if (memmem(s->tail.buf, s->tail.len, s->needle, keep + 1))
			return true;
		if (s->tail.len > keep) {
			memmove(s->tail.buf, s->tail.buf + s->tail.len - keep, keep);
			strbuf_setlen(&s->tail, keep);
		}
	}
	return false;
}

static void log_scan_release(struct log_scan *s)
{
	if (s->fd >= 0)
		close(s->fd);
	strbuf_release(&s->tail);
}

/* SIGTERM first: qemu then gives the terminal its settings back. */
static void stop(pid_t pid)
{
	if (pid <= 0 || kill(pid, SIGTERM) < 0)
		return;
	for (int i = 0; i < 20; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(100 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* KVM only where it really runs a guest: the image's kernel must print its
 * banner within PROBE_SECONDS (a /dev/kvm that opens may still run nothing). */
static bool kvm_works(struct vm_run *v, const char **why)
{
	const struct emu_arch *host = emu_arch_host();
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	*why = v->o->accel == BOOT_ACCEL_TCG      ? "--accel=tcg"
	       : !host || strcmp(host->deb, v->vm->deb) ? "another architecture than the host's"
	       : fd < 0                           ? "/dev/kvm cannot be opened"
	                                          : NULL;
	if (*why)
		return false;
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	cleanup_free char *log = xasprintf("%s/probe.log", v->work);
	machine_args(v, true, &argv);
	push_opt(&argv, "-kernel", "", v->kernel);
	strvec_push(&argv, "-append");
	strvec_pushf(&argv, "console=%s panic=-1", v->vm->console);
	push_opt(&argv, "-chardev", "file,id=xbcon,path=", log);
	strvec_pushl(&argv, "-serial", "chardev:xbcon", NULL);
	pid_t pid;
	cleanup_free char *errlog = xasprintf("%s/probe.err", v->work);
	cleanup_fd int err = open(errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (start_qemu(&argv, false, err, &pid) < 0)
		return (*why = "qemu did not start"), false;
	bool up = false, gone = false;
	struct log_scan banner = LOG_SCAN_INIT(log, "Linux version");
	for (int i = 0; i < PROBE_SECONDS * 10 && !up && !gone && !xb_interrupted; i++) {
		usleep(100 * 1000);
		up = log_scan_found(&banner);
		gone = waitpid(pid, NULL, WNOHANG) == pid;
	}
	log_scan_release(&banner);
	if (!gone)
		stop(pid);
	*why = up ? NULL : "a probe guest did not run under KVM";
	return up;
}

/* The guest's part of CMD: a script on a small read-only disk of its own
 * (so neither CMD's length nor its characters meet the kernel's command
 * line, 1 KB on arm), run once the system is up, its output to the virtio
 * console, its status to the serial console, then power off.  The command
 * line only finds that disk by its serial and starts the script outside
 * kernel-command-line.service, whose end is-system-running would wait for. */
static int guest_cmdline(const struct vm_run *v, struct strbuf *extra)
{
	cleanup_strbuf struct strbuf sh = STRBUF_INIT;
	strbuf_addf(&sh, "N=%s\n", v->nonce);
	strbuf_addstr(&sh, "systemctl is-system-running --wait >/dev/null 2>&1\n"
	              "i=0; while [ ! -c /dev/hvc0 ] && [ $i -lt 100 ]; do modprobe -q "
	              "virtio_console; sleep 0.1; i=$((i+1)); done\n"
	              /* the bytes as CMD writes them, no \r added: on the fd
	               * CMD gets (a tty's settings go with its last close) */
	              "command exec 3<>/dev/hvc0 || { echo \"xboot-boot $N: exit status 125\" "
	              ">/dev/console; systemctl poweroff; exit; }\nstty -opost <&3 2>/dev/null\n");
	strbuf_addstr(&sh, "echo \"xboot-boot $N: running\" >/dev/console\n(");
	for (size_t i = 0; i < v->o->argv.n; i++) {
		strbuf_addstr(&sh, " '");
		for (const char *c = v->o->argv.v[i]; *c; c++)
			*c == '\'' ? strbuf_addstr(&sh, "'\\''") : strbuf_addch(&sh, *c);
		strbuf_addch(&sh, '\'');
	}
	strbuf_addstr(&sh, " ) </dev/null >&3 2>&3 3>&-\ns=$?\necho \"xboot-boot $N: exit status "
	              "$s\" >/dev/console\nsystemctl poweroff\nexit\n");
	/* a disk is whole sectors: newlines fill the last one */
	while (sh.len % 512)
		strbuf_addch(&sh, '\n');
	int r = xb_write_file_at(AT_FDCWD, v->script, sh.buf, sh.len, 0644);
	if (r < 0) {
		xb_error("writing %s: %s", v->script, strerror(-r));
		return r;
	}
	/* panic=-1: a guest kernel that panics ends the run at once */
	strbuf_addstr(extra, "type=11,value=io.systemd.boot.kernel-cmdline-extra=panic=-1 "
	              "systemd.unit=multi-"
	              "user.target systemd.wants=kernel-command-line.service systemd.getty_auto=0 "
	              "systemd.run_success_action=none systemd.run_failure_action=none systemd.run="
	              "\"/bin/sh -c 'until [ -b " SCRIPT_DISK " ]; do sleep 0.2; done; cp "
	              SCRIPT_DISK " /run/xboot-boot; systemd-run -q --no-block --service-type=exec "
	              "/bin/sh /run/xboot-boot'\"");
	return 0;
}

static void boot_args(const struct vm_run *v, struct strvec *a)
{
	machine_args(v, v->kvm, a);
	if (v->o->uboot) {
		strvec_pushl(a, "-bios", v->vm->uboot, NULL);
	} else {
		push_opt(a, "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=",
		         v->vm->fw_code);
		push_opt(a, "-drive", "if=pflash,format=raw,unit=1,file=", v->vars);
	}
	push_opt(a, "-drive", "if=none,id=disk,format=raw,file=", v->image);
	strvec_pushl(a, "-device", "virtio-blk-pci,drive=disk", "-nic",
	             v->o->net_none ? "none" : "user,model=virtio-net-pci", NULL);
	if (!v->o->argv.n) {
		strvec_pushl(a, "-serial", "mon:stdio", NULL);
		return;
	}
	push_opt(a, "-chardev", "file,id=xbcon,path=", v->console);
	strvec_pushl(a, "-serial", "chardev:xbcon", "-device", "virtio-serial-pci", NULL);
	push_opt(a, "-chardev", "file,id=xbout,path=", v->out);
	strvec_pushl(a, "-device", "virtconsole,chardev=xbout", "-smbios", v->extra.buf, NULL);
	push_opt(a, "-drive", "if=none,id=xbcmd,format=raw,readonly=on,file=", v->script);
	strvec_pushl(a, "-device", "virtio-blk-pci,drive=xbcmd,serial=" SCRIPT_SERIAL, NULL);
}

/* ---- the run ---- */

/* The console's last lines, escape sequences and carriage returns out. */
static void show_console(const struct vm_run *v)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT, clean = STRBUF_INIT;
	if (xb_read_file(v->console, &sb) < 0)
		return;
	for (size_t i = 0; i < sb.len; i++) {
		if (sb.buf[i] == '\033') {
			while (++i < sb.len && !((sb.buf[i] >= 'A' && sb.buf[i] <= 'Z') ||
			                         (sb.buf[i] >= 'a' && sb.buf[i] <= 'z')))
				;
		} else if (sb.buf[i] != '\r') {
			strbuf_addch(&clean, sb.buf[i]);
		}
	}
	size_t start = clean.len, lines = 0;
	while (start > 0 && lines <= 15)
		lines += clean.buf[--start] == '\n';
	fprintf(stderr, "xboot: the console's last lines:\n%s\n", clean.buf + start + (start > 0));
}

/* New bytes of the guest's virtio console to stdout. */
static void pass_output(const struct vm_run *v, int *fd)
{
	char buf[65536];
	if (*fd < 0)
		*fd = open(v->out, O_RDONLY | O_CLOEXEC);
	for (ssize_t n; *fd >= 0 && (n = read(*fd, buf, sizeof(buf))) > 0;)
		if (xb_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
			break;
}

/* CMD's exit status from the console; -1 before it is there. */
static int exit_status(const struct vm_run *v)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_free char *mark = xasprintf("xboot-boot %s: exit status ", v->nonce);
	const char *at = xb_read_file(v->console, &sb) == 0 ? strstr(sb.buf, mark) : NULL;
	return at ? atoi(at + strlen(mark)) : -1;
}

static int watch(struct vm_run *v, pid_t pid, int *code)
{
	long long t0 = progress_now_ms();
	cleanup_fd int out = -1;
	cleanup_free char *up = xasprintf("xboot-boot %s: running", v->nonce);
	struct log_scan scan = LOG_SCAN_INIT(v->console, up);
	bool running = false, cmd = v->o->argv.n > 0;
	int ws = 0, r = 0;
	for (pid_t w = 0; w != pid;) {
		w = waitpid(pid, &ws, WNOHANG);
		if (cmd)
			pass_output(v, &out);
		if (cmd && !running && (running = log_scan_found(&scan)))
			xb_info("%s is up after %.0f s; running the command", v->o->image,
			        (double)(progress_now_ms() - t0) / 1000.0);
		if (xb_interrupted) {
			/* Ctrl-C reached qemu too; what it left is no guest's failure */
			stop(pid);
			r = -XB_EINTR;
			goto out;
		}
		if (w == pid)
			break;
		if (v->o->timeout && progress_now_ms() - t0 > v->o->timeout * 1000) {
			stop(pid);
			xb_error("%s: %s after %ld s (--timeout)", v->o->image,
			         running ? "the command had not ended" : "not up", v->o->timeout);
			if (cmd)
				show_console(v);
			r = -ETIMEDOUT;
			goto out;
		}
		usleep(200 * 1000);
	}
	if (!cmd)
		*code = xb_wait_code(ws);
	else if ((*code = exit_status(v)) < 0) {
		xb_error("%s: the guest stopped (qemu's exit status %d) before the command %s",
		         v->o->image, xb_wait_code(ws), running ? "ended" : "ran");
		show_console(v);
		r = -XB_ECHILD;
	}
out:
	log_scan_release(&scan);
	return r;
}

/* A work directory whose run was SIGKILLed: its lock is free and it is
 * over a minute old (a new run takes its lock at once). */
static bool stale_work(int tmpfd, const char *name, uid_t uid)
{
	struct stat st;
	if (strncmp(name, "xboot-boot.", 11) || fstatat(tmpfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != uid || st.st_mtime > time(NULL) - 60)
		return false;
	cleanup_free char *lock = xasprintf("%s/lock", name);
	cleanup_fd int fd = openat(tmpfd, lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
}

static void remove_stale_work(const char *tmp)
{
	DIR *d = opendir(tmp);
	for (struct dirent *e; d && (e = readdir(d));)
		if (stale_work(dirfd(d), e->d_name, getuid())) {
			xb_debug("removing %s/%s, left by a run that was killed", tmp, e->d_name);
			xb_rm_rf_at(dirfd(d), e->d_name);
		}
	if (d)
		closedir(d);
}

static int make_work(struct vm_run *v)
{
	const char *tmp = getenv("TMPDIR");
	uint64_t rnd = 0;
	tmp = tmp && *tmp ? tmp : "/tmp";
	remove_stale_work(tmp);
	v->work = xasprintf("%s/xboot-boot.XXXXXX", tmp);
	if (!mkdtemp(v->work)) {
		xb_error("creating %s: %s", v->work, strerror(errno));
		free(xb_steal(&v->work));
		return -errno;
	}
	/* held until we exit, however we exit: remove_stale_work's test */
	cleanup_free char *lock = xasprintf("%s/lock", v->work);
	v->lock = open(lock, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (v->lock < 0 || flock(v->lock, LOCK_EX) < 0) {
		xb_error("locking %s: %s", lock, strerror(errno));
		return -errno;
	}
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)progress_now_ms() ^ (uint64_t)getpid();
	snprintf(v->nonce, sizeof(v->nonce), "%016llx", (unsigned long long)rnd);
	v->vars = xasprintf("%s/vars.fd", v->work);
	v->kernel = xasprintf("%s/vmlinuz", v->work);
	v->console = xasprintf("%s/console.log", v->work);
	v->out = xasprintf("%s/out", v->work);
	v->script = xasprintf("%s/cmd.sh", v->work);
	return 0;
}

/* A directory is booted from a disk made of it in the work directory:
 * the tree is only read, and what the guest changes is lost. */
static int disk_of_dir(struct vm_run *v, char **path)
{
	const struct emu_arch *a = v->o->arch ? emu_arch_find(v->o->arch)
	                                      : emu_arch_of_root(v->o->image);
	if (!a || !(v->vm = emu_vm_find(a->deb))) {
		xb_error("%s: %s; xboot boots %s", v->o->image,
		         a ? "an architecture xboot makes no disk for" : "its architecture is unknown "
		                                                        "(give --arch)", emu_vm_names());
		return -XB_EARCH;
	}
	struct bootable_in in = { v->vm, -1, NULL, 0, v->o->image, "", false };
	struct bootable b = { 0 };
	struct output_opts oo = OUTPUT_OPTS_INIT;
	*path = xasprintf("%s/disk.img", v->work);
	xb_info("making a disk of %s to boot", v->o->image);
	int r = bootable_disk_of(&in, v->o->image, v->work, &b);
	oo.disk = &b.disk;
	if (!r)
		r = disk_write(v->o->image, *path, &oo);
	bootable_release(&b);
	return r;
}

/* The image (or a directory's disk), its machine, and the host's part. */
static int prepare(struct vm_run *v, char **made)
{
	struct stat st;
	int r = stat(v->o->image, &st) < 0 || (!S_ISDIR(st.st_mode) && access(v->o->image, R_OK | W_OK) < 0)
	                ? -errno : 0;
	if (r < 0) {
		xb_error("%s: %s", v->o->image, strerror(-r));
		return r;
	}
	if ((r = make_work(v)) < 0)
		return r;
	if (S_ISDIR(st.st_mode) && (r = disk_of_dir(v, made)) < 0)
		return r;
	v->image = S_ISDIR(st.st_mode) ? *made : v->o->image;
	v->disk = (struct bootdisk){ v->image, v->o->image, v->o->arch, v->work, v->kernel,
		                     v->o->uboot, v->o->argv.n > 0, v->vm, NULL };
	if ((r = bootdisk_inspect(&v->disk)) < 0)
		return r;
	v->vm = v->disk.vm;
	if (v->o->argv.n && (r = guest_cmdline(v, &v->extra)) < 0)
		return r;
	return check_host(v);
}

int boot_run(const struct boot_opts *o, int *code)
{
	struct vm_run v = { .o = o, .lock = -1, .extra = STRBUF_INIT };
	const char *why = NULL;
	cleanup_free char *made = NULL;
	pid_t pid = -1;
	*code = 0;
	setenv("MTOOLS_SKIP_CHECK", "1", 1);
	int r = prepare(&v, &made);
	if (!r) {
		v.kvm = kvm_works(&v, &why);
		if (!v.kvm && o->accel == BOOT_ACCEL_KVM) {
			xb_error("--accel=kvm: %s", why);
			r = -ENODEV;
		}
	}
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	if (!r) {
		xb_info("booting %s (%s) under %s%s%s%s", o->image, v.vm->deb, v.kvm ? "KVM" : "TCG",
		        why ? " (" : "", why ? why : "", why ? ")" : "");
		boot_args(&v, &argv);
		r = start_qemu(&argv, !o->argv.n, -1, &pid);
	}
	if (!r)
		r = watch(&v, pid, code);
	if (r == -XB_EINTR)
		xb_error("interrupted; the guest is stopped");
	if (r < 0 && v.work && o->argv.n && access(v.console, F_OK) == 0) {
		/* the console log outlives the run for the user to read */
		cleanup_free char *kept = xasprintf("%s.console.log", o->image);
		if (rename(v.console, kept) == 0)
			xb_info("the console's log: %s", kept);
	}
	vm_run_release(&v);
	return r;
}

void boot_opts_release(struct boot_opts *o)
{
	strvec_clear(&o->argv);
}
