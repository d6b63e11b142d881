#!/usr/bin/env bats
# xboot enter: what a user sees inside a root filesystem, native and foreign
# (issue 4), on the trees the end-to-end tests built in $XB_TEST_ROOTS
# (missing ones are built here, with the shared cache).  Trees that a test
# changes are copies; the shared ones are only read.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	export XB="$BATS_TEST_DIRNAME/../../xboot"
	export ROOTS=${XB_TEST_ROOTS:-/var/tmp/xboot-test-roots}
	export CACHE=${XB_TEST_CACHE:-/var/cache/xboot-tests}
	[ "$(id -u)" = 0 ] || skip "needs root"
	mkdir -p "$ROOTS"
	ensure_root trixie amd64
	ensure_root trixie armhf
	ensure_root trixie arm64
}

# ensure_root SUITE ARCH: $ROOTS/SUITE-ARCH, bootstrapped (minbase) unless it
# is there; a lock keeps two bats files from building it at once.
ensure_root() {
	local dir=$ROOTS/$1-$2
	(
		flock 9
		[ -x "$dir/bin/sh" ] && [ -s "$dir/var/lib/dpkg/status" ] && exit 0
		rm -rf "$dir"
		"$XB" -q --arch="$2" --variant=minbase --cache-dir="$CACHE" "$1" "$dir" >&2
	) 9>"$ROOTS/.lock-$1-$2"
}

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

# host_binfmt: the names of the host's binfmt_misc entries, read through a
# mount in a throwaway mount namespace (the host's is not mounted here).
host_binfmt() {
	unshare --mount --propagation private sh -c \
		'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null; ls /proc/sys/fs/binfmt_misc'
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
	run --separate-stderr in_chroot "$XB" enter "$ROOTS/trixie-armhf" sh -c 'uname -m; id -u'
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
	for _ in $(seq 100); do
		host_binfmt | grep -q '^xboot-arm-' && break
		sleep 0.1
	done
	host_binfmt | grep -q '^xboot-arm-'
	kill -TERM "$pid"
	run wait "$pid"
	echo "exit $status"
	[ "$status" -ne 0 ]
	[ "$(host_binfmt)" = "$before" ]
}
