#!/usr/bin/env bats
# xboot enter on what people have besides a directory: image files
# (squashfs, ext4, tar.zst, cpio, an OCI layout and its tar), mounted
# through FUSE (squashfuse) or unpacked into a tmpfs of the session's own
# mount namespace, never modified; and
# throwaway sessions over a directory (--ephemeral, --volatile).  The tree
# is a small native one bootstrapped from the hermetic repository.

load helpers

setup_file() {
	fixture_setup || return 1
	export TREE=$BATS_FILE_TMPDIR/tree IMG=$BATS_FILE_TMPDIR/img
	"$XB" -q --keyring="$XB_KEYRING" --no-cache --variant=essential "$XB_SUITE" "$TREE" "$XB_REPO_URL" ||
		return 1
	mkdir -p "$IMG"
	mksquashfs "$TREE" "$IMG/tree.squashfs" -quiet -noappend -no-progress >/dev/null
	mkfs.ext4 -q -d "$TREE" "$IMG/tree.ext4" 64M
	tar -C "$TREE" --zstd -cf "$IMG/tree.tar.zst" .
	(cd "$TREE" && find . | cpio -o -H newc --quiet >"$IMG/tree.cpio")
	"$XB" -q --keyring="$XB_KEYRING" --no-cache --variant=essential "$XB_SUITE" "$IMG/tree.oci" "$XB_REPO_URL"
	"$XB" -q --keyring="$XB_KEYRING" --no-cache --variant=essential "$XB_SUITE" "$IMG/tree.oci.tar" "$XB_REPO_URL"
}

teardown_file() {
	fixture_teardown
}

setup() {
	hermetic_setup
}

teardown() {
	if [ -f "$BATS_TEST_TMPDIR/session" ]; then
		kill -KILL "$(cat "$BATS_TEST_TMPDIR/session")" 2>/dev/null || true
	fi
	if [ -f "$BATS_TEST_TMPDIR/user" ]; then
		userdel "$(cat "$BATS_TEST_TMPDIR/user")"
	fi
	if [ -f "$BATS_TEST_TMPDIR/shared-dir" ]; then
		rm -rf "$(cat "$BATS_TEST_TMPDIR/shared-dir")"
	fi
}

# manifest DIR: every entry's path, type, mode, owner and content hash.
manifest() {
	(cd "$1" && find . -printf '%p %y %m %u:%g %l\n' | sort &&
		find . -type f -exec sha256sum {} + | sort -k2)
}

# No mount of a session is left: none under the tree, none of an image's.
no_mounts_left() {
	[ -z "$(mounts_under "$TREE")" ] && [ -z "$(mounts_under "$TMPDIR")" ] &&
		! grep -q xboot-enter /proc/self/mountinfo
}

@test "images: squashfs, ext4, tar.zst, cpio, OCI and its tar run a session that writes, and stay as they were" {
	local i sums
	sums=$(cd "$IMG" && find . -type f -exec sha256sum {} + | sort -k2)
	for i in tree.squashfs tree.ext4 tree.tar.zst tree.cpio tree.oci tree.oci.tar; do
		run --separate-stderr "$XB" enter "$IMG/$i" sh -c 'echo written >/etc/new && cat /etc/new && ls /bin/dash && id -u'
		echo "$i: $status: $output / $stderr"
		[ "$status" -eq 0 ]
		[ "$output" = "$(printf 'written\n/bin/dash\n0')" ]
		# device nodes under /dev are the session's own; nothing else is left out
		stderr_clean
	done
	[ "$(cd "$IMG" && find . -type f -exec sha256sum {} + | sort -k2)" = "$sums" ]
	no_mounts_left
	[ -z "$(ls "$TMPDIR")" ]
}

@test "images: owners and modes as the image has them" {
	run --separate-stderr "$XB" enter "$IMG/tree.squashfs" stat -c '%U %a' /tmp /etc/passwd
	[ "$output" = "$(printf 'root 1777\nroot 644')" ]
	run --separate-stderr "$XB" enter "$IMG/tree.tar.zst" stat -c '%U %a' /tmp /etc/passwd
	[ "$output" = "$(printf 'root 1777\nroot 644')" ]
}

