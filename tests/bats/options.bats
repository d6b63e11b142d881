#!/usr/bin/env bats
# The options and targets by the names scripts written for mmdebstrap and
# debootstrap pass them, on the hermetic repository.

load helpers
hermetic

setup() {
	hermetic_setup
	fixture_rules
}

@test "--version prints the version" {
	run "$XB" --version
	[ "$status" -eq 0 ]
	[[ $output =~ ^xboot\ [0-9]+\.[0-9]+ ]]
}

@test "mmdebstrap's and debootstrap's names: --architectures, --no-check-gpg, --merged-usr, --resolve-deps" {
	xb --architectures="$(dpkg --print-architecture)" --no-check-gpg --merged-usr --resolve-deps \
		--variant=essential "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[[ $stderr == *"signature NOT checked"* ]]
	[ -L "$T/bin" ]
}

@test "-s and -q print nothing but errors; -d prints what -v does" {
	xb -s --variant=essential --skip=no/such "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	rm -rf "$T"
	xb -q --variant=essential "$XB_SUITE" "$T" /nonexistent/mirror
	[ "$status" -ne 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -vc '^xboot: error: ')" -eq 0 ]
	rm -rf "$T"
	xb -d --variant=essential "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
}

@test "--logfile writes the log on the host, and none into the tree" {
	xb --variant=essential --logfile="$BATS_TEST_TMPDIR/run.log" "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	grep -q 'unpacked 1 packages' "$BATS_TEST_TMPDIR/run.log"
	[ ! -e "$T/var/log/xboot.log" ]
}

@test "--no-merged-usr: real directories, and the file that keeps usr-is-merged away" {
	xb --variant=essential --no-merged-usr "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ -d "$T/bin" ] && [ ! -L "$T/bin" ] && [ ! -L "$T/lib" ]
	[ -s "$T/etc/unsupported-skip-usrmerge-conversion" ]
}

@test "--skip=check/empty bootstraps into a directory that is not empty" {
	mkdir -p "$T" && echo keep >"$T/kept"
	xb --variant=essential --skip=check/empty "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/kept")" = keep ] && [ -e "$T/var/lib/dpkg/status" ]
}

@test "any tar libarchive writes: out.tar.bz2 is a bzip2 tar, .tar.lz4, .cpio" {
	local o=$BATS_TEST_TMPDIR/out f
	mkdir -p "$o"
	for f in out.tar.bz2 out.tar.lz4 out.cpio; do
		xb --variant=essential "$XB_SUITE" "$o/$f" "$XB_REPO_URL"
		[ "$status" -eq 0 ] && [ -f "$o/$f" ]
	done
	file "$o/out.tar.bz2" | grep -q 'bzip2 compressed'
	tar -tjf "$o/out.tar.bz2" | grep -qx './var/lib/dpkg/status'
	file "$o/out.tar.lz4" | grep -qi 'lz4'
	cpio -it <"$o/out.cpio" 2>/dev/null | grep -qx './var/lib/dpkg/status'
}

@test "refused: an archive name xboot cannot write, and no directory of that name is made" {
	xb --variant=essential "$XB_SUITE" "$BATS_TEST_TMPDIR/out.tar.lzo" "$XB_REPO_URL"
	[ "$status" -eq 2 ]
	[[ $stderr == *"out.tar.lzo: xboot cannot tell or cannot write this kind of archive"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out.tar.lzo" ]
}

@test "--format=null and TARGET /dev/null build and keep nothing" {
	xb --variant=essential --format=null --customize-hook='touch "$1/seen"' "$XB_SUITE" \
		"$BATS_TEST_TMPDIR/none" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ ! -e "$BATS_TEST_TMPDIR/none" ]
	[[ $stderr == *"running the customize hook"* ]]
	xb --variant=essential "$XB_SUITE" /dev/null "$XB_REPO_URL"
	[ "$status" -eq 0 ] && [ -c /dev/null ]
	[ -z "$(ls -A "$TMPDIR")" ]
}

@test "refused: TARGET - with a terminal on standard output" {
	command -v script || skip "script (util-linux) is not installed"
	run script -qec "$XB --keyring=$XB_KEYRING --cache-dir=$CACHE --variant=essential $XB_SUITE - $XB_REPO_URL" /dev/null
	[ "$status" -eq 2 ]
	[[ $output == *"TARGET - writes a tar to standard output, which is a terminal"* ]]
}

@test "--print-debs, --simulate (--dry-run) and --download-only touch no TARGET" {
	xb --print-debs "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && [ ! -e "$T" ]
	[[ " $output " == *" mark-a "* ]] && [[ " $output " == *" hostbase "* ]]
	xb --dry-run "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && [ ! -e "$T" ]
	[ -z "$(ls -A "$CACHE/sha256" 2>/dev/null)" ]
	[[ $output == *"mark-a 1.0 all "* ]]
	[[ $stderr == *"would install"* ]]
	xb --download-only "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && [ ! -e "$T" ]
	[ -n "$(ls "$CACHE/sha256")" ]
	xb --simulate "$XB_SUITE" "$T" "$XB_REPO_URL"
	[[ $output == *"(cached)"* ]]
}

@test "--dpkgopt path-exclude keeps files out of the unpack, and the database is dpkg's own" {
	local deb
	deb=$(find "$XB_FIXTURE" -name 'mark-c_*.deb' | head -1)
	[ -n "$deb" ]
	xb --variant=essential --include=mark-c --dpkgopt='path-exclude=/usr/share/mark-c/*' \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ ! -e "$T/usr/share/mark-c/README" ]
	cp "$T/var/lib/dpkg/info/mark-c.list" "$BATS_TEST_TMPDIR/ours.list"
	chroot "$T" dpkg --verify mark-c >"$BATS_TEST_TMPDIR/ours.verify" || true
	# dpkg itself, with the same filter from the tree's dpkg.cfg.d
	cp "$deb" "$T/tmp/mark-c.deb"
	run chroot "$T" dpkg -i /tmp/mark-c.deb
	[ "$status" -eq 0 ]
	[ ! -e "$T/usr/share/mark-c/README" ]
	diff <(sort "$BATS_TEST_TMPDIR/ours.list") <(sort "$T/var/lib/dpkg/info/mark-c.list")
	diff "$BATS_TEST_TMPDIR/ours.verify" <(chroot "$T" dpkg --verify mark-c || true)
}

