#!/usr/bin/env bats
# Hooks, apt and dpkg options, SOURCE_DATE_EPOCH: what CI users of
# mmdebstrap rely on, on the hermetic repository.

load helpers
hermetic

@test "hooks run at their points, with the tree as \$1" {
	xb --variant=essential \
		--setup-hook='test ! -e "$1/usr/bin/dpkg" && echo setup >"$1/setup-mark"' \
		--extract-hook='test -e "$1/usr/bin/dpkg" && test ! -e "$1/var/lib/xboot-marks" && touch "$1/extract-mark"' \
		--essential-hook='grep -q "^Status: install ok installed" "$1/var/lib/dpkg/status" && touch "$1/essential-mark"' \
		--customize-hook='test -s "$1/etc/fstab" && touch "$1/customize-mark"' \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/setup-mark")" = setup ]
	[ -e "$T/extract-mark" ] && [ -e "$T/essential-mark" ] && [ -e "$T/customize-mark" ]
}

@test "the essential hook sees the essential set configured and the rest not" {
	xb --essential-hook='sed -n "/^Package: mark-a$/,/^$/p" "$1/var/lib/dpkg/status" >"$1/mark-a-then"' \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	grep -qx 'Status: install ok unpacked' "$T/mark-a-then"
	grep -q '^Package: mark-a$' -A3 "$T/var/lib/dpkg/status"
	[ "$(sed -n '/^Package: mark-a$/,/^$/p' "$T/var/lib/dpkg/status" | grep '^Status:')" = \
		'Status: install ok installed' ]
}

@test "copy-in, copy-out, sync-in, sync-out" {
	local host=$BATS_TEST_TMPDIR/host
	mkdir -p "$host/in/sub" "$host/out" "$host/syncout"
	echo one >"$host/in/one"
	echo two >"$host/in/sub/two"
	xb --variant=essential \
		--customize-hook="copy-in $host/in/one /root" \
		--customize-hook="sync-in $host/in /srv" \
		--customize-hook="copy-out /etc/passwd /etc/group $host/out" \
		--customize-hook="sync-out /srv $host/syncout" \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/root/one")" = one ]
	[ "$(cat "$T/srv/sub/two")" = two ] && [ "$(cat "$T/srv/one")" = one ]
	cmp "$T/etc/passwd" "$host/out/passwd" && cmp "$T/etc/group" "$host/out/group"
	[ "$(cat "$host/syncout/sub/two")" = two ]
}

@test "copy-in does not follow a symlink in the tree out of it" {
	local host=$BATS_TEST_TMPDIR/host
	mkdir -p "$host/victim"
	echo data >"$BATS_TEST_TMPDIR/file"
	xb --variant=essential \
		--customize-hook="ln -s $host/victim \"\$1/escape\"" \
		--customize-hook="copy-in $BATS_TEST_TMPDIR/file /escape" \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ -z "$(ls -A "$host/victim")" ]
}

@test "a failing hook stops the run, naming it and its status" {
	xb --variant=essential --customize-hook='exit 7' "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -ne 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -c '^xboot: error: ')" -eq 1 ]
	printf '%s\n' "$stderr" | grep -q "^xboot: error: the customize hook 'exit 7' failed (exit status 7)$"
	[ -z "$(mounts_under "$T")" ]
}

@test "a failing essential hook leaves nothing mounted and no process" {
	xb --variant=essential --essential-hook='exit 3' "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -ne 0 ]
	printf '%s\n' "$stderr" | grep -q "essential hook 'exit 3' failed (exit status 3)"
	[ -z "$(mounts_under "$T")" ]
}

@test "--hook-dir runs the executables of each kind in name order" {
	local d=$BATS_TEST_TMPDIR/hooks
	mkdir -p "$d"
	printf '#!/bin/sh\necho "$(basename "$0")" >>"$1/hook-order"\n' >"$d/customize10-a"
	cp "$d/customize10-a" "$d/customize20-b"
	cp "$d/customize10-a" "$d/setup00"
	printf '#!/bin/sh\nexit 9\n' >"$d/customize30-notexec"
	chmod +x "$d/customize10-a" "$d/customize20-b" "$d/setup00"
	xb --variant=essential --hook-dir="$d" "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/hook-order" | tr '\n' ' ')" = "setup00 customize10-a customize20-b " ]
}

@test "--aptopt and --dpkgopt land in the tree's configuration" {
	echo 'APT::Install-Recommends "false";' >"$BATS_TEST_TMPDIR/apt.conf"
	xb --variant=essential --aptopt='Acquire::Retries "3"' --aptopt="$BATS_TEST_TMPDIR/apt.conf" \
		--dpkgopt='path-exclude=/usr/share/doc/*' "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/etc/apt/apt.conf.d/99xboot")" = \
		"$(printf 'Acquire::Retries "3";\nAPT::Install-Recommends "false";')" ]
	[ "$(cat "$T/etc/dpkg/dpkg.cfg.d/99xboot")" = 'path-exclude=/usr/share/doc/*' ]
}

@test "SOURCE_DATE_EPOCH: no logs with times, shadow dates from the epoch" {
	echo 'root:*:19999:0:99999:7:::' >"$BATS_TEST_TMPDIR/shadow"
	SOURCE_DATE_EPOCH=1700000000 xb --customize-hook="true" \
		--essential-hook="cp $BATS_TEST_TMPDIR/shadow \"\$1/etc/shadow\"" \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/etc/shadow")" = "root:*:$((1700000000 / 86400)):0:99999:7:::" ]
	[ ! -e "$T/var/log/dpkg.log" ] && [ ! -e "$T/var/log/alternatives.log" ]
	[ ! -e "$T/var/log/xboot.log" ]
}

@test "a bad SOURCE_DATE_EPOCH is a usage error" {
	SOURCE_DATE_EPOCH=yesterday xb "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 2 ]
	[ ! -e "$T" ]
}
