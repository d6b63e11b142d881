#!/usr/bin/env bats
# xboot enter: what a user sees inside a root filesystem, native and foreign
# (issue 4), on the trees the end-to-end tests built in $XB_TEST_ROOTS
# (missing ones are built here, with the shared cache).  The shared trees are
# only read; a test that changes a tree works on a copy under $W.

load helpers
load enter-helpers

@test "exit status passes through: 0, 1, 42, and 128+N for signal N" {
	local c
	for c in 0 1 42; do
		run --separate-stderr "$XB" enter "$ROOTS/trixie-amd64" sh -c "exit $c"
		[ "$status" -eq "$c" ]
	done
	run --separate-stderr "$XB" enter "$ROOTS/trixie-amd64" sh -c 'kill -9 $$'
	[ "$status" -eq 137 ]
	run --separate-stderr "$XB" enter "$ROOTS/trixie-amd64" sh -c 'kill -15 $$'
	[ "$status" -eq 143 ]
	# and under emulation
	run --separate-stderr "$XB" enter "$ROOTS/trixie-armhf" sh -c 'exit 42'
	[ "$status" -eq 42 ]
	run --separate-stderr "$XB" enter "$ROOTS/trixie-armhf" sh -c 'kill -9 $$'
	[ "$status" -eq 137 ]
	# a command that is not there: 127, as a shell says
	run -127 "$XB" enter "$ROOTS/trixie-amd64" /nonexistent
}

@test "without a command: root's login shell from DIR/etc/passwd" {
	run --separate-stderr "$XB" enter "$A" <<<'echo "$0 $(id -u) $HOME $PWD"; exit 7'
	echo "$output"
	[ "$status" -eq 7 ]
	[ "$output" = "/bin/bash 0 /root /root" ]
}

@test "inside: own namespaces, /proc, read-only /sys, the minimal /dev, tmpfs /run and /tmp" {
	local ns tree
	tree=$(ls -laR --time-style=+%s.%N "$A/tmp" "$A/run" "$A/dev")
	run --separate-stderr "$XB" enter "$A" sh -c '
		echo "pid $$"
		hostname
		ls /dev | tr "\n" " "; echo
		grep ^Seccomp: /proc/self/status
		mkdir /sys/xboot-probe 2>&1 | grep -o "Read-only file system"
		for n in mnt pid uts ipc user; do readlink /proc/self/ns/$n; done
		awk "{ for (i = 7; i <= NF; i++) if (\$i == \"-\") { print \"mount\", \$5, \$(i + 1); break } }" /proc/self/mountinfo
		awk "\$5 == \"/sys\" { print \"sys\", \$6 }" /proc/self/mountinfo'
	echo "$output"; echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	stderr_clean
	# 1 is xboot's own init, which waits for the command; 2, where there is
	# a user namespace, wrote the maps of the one that locks the mounts
	[[ "${lines[0]}" =~ ^pid\ [23]$ ]]
	[ "${lines[1]}" = xboot-enter-a ]
	[ "${lines[2]}" = "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero " ]
	[ "${lines[3]}" = "$(printf 'Seccomp:\t2')" ]
	[ "${lines[4]}" = "Read-only file system" ]
	local nss="mnt pid uts ipc"
	# without user namespaces (a chroot) enter runs as real root in the host's
	unshare --user true 2>/dev/null && nss="$nss user"
	for ns in $nss; do
		echo "$output" | grep -qx "$(readlink /proc/self/ns/$ns | sed 's/\[/\\[/; s/\]/\\]/')" && return 1
	done
	local mounts=("/proc proc" "/sys sysfs" "/dev tmpfs" "/dev/pts devpts" "/dev/shm tmpfs"
		"/run tmpfs" "/tmp tmpfs")
	# the private binfmt_misc instance belongs to a user namespace
	unshare --user true 2>/dev/null && mounts+=("/proc/sys/fs/binfmt_misc binfmt_misc")
	for m in "${mounts[@]}"; do
		echo "$output" | grep -qx "mount $m"
	done
	echo "$output" | grep -q '^sys ro,'
	# what was made on the mounts inside did not reach the tree
	[ "$(ls -laR --time-style=+%s.%N "$A/tmp" "$A/run" "$A/dev")" = "$tree" ]
}

