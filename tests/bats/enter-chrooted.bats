#!/usr/bin/env bats
# xboot enter where CI runners and the fresh-machine harness run `make
# check`: inside a chroot, as real root, where the kernel refuses user
# namespaces (issue 4), on the trees of $XB_TEST_ROOTS.

load helpers
load enter-helpers

# in_chroot CMD...: CMD run chrooted, as CI runners and the fresh-machine
# harness run `make check`: in a private mount namespace, / bound onto a
# directory and chroot(8) into it.  The kernel refuses user namespaces to
# such a process.
in_chroot() {
	local r=$BATS_TEST_TMPDIR/chroot
	mkdir -p "$r"
	unshare --mount --propagation private bash -c 'mount --rbind / "$1" && shift && exec chroot "$@"' \
		_ "$r" "$r" "$@"
}

@test "chrooted: enter falls back to real root without a user namespace" {
	unshare --user true 2>/dev/null || skip "no user namespaces on this host"
	run ! in_chroot unshare --user true
	run --separate-stderr in_chroot "$XB" enter -v "$ROOTS/trixie-amd64" sh -c 'uname -m; id -u; grep ^Seccomp: /proc/self/status'
	echo "$output"; echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'x86_64\n0\nSeccomp:\t2')" ]
	[[ $stderr == *"no user namespace here"* ]]
}

@test "chrooted: a foreign root runs through a temporary host binfmt entry, removed afterwards" {
	local before
	before=$(host_binfmt)
	run --separate-stderr in_chroot "$XB" enter -v "$ROOTS/trixie-armhf" sh -c 'uname -m; id -u'
	echo "$output"; echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'armv7l\n0')" ]
	[ "$(echo "$stderr" | grep -c .)" = 1 ]
	[[ $stderr == *"no user namespace here"*"armhf programs run through "* ]]
	[ "$(host_binfmt)" = "$before" ]
}

@test "chrooted: SIGTERM of xboot removes the temporary binfmt entry too" {
	local before pid
	before=$(host_binfmt)
	mkdir -p "$BATS_TEST_TMPDIR/chroot"
	# exec all the way down: $! is xboot's pid
	unshare --mount --propagation private bash -c 'mount --rbind / "$1" && shift && exec chroot "$@"' \
		_ "$BATS_TEST_TMPDIR/chroot" "$BATS_TEST_TMPDIR/chroot" "$XB" enter -q "$ROOTS/trixie-armhf" sleep 60 3>&- &
	pid=$!
	wait_for eval 'host_binfmt_sh "ls \$b" | grep -qx "xboot-arm-$pid"'
	kill -TERM "$pid"
	run wait "$pid"
	echo "exit $status"
	[ "$status" -ne 0 ]
	[ "$(host_binfmt)" = "$before" ]
}

@test "chrooted: as real root, the filter and the bounding set deny acct() and swapon()" {
	run --separate-stderr in_chroot "$XB" enter -q --capability=CAP_SYS_PACCT "$ROOTS/trixie-amd64" \
		perl -e "$(probe 163 167)"
	[ "$output" = "1 1" ]
	# without the filter, acct() gets as far as the missing path; swapon()
	# needs CAP_SYS_ADMIN, which the host's root never keeps inside
	run --separate-stderr in_chroot "$XB" enter -q --no-seccomp --capability=CAP_SYS_PACCT \
		"$ROOTS/trixie-amd64" perl -e "$(probe 163 167)"
	[ "$output" = "2 1" ]
}

@test "chrooted: as real root, the masks hold and nothing inside can undo them" {
	local before c
	before=$(cat /proc/sys/kernel/core_pattern)
	mkdir -p "$W/robind"
	echo host >"$W/robind/f"
	cp -a "$ROOTS/trixie-amd64" "$W/real"
	mknod "$W/real/root/planted" c 1 3
	# Files opened for writing only, nothing written: harmless where a
	# mask is missing, which is what would fail.
	run --separate-stderr in_chroot "$XB" enter --ro-bind="$W/robind:/ro" "$W/real" sh -c '
		for f in /proc/sys/kernel/core_pattern /proc/sysrq-trigger; do
			( exec 3>"$f" ) 2>/dev/null && echo "writable $f"
		done
		mount -o remount,bind,rw /ro 2>/dev/null && echo remounted
		umount /proc/sys 2>/dev/null && echo unmasked
		echo x 2>/dev/null >/ro/f && echo ro-written
		echo x 2>/dev/null >/root/planted && echo device-opened
		mknod /root/made c 1 3 2>/dev/null && echo device-made
		echo x >/dev/null && echo null-ok
		awk "/^CapBnd:/ { print \$2 }" /proc/self/status'
	echo "$output"; echo "stderr: $stderr"
	rm -rf "$W/real"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = null-ok ]
	[ "${#lines[@]}" -eq 2 ]
	# no sys_admin (21), mknod (27), sys_module (16), sys_rawio (17), sys_time (25)
	for c in 16 17 21 25 27; do (( ((16#${lines[1]}) >> c & 1) == 0 )); done
	[ "$(cat "$W/robind/f")" = host ]
	[ "$(cat /proc/sys/kernel/core_pattern)" = "$before" ]
	[[ $stderr == *"no user namespace here"* ]]
	rm -rf "$W/robind"
}

@test "chrooted: an enabled host entry for the architecture is used as it is" {
	local name=xbtest-arm-$$ conf holder
	conf=$(sed "s#^:[^:]*:#:$name:#; s#:[^:]*:\([A-Z]*\)\$#:$(realpath /usr/bin/qemu-arm-static):F#" \
		/usr/lib/binfmt.d/qemu-arm.conf)
	# Entries live as long as a mount of binfmt_misc does (the host has
	# none here): a holder keeps one until told through the fifo, and
	# takes the entry with it when killed.
	mkfifo "$W/hold"
	C=$conf N=$name bg unshare --mount --propagation private sh -c '
		b=/proc/sys/fs/binfmt_misc
		mount -t binfmt_misc binfmt_misc $b && printf "%s\n" "$C" >$b/register || exit 1
		read -r _ <"$0"; echo -1 >$b/$N' "$W/hold"
	holder=$BG
	wait_for eval 'host_binfmt | grep -qx "$name"'
	run --separate-stderr in_chroot "$XB" enter -v "$ROOTS/trixie-armhf" uname -m
	echo "$output"; echo "stderr: $stderr"
	echo >"$W/hold"
	wait "$holder"
	[ "$output" = armv7l ]
	[[ $stderr == *"through the host's binfmt_misc entry $name" ]]
	[ -z "$(host_binfmt | grep -e "^$name\$" -e '^xboot-')" ]
}
