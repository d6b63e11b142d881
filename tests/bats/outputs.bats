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

# /dev as debootstrap and mmdebstrap lay it out: root's, mmdebstrap's modes
DEV_NODES='console 5,1 full 1,7 null 1,3 ptmx 5,2 random 1,8 tty 5,0 urandom 1,9 zero 1,5'

# tar_dev TAR: the device nodes of TAR, one "NAME MAJ,MIN MODE OWNER" a line
tar_dev() {
	tar --numeric-owner -tvf "$1" | awk '/^c/ { sub("./dev/", "", $NF); print $NF, $3, $1, $2 }'
}

expected_dev() {
	local name num
	printf '%s %s\n' $DEV_NODES | while read -r name num; do
		echo "$name $num crw-rw-rw- 0/0"
	done
}

@test "the tarball holds what a directory bootstrap holds, /dev's nodes and links too" {
	xb "$XB_SUITE" "$O/dir" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	xb "$XB_SUITE" "$O/rootfs.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	diff <(cd "$O/dir" && find . | sort) <(tar -tf "$O/rootfs.tar" | sed 's|/$||' | sort)
	diff <(expected_dev) <(tar_dev "$O/rootfs.tar")
	# as root, the directory has them as real nodes
	[ "$(stat -c '%F %t,%T %a %u:%g' "$O/dir/dev/null")" = "character special file 1,3 666 0:0" ]
	[ "$(readlink "$O/dir/dev/fd")" = /proc/self/fd ]
	[ -d "$O/dir/dev/pts" ] && [ -d "$O/dir/dev/shm" ]
	# a user re-extracts it and dpkg inside is content
	mkdir "$O/x"
	tar -xpf "$O/rootfs.tar" -C "$O/x"
	run chroot "$O/x" sh -c 'dpkg --audit; echo x >/dev/null && echo null-works'
	[ "$status" -eq 0 ] && [ "$output" = null-works ]
}

@test "--skip=output/mknod leaves out the nodes, --skip=output/dev all of /dev's entries" {
	xb --skip=output/mknod "$XB_SUITE" "$O/nomknod.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ -z "$(tar_dev "$O/nomknod.tar")" ]
	tar -tf "$O/nomknod.tar" | grep -qx './dev/fd'
	xb --skip=output/dev "$XB_SUITE" "$O/nodev.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(tar -tf "$O/nodev.tar" | grep -c '^./dev/.')" -eq 0 ]
	xb --skip=output/dev "$XB_SUITE" "$O/nodev" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$O/nodev/dev")" ]
	# a step of mmdebstrap's that xboot lacks: said, and ignored
	xb --skip=check/qemu "$XB_SUITE" "$O/other.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[[ $stderr == *"xboot: warning: --skip=check/qemu: xboot has no such step; ignored"* ]]
}

@test "--format overrides the name; - writes a tar to stdout, scripts' output kept off it" {
	xb --format=tar.gz "$XB_SUITE" "$O/image" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	gzip -t "$O/image"
	# the scripts run again (no configured tree), and print only to stderr
	"$XB" -v --no-tree-cache --keyring="$XB_KEYRING" --cache-dir="$CACHE" "$XB_SUITE" - \
		"$XB_REPO_URL" >"$O/stdout.tar" 2>"$O/stderr"
	tar -tf "$O/stdout.tar" | grep -qx './usr/bin/dpkg'
	grep -q 'Setting up mark-a' "$O/stderr"
	tmp_is_empty
}

@test "squashfs and ext4 images, checked by their own tools" {
	command -v mksquashfs || skip "squashfs-tools not installed"
	xb "$XB_SUITE" "$O/rootfs.squashfs" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	unsquashfs -l "$O/rootfs.squashfs" | grep -q 'squashfs-root/usr/bin/dpkg$'
	[ "$(unsquashfs -lls "$O/rootfs.squashfs" | grep -c '^crw-rw-rw- root/root .* squashfs-root/dev/')" -eq 8 ]
	unsquashfs -lls "$O/rootfs.squashfs" | grep -q '^crw-rw-rw- root/root *1, *3 .* squashfs-root/dev/null$'
	xb "$XB_SUITE" "$O/rootfs.ext4" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	e2fsck -fn "$O/rootfs.ext4"
	debugfs -R 'stat /dev/null' "$O/rootfs.ext4" | grep -q 'Device major/minor number: 01:03'
	[ "$(debugfs -R 'ls -l /dev' "$O/rootfs.ext4" | grep -c ' 20666 ')" -eq 8 ]
	tmp_is_empty
}

@test "SOURCE_DATE_EPOCH: the same command twice gives the same bytes" {
	# both runs go through the scripts: the second without the configured-tree cache
	SOURCE_DATE_EPOCH=1700000000 xb "$XB_SUITE" "$O/a.tar.zst" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	SOURCE_DATE_EPOCH=1700000000 xb --no-tree-cache "$XB_SUITE" "$O/b.tar.zst" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && [[ $stderr != *"configured-tree cache"* ]]
	[ "$(sha256sum <"$O/a.tar.zst")" = "$(sha256sum <"$O/b.tar.zst")" ]
	# mtimes clamped
	[ -z "$(tar --zstd -tvf "$O/a.tar.zst" --full-time | awk '$4 > "2023-11-14"')" ]
}

