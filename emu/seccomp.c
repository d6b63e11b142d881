/* seccomp: the host-protection filter, built with libseccomp. */
#include "seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/ioctl.h>

static const char *const denied[] = {
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"reboot", "swapon", "swapoff", "acct", "settimeofday", "clock_settime",
	"clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex", "iopl", "ioperm",
	"syslog", "open_by_handle_at", "bpf", "perf_event_open", "add_key", "request_key",
	"keyctl",
};

/* The compat ABIs the native kernel also accepts system calls from. */
static void add_compat_arches(scmp_filter_ctx ctx)
{
	static const uint32_t compat[] = {
#if defined(__x86_64__)
		SCMP_ARCH_X86, SCMP_ARCH_X32,
#elif defined(__aarch64__)
		SCMP_ARCH_ARM,
#elif defined(__s390x__)
		SCMP_ARCH_S390,
#elif defined(__mips64) && defined(__MIPSEL__)
		SCMP_ARCH_MIPSEL, SCMP_ARCH_MIPSEL64N32,
#endif
		0,
	};
	for (size_t i = 0; compat[i]; i++) {
		int r = seccomp_arch_add(ctx, compat[i]);
		if (r < 0 && r != -EEXIST)
			xb_debug("seccomp: cannot add compat arch %#x: %s", compat[i], strerror(-r));
	}
}

static int add_rules(scmp_filter_ctx ctx)
{
	for (size_t i = 0; i < ARRAY_SIZE(denied); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		/* Absent on this architecture (a pseudo number): nothing to deny. */
		if (r < 0 && nr >= 0)
			return r;
	}
	/* ioctl's request is an int: compare the low 32 bits only, so
	 * garbage in the upper half cannot slip past. */
	static const unsigned long tty_ioctls[] = { TIOCSTI, TIOCLINUX };
	for (size_t i = 0; i < ARRAY_SIZE(tty_ioctls); i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
					 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, tty_ioctls[i]));
		if (r < 0)
			return r;
	}
	return 0;
}

int emu_seccomp_load(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		xb_error("setting up the seccomp filter: cannot allocate it");
		return -ENOMEM;
	}
	add_compat_arches(ctx);
	int r = add_rules(ctx);
	/* We are root in our own user namespace, so no_new_privs is not
	 * needed to load a filter, and setuid programs inside keep working. */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r == 0)
		r = seccomp_load(ctx);
	if (r < 0)
		xb_error("setting up the seccomp filter: %s", strerror(-r));
	seccomp_release(ctx);
	return r;
}
