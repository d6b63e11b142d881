#!/usr/bin/env bats
# The configured-tree cache on the hermetic repository: a second run with
# the same inputs starts from the tree the first one configured and gives
# the same bytes as a cold run; any input that changes the tree before the
# customize hooks makes a cold run; a snapshot that is not whole is never
# used; --no-tree-cache and --cache-max.

load helpers
hermetic

export SOURCE_DATE_EPOCH=1700000000

snapshots() {
	find "$CACHE/trees" -name '*.tar' 2>/dev/null | wc -l
}

hit() { [[ $stderr == *"starting from the configured-tree cache"* ]]; }
kept() { [[ $stderr == *"kept the configured tree for the next run"* ]]; }

@test "the same inputs again: no unpack, no script, the tarball and the tree a cold run's" {
	xb --no-tree-cache --include=mark-c "$XB_SUITE" "$BATS_TEST_TMPDIR/cold.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && ! hit && ! kept && [ "$(snapshots)" -eq 0 ]
	xb --include=mark-c "$XB_SUITE" "$BATS_TEST_TMPDIR/first.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && ! hit && kept && [ "$(snapshots)" -eq 1 ]
	xb --include=mark-c --customize-hook='echo custom >"$1/etc/custom"' "$XB_SUITE" \
		"$BATS_TEST_TMPDIR/again.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && hit && ! kept
	[[ $stderr != *"unpacked "* ]] && [[ $stderr != *"configured "*" packages"* ]]
	[ "$(sha256sum <"$BATS_TEST_TMPDIR/cold.tar")" = "$(sha256sum <"$BATS_TEST_TMPDIR/first.tar")" ]
	# the customize hook ran on the snapshot's tree: only its file differs
	diff <(tar -tvf "$BATS_TEST_TMPDIR/cold.tar" --full-time --numeric-owner) \
		<(tar -tvf "$BATS_TEST_TMPDIR/again.tar" --full-time --numeric-owner | grep -v '\./etc/custom$')
	# nor does it download a package: an empty package cache is no matter
	rm -rf "$CACHE/sha256"
	: >"$XB_SERVER_LOG"
	xb --include=mark-c "$XB_SUITE" "$BATS_TEST_TMPDIR/third.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && hit
	! grep '\.deb ' "$XB_SERVER_LOG" || false
	[ "$(sha256sum <"$BATS_TEST_TMPDIR/cold.tar")" = "$(sha256sum <"$BATS_TEST_TMPDIR/third.tar")" ]
	# a directory from the snapshot is a working tree, as dpkg sees it
	xb --include=mark-c "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && hit
	run chroot "$T" dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'
	[ -z "$(echo "$output" | grep -v '^ii ')" ] && [[ $output == *"ii  mark-c"* ]]
	[ "$(cat "$T/var/lib/xboot-marks/mark-a")" = "$(printf 'preinst install\npostinst configure')" ]
	[ ! -e "$T/usr/sbin/policy-rc.d" ] && [ -z "$(mounts_under "$T")" ]
	# /dev's nodes, which a tar's run does not make, are made for the directory
	[ -c "$T/dev/null" ] && [ -c "$T/dev/console" ] && [ -L "$T/dev/fd" ]
}

@test "a changed input is a cold run: --include, an extract hook's text, the variant, a hook file's content" {
	local hook=$BATS_TEST_TMPDIR/hook.sh
	printf '#!/bin/sh\necho one >"$1/etc/one"\n' >"$hook"
	chmod +x "$hook"
	xb --extract-hook="$hook" "$XB_SUITE" "$BATS_TEST_TMPDIR/a.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && kept
	xb --extract-hook="$hook" "$XB_SUITE" "$BATS_TEST_TMPDIR/b.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && hit
	xb --extract-hook="$hook" --include=mark-c "$XB_SUITE" "$BATS_TEST_TMPDIR/c.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && ! hit && kept
	xb --extract-hook='echo one >"$1/etc/one"' "$XB_SUITE" "$BATS_TEST_TMPDIR/d.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && ! hit && kept
	xb --extract-hook='echo one  >"$1/etc/one"' "$XB_SUITE" "$BATS_TEST_TMPDIR/d2.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && ! hit && kept
	xb --extract-hook="$hook" --variant=essential "$XB_SUITE" "$BATS_TEST_TMPDIR/e.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && ! hit && kept
	printf '#!/bin/sh\necho two >"$1/etc/one"\n' >"$hook"
	xb --extract-hook="$hook" "$XB_SUITE" "$BATS_TEST_TMPDIR/f.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && ! hit && kept
	[ "$(tar -xOf "$BATS_TEST_TMPDIR/f.tar" ./etc/one)" = two ]
	[ "$(snapshots)" -eq 6 ]
	# what the cache cannot vouch for: setup hooks, host files copied in
	xb --setup-hook='true' "$XB_SUITE" "$BATS_TEST_TMPDIR/g.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && ! hit && ! kept
	xb --extract-hook="copy-in $hook /etc" "$XB_SUITE" "$BATS_TEST_TMPDIR/h.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && ! hit && ! kept
}