# new_user NAME: a user of its own (in u) and a world-readable directory
# in /tmp (in d) for its images, both gone in teardown.
new_user() {
	unshare --user true 2>/dev/null || skip "no user namespaces on this host"
	u=$1$$
	useradd -M -s /bin/sh "$u"
	echo "$u" >"$BATS_TEST_TMPDIR/user"
	d=$(mktemp -d /tmp/xboot-image-test.XXXXXX)
	echo "$d" >"$BATS_TEST_TMPDIR/shared-dir"
	chmod 755 "$d"
}

# KiB the session's root has used on its own: stat -f of an overlay is its
# upper layer's.
used_kib() {
	"$XB" enter "$@" stat -f -c '%S %b %f' / | awk '{ print int($1 * ($2 - $3) / 1024) }'
}

# The driver xboot runs: its command line names the image by descriptor.
driver_pids() {
	pgrep -f '^(squashfuse|fuse2fs) .*/dev/fd/3( |$)' || true
}

@test "images: a squashfs is mounted through squashfuse, nothing copied; unpacked when squashfuse is missing" {
	need_userns # (without, xboot unpacks every image)
	local tree used
	tree=$(du -sk "$TREE" | cut -f1)
	run --separate-stderr "$XB" enter -v "$IMG/tree.squashfs" sh -c 'echo x >/etc/new && cat /etc/new'
	echo "$output / $stderr"
	[ "$status" -eq 0 ] && [ "$output" = x ]
	[[ $stderr == *"entering $IMG/tree.squashfs: mounted read-only through squashfuse"* ]]
	[[ $stderr == *"its programs are amd64, the host's own"* ]]
	used=$(used_kib "$IMG/tree.squashfs")
	echo "tree $tree KiB, used through squashfuse $used KiB"
	[ "$used" -lt $((tree / 10)) ]
	# hidden in a mount namespace of the test's own
	run --separate-stderr unshare -m sh -c 'mount --bind /dev/null /usr/bin/squashfuse &&
		exec "$0" enter -v "$1" cat /etc/new' "$XB" "$IMG/tree.squashfs"
	[[ $stderr == *"entering $IMG/tree.squashfs: unpacking it into a tmpfs (squashfuse is not installed)"* ]]
	[ "$status" -ne 0 ] # nothing the first session wrote is there
	used=$(unshare -m sh -c 'mount --bind /dev/null /usr/bin/squashfuse &&
		exec "$0" enter "$1" stat -f -c "%S %b %f" /' "$XB" "$IMG/tree.squashfs" |
		awk '{ print int($1 * ($2 - $3) / 1024) }')
	echo "used unpacked $used KiB"
	[ "$used" -ge $((tree / 2)) ]
	[ -z "$(driver_pids)" ]
	no_mounts_left
}

@test "images: where /dev/fuse is 0666 (as udev makes it): an ordinary user's squashfs through squashfuse; an ext4 image through fuse2fs, or unpacked at once where fuse2fs has libfuse 2 and cannot take the connection" {
	local u d
	new_user xbfuse
	cp "$IMG/tree.squashfs" "$IMG/tree.ext4" "$d/"
	chmod 644 "$d"/tree.*
	chown "$u:" "$d/tree.ext4" # the user's own, so only the read-only mount keeps it unchanged
	local sums
	sums=$(sha256sum "$d"/tree.*)
	mknod "$d/fuse" c 10 229
	chmod 666 "$d/fuse"
	{ : <>"$d/fuse"; } 2>/dev/null || skip "device nodes cannot be opened in /tmp here"
	# a /dev/fuse of the test's own mount namespace, nothing of the host's changed
	run --separate-stderr timeout 60 unshare -m sh -c 'mount --bind "$1/fuse" /dev/fuse &&
		exec runuser -u "$2" -- env TMPDIR=/tmp "$0" enter -v "$1/tree.squashfs" sh -c "echo w >/etc/w && cat /etc/w"' \
		"$XB" "$d" "$u"
	echo "$output / $stderr"
	[ "$status" -eq 0 ] && [ "$output" = w ]
	[[ $stderr == *"mounted read-only through squashfuse"* ]]
	SECONDS=0
	run --separate-stderr timeout 60 unshare -m sh -c 'mount --bind "$1/fuse" /dev/fuse &&
		exec runuser -u "$2" -- env TMPDIR=/tmp "$0" enter -v "$1/tree.ext4" sh -c "echo w >/etc/w && cat /etc/w"' \
		"$XB" "$d" "$u"
	echo "$output / $stderr"
	[ "$status" -eq 0 ] && [ "$output" = w ]
	if ldd "$(command -v fuse2fs)" | grep -q 'libfuse\.so\.2'; then
		[[ $stderr == *"unpacking it into a tmpfs (fuse2fs could not mount it"* ]]
	else
		[[ $stderr == *"mounted read-only through fuse2fs"* ]]
	fi
	[ "$SECONDS" -lt 50 ] # no wait for an answer that never comes
	[ "$(sha256sum "$d"/tree.*)" = "$sums" ]
	rm -rf "$d"
	[ -z "$(driver_pids)" ]
	no_mounts_left
}