@test "name resolution works through the host's resolv.conf, bound read-only" {
	local host own
	host=$(host_mirror | sed 's|^[a-z+]*://||; s|/.*||; s|.*@||; s|:[0-9]*$||')
	own=$(cat "$A/etc/resolv.conf")
	run --separate-stderr "$XB" enter "$A" sh -c 'cat /etc/resolv.conf; echo x 2>/dev/null >>/etc/resolv.conf || echo read-only'
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat /etc/resolv.conf; echo read-only)" ]
	# the mirror's name is not printed: it stays out of logs
	run --separate-stderr "$XB" enter "$A" getent hosts "$host"
	[ "$status" -eq 0 ] && [ -n "$output" ]
	[ "$(cat "$A/etc/resolv.conf")" = "$own" ]
}

@test "--network=none: only lo, and it is up" {
	run --separate-stderr "$XB" enter --network=none "$A" sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; cat /sys/class/net/lo/flags'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = lo ] && [ "${#lines[@]}" -eq 2 ]
	# IFF_UP
	[ $((${lines[1]} & 1)) -eq 1 ]
}

@test "options: --bind, --ro-bind, --setenv, --workdir, --hostname, --user" {
	mkdir -p "$W/opt-rw" "$W/opt-ro"
	echo ro >"$W/opt-ro/f"
	run --separate-stderr "$XB" enter --bind="$W/opt-rw:/mnt/rw" --ro-bind="$W/opt-ro:/mnt/ro" \
		--setenv=XB_ONE=1 --setenv=HOME=/srv --workdir=/etc --hostname=elsewhere "$A" sh -c '
		echo written >/mnt/rw/f; cat /mnt/ro/f; echo x >/mnt/ro/g 2>/dev/null || echo ro-refused
		echo "$XB_ONE $HOME $PWD $(hostname)"'
	echo "$output"; echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'ro\nro-refused\n1 /srv /etc elsewhere')" ]
	[ "$(cat "$W/opt-rw/f")" = written ]
	[ ! -e "$W/opt-ro/g" ]
	run --separate-stderr "$XB" enter --user=nobody "$A" sh -c 'echo "$(id -un) $(id -u) $USER $HOME"'
	[ "$output" = "nobody 65534 nobody /nonexistent" ]
	run --separate-stderr "$XB" enter --user=1234 "$A" id -u
	[ "$output" = 1234 ]
	run --separate-stderr "$XB" enter --user=no-such-user "$A" id -u
	[ "$status" -eq 125 ]
	[[ $stderr == *"no-such-user"*"/etc/passwd"* ]]
}

@test "a foreign root: uname -m is its machine, also with no emulator inside it" {
	run --separate-stderr "$XB" enter "$ROOTS/trixie-armhf" uname -m
	[ "$output" = armv7l ]
	run --separate-stderr "$XB" enter "$ROOTS/trixie-arm64" uname -m
	[ "$output" = aarch64 ]
	cp -a "$ROOTS/trixie-arm64" "$W/arm64"
	rm -f "$W"/arm64/usr/bin/qemu-*
	run --separate-stderr "$XB" enter "$W/arm64" sh -c 'uname -m; ls /usr/bin/qemu-* 2>/dev/null | wc -l'
	[ "$output" = "$(printf 'aarch64\n0')" ]
	# without /bin/sh, dpkg's architecture tells
	rm "$W/arm64/usr/bin/sh"
	run --separate-stderr "$XB" enter "$W/arm64" /bin/dash -c 'uname -m'
	[ "$output" = aarch64 ]
	rm -rf "$W/arm64"
}

@test "seccomp: acct() and swapon() get EPERM, natively and under emulation; TIOCSTI too" {
	run --separate-stderr "$XB" enter "$ROOTS/trixie-amd64" perl -e "$(probe 163 167)"
	[ "$output" = "1 1" ]
	run --separate-stderr "$XB" enter "$ROOTS/trixie-armhf" perl -e "$(probe 51 87)"
	[ "$output" = "1 1" ]
	run --separate-stderr "$XB" enter "$ROOTS/trixie-arm64" perl -e "$(probe 89 224)"
	[ "$output" = "1 1" ]
	run --separate-stderr "$XB" enter "$ROOTS/trixie-armhf" grep ^Seccomp: /proc/self/status
	[ "$output" = "$(printf 'Seccomp:\t2')" ]
	run --separate-stderr "$XB" enter --no-seccomp "$ROOTS/trixie-armhf" grep ^Seccomp: /proc/self/status
	[ "$output" = "$(printf 'Seccomp:\t0')" ]
}

@test "under emulation: apt-get update, dpkg -l and perl work" {
	cp -a "$ROOTS/trixie-armhf" "$W/armhf"
	# apt's output names the mirror; it stays out of logs
	run --separate-stderr "$XB" enter "$W/armhf" apt-get update -qq
	[ "$status" -eq 0 ]
	run --separate-stderr "$XB" enter "$W/armhf" sh -c 'dpkg -l dpkg | tail -n 1 | cut -c1-9; perl -e "print 6 * 7, qq(\n)"; apt-cache policy dpkg | grep -c Candidate'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'ii  dpkg \n42\n1')" ]
	rm -rf "$W/armhf"
}