@test "--aptopt's proxy and Check-Valid-Until take effect for xboot's own downloads" {
	local log=$BATS_FILE_TMPDIR/server/log
	printf 'Acquire {\n  http { Proxy "%s"; };\n};\n' "$XB_REPO_URL" >"$BATS_TEST_TMPDIR/proxy.conf"
	xb --variant=essential --aptopt="$BATS_TEST_TMPDIR/proxy.conf" "$XB_SUITE" "$T" http://mirror.invalid
	[ "$status" -eq 0 ]
	grep -q "^GET http://mirror.invalid/dists/$XB_SUITE/InRelease " "$log"
	grep -q '^GET http://mirror.invalid/pool/' "$log"
	rm -rf "$T"
	xb --variant=essential --aptopt='Acquire::Check-Valid-Until "false"' expired "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[[ $stderr == *"expired on"*"ignored"* ]]
}

@test "--make-tarball, then --unpack-tarball with the network unreachable: the same checks, the same tree" {
	local off=$BATS_TEST_TMPDIR/offline.tar
	xb --variant=essential --include=mark-c --make-tarball="$off" "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && [ ! -e "$T" ]
	tar -tf "$off" | grep -qx './mirror-0/dists/'"$XB_SUITE"'/InRelease'
	tar -tf "$off" | grep -q '^./mirror-0/pool/.*mark-c.*\.deb$'
	# another cache, and a mirror that answers nothing
	CACHE=$BATS_TEST_TMPDIR/cache2
	xb --variant=essential --include=mark-c --unpack-tarball="$off" "$XB_SUITE" "$T" http://127.0.0.1:9
	[ "$status" -eq 0 ]
	[ "$(chroot "$T" dpkg-query -W -f '${db:Status-Abbrev}' mark-c)" = "ii " ]
	grep -qx "deb $XB_REPO_URL $XB_SUITE main" "$T/etc/apt/sources.list"
	xb --variant=essential --include=mark-c "$XB_SUITE" "$BATS_TEST_TMPDIR/online" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	diff <(cd "$T" && find . ! -path ./var/log/xboot.log | sort) \
		<(cd "$BATS_TEST_TMPDIR/online" && find . ! -path ./var/log/xboot.log | sort)
	# the signature is still checked: another keyring refuses the tarball's Release
	rm -rf "$T"
	run --separate-stderr "$XB" --keyring="$XB_OTHER_KEYRING" --cache-dir="$CACHE" --variant=essential \
		--unpack-tarball="$off" "$XB_SUITE" "$T"
	[ "$status" -ne 0 ]
	[[ $stderr == *"signed by a key not in the keyring"* ]]
}

# tree_listing DIR: every path with its type, mode and owners, but xboot's log.
tree_listing() {
	(cd "$1" && find . ! -path ./var/log/xboot.log -printf '%p %M %U:%G %l\n' | sort)
}

@test "--foreign, then /debootstrap/debootstrap --second-stage in the tree: the one-stage tree" {
	xb --foreign --include=mark-c "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[[ $stderr == *"chroot TARGET /debootstrap/debootstrap --second-stage"* ]]
	# unpacked, and no script has run
	run -0 chroot "$T" dpkg-query -W -f '${db:Status-Abbrev}\n'
	[ "$(echo "$output" | sort -u)" = "iU " ]
	[ ! -e "$T/var/lib/xboot-marks/mark-a" ]
	# what board builders' scripts call, with no xboot in the tree
	run chroot "$T" /debootstrap/debootstrap
	[ "$status" -eq 2 ] && [[ $output == *"usage: /debootstrap/debootstrap --second-stage"* ]]
	run -0 chroot "$T" /debootstrap/debootstrap --second-stage
	[[ $output == *"I: base system installed successfully."* ]]
	run -0 chroot "$T" dpkg-query -W -f '${db:Status-Abbrev}\n'
	[ "$(echo "$output" | sort -u)" = "ii " ]
	[ "$(cat "$T/var/lib/xboot-marks/mark-a")" = "$(printf 'preinst install\npostinst configure')" ]
	[ ! -e "$T/debootstrap" ] && [ ! -e "$T/usr/sbin/policy-rc.d" ]
	xb --include=mark-c "$XB_SUITE" "$BATS_TEST_TMPDIR/one" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	diff <(tree_listing "$BATS_TEST_TMPDIR/one") <(tree_listing "$T")
}

@test "--second-stage TARGET runs the second stage from the host; --foreign refuses what needs it run" {
	xb --foreign --variant=essential "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	xb --second-stage --keep-debootstrap-dir "$T"
	[ "$status" -eq 0 ]
	[ "$(chroot "$T" dpkg-query -W -f '${db:Status-Abbrev}\n' | sort -u)" = "ii " ]
	[ -x "$T/debootstrap/debootstrap" ]
	rm -rf "$T"
	xb --foreign --customize-hook=true --variant=essential "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 2 ]
	[[ $stderr == *"--foreign: essential and customize hooks need the configured tree"* ]]
	xb --second-stage
	[ "$status" -eq 2 ] && [[ $stderr == *"--second-stage: expected TARGET"* ]]
}