@test "images: a tar's directory modes are the tree's, never those of where xboot runs; numeric owners; UTF-8 names" {
	local u d
	new_user xbtar
	# owners other than the user's own need its ranges mapped
	{ grep -q "^$u:" /etc/subuid && grep -q "^$u:" /etc/subgid && command -v newuidmap; } >/dev/null ||
		skip "no /etc/subuid range for $u, or no newuidmap"
	"$XB_PYTHON" - "$d/dirs.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    for name, kw in [("./", dict(type=tarfile.DIRTYPE, mode=0o777, mtime=1000000000)),
                     ("var/", dict(type=tarfile.DIRTYPE, mode=0o755)),
                     ("var/tmp/", dict(type=tarfile.DIRTYPE, mode=0o1777)),
                     ("etc/", dict(type=tarfile.DIRTYPE, mode=0o755)),
                     ("etc/caf\u00e9", dict(uid=4242, uname="messagebus", gid=4243, gname="messagebus"))]:
        i = tarfile.TarInfo(name)
        for k, v in kw.items(): setattr(i, k, v)
        data = b"" if i.isdir() else b"x"
        i.size = len(data)
        t.addfile(i, io.BytesIO(data) if data else None)
PY
	cp -a "$TREE/bin" "$TREE/lib" "$TREE/lib64" "$TREE/usr" "$d/" 2>/dev/null || true
	tar -C "$d" -rf "$d/dirs.tar" ./bin ./usr $(cd "$d" && ls -d lib lib64 2>/dev/null)
	chmod 644 "$d/dirs.tar"
	mkdir "$d/cwd"
	chown "$u:" "$d/cwd"
	chmod 700 "$d/cwd"
	touch -d '2020-01-01' "$d/cwd"
	run --separate-stderr sh -c 'cd "$1/cwd" && exec runuser -u "$2" -- env TMPDIR=/tmp "$0" enter "$1/dirs.tar" \
		stat -c "%a %u:%g %n" / /var/tmp /etc/café' "$XB" "$d" "$u"
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '777 0:0 /\n1777 0:0 /var/tmp\n644 4242:4243 /etc/café')" ]
	[ "$(stat -c '%a %Y' "$d/cwd")" = "700 $(date -d 2020-01-01 +%s)" ]
	rm -rf "$d"
}

@test "images: an ordinary user, who may not open /dev/fuse here, gets the image unpacked" {
	local u d
	new_user xbimage
	cp "$IMG/tree.squashfs" "$d/"
	chmod 644 "$d/tree.squashfs"
	run --separate-stderr runuser -u "$u" -- env TMPDIR=/tmp "$XB" enter -v "$d/tree.squashfs" sh -c 'echo w >/etc/w && cat /etc/w && id -u'
	echo "$output / $stderr"
	rm -rf "$d"
	[ "$status" -eq 0 ] && [ "$output" = "$(printf 'w\n0')" ]
	if runuser -u "$u" -- sh -c ': </dev/fuse' 2>/dev/null; then
		[[ $stderr == *"mounted read-only through squashfuse"* ]]
	else
		[[ $stderr == *"unpacking it into a tmpfs (/dev/fuse: Permission denied)"* ]]
	fi
	no_mounts_left
}

