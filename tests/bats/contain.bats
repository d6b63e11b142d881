#!/usr/bin/env bats
# What keeps a program inside `xboot enter` from the host when xboot is
# root (issue 10): root inside is an unprivileged host range, /proc and
# /sys are masked, read-only binds stay read-only, device nodes of DIR open
# nothing, the bounding set is nspawn's at most, no fd of the caller's gets
# in.  The fallbacks without a user namespace are in enter-chrooted.bats.

load helpers
load enter-helpers

# cap_in MASK N: whether capability N is in the hex mask of /proc/PID/status.
cap_in() {
	(( (16#$1 >> $2) & 1 ))
}

@test "root inside is an unprivileged host range; files get the owners real root gives" {
	need_userns
	bg "$XB" enter "$A" sh -c 'touch /root/made; mkdir /root/d; chown 1000:1000 /root/d; exec sleep 1000'
	wait_for has_pids 1 "$A" sleep
	local pid uid
	pid=$(root_pids "$A" sleep)
	uid=$(awk '$1 == "Uid:" { print $2 }' "/proc/$pid/status")
	echo "host uid of root inside: $uid"
	# nspawn's pick: above 0x80000, no user of the host
	[ "$uid" -ge $((0x80000)) ]
	! getent passwd "$uid" || false
	kill "$BG"
	wait "$BG" || true
	[ "$(stat -c %u:%g "$A/root/made")" = 0:0 ]
	[ "$(stat -c %u:%g "$A/root/d")" = 1000:1000 ]
	# the same DIR gets the same range
	run --separate-stderr "$XB" enter -v "$A" true
	[[ $stderr == *"root inside is host uid $uid,"* ]]
	rm -rf "$A/root/made" "$A/root/d"
}

@test "/proc/sys, sysrq-trigger and /sys cannot be written; keys, timer_list and kallsyms are empty" {
	local before
	before=$(cat /proc/sys/kernel/core_pattern)
	# Opened for writing only (nothing written): harmless on a tree
	# without the masks, whose failure is the point.
	run --separate-stderr "$XB" enter "$A" sh -c '
		for f in /proc/sys/kernel/core_pattern /proc/sysrq-trigger /sys/kernel/uevent_helper; do
			( exec 3>"$f" ) 2>/dev/null && echo "writable $f"
		done
		wc -c </proc/keys; wc -c </proc/timer_list; wc -c </proc/kallsyms'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '0\n0\n0')" ]
	[ "$(cat /proc/sys/kernel/core_pattern)" = "$before" ]
}

@test "a read-only bind stays read-only: remount and umount fail, the host file is unchanged" {
	mkdir -p "$W/robind"
	echo host >"$W/robind/f"
	run --separate-stderr "$XB" enter --ro-bind="$W/robind:/ro" "$A" sh -c '
		mount -o remount,bind,rw /ro 2>/dev/null && echo remounted
		echo inside 2>/dev/null >/ro/f || echo refused
		umount /ro 2>/dev/null && echo unmounted
		mount -o remount,bind,rw /sys 2>/dev/null && echo sys-remounted
		mount -o remount,bind,rw /etc/resolv.conf 2>/dev/null && echo resolv-remounted
		mount -o remount,bind,rw /proc/sys 2>/dev/null && echo proc-remounted
		umount /proc/kcore 2>/dev/null && echo kcore-unmounted
		true'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = refused ]
	[ "$(cat "$W/robind/f")" = host ]
	rm -rf "$W/robind"
}

@test "a device node planted in DIR opens nothing, while /dev/null works" {
	mknod "$A/root/planted" c 1 3
	run --separate-stderr "$XB" enter "$A" sh -c 'echo x >/root/planted && echo opened; echo x >/dev/null && echo null-ok'
	echo "$output"
	rm -f "$A/root/planted"
	[ "$status" -eq 0 ]
	[[ $stderr == *"Permission denied"* ]]
	[ "${lines[-1]}" = null-ok ]
	[[ $output != *opened* ]]
}

@test "the bounding set is nspawn's at most; --capability and --drop-capability change it" {
	run --separate-stderr "$XB" enter "$A" sh -c 'awk "/^CapBnd:/ { print \$2 }" /proc/self/status'
	[ "$status" -eq 0 ]
	local bnd=$output c
	echo "CapBnd $bnd"
	# sys_module, sys_rawio, sys_time, mac_override, mac_admin, syslog, perfmon, bpf
	for c in 16 17 25 32 33 34 38 39; do ! cap_in "$bnd" "$c" || false; done
	# chown, sys_chroot are there; sys_admin only where root inside is no
	# host root (a user namespace of its own with an unprivileged range)
	for c in 0 18; do cap_in "$bnd" "$c"; done
	if unshare --user true 2>/dev/null; then cap_in "$bnd" 21; else ! cap_in "$bnd" 21 || false; fi
	! cap_in "$bnd" 20 || false # sys_pacct: not in the default set
	run --separate-stderr "$XB" enter --capability=CAP_SYS_PACCT,cap_sys_module --drop-capability=CAP_CHOWN "$A" \
		sh -c 'awk "/^CapBnd:/ { print \$2 }" /proc/self/status; touch /tmp/f; chown 1 /tmp/f 2>&1'
	echo "$output"
	cap_in "${lines[0]}" 20
	! cap_in "${lines[0]}" 16 || false # never, whatever is asked
	! cap_in "${lines[0]}" 0 || false
	[[ ${lines[1]} == *"Operation not permitted"* ]]
	run --separate-stderr "$XB" enter --capability=CAP_NOPE "$A" true
	[ "$status" -eq 2 ]
	[ "$stderr" = "xboot: error: --capability=CAP_NOPE: no capability CAP_NOPE" ]
}

@test "no file descriptor of the caller's but 0, 1 and 2 gets in" {
	run --separate-stderr "$XB" enter "$A" sh -c 'for n in 3 4 5 7 9; do [ -e /proc/$$/fd/$n ] && echo "fd $n"; done; echo done' 7</ 9<"$A/etc/hostname"
	echo "$output"
	[ "$output" = done ]
}

@test "where DIR cannot be idmapped (ramfs): one warning says why; the masks and bounds hold" {
	need_userns
	mkdir -p "$W/ramfs"
	run --separate-stderr unshare --mount --propagation private sh -c '
		mount -t ramfs ramfs "$1" && cp -a "$2/." "$1" && shift 2 && exec "$@"' _ \
		"$W/ramfs" "$ROOTS/trixie-amd64" "$XB" enter "$W/ramfs" sh -c '
			touch /root/made && stat -c %u /root/made
			( exec 3>/proc/sys/kernel/core_pattern ) 2>/dev/null && echo writable
			awk "/^CapBnd:/ { print \$2 }" /proc/self/status'
	echo "$output"; echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[ "${#lines[@]}" -eq 2 ]
	! cap_in "${lines[1]}" 21 || false
	! cap_in "${lines[1]}" 27 || false
	[[ $stderr == *"root inside is the host's root in a user namespace of its own, as $W/ramfs cannot be idmapped here"* ]]
	[ "$(grep -c warning <<<"$stderr")" = 1 ]
}
