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

@test "a failing hook stops the run, naming it and its status, or the signal that killed it" {
	xb --variant=essential --customize-hook='exit 7' "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -ne 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -c '^xboot: error: ')" -eq 1 ]
	printf '%s\n' "$stderr" | grep -q "^xboot: error: the customize hook 'exit 7' failed (exit status 7)$"
	[ -z "$(mounts_under "$T")" ]
	rm -rf "$T"
	xb --variant=essential --customize-hook="sh -c 'kill -KILL \$\$'" "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -ne 0 ]
	printf '%s\n' "$stderr" | grep -q "^xboot: error: the customize hook '.*' was killed by signal 9 (Killed)$"
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
	# (their directory is root's alone: the contained hook runs through an fd)
	for h in customize10-a customize20-b setup00; do
		printf '#!/bin/sh\necho %s >>"$1/hook-order"\n' "$h" >"$d/$h"
	done
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
		--essential-hook="upload $BATS_TEST_TMPDIR/shadow /etc/shadow" \
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

@test "hooks run contained: \$1 absolute, mmdebstrap's variables, their own /proc, no host root" {
	local secret=$BATS_TEST_TMPDIR/secret pub
	echo hidden >"$secret" && chmod 600 "$secret"
	pub=$(mktemp -d /var/tmp/xb-hook.XXXXXX) && chmod 1777 "$pub"
	# shellcheck disable=SC2016 # $1 and the variables are the hook's
	xb --variant=essential \
		--customize-hook='env | grep -E "^(MMDEBSTRAP|XBOOT)_" | sort >"$1/hook-env"; echo "$1" >"$1/hook-arg"' \
		--customize-hook="touch $pub/made; ls /proc | grep -c '^[0-9]' >\"\$1/hook-pids\"" \
		--customize-hook="cat $secret >\"\$1/hook-secret\" 2>/dev/null || true" \
		--customize-hook='chroot "$1" /bin/sh -c "test -d /proc/self && test -c /dev/null" && touch "$1/hook-chroot"' \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[[ $(cat "$T/hook-arg") == /* ]]
	grep -qx 'MMDEBSTRAP_HOOK=customize' "$T/hook-env" && grep -qx 'XBOOT_HOOK=customize' "$T/hook-env"
	grep -qx 'MMDEBSTRAP_MODE=root' "$T/hook-env" && grep -qx 'MMDEBSTRAP_FORMAT=directory' "$T/hook-env"
	grep -qx 'MMDEBSTRAP_VERBOSITY=1' "$T/hook-env" && grep -q '^MMDEBSTRAP_ARGV0=/' "$T/hook-env"
	grep -q '^MMDEBSTRAP_APT_CONFIG=/' "$T/hook-env"
	# root inside is an unprivileged host id (where user namespaces can be
	# had: in a chroot xboot warns that it is the host's root), and sees
	# only its own processes
	local owner
	owner=$(stat -c %u "$pub/made")
	rm -rf "$pub"
	if unshare --user --map-root-user true 2>/dev/null; then
		[ "$owner" -ne 0 ]
		[ ! -s "$T/hook-secret" ]
	else
		[[ $stderr == *"xboot: warning: "* ]]
	fi
	[ "$(cat "$T/hook-pids")" -lt 10 ]
	[ -e "$T/hook-chroot" ]
	[ -z "$(mounts_under "$T")" ]
}

@test "customize hooks find policy-rc.d and apt's lists under apt's names; both gone after" {
	# shellcheck disable=SC2016
	xb --variant=essential \
		--customize-hook='test -x "$1/usr/sbin/policy-rc.d" && touch "$1/hook-policy"' \
		--customize-hook='APT_CONFIG=$MMDEBSTRAP_APT_CONFIG apt-get indextargets --format "\$(FILENAME)" >"$1/hook-want"' \
		--customize-hook='for f in $(cat "$1/hook-want") "$1"/var/lib/apt/lists/*_InRelease; do test -s "$f" || exit 1; done' \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ -e "$T/hook-policy" ] && [ ! -e "$T/usr/sbin/policy-rc.d" ]
	grep -q '_Packages$' "$T/hook-want"
	[ -z "$(ls "$T/var/lib/apt/lists" | grep -v -e '^lock$' -e '^partial$')" ]
}

@test "--skip=cleanup/apt/lists keeps the lists, cleanup/tmp /tmp, essential/unlink the .debs" {
	# shellcheck disable=SC2016
	xb --variant=essential --skip=cleanup/apt,cleanup/tmp,essential/unlink \
		--customize-hook='touch "$1/tmp/left"' "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ -e "$T/tmp/left" ]
	ls "$T/var/lib/apt/lists" | grep -q '_InRelease$'
	ls "$T/var/cache/apt/archives" | grep -q '^hostbase_1.0_.*\.deb$'
}

@test "an executable as the hook gets the tree as \$1; --hook-directory is --hook-dir" {
	local d=$BATS_TEST_TMPDIR/hd
	mkdir -p "$d"
	printf '#!/bin/sh\ntouch "$1/by-exe"\n' >"$BATS_TEST_TMPDIR/exe-hook"
	printf '#!/bin/sh\ntouch "$1/by-dir"\n' >"$d/customize50"
	chmod +x "$BATS_TEST_TMPDIR/exe-hook" "$d/customize50"
	xb --variant=essential --customize-hook="$BATS_TEST_TMPDIR/exe-hook" --hook-directory="$d" \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ -e "$T/by-exe" ] && [ -e "$T/by-dir" ]
}

@test "--chrooted-customize-hook runs inside the tree" {
	xb --variant=essential --chrooted-customize-hook='test -f /var/lib/dpkg/status && touch /chrooted' \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ -e "$T/chrooted" ]
}

@test "tar-in, tar-out, upload, download" {
	local host=$BATS_TEST_TMPDIR/host
	mkdir -p "$host/src/d" "$host/out"
	echo t >"$host/src/d/t" && echo u >"$host/up"
	tar -C "$host/src" -czf "$host/in.tar.gz" .
	xb --variant=essential \
		--customize-hook="tar-in $host/in.tar.gz /srv/t" \
		--customize-hook="upload $host/up /etc/uploaded" \
		--customize-hook="download /etc/passwd $host/out/passwd" \
		--customize-hook="tar-out /srv $host/out/srv.tar" \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/srv/t/d/t")" = t ] && [ "$(cat "$T/etc/uploaded")" = u ]
	cmp "$T/etc/passwd" "$host/out/passwd"
	tar -tf "$host/out/srv.tar" | grep -qx './t/d/t'
}
