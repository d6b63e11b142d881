#!/usr/bin/env bats
# End-to-end: real bootstraps of foreign and native suites from the real
# archive (the mirror of the host's apt configuration), sharing one package
# cache per run.  Each checks what a user would look at afterwards.  The
# trees stay in $XB_TEST_ROOTS for the enter tests; run-all removes them.

load helpers

setup_file() {
	export XB="$BATS_TEST_DIRNAME/../../xboot"
	export ROOTS=${XB_TEST_ROOTS:-/var/tmp/xboot-test-roots}
	export CACHE=${XB_TEST_CACHE:-/var/cache/xboot-tests}
	MIRROR=$(host_mirror)
	export MIRROR
	mkdir -p "$ROOTS"
}

# check_rootfs SUITE ARCH MACHINE: bootstrap minbase and check the result.
check_rootfs() {
	local suite=$1 arch=$2 machine=$3 dir=$ROOTS/$1-$2 before
	rm -rf "$dir"
	before=$(binfmt_snapshot)
	run "$XB" --arch="$arch" --variant=minbase --cache-dir="$CACHE" "$suite" "$dir"
	echo "$output"
	[ "$status" -eq 0 ]

	# nothing left mounted, host binfmt_misc unchanged
	[ -z "$(mounts_under "$dir")" ]
	[ "$(binfmt_snapshot)" = "$before" ]

	# every package installed, the database sound
	run emu_chroot "$dir" dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'
	[ "$status" -eq 0 ]
	echo "not ii: $(echo "$output" | grep -v '^ii ')"
	[ -z "$(echo "$output" | grep -v '^ii ')" ]
	installed=$(echo "$output" | awk '{print $2}' | sort)
	run emu_chroot "$dir" dpkg --audit
	echo "audit: $output"
	[ "$status" -eq 0 ] && [ -z "$output" ]
	run emu_chroot "$dir" dpkg --verify
	echo "verify: $output"
	[ -z "$(echo "$output" | awk '$2 != "c"' | grep .)" ]

	# programs run, under emulation when foreign
	run emu_chroot "$dir" /bin/sh -c 'uname -m'
	echo "uname -m: $output"
	[ "$output" = "$machine" ]
	run emu_chroot "$dir" apt-get --version
	[ "$status" -eq 0 ] && [[ "$output" == apt* ]]

	# the package set debootstrap would install
	tmp=$(mktemp -d)
	expected=$(debootstrap --print-debs --variant=minbase --arch="$arch" "$suite" "$tmp" "$MIRROR" | tr ' ' '\n' | grep . | sort)
	rm -rf "$tmp"
	diff <(echo "$expected") <(echo "$installed")
	[ -f "$dir/var/log/xboot.log" ]
	grep -q '^# UNCONFIGURED FSTAB FOR BASE SYSTEM' "$dir/etc/fstab"
	grep -q "^deb $MIRROR $suite main\$" "$dir/etc/apt/sources.list"
}

@test "trixie minbase amd64 (native)" {
	check_rootfs trixie amd64 x86_64
	# base-files ships merged /usr's links: only its own are there
	[ "$(readlink "$ROOTS/trixie-amd64/lib64")" = usr/lib64 ]
	[ ! -L "$ROOTS/trixie-amd64/lib32" ] && [ ! -L "$ROOTS/trixie-amd64/libx32" ]
}

@test "trixie minbase armhf (foreign)" {
	check_rootfs trixie armhf armv7l
}

@test "trixie minbase arm64 (foreign)" {
	check_rootfs trixie arm64 aarch64
}

@test "bookworm minbase armhf (merged /usr made by xboot)" {
	check_rootfs bookworm armhf armv7l
	[ "$(readlink "$ROOTS/bookworm-armhf/bin")" = usr/bin ]
}

