#!/usr/bin/env bats
# Other Debian-based distributions, each from a hermetic archive laid out as
# it lays out its own (tests/fixtures/mkdistros), served by a server that
# acts as the HTTP proxy for the real mirrors, so that the templates'
# default mirrors, paths and suites are what is tested.

load helpers

setup_file() {
	fixture_setup || return 1
	local started
	"$XB_FIXTURES/mkdistros" "$XB_FIXTURE" "$BATS_FILE_TMPDIR/distros" \
		>"$BATS_FILE_TMPDIR/mkdistros.log" 2>&1 || { cat "$BATS_FILE_TMPDIR/mkdistros.log" >&2; return 1; }
	started=$(fixture_start_server "$BATS_FILE_TMPDIR/distros" "$BATS_FILE_TMPDIR/dserver") || return 1
	export XB_DPID=${started% *}
	export XB_PROXY=http://127.0.0.1:${started#* }
	export XB_DKEYRING=$BATS_FILE_TMPDIR/distros/keyring.gpg
	export XB_DLOG=$BATS_FILE_TMPDIR/dserver/log
}

teardown_file() {
	fixture_stop_server "${XB_DPID:-}"
	fixture_teardown
}

setup() {
	hermetic_setup
	: >"$XB_DLOG"
}

# xd ARGS...: xboot through the proxy, with the distro archives' keyring.
xd() {
	run --separate-stderr env http_proxy="$XB_PROXY" "$XB" --keyring="$XB_DKEYRING" \
		--cache-dir="$CACHE" "$@"
	echo "exit $status; stderr:"
	echo "$stderr"
}

@test "ubuntu: noble from the Ubuntu archive's path, its packages configured, its sources" {
	xd -d --variant=minbase noble "$T"
	[ "$status" -eq 0 ]
	grep -q 'the ubuntu template' <<<"$stderr"
	grep -q '^GET http://archive.ubuntu.com/ubuntu/dists/noble/InRelease ' "$XB_DLOG"
	grep -q '^GET http://archive.ubuntu.com/ubuntu/pool/' "$XB_DLOG"
	run chroot "$T" dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' hostbase
	[ "$output" = "ii  hostbase" ]
	grep -qx 'deb http://archive.ubuntu.com/ubuntu noble main' "$T/etc/apt/sources.list"
	[ -L "$T/bin" ]
}

@test "ubuntu: a ports architecture comes from ubuntu-ports" {
	xd --variant=extract --include=probe --arch=arm64 noble "$T"
	[ "$status" -eq 0 ]
	grep -q '^GET http://ports.ubuntu.com/ubuntu-ports/dists/noble/InRelease ' "$XB_DLOG"
	grep -q '^GET http://ports.ubuntu.com/ubuntu-ports/pool/main/p/probe/' "$XB_DLOG"
	run grep -c 'archive.ubuntu.com' "$XB_DLOG"
	[ "$output" = 0 ]
	grep -qx 'deb http://ports.ubuntu.com/ubuntu-ports noble main' "$T/etc/apt/sources.list"
}

@test "devuan: daedalus from the merged mirror, with --updates from the same mirror" {
	xd --variant=minbase --updates daedalus "$T"
	[ "$status" -eq 0 ]
	for s in daedalus daedalus-updates daedalus-security; do
		grep -q "^GET http://deb.devuan.org/merged/dists/$s/InRelease " "$XB_DLOG"
	done
	grep -q '^Package: hostbase$' "$T/var/lib/dpkg/status"
	grep -qx 'deb http://deb.devuan.org/merged daedalus main' "$T/etc/apt/sources.list"
	grep -qx 'deb http://deb.devuan.org/merged daedalus-security main' "$T/etc/apt/sources.list"
}

@test "raspbian: picked by its mirror (its suites are Debian's codenames), or by --distribution" {
	xd -d --variant=extract --include=probe --arch=armhf bookworm "$T" http://raspbian.raspberrypi.com/raspbian
	[ "$status" -eq 0 ]
	grep -q 'the raspbian template' <<<"$stderr"
	grep -q '^GET http://raspbian.raspberrypi.com/raspbian/dists/bookworm/InRelease ' "$XB_DLOG"
	rm -rf "$T"
	: >"$XB_DLOG"
	xd -d --distribution=raspbian --variant=extract --include=probe --arch=armhf bookworm "$T"
	[ "$status" -eq 0 ]
	grep -q 'the raspbian template' <<<"$stderr"
	grep -q '^GET http://raspbian.raspberrypi.com/raspbian/dists/bookworm/InRelease ' "$XB_DLOG"
}

@test "refused: a distribution's keyring that is not installed, in one line naming its package" {
	local want
	for d in "daedalus devuan-keyring" "bookworm raspbian-archive-keyring" "noble ubuntu-archive-keyring"; do
		set -- $d
		[ "$1" = noble ] && [ -e /usr/share/keyrings/ubuntu-archive-keyring.gpg ] && continue
		want=; [ "$1" = bookworm ] && want=--distribution=raspbian
		run --separate-stderr env http_proxy="$XB_PROXY" "$XB" $want --cache-dir="$CACHE" "$1" "$T"
		echo "$1: $status: $stderr"
		[ "$status" -eq 2 ]
		[ "$(wc -l <<<"$stderr")" -eq 1 ]
		grep -q "install $2" <<<"$stderr"
		[ ! -e "$T" ]
		[ ! -s "$XB_DLOG" ]
	done
}

@test "refused: --distribution names no template" {
	xd --distribution=nosuch noble "$T"
	[ "$status" -ne 0 ]
	grep -q 'nosuch' <<<"$stderr"
	xd --distribution=../debian noble "$T"
	[ "$status" -eq 2 ]
}

@test "--list: the templates' distributions and suites, the architectures, formats, options" {
	run "$XB" --list=distributions
	[ "$output" = "$(printf 'debian\ndevuan\nraspbian\nubuntu')" ]
	run "$XB" --list=suites
	grep -qx noble <<<"$output" && grep -qx daedalus <<<"$output" && grep -qx trixie <<<"$output"
	run "$XB" --list=architectures
	grep -qx armhf <<<"$output" && grep -qx riscv64 <<<"$output"
	run "$XB" --list=formats
	grep -qx tar.zst <<<"$output" && grep -qx squashfs <<<"$output"
	run "$XB" --list=options
	grep -qx -- --variant= <<<"$output" && grep -qx -- --no-cache <<<"$output"
	run --separate-stderr "$XB" --list=nosuch
	[ "$status" -eq 2 ]
	grep -q 'expected architectures' <<<"$stderr"
}