@test "a snapshot that is not whole is never used: no digest (a killed run), a truncated tar" {
	xb "$XB_SUITE" "$BATS_TEST_TMPDIR/a.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && kept
	local tar
	tar=$(find "$CACHE/trees" -name '*.tar')
	# killed before its digest was written
	rm "${tar%.tar}.sha256"
	xb "$XB_SUITE" "$BATS_TEST_TMPDIR/b.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && ! hit && kept
	# a tar cut short
	truncate -s 10K "$tar"
	xb "$XB_SUITE" "$BATS_TEST_TMPDIR/c.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && ! hit && kept
	[[ $stderr == *"does not match its digest: removed"* ]]
	[ "$(sha256sum <"$BATS_TEST_TMPDIR/a.tar")" = "$(sha256sum <"$BATS_TEST_TMPDIR/c.tar")" ]
	xb "$XB_SUITE" "$BATS_TEST_TMPDIR/d.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && hit
	[ "$(sha256sum <"$BATS_TEST_TMPDIR/a.tar")" = "$(sha256sum <"$BATS_TEST_TMPDIR/d.tar")" ]
	# what runs killed while storing left (a temporary tar, a tar whose
	# digest never came, a digest without its tar) goes with the next store
	local d=$CACHE/trees
	echo half >"$d/0123abcd.tar.tmp-99999-1"
	echo half >"$d/4567abcd.tar"
	echo 00 >"$d/89abcdef.sha256"
	xb --include=mark-c "$XB_SUITE" "$BATS_TEST_TMPDIR/e.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && kept
	[ ! -e "$d/0123abcd.tar.tmp-99999-1" ] && [ ! -e "$d/4567abcd.tar" ] && [ ! -e "$d/89abcdef.sha256" ]
	[ "$(snapshots)" -eq 2 ]
	[ -z "$(find "$d" -type f ! -name .lock ! -name '*.tar' ! -name '*.sha256')" ]
}

@test "--no-tree-cache neither keeps nor uses; --cache-max evicts the oldest snapshot" {
	xb --no-tree-cache "$XB_SUITE" "$BATS_TEST_TMPDIR/a.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && [ "$(snapshots)" -eq 0 ]
	xb "$XB_SUITE" "$BATS_TEST_TMPDIR/b.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && kept && [ "$(snapshots)" -eq 1 ]
	xb --no-tree-cache "$XB_SUITE" "$BATS_TEST_TMPDIR/c.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && ! hit
	local old size
	old=$(find "$CACHE/trees" -name '*.tar')
	size=$(stat -c %s "$old")
	touch -d '-1 hour' "$old"
	# room for one snapshot: the new one stays, the old one goes
	xb --include=mark-c --cache-max=$((size * 3 / 2)) "$XB_SUITE" "$BATS_TEST_TMPDIR/d.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && kept && [ "$(snapshots)" -eq 1 ] && [ ! -e "$old" ] && [ ! -e "${old%.tar}.sha256" ]
	xb --cache-max=0 "$XB_SUITE" "$BATS_TEST_TMPDIR/e.tar" "$XB_REPO_URL"
	[ "$status" -eq 2 ] && [[ $stderr == *"--cache-max=0: expected a size"* ]]
}