# plain_chroot DIR CMD...: `chroot DIR CMD` as a debootstrap user types it,
# as real root in the host's namespaces, with the host's binfmt entry for
# arm registered for the test.
plain_chroot() {
	local conf
	conf=$(sed "s#:[^:]*:\([A-Z]*\)\$#:$(realpath /usr/bin/qemu-arm-static):F#" /usr/lib/binfmt.d/qemu-arm.conf)
	host_binfmt_chroot "$conf" "$@"
}

@test "a plain chroot of the bookworm armhf tree runs apt-get update and installs hello" {
	local dir=$ROOTS/plain-chroot
	[ -x "$ROOTS/bookworm-armhf/usr/bin/apt-get" ] || skip "the bookworm armhf test made no tree"
	rm -rf "$dir" && cp -a "$ROOTS/bookworm-armhf" "$dir"
	# what chroot(8) needs of /dev is in the tree
	[ "$(stat -c '%F %t,%T' "$dir/dev/null")" = "character special file 1,3" ]
	run plain_chroot "$dir" sh -c 'apt-get update -qq && apt-get install -y -qq hello >/dev/null && hello'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Hello, world!" ]
	rm -rf "$dir"
}

@test "--print-debs gives debootstrap's package set, and downloads nothing" {
	local tmp out
	tmp=$(mktemp -d)
	out=$(mktemp -d)
	run "$XB" --print-debs --variant=minbase --arch=arm64 --cache-dir="$out/cache" trixie "$out/t"
	[ "$status" -eq 0 ]
	[ ! -e "$out/t" ] && [ -z "$(ls -A "$out/cache/sha256" 2>/dev/null)" ]
	diff <(debootstrap --print-debs --variant=minbase --arch=arm64 trixie "$tmp" "$MIRROR" |
		tr ' ' '\n' | grep . | sort) <(echo "${lines[-1]}" | tr ' ' '\n' | sort)
	rm -rf "$tmp" "$out"
}

# mmdebstrap's recipe: a customize hook that chroots in and installs with
# apt, for a foreign tree, on a host with no binfmt entry of its own: the
# hook runs where xboot's private binfmt_misc, /proc, /dev and the apt
# lists are.
@test "trixie armhf: a customize hook chroots in, apt-get installs hello, and it runs" {
	local dir=$ROOTS/hook-armhf
	[ ! -e /proc/sys/fs/binfmt_misc/qemu-arm ] || grep -qx disabled /proc/sys/fs/binfmt_misc/qemu-arm ||
		skip "the host has a binfmt entry for arm enabled"
	rm -rf "$dir"
	run "$XB" --arch=armhf --variant=minbase --cache-dir="$CACHE" \
		--customize-hook='chroot "$1" apt-get install -y -q hello' \
		--customize-hook='chroot "$1" hello >"$1/hello.out"' trixie "$dir"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$dir/hello.out")" = "Hello, world!" ]
	[ -z "$(mounts_under "$dir")" ]
	[ -z "$(ls "$dir/var/lib/apt/lists" | grep -v -e '^lock$' -e '^partial$' -e '^auxfiles$')" ]
	[ -z "$(ls "$dir/var/cache/apt/archives" | grep '\.deb$')" ]
	rm -rf "$dir"
}

# bookworm's base-files ships no links: xboot makes them, the multilib ones
# of each architecture too (usr-is-merged's preinst refuses the tree else)
@test "bookworm minbase ppc64el (merged /usr with lib64 made by xboot)" {
	check_rootfs bookworm ppc64el ppc64le
	[ "$(readlink "$ROOTS/bookworm-ppc64el/lib64")" = usr/lib64 ]
	rm -rf "$ROOTS/bookworm-ppc64el"
}

@test "bookworm minbase mips64el (merged /usr with lib64 made by xboot)" {
	check_rootfs bookworm mips64el mips64
	[ "$(readlink "$ROOTS/bookworm-mips64el/lib64")" = usr/lib64 ]
	rm -rf "$ROOTS/bookworm-mips64el"
}