@test "OCI: a layout directory and its tar that skopeo and umoci read; the tree is the tarball's" {
	command -v skopeo && command -v umoci || skip "skopeo or umoci is not installed"
	local d=$BATS_TEST_TMPDIR ref=xb/test:1
	SOURCE_DATE_EPOCH=1700000000 xb --variant=essential --tag="$ref" "$XB_SUITE" "$d/img.oci" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(skopeo inspect --format '{{.Architecture}}' "oci:$d/img.oci:$ref")" = "$(dpkg --print-architecture)" ]
	run -0 umoci unpack --image "$d/img.oci:$ref" "$d/bundle"
	SOURCE_DATE_EPOCH=1700000000 xb --variant=essential "$XB_SUITE" "$d/t.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	diff <(tar -tf "$d/t.tar" | sed 's|/$||; s|^\./||; /^\.$/d' | sort) \
		<(cd "$d/bundle/rootfs" && find . -mindepth 1 | sed 's|^\./||' | sort)
	# again, as its tar, and over the directory: the same digests
	SOURCE_DATE_EPOCH=1700000000 xb --variant=essential --tag="$ref" "$XB_SUITE" "$d/img.oci.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	tar -xOf "$d/img.oci.tar" ./index.json | cmp - "$d/img.oci/index.json"
	cp "$d/img.oci/index.json" "$d/index.before"
	SOURCE_DATE_EPOCH=1700000000 xb --variant=essential --tag="$ref" "$XB_SUITE" "$d/img.oci" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	cmp "$d/index.before" "$d/img.oci/index.json"
	# a layout replaced by another: only the new blobs, no temporary left
	SOURCE_DATE_EPOCH=1700000001 xb --variant=essential --tag="$ref" "$XB_SUITE" "$d/img.oci" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	! cmp -s "$d/index.before" "$d/img.oci/index.json" || false
	[ "$(ls "$d/img.oci/blobs/sha256" | wc -l)" -eq 3 ]
	[ -z "$(ls -d "$d"/img.oci.tmp-* 2>/dev/null)" ]
	# what is not an image layout is not replaced
	mkdir "$d/other.oci" && touch "$d/other.oci/keep"
	xb --variant=essential "$XB_SUITE" "$d/other.oci" "$XB_REPO_URL"
	[ "$status" -ne 0 ] && [ -e "$d/other.oci/keep" ]
	[[ $stderr == *"exists and is no OCI image layout"* ]]
	[ -z "$(ls -d "$d"/*.tmp-* 2>/dev/null)" ]
}

@test "--platforms: refused with --arch, --oci-descriptor or for a tar; a platform that fails stops the run, its errors shown" {
	local d=$BATS_TEST_TMPDIR na fa=i386
	na=$(dpkg --print-architecture)
	[ "$na" != i386 ] || fa=amd64
	xb --platforms="$na" --arch="$na" "$XB_SUITE" "$d/m.oci" "$XB_REPO_URL"
	[ "$status" -eq 2 ] && [[ $stderr == *"--platforms and --arch cannot be used together"* ]]
	xb --platforms="$na" --oci-descriptor="$d/m.json" "$XB_SUITE" "$d/m.oci" "$XB_REPO_URL"
	[ "$status" -eq 2 ] && [[ $stderr == *"--platforms and --oci-descriptor cannot"* ]]
	[ ! -e "$d/m.json" ]
	xb --platforms="$na" "$XB_SUITE" "$d/m.tar" "$XB_REPO_URL"
	[ "$status" -eq 2 ] && [[ $stderr == *"--platforms makes an OCI image"* ]]
	# the hermetic suite has no $fa packages: that run fails, the whole image with it
	xb --platforms="$na,$fa" --variant=essential "$XB_SUITE" "$d/m.oci" "$XB_REPO_URL"
	[ "$status" -ne 0 ]
	[[ $stderr == *"suite $XB_SUITE has no architecture $fa"*"the $fa image failed (exit status 1)"* ]]
	[[ $stderr != *interrupted* ]]
	[ ! -e "$d/m.oci" ] && [ -z "$(ls -d "$d"/*platforms* "$d"/*.tmp-* 2>/dev/null)" ]
}

@test "--platforms, spelled as getopt allows: an index whose manifest names the platform" {
	command -v skopeo || skip "skopeo is not installed"
	local d=$BATS_TEST_TMPDIR na
	na=$(dpkg --print-architecture)
	SOURCE_DATE_EPOCH=1700000000 xb --platf "$na" --variant=essential "$XB_SUITE" "$d/m.oci" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	run -0 skopeo inspect --raw "oci:$d/m.oci:debian:$XB_SUITE"
	[[ $output == *'"platform":{"architecture":"'* ]] && [[ $output == *'"os":"linux"'* ]]
	[ "$(skopeo inspect --format '{{.Architecture}}' "oci:$d/m.oci:debian:$XB_SUITE")" = "$na" ]
	SOURCE_DATE_EPOCH=1700000000 xb --platforms="$na" --variant=essential "$XB_SUITE" "$d/n.oci" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	cmp "$d/m.oci/index.json" "$d/n.oci/index.json"
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