@test "images: the unpacking tool runs in a root of its own (the host's programs, the image, the tree), with nothing of xboot's environment" {
	need_userns # (without one, the tool runs as the host's root, in the host's view: not yet mended)
	local fake=$BATS_TEST_TMPDIR/unsquashfs
	# in the test's own mount namespace, squashfuse hidden and unsquashfs a
	# stand-in that says what it sees and fails
	printf '#!/bin/sh\necho "sees: $(ls / | tr "\\n" " ")env: $(env | grep -c XB_TEST_MARK) uid: $(id -u)" >&2\nexit 1\n' >"$fake"
	chmod 755 "$fake"
	run --separate-stderr env XB_TEST_MARK=secret unshare -m sh -c 'mount --bind /dev/null /usr/bin/squashfuse &&
		mount --bind "$2" /usr/bin/unsquashfs && exec "$0" enter "$1" true' "$XB" "$IMG/tree.squashfs" "$fake"
	echo "$status: $stderr"
	[ "$status" -ne 0 ]
	[[ $stderr == *"sees: "* ]]
	local seen=${stderr#*sees: }
	seen=${seen%%env:*}
	[ "$seen" = "bin dest etc image lib lib32 lib64 sbin usr " ] ||
		[ "$seen" = "bin dest etc image lib lib32 lib64 libx32 sbin usr " ]
	[[ $stderr == *"env: 0 uid: 0"* ]]
	no_mounts_left
}

@test "images: SIGKILL of xboot leaves nothing mounted and no process, squashfuse included" {
	need_userns # (without, no squashfuse)
	local fpid left
	XB_TEST_MARK=secret "$XB" enter "$IMG/tree.squashfs" sh -c 'exec sleep 300' 3>&- &
	local pid=$! l
	echo "$pid" >"$BATS_TEST_TMPDIR/session"
	wait_for eval 'pgrep -P $pid >/dev/null && grep -q "sleep 300" /proc/*/cmdline 2>/dev/null'
	# xboot -> its child -> the namespace's init, the driver's parent
	fpid=$(pgrep -x squashfuse -P "$(pgrep -P "$(pgrep -P "$pid")")")
	[ -n "$fpid" ]
	# the driver, which parses the image, holds nothing the session does not
	grep -qx 'CapEff:	0000000000000000' "/proc/$fpid/status"
	grep -qx 'CapBnd:	0000000000000000' "/proc/$fpid/status"
	grep -qx 'NoNewPrivs:	1' "/proc/$fpid/status"
	grep -qx 'Seccomp:	2' "/proc/$fpid/status"
	# a root of its own (the host's programs and the image), none of xboot's environment
	[ -e "/proc/$fpid/root/image" ] && [ -d "/proc/$fpid/root/usr/bin" ]
	[ ! -e "/proc/$fpid/root/tmp" ] && [ ! -e "/proc/$fpid/root/home" ] && [ ! -e "/proc/$fpid/root/root" ]
	[ "$(readlink "/proc/$fpid/cwd")" = / ]
	! grep -q XB_TEST_MARK "/proc/$fpid/environ" || false
	for l in "/proc/$fpid/fd/"*; do
		case $(readlink "$l") in /dev/null | /dev/fuse | /image) ;; *) echo "driver holds $(readlink "$l")"; false ;; esac
	done
	# a live session's directory is locked: another session leaves it be
	left=$(ls "$TMPDIR")
	touch -d '1 minute ago' "$TMPDIR/$left"
	run "$XB" enter "$IMG/tree.tar.zst" true
	[ "$status" -eq 0 ] && [ -d "$TMPDIR/$left" ]
	kill -KILL "$pid"
	wait "$pid" || true
	wait_for eval '! pgrep -f "^sleep 300$" >/dev/null'
	wait_for eval '! kill -0 $fpid 2>/dev/null'
	no_mounts_left
	# what it leaves is an empty directory, which the next session (of
	# the same user, once it is a few seconds old) removes
	left=$(ls "$TMPDIR")
	[[ $left == xboot-enter-* ]] && [ -z "$(ls -A "$TMPDIR/$left")" ]
	touch -d '1 minute ago' "$TMPDIR/$left"
	run "$XB" enter "$IMG/tree.tar.zst" true
	[ "$status" -eq 0 ]
	[ -z "$(ls "$TMPDIR")" ]
}