@test "a second run uses the cache and downloads nothing" {
	dir=$ROOTS/cache-check
	rm -rf "$dir"
	# the package cache (from the configured-tree cache the run would
	# need no package at all)
	run "$XB" --no-tree-cache --arch=armhf --variant=minbase --cache-dir="$CACHE" trixie "$dir"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"packages found in the cache"* ]]
	[[ "$output" != *"downloaded "* ]]
	rm -rf "$dir"
}

@test "trixie amd64 minbase with --updates: -updates and -security by codename" {
	grep -rqs -e '-security' /etc/apt/sources.list /etc/apt/sources.list.d ||
		skip "the host's apt configuration names no security archive"
	dir=$ROOTS/updates
	rm -rf "$dir"
	run "$XB" --variant=minbase --updates --cache-dir="$CACHE" stable "$dir"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"suite trixie-updates, signature verified"* ]]
	[[ "$output" == *"suite trixie-security, signature verified"* ]]
	[ "$(grep -c '^deb ' "$dir/etc/apt/sources.list")" -eq 3 ]
	grep -q '^deb .* stable main$' "$dir/etc/apt/sources.list"
	grep -q '^deb .* trixie-updates main$' "$dir/etc/apt/sources.list"
	grep -q '^deb .* trixie-security main$' "$dir/etc/apt/sources.list"
	[ -z "$(chroot "$dir" dpkg-query -W -f '${db:Status-Abbrev}\n' | grep -v '^ii ')" ]
	rm -rf "$dir"
}

# trixie armhf with --updates: where the mirror serves the -updates and
# -security indices their InRelease lists, the tree gets all three suites;
# where it does not (the stored archive here has had stale armhf indices),
# apt refuses them, and so must xboot: one error naming the index.
@test "trixie armhf minbase with --updates: matching indices install, stale ones are an error" {
	local security
	security=$(host_mirror debian-security) ||
		skip "the host's apt configuration names no security archive"
	dir=$ROOTS/updates-armhf
	rm -rf "$dir"
	run --separate-stderr "$XB" --arch=armhf --variant=minbase --updates --cache-dir="$CACHE" trixie "$dir"
	echo "$stderr"
	if index_matches "$MIRROR" trixie-updates armhf && index_matches "$security" trixie-security armhf; then
		[ "$status" -eq 0 ]
		[ "$(grep -c '^deb ' "$dir/etc/apt/sources.list")" -eq 3 ]
		grep -q '^deb .* trixie-security main$' "$dir/etc/apt/sources.list"
		[ -z "$(emu_chroot "$dir" dpkg-query -W -f '${db:Status-Abbrev}\n' | grep -v '^ii ')" ]
	else
		[ "$status" -ne 0 ]
		[ "$(printf '%s\n' "$stderr" | grep -c '^xboot: error: ')" -eq 1 ]
		printf '%s\n' "$stderr" | grep -q '^xboot: error: .*trixie-\(updates\|security\)/.*binary-armhf/Packages'
		[ ! -e "$dir/usr" ]
	fi
	rm -rf "$dir"
}

# check_variant SUITE ARCH VARIANT MACHINE: the bigger variants bootstrap
# too (scripts there rely on the required set without declaring it: ucf
# calls awk), every package ii, dpkg --audit empty, programs run.
check_variant() {
	local dir=$ROOTS/$1-$2-$3
	rm -rf "$dir"
	run "$XB" -q --arch="$2" --variant="$3" --cache-dir="$CACHE" "$1" "$dir"
	echo "$output"
	[ "$status" -eq 0 ]
	run emu_chroot "$dir" dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'
	[ "$status" -eq 0 ]
	echo "not ii: $(echo "$output" | grep -v '^ii ')"
	[ -z "$(echo "$output" | grep -v '^ii ')" ]
	run emu_chroot "$dir" dpkg --audit
	[ "$status" -eq 0 ] && [ -z "$output" ]
	run emu_chroot "$dir" uname -m
	[ "$output" = "$4" ]
	rm -rf "$dir"
}

@test "trixie armhf standard: configured in phases, every package ii" {
	check_variant trixie armhf standard armv7l
}