@test "the host's mount table is the same before, during and after; every process is gone" {
	local before during after pid p sp="" ns
	before=$(cat /proc/self/mountinfo)
	bg "$XB" enter "$A" sh -c 'sleep 1000 & exec sleep 1001'
	pid=$BG
	wait_for has_pids 2 "$A" sleep
	during=$(cat /proc/self/mountinfo)
	for p in $(root_pids "$A" sleep); do
		[ "$(tr '\0' ' ' <"/proc/$p/cmdline")" = "sleep 1001 " ] && sp=$p
	done
	ns=$(readlink "/proc/$sp/ns/pid")
	[ "$(pidns_pids "$ns" | wc -l)" -eq 3 ]
	kill "$sp"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 143 ]
	after=$(cat /proc/self/mountinfo)
	[ "$during" = "$before" ]
	[ "$after" = "$before" ]
	# the backgrounded sleep 1000 went with the namespace
	wait_for no_pids_in "$ns"
	[ -z "$(root_pids "$A")" ]
}

@test "kill -9 of xboot in the middle of a session leaves no mount and no process" {
	local before pid ns sp
	before=$(cat /proc/self/mountinfo)
	bg "$XB" enter "$ROOTS/trixie-armhf" sh -c 'sleep 1000 & exec sleep 1001'
	pid=$BG
	wait_for has_pids 3 "$ROOTS/trixie-armhf"
	sp=$(root_pids "$ROOTS/trixie-armhf" | tail -n 1)
	ns=$(readlink "/proc/$sp/ns/pid")
	kill -KILL "$pid"
	wait "$pid" || true
	wait_for no_pids_in "$ns"
	[ -z "$(root_pids "$ROOTS/trixie-armhf")" ]
	[ "$(cat /proc/self/mountinfo)" = "$before" ]
}