@test "images: a foreign one (a mips and an m68k probe, no dpkg) runs under its emulator, found from its ELF" {
	local P t
	P=$("$XB_FIXTURES/mkprobes" "${XB_TEST_CACHE:-/var/cache/xboot-tests}/probes")
	for t in mips:mips m68k:m68k; do
		mkdir -p "$BATS_TEST_TMPDIR/${t#*:}/bin"
		cp "$P/probe-${t%%:*}" "$BATS_TEST_TMPDIR/${t#*:}/bin/probe"
	done
	mksquashfs "$BATS_TEST_TMPDIR/mips" "$BATS_TEST_TMPDIR/mips.squashfs" -quiet -noappend -no-progress >/dev/null
	tar -C "$BATS_TEST_TMPDIR/m68k" --zstd -cf "$BATS_TEST_TMPDIR/m68k.tar.zst" .
	run "$XB" enter "$BATS_TEST_TMPDIR/mips.squashfs" /bin/probe
	[ "$status" -eq 0 ] && [ "$output" = mips ]
	run "$XB" enter "$BATS_TEST_TMPDIR/m68k.tar.zst" /bin/probe
	[ "$status" -eq 0 ] && [ "$output" = m68k ]
	no_mounts_left
}

@test "--ephemeral: a session that deletes and writes leaves the tree's manifest as it was" {
	local before
	before=$(manifest "$TREE")
	run --separate-stderr "$XB" enter --ephemeral "$TREE" sh -c 'rm -rf /usr/share /etc/passwd && echo x >/etc/added && chmod 700 /bin && ls /etc/added'
	echo "$output / $stderr"
	[ "$status" -eq 0 ] && [ "$output" = /etc/added ]
	[ "$(manifest "$TREE")" = "$before" ]
	no_mounts_left
}

@test "--volatile: /etc and /var writable, the rest read-only, and all of it discarded" {
	local before
	before=$(manifest "$TREE")
	run --separate-stderr "$XB" enter --volatile "$TREE" sh -c 'echo a >/etc/a && echo b >/var/b && echo etc-var-ok
		{ echo c >/usr/c; } 2>/dev/null || echo usr-ro; touch /x 2>/dev/null || echo root-ro
		echo t >/tmp/t && echo tmp-ok'
	[ "$output" = "$(printf 'etc-var-ok\nusr-ro\nroot-ro\ntmp-ok')" ]
	[ "$(manifest "$TREE")" = "$before" ]
	run --separate-stderr "$XB" enter --volatile "$IMG/tree.ext4" sh -c 'echo a >/etc/a && (touch /usr/x 2>/dev/null || echo usr-ro)'
	[ "$output" = usr-ro ]
	no_mounts_left
}

@test "refused: a file that is no image, in one line" {
	printf 'not an image' >"$BATS_TEST_TMPDIR/junk"
	run --separate-stderr "$XB" enter "$BATS_TEST_TMPDIR/junk" true
	[ "$status" -eq 2 ]
	[ "$stderr" = "xboot: error: entering $BATS_TEST_TMPDIR/junk: no image xboot knows (squashfs, ext2/3/4, tar, cpio, OCI)" ]
}

@test "refused: a tar whose members climb out or go through a symlink writes nothing outside" {
	local outside=$BATS_TEST_TMPDIR/outside t
	mkdir -p "$outside"
	"$XB_PYTHON" - "$BATS_TEST_TMPDIR" "$outside" <<'PY'
import io, sys, tarfile
d, outside = sys.argv[1:]
def tar(name, members):
    with tarfile.open("%s/%s.tar" % (d, name), "w") as t:
        for m, kw in members:
            i = tarfile.TarInfo(m); i.size = 1
            for k, v in kw.items(): setattr(i, k, v)
            if not i.isreg(): i.size = 0
            t.addfile(i, io.BytesIO(b"x") if i.isreg() else None)
tar("link", [("bin/", {"type": tarfile.DIRTYPE, "mode": 0o755}),
             ("escape", {"type": tarfile.SYMTYPE, "linkname": outside}), ("escape/planted", {})])
tar("dotdot", [("bin/", {"type": tarfile.DIRTYPE, "mode": 0o755}),
               ("../../../../../../.." + outside + "/dotdot", {})])
tar("absolute", [("bin/", {"type": tarfile.DIRTYPE, "mode": 0o755}), (outside + "/absolute", {})])
PY
	for t in link dotdot absolute; do
		run --separate-stderr "$XB" enter "$BATS_TEST_TMPDIR/$t.tar" true
		echo "$t: $status: $stderr"
		[ "$status" -eq 1 ]
		[ "$(wc -l <<<"$stderr")" -eq 1 ]
		[[ $stderr == "xboot: error: unpacking $BATS_TEST_TMPDIR/$t.tar: "* ]]
	done
	[ -z "$(ls -A "$outside")" ]
	no_mounts_left
}