@test "trixie amd64 standard: every package ii" {
	check_variant trixie amd64 standard x86_64
}

@test "trixie arm64 buildd: every package ii" {
	check_variant trixie arm64 buildd aarch64
}

# same_tree A B: the trees A (mmdebstrap's) and B (xboot's) have the same
# files, owners, modes and contents, but for xboot's own log, the *-old
# backups dpkg and debconf make while scripts run, and the account files
# and apt's marks, whose lines come in the order scripts ran: those are
# compared as sets of lines.
same_tree() {
	local a=$1 b=$2 f
	listing() { (cd "$1" && find . ! -path ./var/log/xboot.log -printf '%p %M %U:%G %l\n' | sort); }
	contents() {
		(cd "$1" && find . -type f ! -name '*-old' ! -name '*-' ! -path ./var/log/xboot.log \
			! -path ./var/lib/apt/extended_states ! -path './etc/passwd' ! -path './etc/group' \
			! -path './etc/shadow' ! -path './etc/gshadow' -exec sha256sum {} + | sort -k2)
	}
	diff <(listing "$a") <(listing "$b")
	diff <(contents "$a") <(contents "$b")
	for f in etc/passwd etc/group etc/shadow etc/gshadow var/lib/apt/extended_states; do
		[ -e "$a/$f" ] || { [ ! -e "$b/$f" ]; continue; }
		diff <(grep . "$a/$f" | sort) <(grep . "$b/$f" | sort)
	done
}

# compare_mmdebstrap VARIANT [OPTION...]: trixie amd64 by both with the
# same options, the same tree (in $ROOTS/mm-VARIANT).
compare_mmdebstrap() {
	local dir=$ROOTS/mm-$1 variant=$1
	shift
	rm -rf "$dir" && mkdir -p "$dir"
	run mmdebstrap -q --variant="$variant" "$@" trixie "$dir/mm" "$MIRROR"
	[ "$status" -eq 0 ]
	run "$XB" -q --variant="$variant" "$@" --cache-dir="$CACHE" trixie "$dir/xb"
	[ "$status" -eq 0 ]
	same_tree "$dir/mm" "$dir/xb"
}

@test "trixie amd64 apt: the same tree as mmdebstrap's, mawk for awk" {
	command -v mmdebstrap || skip "mmdebstrap is not installed"
	compare_mmdebstrap apt
	chroot "$ROOTS/mm-apt/xb" dpkg-query -W mawk
	! chroot "$ROOTS/mm-apt/xb" dpkg-query -W gawk || false
	rm -rf "$ROOTS/mm-apt"
}

@test "trixie amd64 minbase: the same tree as mmdebstrap's" {
	command -v mmdebstrap || skip "mmdebstrap is not installed"
	compare_mmdebstrap minbase
	rm -rf "$ROOTS/mm-minbase"
}

@test "trixie --architectures=amd64,i386: hello:i386 runs, the same tree as mmdebstrap's" {
	command -v mmdebstrap || skip "mmdebstrap is not installed"
	compare_mmdebstrap minbase --architectures=amd64,i386 --include=hello:i386
	local t=$ROOTS/mm-minbase/xb
	[ "$(chroot "$t" dpkg --print-foreign-architectures)" = i386 ]
	[ "$(chroot "$t" dpkg-query -W -f '${db:Status-Abbrev}' hello:i386 libc6:i386 libc6:amd64)" = "ii ii ii " ]
	[ "$(chroot "$t" hello)" = "Hello, world!" ]
	run -0 chroot "$t" dpkg --audit
	[ -z "$output" ]
	run -0 chroot "$t" apt-get check
	rm -rf "$ROOTS/mm-minbase"
}

