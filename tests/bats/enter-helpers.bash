# enter-helpers: what the two bats files of `xboot enter` share (enter.bats,
# enter-chrooted.bats): the roots they run in, set up once per file, and
# probes of processes, mounts and the host's binfmt_misc.

# setup_file and teardown_file of both files, defined here once: the trees
# the end-to-end tests built in $XB_TEST_ROOTS (missing ones are built here,
# with the shared cache), $W a work directory, $A a native root of our own
# under it, and the host's entries for 32-bit ARM switched off (the tests
# must not depend on them).
setup_file() {
	export XB="$BATS_TEST_DIRNAME/../../xboot"
	export ROOTS=${XB_TEST_ROOTS:-/var/tmp/xboot-test-roots}
	export CACHE=${XB_TEST_CACHE:-/var/cache/xboot-tests}
	[ "$(id -u)" = 0 ] || skip "needs root"
	mkdir -p "$ROOTS"
	ensure_root trixie amd64
	ensure_root trixie armhf
	ensure_root trixie arm64
	# Not under $BATS_FILE_TMPDIR: the ordinary user of the rootless test
	# must be able to reach it.
	W=$(mktemp -d /var/tmp/xboot-enter.XXXXXX)
	chmod 755 "$W"
	export W A=$W/a
	# A: a native root of our own, which the tests may change.
	cp -a "$ROOTS/trixie-amd64" "$A"
	echo xboot-enter-a >"$A/etc/hostname"
	arm_entries_off >"$W/arm-off"
}

teardown_file() {
	local pid m
	[ -n "${W:-}" ] || return 0
	[ -s "$W/arm-off" ] && arm_entries_on <"$W/arm-off"
	[ -s "$W/user" ] && userdel "$(cat "$W/user")"
	while read -r pid; do
		kill -KILL "$pid" 2>/dev/null
	done < <(cat "$W/pids" 2>/dev/null)
	for m in $(mounts_under "$W" | awk '{print $5}' | sort -r); do
		umount -l "$m"
	done
	rm -rf "$W"
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

# host_binfmt_sh SCRIPT: sh -c SCRIPT with $b the host's binfmt_misc, mounted
# in a throwaway mount namespace (the host does not mount it here).
host_binfmt_sh() {
	unshare --mount --propagation private sh -c \
		'b=/proc/sys/fs/binfmt_misc; [ -e $b/register ] || mount -t binfmt_misc binfmt_misc $b || exit 1
		'"$1"
}

# host_binfmt: the names of the host's binfmt_misc entries, but for the
# temporary entries (xboot-ARCH-PID) of xboot runs still going on, which
# other tests of the machine may have started.
host_binfmt() {
	local e
	for e in $(host_binfmt_sh 'ls $b'); do
		[[ $e =~ ^xboot-.*-([0-9]+)$ ]] && [ -d "/proc/${BASH_REMATCH[1]}" ] && continue
		echo "$e"
	done
}

# arm_entries_off: switches off the host's enabled entries for 32-bit ARM
# ELF binaries (qemu-user-static's qemu-arm), printing their names so that
# arm_entries_on can switch them back on.  The nested tests must not
# depend on them.  (xboot-ARCH-PID entries belong to other runs, for as long
# as those run: they are left alone.)
arm_entries_off() {
	host_binfmt_sh 'for f in $b/*; do
		case ${f##*/} in register | status | xboot-*) continue ;; esac
		[ "$(head -n 1 "$f")" = enabled ] || continue
		grep -q "^magic 7f454c46010101000000000000000000020028" "$f" || continue
		echo 0 >"$f" && echo "${f##*/}"
	done'
}

arm_entries_on() {
	local name
	while read -r name; do
		N=$name host_binfmt_sh 'echo 1 >"$b/$N"'
	done
}

# bg CMD...: starts CMD in the background (fd 3 closed, or bats waits for
# it); $BG is its pid, which teardown_file kills if it is still there.
bg() {
	"$@" 3>&- &
	BG=$!
	echo "$BG" >>"$W/pids"
}

# root_pids DIR [COMM]: pids whose root directory is DIR (and whose command
# is COMM).  By device and inode: after pivot_root, readlink /proc/PID/root
# says "/".
root_pids() {
	local p d
	d=$(stat -c %d:%i "$1") || return 0
	for p in /proc/[0-9]*; do
		[ "$(stat -L -c %d:%i "$p/root" 2>/dev/null)" = "$d" ] || continue
		[ -z "${2:-}" ] || [ "$(cat "$p/comm" 2>/dev/null)" = "$2" ] || continue
		echo "${p#/proc/}"
	done
	return 0
}

# pidns_pids NS: the pids in the PID namespace NS (as /proc/PID/ns/pid reads).
pidns_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
	done
	return 0
}

no_pids_in() {
	[ -z "$(pidns_pids "$1")" ]
}

no_root_pids() {
	[ -z "$(root_pids "$1")" ]
}

# has_pids N DIR [COMM]: at least N processes have DIR as root (see root_pids).
has_pids() {
	[ "$(root_pids "$2" "${3:-}" | wc -l)" -ge "$1" ]
}

# probe: perl calling acct() and swapon() on a missing path, printing both
# errno values; the syscall numbers are the root's architecture's.
probe() {
	printf '$p = "/nonexistent"; $! = 0; syscall(%s, $p); print $! + 0, " "; $! = 0; syscall(%s, $p, 0); print $! + 0, "\\n"' "$1" "$2"
}
