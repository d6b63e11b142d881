#!/usr/bin/env bats
# --mode=unshare: an ordinary user with a subordinate range bootstraps
# without root, foreign architectures included, and ships a tarball with
# the real owners.  The user is created here and removed afterwards.

load helpers

setup_file() {
	# user namespaces are refused inside a chroot and where switched off
	if ! unshare --user --map-root-user true 2>/dev/null; then
		export XB_NO_USERNS=1
		return 0
	fi
	fixture_setup
	export XB="$BATS_TEST_DIRNAME/../../xboot"
	export XU=xbunshare$$
	useradd -M -s /bin/sh "$XU"
	usermod --add-subuids 300000-365535 --add-subgids 300000-365535 "$XU"
	export XU_ID=$(id -u "$XU")
	# a place of the user's own, with what it needs to read
	export W=$(mktemp -d /var/tmp/xboot-unshare.XXXXXX)
	chmod 755 "$W"
	cp "$XB_KEYRING" "$W/keyring.gpg"
	chown -R "$XU:" "$W"
}

setup() {
	[ -z "${XB_NO_USERNS:-}" ] || skip "no user namespaces here (chroot, or switched off)"
}

teardown_file() {
	[ -z "${XB_NO_USERNS:-}" ] || return 0
	fixture_teardown
	# the user's files are owned by its subordinate ids too: root removes them
	rm -rf "$W"
	userdel "$XU" 2>/dev/null || true
	sed -i "/^$XU:/d" /etc/subuid /etc/subgid
}

as_user() {
	run --separate-stderr runuser -u "$XU" -- env -C "$W" TMPDIR="$W" "$@"
	echo "exit $status; stderr:"
	echo "$stderr"
}

@test "unshare: an ordinary user's tarball holds root's and _apt-like owners, not the user" {
	as_user "$XB" --mode=unshare --keyring="$W/keyring.gpg" --cache-dir="$W/cache" \
		"$XB_SUITE" "$W/out.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	run tar --numeric-owner -tvf "$W/out.tar"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q ' 0/0 .* ./usr/bin/dpkg$'
	[ -z "$(echo "$output" | awk -v u="$XU_ID" '$2 ~ "^" u "/"')" ]
	# nothing left behind in the user's TMPDIR but what the test put there
	[ "$(ls -A "$W" | sort | tr '\n' ' ')" = "cache keyring.gpg out.tar " ]
}

@test "unshare: hooks run in the user's namespace, chroot into the tree, write the user's files" {
	as_user "$XB" --mode=unshare --keyring="$W/keyring.gpg" --cache-dir="$W/cache" \
		--customize-hook='chroot "$1" /bin/sh -c "id -u >/hook-uid"' \
		--customize-hook="echo \"\$MMDEBSTRAP_MODE\" >$W/hook-mode" \
		--customize-hook="download /hook-uid $W/hook-uid" \
		"$XB_SUITE" "$W/hooked.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(cat "$W/hook-uid")" = 0 ] && [ "$(cat "$W/hook-mode")" = unshare ]
	[ "$(stat -c %u "$W/hook-mode")" = "$XU_ID" ]
	rm -f "$W/hooked.tar" "$W/hook-uid" "$W/hook-mode"
}

@test "unshare: --mode=auto picks it for an ordinary user; root mode is refused" {
	as_user "$XB" --keyring="$W/keyring.gpg" --cache-dir="$W/cache" "$XB_SUITE" "$W/auto.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	as_user "$XB" --mode=root --keyring="$W/keyring.gpg" "$XB_SUITE" "$W/r.tar" "$XB_REPO_URL"
	[ "$status" -eq 2 ]
	printf '%s\n' "$stderr" | grep -q 'needs root'
}

@test "unshare: SOURCE_DATE_EPOCH gives the same tarball twice (cold, and from the configured-tree cache), and as root mode does" {
	local sde=1700000000
	as_user env SOURCE_DATE_EPOCH=$sde "$XB" --mode=unshare --keyring="$W/keyring.gpg" \
		--cache-dir="$W/cache" "$XB_SUITE" "$W/u1.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	as_user env SOURCE_DATE_EPOCH=$sde "$XB" --mode=unshare --keyring="$W/keyring.gpg" \
		--no-tree-cache --cache-dir="$W/cache" "$XB_SUITE" "$W/u2.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	as_user env SOURCE_DATE_EPOCH=$sde "$XB" --mode=unshare --keyring="$W/keyring.gpg" \
		--cache-dir="$W/cache" "$XB_SUITE" "$W/u3.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && [[ $stderr == *"starting from the configured-tree cache"* ]]
	[ "$(sha256sum <"$W/u1.tar")" = "$(sha256sum <"$W/u3.tar")" ]
	SOURCE_DATE_EPOCH=$sde run "$XB" --mode=root --keyring="$W/keyring.gpg" \
		--cache-dir="$BATS_TEST_TMPDIR/cache" "$XB_SUITE" "$BATS_TEST_TMPDIR/r.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(sha256sum <"$W/u1.tar")" = "$(sha256sum <"$W/u2.tar")" ]
	# /dev's nodes, which no user namespace can make, are in it
	tar --numeric-owner -tvf "$W/u1.tar" | grep -q '^crw-rw-rw- 0/0 *1,3 .* ./dev/null$'
	[ "$(tar -tvf "$W/u1.tar" | grep -c '^c')" -eq 8 ]
	diff <(tar --numeric-owner -tvf "$W/u1.tar") <(tar --numeric-owner -tvf "$BATS_TEST_TMPDIR/r.tar")
	[ "$(sha256sum <"$W/u1.tar")" = "$(sha256sum <"$BATS_TEST_TMPDIR/r.tar")" ]
}