# refused_link NAME TARGET: DIR/NAME is a symlink to TARGET; enter refuses with
# one clear line and mounts nothing, and the host directory stays as it was.
refused_link() {
	local root=$W/tiny-${1//\//-} host=$W/host-${1//\//-} before listing
	mkdir -p "$root/etc" "$root/bin" "$host"
	echo keep >"$host/marker"
	ln -s "${2//HOST/$host}" "$root/$1"
	listing=$(ls -laR --time-style=+%s.%N "$host")
	before=$(cat /proc/self/mountinfo)
	run --separate-stderr "$XB" enter "$root" /bin/true
	echo "$1 -> $2: exit $status; stderr: $stderr"
	[ "$status" -ne 0 ] && [ "$status" -ne 127 ]
	[ "$(echo "$stderr" | grep -c .)" -eq 1 ]
	[[ $stderr == *"$root/$1 is a symlink; refusing to mount there"* ]]
	[ "$(cat /proc/self/mountinfo)" = "$before" ]
	[ "$(ls -laR --time-style=+%s.%N "$host")" = "$listing" ]
}

@test "DIR untrusted: proc, sys, dev, run, tmp as symlinks to host directories are refused" {
	refused_link proc HOST
	refused_link sys HOST
	refused_link dev HOST
	refused_link run "../host-run"
	refused_link tmp "../../../../../../../..$W/host-tmp"
}

@test "DIR untrusted: etc/resolv.conf as a symlink out of DIR: the host file stays as it was" {
	local root=$W/tiny-resolv before
	mkdir -p "$root/etc"
	echo "nameserver 192.0.2.1" >"$W/host-resolv"
	ln -s "$W/host-resolv" "$root/etc/resolv.conf"
	before=$(cat /proc/self/mountinfo)
	run -127 --separate-stderr "$XB" enter "$root" /bin/true
	echo "exit $status; stderr: $stderr"
	[ "$(cat "$W/host-resolv")" = "nameserver 192.0.2.1" ]
	[[ $stderr == *"not binding the host's resolv.conf"* ]]
	[ "$(cat /proc/self/mountinfo)" = "$before" ]
	[ ! -e "$root$W/host-resolv" ]
}

@test "DIR untrusted: FIFOs and devices as /bin/sh, dpkg's status, hostname and passwd do not hang enter" {
	local root=$W/fifos
	mkdir -p "$root/bin" "$root/etc" "$root/var/lib/dpkg"
	mkfifo "$root/bin/sh" "$root/etc/hostname" "$root/etc/passwd"
	ln -s /dev/zero "$root/var/lib/dpkg/status"
	run timeout 30 "$XB" enter "$root"
	echo "exit $status; $output"
	[ "$status" -ne 124 ] # timeout(1)'s: it hung
	[ "$status" -ne 0 ]
}

@test "an interactive shell on a pseudo-terminal: job control, window size, Ctrl-C" {
	run timeout 60 script -qec "stty rows 40 cols 132; $XB enter $A" /dev/null < <(
		echo 'echo "size $(stty size)"; case $- in *m*) echo jobs-on ;; esac'
		echo 'sleep 1000 & jobs %1 | grep -c Running'
		echo 'perl -e "\$c = q(x); ioctl(STDIN, 0x5412, \$c) or print qq(tiocsti \$!\n)"'
		echo 'sleep 100'
		sleep 2
		printf '\003'
		sleep 0.5
		echo 'echo "alive $?"; exit 5'
	)
	# without carriage returns and terminal escapes (bracketed paste)
	output=$(echo "$output" | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g')
	echo "$output"
	[ "$status" -eq 5 ]
	echo "$output" | grep -qx 'size 40 132'
	echo "$output" | grep -qx 'jobs-on'
	echo "$output" | grep -qx '1'
	echo "$output" | grep -qx 'tiocsti Operation not permitted'
	echo "$output" | grep -qx 'alive 130'
	wait_for no_root_pids "$A"
}

@test "nested: a chroot of another architecture inside the entered root, no host binfmt entry needed" {
	need_userns # the private binfmt_misc instance belongs to one
	run --separate-stderr "$XB" enter --ro-bind="$ROOTS/trixie-armhf:/srv/b" "$A" chroot /srv/b uname -m
	echo "$output"
	[ "$output" = armv7l ]
	run --separate-stderr "$XB" enter --ro-bind="$ROOTS/trixie-arm64:/srv/c" "$A" chroot /srv/c uname -m
	[ "$output" = aarch64 ]
	# and user namespaces can be made inside (no chroot(2) in the way); a
	# fresh proc cannot, as the kernel refuses one over the masked /proc
	run --separate-stderr "$XB" enter "$A" unshare --user --map-root-user --mount --pid --fork id -u
	echo "$output"
	[ "$output" = 0 ]
}

@test "xboot inside a rootfs: installed with make install, its libraries with apt" {
	need_userns
	make -s -C "$XB_SRC" install DESTDIR="$A" >/dev/null
	run --separate-stderr "$XB" enter "$A" apt-get update -qq
	[ "$status" -eq 0 ]
	run --separate-stderr "$XB" enter --setenv=DEBIAN_FRONTEND=noninteractive "$A" apt-get install -y -qq \
		libsolv1 libsolvext1 libarchive13t64 libcurl4t64 libseccomp2 libssl3t64 gpgv \
		debian-archive-keyring ca-certificates
	[ "$status" -eq 0 ]
	cp "$(realpath /usr/bin/qemu-arm-static)" "$A/usr/bin/qemu-arm-static"
	cp "$(realpath /usr/bin/qemu-aarch64-static)" "$A/usr/bin/qemu-aarch64-static"
	run --separate-stderr "$XB" enter "$A" xboot enter --help
	[ "$status" -eq 0 ]
}

@test "xboot inside a rootfs: xboot enter of an armhf root prints armv7l" {
	[ -x "$A/usr/local/bin/xboot" ] || skip "xboot is not installed in A"
	run --separate-stderr "$XB" enter --ro-bind="$ROOTS/trixie-armhf:/srv/b" "$A" xboot enter /srv/b uname -m
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = armv7l ]
}

@test "xboot inside a rootfs: builds a working arm64 rootfs and enters it" {
	[ -x "$A/usr/local/bin/xboot" ] || skip "xboot is not installed in A"
	run --separate-stderr "$XB" enter --bind="$CACHE:/var/cache/xboot-tests" "$A" \
		xboot -q --arch=arm64 --variant=minbase --cache-dir=/var/cache/xboot-tests stable /srv/c
	[ "$status" -eq 0 ]
	run --separate-stderr "$XB" enter "$A" xboot enter /srv/c sh -c 'uname -m; dpkg --print-architecture'
	echo "$output"
	[ "$output" = "$(printf 'aarch64\narm64')" ]
	[ -z "$(mounts_under "$A")" ]
}

@test "as an ordinary user: xboot enter on a root the user owns" {
	local u=xbenter$$
	unshare --user true 2>/dev/null || skip "no user namespaces on this host"
	useradd -M -s /bin/sh "$u"
	echo "$u" >"$W/user"
	cp -a "$ROOTS/trixie-amd64" "$W/mine"
	cp -a "$ROOTS/trixie-armhf" "$W/mine-armhf"
	chown -R "$u:" "$W/mine" "$W/mine-armhf"
	run --separate-stderr runuser -u "$u" -- "$XB" enter "$W/mine" sh -c 'id -u; ls /dev | wc -l; grep ^Seccomp: /proc/self/status'
	echo "$output"; echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '0\n13\nSeccomp:\t2')" ]
	run runuser -u "$u" -- "$XB" enter "$W/mine-armhf" sh -c 'id -u; uname -m'
	[ "$output" = "$(printf '0\narmv7l')" ]
	rm -rf "$W/mine" "$W/mine-armhf"
}