@test "trixie armhf --foreign, its second stage then run under emulation: the one-stage tree" {
	local dir=$ROOTS/two
	rm -rf "$dir" && mkdir -p "$dir"
	run "$XB" -q --foreign --arch=armhf --variant=minbase --cache-dir="$CACHE" trixie "$dir/two"
	[ "$status" -eq 0 ]
	# the board needs no emulator
	[ -z "$(find "$dir/two" -name 'qemu-*')" ]
	# the board's command, with xboot enter standing in for the board
	run "$XB" enter "$dir/two" /debootstrap/debootstrap --second-stage
	echo "$output" | tail -5
	[ "$status" -eq 0 ]
	run "$XB" -q --arch=armhf --variant=minbase --remove-emulator --cache-dir="$CACHE" trixie \
		"$dir/one"
	[ "$status" -eq 0 ]
	same_tree "$dir/one" "$dir/two"
	rm -rf "$dir"
}

# oci_conf ARCH: the binfmt.d line of qemu-ARCH-static, with the F flag (the
# image has no emulator inside).
oci_conf() {
	sed "s#:[^:]*:\([A-Z]*\)\$#:$(realpath "/usr/bin/qemu-$1-static"):F#" "/usr/lib/binfmt.d/qemu-$1.conf"
}

# host_entries: the entries of the host's binfmt_misc (mounted for the look
# in a mount namespace of its own).
host_entries() {
	unshare --mount --propagation private sh -c 'b=/proc/sys/fs/binfmt_misc
		[ -e $b/register ] || mount -t binfmt_misc binfmt_misc $b && ls $b'
}

# podman_env_refusal: whether $output is podman refusing this machine (its
# runtime: cgroups, limits; its storage: overlay mounts), not the image.
podman_env_refusal() {
	[[ $output == *"OCI runtime"* || $output == *"setrlimit"* || $output == *"cgroup"* ||
		$output == *"overlay"* || $output == *"mount"* || $output == *"driver"* ]]
}

# podman_load STORE FILE: podman load; skips the test where podman's storage
# cannot work here.
podman_load() {
	run podman_in "$1" load -i "$2"
	[ "$status" -eq 0 ] || ! podman_env_refusal ||
		skip "podman cannot store images here: $(echo "$output" | tail -1)"
	[ "$status" -eq 0 ]
}

# podman_usable STORE [--binfmt CONF] IMAGE [RUN-OPTION...]: skips the test
# where podman cannot run a container at all.
podman_usable() {
	local store=$1 pre=()
	shift
	if [ "$1" = --binfmt ]; then
		pre=(--binfmt "$2")
		shift 2
	fi
	run podman_in "$store" "${pre[@]}" run --rm --network=none "${@:2}" "$1" true
	[ "$status" -eq 0 ] || ! podman_env_refusal ||
		skip "podman cannot run containers here: $(echo "$output" | tail -1)"
}

@test "trixie amd64 OCI image: skopeo, umoci and podman take it; the same digests again" {
	local d=$ROOTS/oci ref=debian:trixie-amd64
	rm -rf "$d" && mkdir -p "$d"
	SOURCE_DATE_EPOCH=1700000000 run "$XB" -q --cache-dir="$CACHE" trixie "$d/img.oci"
	[ "$status" -eq 0 ]
	[ "$(skopeo inspect --format '{{.Architecture}} {{.Os}}' "oci:$d/img.oci:$ref")" = "amd64 linux" ]
	run -0 umoci unpack --image "$d/img.oci:$ref" "$d/bundle"
	local r=$d/bundle/rootfs
	[ -s "$r/etc/debian_version" ] && [ -u "$r/usr/bin/passwd" ]
	# minbase, cleaned as image builders clean
	! chroot "$r" dpkg-query -W -f '${db:Status-Abbrev}' e2fsprogs 2>/dev/null | grep -q ii || false
	[ ! -s "$r/etc/machine-id" ] && [ ! -e "$r/usr/sbin/policy-rc.d" ]
	[ -z "$(find "$r" -name 'qemu-*-static')" ]
	[ -z "$(ls "$r/var/lib/apt/lists" | grep -v -e '^lock$' -e '^partial$' -e '^auxfiles$')" ]
	run -0 skopeo copy "oci:$d/img.oci:$ref" "oci-archive:$d/copy.tar"
	# the same inputs, the same image
	SOURCE_DATE_EPOCH=1700000000 run "$XB" -q --cache-dir="$CACHE" trixie "$d/img.oci.tar"
	[ "$status" -eq 0 ]
	tar -xOf "$d/img.oci.tar" ./index.json | cmp - "$d/img.oci/index.json"
	podman_load "$d/store" "$d/img.oci.tar"
	podman_usable "$d/store" "localhost/$ref"
	run -0 podman_in "$d/store" run --rm --network=none "localhost/$ref" cat /etc/debian_version
	[ "$output" = "$(cat "$r/etc/debian_version")" ]
	rm -rf "$d"
}

