/* caps: capability names and the bounding set (see caps.h). */
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define BIT(c) (1ull << (c))

static const char *const names[] = {
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
	"setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
	"net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
	"sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
	"sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
	"audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
	"block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
};

uint64_t emu_caps_default(void)
{
	return BIT(CAP_AUDIT_CONTROL) | BIT(CAP_AUDIT_WRITE) | BIT(CAP_CHOWN) |
	       BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH) | BIT(CAP_FOWNER) |
	       BIT(CAP_FSETID) | BIT(CAP_IPC_OWNER) | BIT(CAP_KILL) | BIT(CAP_LEASE) |
	       BIT(CAP_LINUX_IMMUTABLE) | BIT(CAP_MKNOD) | BIT(CAP_NET_BIND_SERVICE) |
	       BIT(CAP_NET_BROADCAST) | BIT(CAP_NET_RAW) | BIT(CAP_SETFCAP) | BIT(CAP_SETGID) |
	       BIT(CAP_SETPCAP) | BIT(CAP_SETUID) | BIT(CAP_SYS_ADMIN) | BIT(CAP_SYS_BOOT) |
	       BIT(CAP_SYS_CHROOT) | BIT(CAP_SYS_NICE) | BIT(CAP_SYS_PTRACE) |
	       BIT(CAP_SYS_RESOURCE) | BIT(CAP_SYS_TTY_CONFIG);
}

uint64_t emu_caps_forbidden(void)
{
	return BIT(CAP_SYS_MODULE) | BIT(CAP_SYS_RAWIO) | BIT(CAP_SYS_TIME) |
	       BIT(CAP_MAC_OVERRIDE) | BIT(CAP_MAC_ADMIN) | BIT(CAP_SYSLOG) | BIT(CAP_BPF) |
	       BIT(CAP_PERFMON);
}

uint64_t emu_caps_host_root_forbidden(void)
{
	return emu_caps_forbidden() | BIT(CAP_SYS_ADMIN) | BIT(CAP_MKNOD);
}

static int cap_of(const char *name, size_t n)
{
	if (n > 4 && !strncasecmp(name, "cap_", 4))
		name += 4, n -= 4;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == n && !strncasecmp(name, names[i], n))
			return (int)i;
	return -1;
}

int emu_caps_parse(const char *opt, const char *list, uint64_t *mask)
{
	*mask = 0;
	for (const char *s = list; *s;) {
		size_t n = strcspn(s, ", ");
		int c = cap_of(s, n);
		if (n == 3 && !strncasecmp(s, "all", 3)) {
			*mask |= BIT(ARRAY_SIZE(names)) - 1;
		} else if (c >= 0) {
			*mask |= BIT(c);
		} else if (n) {
			xb_error("--%s=%s: no capability %.*s", opt, list, (int)n, s);
			return -XB_EUSAGE;
		}
		s += n + strspn(s + n, ", ");
	}
	return 0;
}

int emu_caps_bound(uint64_t keep)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	for (int c = 0; c <= CAP_LAST_CAP; c++) {
		if ((keep & BIT(c)) || prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0 || errno == EINVAL)
			continue;
		xb_error("dropping %s from the capability bounding set: %s", names[c], strerror(errno));
		return -errno;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capget, &h, d) == 0) {
		d[0].inheritable &= (uint32_t)keep;
		d[1].inheritable &= (uint32_t)(keep >> 32);
		syscall(SYS_capset, &h, d);
	}
	return 0;
}