# in_a_chroot CMD...: CMD in a plain chroot(8) of A (its root no mount point),
# with /proc, /dev, resolv.conf and the test cache mounted as a build harness
# does, and the armhf tree read-only at /srv/b.  HIDE_EMU=1 hides A's
# emulators.
in_a_chroot() {
	mkdir -p "$A/srv/b" "$A/var/cache/xboot-tests"
	unshare --mount --propagation private bash -c '
		a=$1 b=$2; shift 2
		mount -t proc proc "$a/proc" && mount --rbind /dev "$a/dev" &&
			mount --bind /etc/resolv.conf "$a/etc/resolv.conf" &&
			mount --bind "$CACHE" "$a/var/cache/xboot-tests" &&
			mount --bind "$b" "$a/srv/b" && mount -o remount,bind,ro "$a/srv/b" || exit 125
		if [ "${HIDE_EMU:-}" = 1 ]; then
			for e in "$a"/usr/bin/qemu-*; do mount --bind /dev/null "$e" || exit 125; done
		fi
		exec chroot "$a" "$@"' _ "$A" "$ROOTS/trixie-armhf" "$@"
}

@test "chrooted: xboot installed in a root, run in a plain chroot of it, enters an armhf root" {
	local before
	[ -x "$A/usr/local/bin/xboot" ] || skip "xboot is not installed in A"
	before=$(host_binfmt)
	run --separate-stderr in_a_chroot xboot enter -v /srv/b sh -c 'uname -m; id -u'
	echo "$output"; echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'armv7l\n0')" ]
	[[ $stderr == *"no user namespace here"*"a temporary entry xboot-arm-"* ]]
	[ "$(host_binfmt)" = "$before" ]
	# the fresh-machine harness: a foreign bootstrap in the chroot
	run --separate-stderr in_a_chroot xboot -q --arch=armhf --variant=minbase \
		--cache-dir=/var/cache/xboot-tests trixie /srv/x
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	run --separate-stderr in_a_chroot xboot enter -q /srv/x sh -c 'uname -m; dpkg --print-architecture'
	[ "$output" = "$(printf 'armv7l\narmhf')" ]
	[ -z "$(mounts_under "$A")" ]
	[ "$(host_binfmt)" = "$before" ]
	# where there is no emulator, one line says what to install
	HIDE_EMU=1 run --separate-stderr in_a_chroot xboot enter /srv/b uname -m
	echo "stderr: $stderr"
	[ "$status" -eq 1 ]
	# (the chroot is trixie's: its qemu-user has the static emulators, as qemu-arm)
	[ "$stderr" = "xboot: error: no emulator for armhf: install qemu-user (qemu-arm not found)" ]
	[ "$(host_binfmt)" = "$before" ]
}

@test "chrooted: with the mounts around the chroot shared, nothing mounted inside shows outside" {
	[ -x "$A/usr/local/bin/xboot" ] || skip "xboot is not installed in A"
	# A throwaway mount namespace stands for a host whose mounts are shared
	# (as systemd makes them); the plain chroot of A runs in it.
	mkdir -p "$A/srv/b"
	run --separate-stderr unshare --mount --propagation private bash -c '
		a=$1 b=$2
		mount --make-rshared / && mount -t proc proc "$a/proc" && mount --rbind /dev "$a/dev" &&
			mount --bind "$b" "$a/srv/b" || exit 125
		before=$(cat /proc/self/mountinfo)
		chroot "$a" xboot enter -q /srv/b sh -c "sleep 3" &
		sleep 1.5
		during=$(cat /proc/self/mountinfo)
		wait $! || exit 124
		[ "$during" = "$before" ] && [ "$(cat /proc/self/mountinfo)" = "$before" ] && echo same
		diff <(echo "$before") <(echo "$during") | head -n 5' _ "$A" "$ROOTS/trixie-armhf"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = same ]
}
