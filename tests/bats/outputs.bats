#!/usr/bin/env bats
# Archive outputs, chosen by TARGET's name or --format, on the hermetic
# repository: each readable by its own tool, reproducible with
# SOURCE_DATE_EPOCH, and nothing left in the temporary directory.

load helpers
hermetic

setup() {
	hermetic_setup
	O=$BATS_TEST_TMPDIR/out
	mkdir -p "$O"
}

tmp_is_empty() {
	[ -z "$(ls -A "$TMPDIR")" ] || { ls -la "$TMPDIR"; false; }
}

@test "tarballs of each compression, read by tar" {
	local f
	for f in rootfs.tar rootfs.tar.gz rootfs.tar.xz rootfs.tar.zst; do
		xb "$XB_SUITE" "$O/$f" "$XB_REPO_URL"
		[ "$status" -eq 0 ]
		run tar --numeric-owner -tvf "$O/$f"
		[ "$status" -eq 0 ]
		echo "$output" | grep -q ' 0/0 .* ./usr/bin/dpkg$'
		echo "$output" | grep -q ' ./var/lib/dpkg/status$'
		echo "$output" | grep -q ' ./etc/mark-a.conf$'
	done
	file "$O/rootfs.tar.gz" | grep -q gzip
	file "$O/rootfs.tar.xz" | grep -q 'XZ compressed'
	file "$O/rootfs.tar.zst" | grep -q 'Zstandard'
	tmp_is_empty
}

@test "the tarball holds what a directory bootstrap holds, no device nodes" {
	xb "$XB_SUITE" "$O/dir" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	xb "$XB_SUITE" "$O/rootfs.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	diff <(cd "$O/dir" && find . ! -type c ! -type b ! -type p ! -type s | sort) \
		<(tar -tf "$O/rootfs.tar" | sed 's|/$||' | sort)
	[ -z "$(tar -tvf "$O/rootfs.tar" | grep '^[cbp]')" ]
	# a user re-extracts it and dpkg inside is content
	mkdir "$O/x"
	tar -xpf "$O/rootfs.tar" -C "$O/x"
	run chroot "$O/x" dpkg --audit
	[ "$status" -eq 0 ] && [ -z "$output" ]
}

@test "--format overrides the name; - writes a tar to stdout, scripts' output kept off it" {
	xb --format=tar.gz "$XB_SUITE" "$O/image" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	gzip -t "$O/image"
	"$XB" -v --keyring="$XB_KEYRING" --cache-dir="$CACHE" "$XB_SUITE" - "$XB_REPO_URL" \
		>"$O/stdout.tar" 2>"$O/stderr"
	tar -tf "$O/stdout.tar" | grep -qx './usr/bin/dpkg'
	grep -q 'Setting up mark-a' "$O/stderr"
	tmp_is_empty
}

@test "squashfs and ext4 images, checked by their own tools" {
	command -v mksquashfs || skip "squashfs-tools not installed"
	xb "$XB_SUITE" "$O/rootfs.squashfs" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	unsquashfs -l "$O/rootfs.squashfs" | grep -q 'squashfs-root/usr/bin/dpkg$'
	xb "$XB_SUITE" "$O/rootfs.ext4" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	e2fsck -fn "$O/rootfs.ext4"
	tmp_is_empty
}

@test "SOURCE_DATE_EPOCH: the same command twice gives the same bytes" {
	local f
	for f in a b; do
		SOURCE_DATE_EPOCH=1700000000 xb "$XB_SUITE" "$O/$f.tar.zst" "$XB_REPO_URL"
		[ "$status" -eq 0 ]
	done
	[ "$(sha256sum <"$O/a.tar.zst")" = "$(sha256sum <"$O/b.tar.zst")" ]
	# mtimes clamped
	[ -z "$(tar --zstd -tvf "$O/a.tar.zst" --full-time | awk '$4 > "2023-11-14"')" ]
}

@test "refused: an archive into a missing directory, before any download" {
	: >"$XB_SERVER_LOG"
	xb "$XB_SUITE" "$O/missing/rootfs.tar" "$XB_REPO_URL"
	[ "$status" -ne 0 ]
	printf '%s\n' "$stderr" | grep -q '^xboot: error: cannot write .*/missing/rootfs.tar: no directory'
	[ ! -s "$XB_SERVER_LOG" ]
}

@test "refused: an unknown --format, and a directory format to stdout" {
	xb --format=zip "$XB_SUITE" "$O/x.zip" "$XB_REPO_URL"
	[ "$status" -eq 2 ]
	xb --format=directory "$XB_SUITE" - "$XB_REPO_URL"
	[ "$status" -eq 2 ]
}

@test "a failing customize hook leaves no archive and nothing in TMPDIR" {
	xb --customize-hook='exit 4' "$XB_SUITE" "$O/rootfs.tar" "$XB_REPO_URL"
	[ "$status" -ne 0 ]
	[ ! -e "$O/rootfs.tar" ]
	tmp_is_empty
}