@test "trixie --platforms=amd64,arm64: one OCI image of both; its arm64 one runs uname -m under podman" {
	local d=$ROOTS/oci-multi ref=debian:trixie before
	rm -rf "$d" && mkdir -p "$d"
	SOURCE_DATE_EPOCH=1700000000 run "$XB" --platforms=amd64,arm64 --cache-dir="$CACHE" trixie "$d/multi.oci"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(ls -d "$d"/*platforms* 2>/dev/null)" ]
	run -0 skopeo inspect --raw "oci:$d/multi.oci:$ref"
	[[ $output == *'"platform":{"architecture":"amd64","os":"linux"}'* ]]
	[[ $output == *'"platform":{"architecture":"arm64","os":"linux","variant":"v8"}'* ]]
	[ "$(skopeo --override-arch arm64 inspect --format '{{.Architecture}}' "oci:$d/multi.oci:$ref")" = arm64 ]
	run -0 skopeo copy --all "oci:$d/multi.oci:$ref" "oci-archive:$d/all.tar"
	# the arm64 image alone, unpacked by umoci: an aarch64 shell
	run -0 skopeo --override-arch arm64 copy "oci:$d/multi.oci:$ref" "oci-archive:$d/arm64.tar:$ref-arm64"
	run -0 skopeo copy "oci-archive:$d/arm64.tar:$ref-arm64" "oci:$d/arm64.oci:a"
	run -0 umoci unpack --image "$d/arm64.oci:a" "$d/bundle"
	[[ $(file -L "$d/bundle/rootfs/bin/sh") == *"ARM aarch64"* ]]
	podman_load "$d/store" "$d/arm64.tar"
	podman_usable "$d/store" --binfmt "$(oci_conf aarch64)" "localhost/$ref-arm64" --arch=arm64
	before=$(host_entries)
	run -0 podman_in "$d/store" --binfmt "$(oci_conf aarch64)" run --rm --network=none \
		--arch=arm64 "localhost/$ref-arm64" uname -m
	[ "$output" = aarch64 ]
	[ "$(host_entries)" = "$before" ]
	rm -rf "$d"
}

# The second stage runs scripts side by side (--script-jobs): on the
# default variant, with its many scripts that add users, groups and
# alternatives, the tree must be the one a run of one script at a time gives.
@test "trixie amd64 (important): scripts side by side give the bytes of one at a time" {
	local out=$ROOTS/jobs
	rm -rf "$out" && mkdir -p "$out"
	for j in 1 4; do
		SOURCE_DATE_EPOCH=1700000000 run "$XB" --script-jobs=$j --cache-dir="$CACHE" trixie "$out/$j.tar"
		echo "$output"
		[ "$status" -eq 0 ]
	done
	[ "$(sha256sum <"$out/1.tar")" = "$(sha256sum <"$out/4.tar")" ]
	mkdir "$out/root" && tar -C "$out/root" -xf "$out/4.tar"
	run chroot "$out/root" dpkg --audit
	[ "$status" -eq 0 ] && [ -z "$output" ]
	[ -z "$(chroot "$out/root" dpkg-query -W -f '${db:Status-Abbrev}\n' | grep -v '^ii ')" ]
	rm -rf "$out"
}