@test "unshare: an OCI image with SOURCE_DATE_EPOCH has root mode's digests" {
	local sde=1700000000
	as_user env SOURCE_DATE_EPOCH=$sde "$XB" --mode=unshare --keyring="$W/keyring.gpg" \
		--cache-dir="$W/cache" --variant=essential "$XB_SUITE" "$W/u.oci" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	SOURCE_DATE_EPOCH=$sde run "$XB" --mode=root --keyring="$W/keyring.gpg" --variant=essential \
		--cache-dir="$BATS_TEST_TMPDIR/cache" "$XB_SUITE" "$BATS_TEST_TMPDIR/r.oci" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	cmp "$W/u.oci/index.json" "$BATS_TEST_TMPDIR/r.oci/index.json"
	diff <(cd "$W/u.oci" && find . | sort) <(cd "$BATS_TEST_TMPDIR/r.oci" && find . | sort)
	rm -rf "$W/u.oci"
}

@test "unshare: a user without a subordinate range gets one line saying what to add" {
	local u=xbnorange$$
	useradd -M -s /bin/sh "$u"
	# useradd may have given it a range of its own
	sed -i "/^$u:/d" /etc/subuid /etc/subgid
	run --separate-stderr runuser -u "$u" -- env -C "$W" "$XB" --mode=unshare \
		--keyring="$W/keyring.gpg" "$XB_SUITE" "$W/none.tar" "$XB_REPO_URL"
	userdel "$u"
	[ "$status" -ne 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -c '^xboot: error: ')" -eq 1 ]
	printf '%s\n' "$stderr" | grep -q 'subordinate range .* /etc/subuid'
}

@test "unshare: armhf stable from the real archive, no binfmt entry on the host, tarball passes the checks" {
	local mirror before entry="" x=$BATS_TEST_TMPDIR/x
	mirror=$(host_mirror)
	# the host's entry for arm, if any, is off for the run (and back on after)
	[ -e /proc/sys/fs/binfmt_misc/qemu-arm ] && entry=/proc/sys/fs/binfmt_misc/qemu-arm
	[ -z "$entry" ] || echo 0 >"$entry"
	before=$(binfmt_snapshot)
	# the shared cache, copied for the user: nothing is downloaded twice
	mkdir -p "$W/real-cache"
	[ -d "${XB_TEST_CACHE:-/nonexistent}/sha256" ] && cp -a "$XB_TEST_CACHE/sha256" "$W/real-cache/"
	chown -R "$XU:" "$W/real-cache"
	as_user env SOURCE_DATE_EPOCH=1700000000 "$XB" --mode=unshare --arch=armhf \
		--variant=minbase --cache-dir="$W/real-cache" stable "$W/armhf.tar" "$mirror"
	local st=$status
	[ -z "$entry" ] || echo 1 >"$entry"
	[ "$st" -eq 0 ]
	[ "$(binfmt_snapshot)" = "$before" ]
	run tar --numeric-owner -tvf "$W/armhf.tar"
	echo "$output" | grep -q ' 0/0 .* ./usr/bin/dpkg$'
	[ -z "$(echo "$output" | awk -v u="$XU_ID" '$2 ~ "^" u "/"')" ]
	mkdir "$x"
	tar -xpf "$W/armhf.tar" -C "$x"
	run emu_chroot "$x" dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'
	[ "$status" -eq 0 ]
	[ -z "$(echo "$output" | grep -v '^ii ')" ]
	run emu_chroot "$x" uname -m
	[ "$output" = armv7l ]
	rm -rf "$x"
}

@test "unshare: the real armhf tarball is the same twice, and the same as root mode's" {
	[ -s "$W/armhf.tar" ] || skip "the previous test made no tarball"
	local mirror
	mirror=$(host_mirror)
	as_user env SOURCE_DATE_EPOCH=1700000000 "$XB" --mode=unshare --arch=armhf \
		--variant=minbase --cache-dir="$W/real-cache" stable "$W/armhf2.tar" "$mirror"
	[ "$status" -eq 0 ]
	SOURCE_DATE_EPOCH=1700000000 run "$XB" --mode=root --arch=armhf --variant=minbase \
		--cache-dir="$W/real-cache" stable "$BATS_TEST_TMPDIR/root.tar" "$mirror"
	[ "$status" -eq 0 ]
	[ "$(sha256sum <"$W/armhf.tar")" = "$(sha256sum <"$W/armhf2.tar")" ]
	[ "$(sha256sum <"$W/armhf.tar")" = "$(sha256sum <"$BATS_TEST_TMPDIR/root.tar")" ]
}
