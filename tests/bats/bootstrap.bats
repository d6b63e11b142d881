#!/usr/bin/env bats
# Hermetic bootstraps against the repository the tests build (tests/fixtures),
# served on 127.0.0.1: what a good run leaves behind, and how every kind of
# bad input fails: one clear error line, a non-zero exit, nothing mounted and
# nothing bad in the cache.

load helpers
hermetic

setup() {
	hermetic_setup
	export XB_TIMEOUT=3
	fixture_rules
}

teardown() {
	# a failed test must not leave a mount behind for the next one
	local m
	for m in $(mounts_under "$BATS_TEST_TMPDIR" | awk '{print $5}' | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
}

# cache_clean: every file in the cache is named by its own SHA256 (nothing
# unverified, no temporary file left).
cache_clean() {
	local f
	[ -d "$CACHE" ] || return 0
	while IFS= read -r f; do
		case $f in
		*/.lock) continue ;;
		*/trees/*.tar) [ -s "${f%.tar}.sha256" ] || { echo "snapshot without digest: $f"; return 1; } ;;
		*/trees/*.sha256) [ -f "${f%.sha256}.tar" ] || { echo "digest without snapshot: $f"; return 1; } ;;
		*/sha256/*.deb)
			[ "$(sha256sum <"$f" | cut -d' ' -f1).deb" = "${f##*/}" ] ||
				{ echo "bad file in cache: $f"; return 1; }
			;;
		*/indices/*)
			[ "$(sha256sum <"$f" | cut -d' ' -f1)" = "${f##*/}" ] ||
				{ echo "bad index in cache: $f"; return 1; }
			;;
		*) echo "stray file in cache: $f"; return 1 ;;
		esac
	done < <(find "$CACHE" -type f)
}

# failed_with REGEX: the run failed (not a usage error unless asked), printed
# exactly one error line, matching REGEX, left nothing mounted under the target
# and nothing bad in the cache.
failed_with() {
	[ "$status" -ne 0 ]
	local errs
	errs=$(printf '%s\n' "$stderr" | grep -c '^xboot: error: ' || true)
	[ "$errs" -eq 1 ] || { echo "expected one error line, got $errs"; return 1; }
	printf '%s\n' "$stderr" | grep '^xboot: error: ' | grep -Eq -- "$1" ||
		{ echo "error line does not match: $1"; return 1; }
	[ -z "$(mounts_under "$T")" ]
	[ -z "$(mounts_under "$BATS_TEST_TMPDIR")" ]
	cache_clean
}

@test "bootstrap: a hermetic run installs the packages and runs their scripts" {
	xb --include=mark-c --aptopt="Acquire::Retries \"1\"" "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	# every package configured, as dpkg inside sees it
	run chroot "$T" dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'
	echo "$output"
	[ -z "$(echo "$output" | grep -v '^ii ')" ]
	[ "$(echo "$output" | awk '{print $2}' | sort | tr '\n' ' ')" = \
		"alt-d hostbase mark-a mark-c provider-b2 " ]
	# Pre-Depends first: mark-a's preinst ran (as install) before its postinst
	[ "$(cat "$T/var/lib/xboot-marks/mark-a")" = "$(printf 'preinst install\npostinst configure')" ]
	# alternatives and conffiles as dpkg would leave them
	[ "$(chroot "$T" altcmd)" = alt-d ]
	grep -q '^ /etc/mark-a.conf [0-9a-f]\{32\}$' <(sed -n '/^Package: mark-a$/,/^$/p' "$T/var/lib/dpkg/status")
	run chroot "$T" dpkg --audit
	[ "$status" -eq 0 ] && [ -z "$output" ]
	# finish: apt sources, hostname, fstab, the log; no machine-id where no
	# package made one, dpkg's arch, no log with times (as mmdebstrap)
	grep -qx "deb $XB_REPO_URL $XB_SUITE main" "$T/etc/apt/sources.list"
	[ -s "$T/etc/hostname" ]
	head -n 1 "$T/etc/fstab" | grep -qx '# UNCONFIGURED FSTAB FOR BASE SYSTEM'
	[ ! -e "$T/etc/machine-id" ]
	[ "$(cat "$T/var/lib/dpkg/arch")" = "$(dpkg --print-architecture)" ]
	[ -d "$T/run/lock" ] && [ "$(stat -c %a "$T/run/lock")" = 1777 ]
	[ ! -e "$T/var/log/dpkg.log" ] && [ ! -e "$T/var/lib/dpkg/available" ]
	grep -q 'Setting up mark-a' "$T/var/log/xboot.log"
	[ ! -e "$T/usr/sbin/policy-rc.d" ]
	[ -z "$(mounts_under "$T")" ]
	cache_clean
}

@test "--timings: where the time went, each phase once, the second stage's included, adding up to the total" {
	xb --timings --customize-hook='true' "$XB_SUITE" "$T.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	local phase
	for phase in "indices (fetch, verify)" resolve download unpack "dpkg database" preinst \
		"postinst: essential" "triggers (dpkg --configure)" "finish (apt, logins)" \
		"customize hooks" output "other (set-up, clean-up)" total; do
		[ "$(grep -c "^xboot:   $phase  *[0-9.]* s" <<<"$stderr")" -eq 1 ]
	done
	# the phases and "other" add up to the total (each rounded to 10 ms)
	awk '/^xboot:   / && $NF == "%" { sum += $(NF - 3) } /^xboot:   total / { t = $(NF - 1) }
		END { d = sum - t; exit !(d < 0.2 && d > -0.2) }' <<<"$stderr"
	[[ $stderr == *"where the time went (--timings):"* ]]
	# how many scripts ran side by side, and the slowest of them by name
	grep -Eq '^xboot:     [0-9]+ scripts, [0-9.]+ s of their own, [0-9.]+ at once$' <<<"$stderr"
	grep -Eq '^xboot:   slowest scripts: +[0-9.]+ s  (preinst|postinst) of [a-z0-9.+-]+$' <<<"$stderr"
	# without --timings, no table
	xb "$XB_SUITE" "$T.2.tar" "$XB_REPO_URL"
	[ "$status" -eq 0 ] && [[ $stderr != *"where the time went"* ]]
}

@test "bootstrap: maintainer scripts are no host root and run under the seccomp filter" {
	xb --variant=essential --include=probe "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	local probe=$T/var/lib/xboot-probe bnd
	cat "$probe"
	grep -qx "$(printf 'Seccomp:\t2')" "$probe"
	! grep -q "core_pattern writable" "$probe" || false
	bnd=$(awk '/^CapBnd:/ { print $2 }' "$probe")
	(( (16#$bnd >> 16 & 1) == 0 )) # CAP_SYS_MODULE
	if unshare --user true 2>/dev/null; then
		# root inside is a range of 65536 ids, not every id of the host
		grep -qx "uid_map 0 0 65536" "$probe"
	else
		(( (16#$bnd >> 21 & 1) == 0 )) # the host's root: no CAP_SYS_ADMIN
	fi
}

@test "bootstrap: a value given twice counts once (--components=main,main, --include twice)" {
	xb --variant=essential --components="main main" --include=mark-c,mark-c "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(grep -v '^#' "$T/etc/apt/sources.list" | grep .)" = "deb $XB_REPO_URL $XB_SUITE main" ]
	chroot "$T" dpkg-query -W mark-c
}

@test "bootstrap: the versioned Provides picks the provider that satisfies it" {
	xb --variant=essential --include=mark-c "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ -d "$T/usr/share/provider-b2" ]
	[ ! -d "$T/usr/share/provider-b" ]
}

@test "bootstrap: the codename works as the suite, file:// mirrors too" {
	xb --variant=essential "$XB_CODENAME" "$T" "file://$XB_FIXTURE/repo"
	[ "$status" -eq 0 ]
	grep -q '^Package: hostbase$' "$T/var/lib/dpkg/status"
}

@test "bootstrap: MIRROR as a one-line entry, a sources file, or deb822 on stdin" {
	xb --variant=essential "$XB_SUITE" "$T" "deb $XB_REPO_URL $XB_CODENAME main"
	[ "$status" -eq 0 ]
	grep -qx "deb $XB_REPO_URL $XB_CODENAME main" "$T/etc/apt/sources.list"
	printf 'deb-src %s %s main\ndeb [trusted=no] %s %s main\n' "$XB_REPO_URL" "$XB_SUITE" \
		"file://$XB_FIXTURE/repo" "$XB_SUITE" >"$BATS_TEST_TMPDIR/one.list"
	xb --variant=essential "$XB_SUITE" "$T.2" "$BATS_TEST_TMPDIR/one.list"
	[ "$status" -eq 0 ]
	[ "$(cat "$T.2/etc/apt/sources.list")" = "deb file://$XB_FIXTURE/repo $XB_SUITE main" ]
	printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\n' "$XB_REPO_URL" "$XB_SUITE" |
		"$XB" --keyring="$XB_KEYRING" --cache-dir="$CACHE" --variant=essential "$XB_SUITE" "$T.3" - 2>/dev/null
	grep -qx "deb $XB_REPO_URL $XB_SUITE main" "$T.3/etc/apt/sources.list"
	rm -rf "$T.2" "$T.3"
}

@test "refused: a sources entry without a suite" {
	xb "$XB_SUITE" "$T" "deb $XB_REPO_URL"
	failed_with 'expected deb URI SUITE'
	[ "$status" -eq 2 ]
}

@test "bootstrap: a second run downloads nothing" {
	xb "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	: >"$XB_SERVER_LOG"
	xb "$XB_SUITE" "$T.2" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	cat "$XB_SERVER_LOG"
	! grep -q '\.deb ' "$XB_SERVER_LOG" || false
	rm -rf "$T.2"
}

@test "bootstrap: --exclude drops a package, --include adds one" {
	xb --exclude=alt-d --include=mark-c "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ ! -e "$T/usr/bin/alt-d-impl" ]
	[ -d "$T/usr/share/mark-c" ]
}

# --- trust ------------------------------------------------------------------------

@test "refused: InRelease signed by a key outside the keyring" {
	xb othersigned "$T" "$XB_REPO_URL"
	failed_with 'othersigned.*(signature|key)'
	[ ! -e "$T/usr" ]
}

@test "refused: an unsigned InRelease" {
	xb unsigned "$T" "$XB_REPO_URL"
	failed_with 'unsigned.*(sign|OpenPGP)'
}

@test "refused: text appended after the signature is not trusted" {
	xb --variant=essential appended "$T" "$XB_REPO_URL"
	failed_with 'appended.*(after the signature|unsigned|trailing)'
}

@test "refused: an expired Valid-Until" {
	xb expired "$T" "$XB_REPO_URL"
	failed_with 'expired.*Valid-Until'
}

@test "refused: a Packages index that does not match the Release" {
	xb badpackages "$T" "$XB_REPO_URL"
	failed_with 'Packages.*(SHA256|size|hash|longer)'
}

@test "refused: a tampered .deb, and it does not stay in the cache" {
	xb --variant=essential --include=tampered "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'tampered.*(SHA256|hash|checksum)'
	[ ! -e "$T/usr/share/tampered" ]
}

@test "--no-check-sig: the Release is used unverified, and nothing says it was verified" {
	xb --variant=essential --no-check-sig othersigned "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"not checking the signature of"*"only its dates"* ]]
	[[ "$stderr" == *"signature NOT checked"* ]]
	[[ "$stderr" != *"signature verified"* ]]
}

@test "refused: a Package field that climbs out, with --no-cache, writes nothing outside" {
	run --separate-stderr "$XB" --keyring="$XB_KEYRING" --no-cache --variant=essential \
		badname "$T" "$XB_REPO_URL"
	echo "$stderr"
	failed_with 'invalid Package field: \.\./\.\./\.\./xb-escape'
	[ -z "$(find "$BATS_TEST_TMPDIR/.." -maxdepth 3 -name 'xb-escape*' 2>/dev/null)" ]
	[ ! -e "$T/usr" ]
}

@test "a cached .deb changed on disk is downloaded again; the tree has the good one" {
	xb --variant=essential --include=mark-c "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	local deb f
	for f in "$CACHE"/sha256/*.deb; do
		[ "$(dpkg-deb -f "$f" Package)" = mark-c ] && deb=$f
	done
	[ -n "$deb" ]
	# eight bytes of the data.tar changed in place: the same name and size
	printf 'XXXXXXXX' | dd of="$deb" bs=1 seek=$(( $(stat -c %s "$deb") - 64 )) conv=notrunc 2>/dev/null
	rm -rf "$T"
	: >"$XB_SERVER_LOG"
	# (from the configured-tree cache, the run would need no .deb)
	xb --no-tree-cache --variant=essential --include=mark-c "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"does not have the content its name says"* ]]
	grep -q 'mark-c' "$XB_SERVER_LOG"
	cache_clean
	dpkg --root="$T" --verify mark-c
}

@test "a second run fetches the suite's InRelease again, not its indices: the cache keeps them decompressed, and one changed or cut short there is fetched again and kept" {
	xb --no-tree-cache --variant=essential "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	grep -q "^GET /dists/$XB_SUITE/main/binary-$XB_ARCH/Packages" "$XB_SERVER_LOG"
	local idx
	idx=$(ls "$CACHE"/indices/* | head -1)
	[ -n "$idx" ]
	cache_clean
	: >"$XB_SERVER_LOG"
	xb --no-tree-cache --variant=essential "$XB_SUITE" "$T.2" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	grep -q "^GET /dists/$XB_SUITE/InRelease" "$XB_SERVER_LOG"
	run grep -c "/Packages" "$XB_SERVER_LOG"
	[ "$output" = 0 ]
	diff -r "$T/var/lib/apt/lists" "$T.2/var/lib/apt/lists"
	[ "$(chroot "$T.2" dpkg-query -W -f '${Package}\n' | sort)" = \
	  "$(chroot "$T" dpkg-query -W -f '${Package}\n' | sort)" ]
	# a byte changed in place: the same name and size, found out on use
	printf 'X' | dd of="$idx" bs=1 seek=10 conv=notrunc 2>/dev/null
	: >"$XB_SERVER_LOG"
	xb --no-tree-cache --variant=essential "$XB_SUITE" "$T.3" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"does not have the content its name says"* ]]
	grep -q "/Packages" "$XB_SERVER_LOG"
	cache_clean
	diff -r "$T/var/lib/apt/lists" "$T.3/var/lib/apt/lists"
	# cut short: fetched again, and the whole one takes its place
	truncate -s 100 "$idx"
	xb --no-tree-cache --variant=essential "$XB_SUITE" "$T.4" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"does not have the content its name says"* ]]
	cache_clean
	: >"$XB_SERVER_LOG"
	xb --no-tree-cache --variant=essential "$XB_SUITE" "$T.5" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	run grep -c "/Packages" "$XB_SERVER_LOG"
	[ "$output" = 0 ]
}

@test "refused: a .deb changed in transit (same size)" {
	fixture_rules "hostbase_ flip"
	xb --variant=essential "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'hostbase.*(SHA256|hash|checksum)'
}

# --- the network --------------------------------------------------------------------

@test "refused: a truncated download" {
	fixture_rules "hostbase_ truncate"
	xb --variant=essential "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'hostbase'
}

@test "refused: an oversized download is cut off" {
	fixture_rules "hostbase_ oversize-nolen"
	xb --variant=essential "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'hostbase.*(larger|size|long)'
}

@test "refused: 404 on a package" {
	fixture_rules "hostbase_ 404"
	xb --variant=essential "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'hostbase.*404'
}

@test "refused: 500 on the Release file, after apt's three more tries a second, two and four apart" {
	fixture_rules "InRelease 500"
	: >"$XB_SERVER_LOG"
	local t0=$SECONDS
	xb "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'InRelease: server answered HTTP 500; tried 4 times'
	[ "$(grep -c 'GET [^ ]*/InRelease 500 500' "$XB_SERVER_LOG")" -eq 4 ]
	for i in 1 2 3; do
		[[ $stderr == *"InRelease: server answered HTTP 500; trying again in $((1 << (i - 1))) s ($i of 3)"* ]]
	done
	[ $((SECONDS - t0)) -ge 7 ]
}

@test "a mirror's passing trouble is tried again: a stalled .deb, one cut short, a 503 on an index" {
	fixture_rules "hostbase_ once-stall" "mark-a_ once-truncate" "binary-$XB_ARCH/Packages once-500"
	: >"$XB_SERVER_LOG"
	xb --include=mark-a "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^xboot: warning: downloading .*; trying again in 1 s (1 of 3)$' <<<"$stderr")" -eq 3 ]
	[[ $stderr == *"hostbase_"*"timed out (no data for 3 s); trying again"* ]]
	grep -q "mark-a_.* truncate 200" "$XB_SERVER_LOG" && grep -q "mark-a_.* ok 200" "$XB_SERVER_LOG"
	[ "$(cat "$T/var/lib/xboot-marks/mark-a")" = "$(printf 'preinst install\npostinst configure')" ]
	cache_clean
}

@test "refused: a stalled server times out; Acquire::Retries \"0\" makes it one try" {
	fixture_rules "hostbase_ stall"
	: >"$XB_SERVER_LOG"
	xb --variant=essential --aptopt='Acquire::Retries "0"' "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'hostbase.*timed out \(no data for 3 s\)$'
	[ "$(grep -c 'hostbase_' "$XB_SERVER_LOG")" -eq 1 ]
}

@test "download and unpack overlap: while one download hangs, the packages already here are unpacked; then one error" {
	fixture_rules "mark-c_ stall"
	: >"$XB_SERVER_LOG"
	xb --include=mark-c --aptopt="Acquire::Retries \"1\"" "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'mark-c.*timed out.*; tried 2 times'
	[ "$(grep -c 'mark-c_' "$XB_SERVER_LOG")" -eq 2 ]
	# hostbase (dpkg, the shell) was unpacked before mark-c's download gave up
	[ -x "$T/usr/bin/dpkg" ] && [ -L "$T/usr/bin/sh" ]
	[ ! -e "$T/usr/share/mark-c/README" ]
	# and no postinst ran on a half-unpacked tree (mark-a's preinst, with
	# everything before it unpacked, may have)
	[ ! -e "$T/var/lib/xboot-marks/mark-a" ] ||
		[ "$(cat "$T/var/lib/xboot-marks/mark-a")" = "preinst install" ]
}

@test "preinsts run while the rest unpacks: each once its package and those before it are in the tree" {
	fixture_rules "ovl-b_ late"
	xb --timeout=10 --include=ovl-a,ovl-b,ovl-c "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	# ovl-b came 4 s after the rest: ovl-a's preinst ran before it was in,
	# ovl-c's (after it in install order) once it was
	[ "$(cat "$T/var/lib/xboot-marks/ovl-a")" = "ovl-b not there" ]
	[ "$(cat "$T/var/lib/xboot-marks/ovl-c")" = "ovl-b there" ]
	[ "$(installed_set | grep -c '^ii  ovl-')" -eq 3 ]
	run -0 chroot "$T" dpkg --audit
	[ -z "$output" ]
	# one at a time, or with SOURCE_DATE_EPOCH, the whole unpack comes first
	rm -rf "$CACHE"
	xb --timeout=10 --script-jobs=1 --include=ovl-a,ovl-b,ovl-c "$XB_SUITE" "$T.1" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(cat "$T.1/var/lib/xboot-marks/ovl-a")" = "ovl-b there" ]
	rm -rf "$CACHE"
	SOURCE_DATE_EPOCH=1700000000 xb --timeout=10 --include=ovl-a,ovl-b,ovl-c "$XB_SUITE" "$T.2" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(cat "$T.2/var/lib/xboot-marks/ovl-a")" = "ovl-b there" ]
	# one that asks dpkg-query (which fails where the status file is not
	# written yet) waits for the whole unpack, a later package held back
	fixture_rules "zchain-a_ late"
	xb --timeout=10 --include=qpre-a,zchain-a "$XB_SUITE" "$T.3" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	grep -qx 'qpre-a end' "$T.3/var/lib/xboot-marks/sched"
}

@test "preinsts beside the unpack: a download that fails there is the one error, and nothing is left running" {
	fixture_rules "ovl-b_ 404"
	xb --include=ovl-a,ovl-b,ovl-c "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'ovl-b_1\.0_all\.deb: server answered HTTP 404$'
	[ ! -e "$T/var/lib/xboot-marks/ovl-c" ]
	fixture_rules "ovl-b_ stall"
	rm -rf "$T"
	xb --include=ovl-a,ovl-b,ovl-c --aptopt='Acquire::Retries "0"' "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'ovl-b_1\.0_all\.deb: timed out'
	[ "$(cat "$T/var/lib/xboot-marks/ovl-a")" = "ovl-b not there" ]
	[ ! -e "$T/var/lib/xboot-marks/ovl-c" ]
}

@test "preinsts beside the unpack: a preinst that fails stops the downloads still going, and is the one error" {
	fixture_rules "ovl-b_ stall"
	local t0=$SECONDS
	xb --include=ovl-afail,ovl-b "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'the preinst script of ovl-afail failed \(exit status 1\)'
	# not the stalled download's four tries of 3 s and more
	[ $((SECONDS - t0)) -lt 10 ]
}

@test "refused: a mirror that is not there" {
	xb "$XB_SUITE" "$T" "http://127.0.0.1:1/debian"
	failed_with '127\.0\.0\.1:1'
}

# --- hostile and broken packages -------------------------------------------------------

@test "refused: a .deb with ../x writes nothing above the target" {
	mkdir -p "$T"
	xb --variant=essential --include=evil-dotdot "$XB_SUITE" "$T/root" "$XB_REPO_URL"
	T=$T/root failed_with 'evil-dotdot.*\.\./x'
	[ ! -e "$T/x" ] && [ ! -e "$T/root/../x" ] && [ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "refused: a .deb with /etc/x writes nothing to the host" {
	[ ! -e /etc/x ]
	xb --variant=essential --include=evil-abs "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'evil-abs.*/etc/x'
	[ ! -e /etc/x ]
}

@test "refused: a file through a symlink to a host directory" {
	local before
	before=$(ls -la "$XB_HOSTDIR")
	xb --variant=essential --include=evil-through "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'evil-through.*escape/pwned'
	[ ! -e "$XB_HOSTDIR/pwned" ]
	[ "$(ls -la "$XB_HOSTDIR")" = "$before" ]
}

# host_unchanged: the fixture's host files that the symlink packages aim at
# (laid out anew by fixture_hostdir) are as they were.
host_unchanged() {
	[ -z "$(ls -A "$XB_HOSTDIR/aptdir")" ] || { ls -la "$XB_HOSTDIR/aptdir"; return 1; }
	[ "$(cat "$XB_HOSTDIR/victim")" = "a host file" ]
	[ "$(cat "$XB_HOSTDIR/libapt/lists/keep")" = "a host file" ]
}

# etc/apt leads nowhere inside the tree, so writing there fails, as it
# would in a chroot: with one error, and nothing written on the host.
@test "host-side steps do not write through a package's symlink: etc/apt, --aptopt, sources.list" {
	fixture_hostdir "$XB_HOSTDIR"
	xb --variant=essential --include=evil-aptdir --aptopt='Acquire::Retries "3"' \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'etc/apt/apt.conf.d/99xboot'
	host_unchanged
	rm -rf "$T"
	xb --variant=essential --include=evil-aptdir "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'etc/apt/sources.list'
	host_unchanged
}

@test "host-side steps do not delete through a script's symlink: the apt lists clean-up" {
	fixture_hostdir "$XB_HOSTDIR"
	xb --variant=essential --include=evil-libapt "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(readlink "$T/var/lib/apt")" = "$XB_HOSTDIR/libapt" ]
	host_unchanged
}

@test "a copy-in hook does not write through a package's symlink to a host file" {
	fixture_hostdir "$XB_HOSTDIR"
	echo "copied in" >"$BATS_TEST_TMPDIR/xb-victim"
	xb --variant=essential --include=evil-victim \
		--customize-hook="copy-in $BATS_TEST_TMPDIR/xb-victim /etc" "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	host_unchanged
	[ "$(cat "$T/etc/xb-victim")" = "copied in" ]
}

@test "refused: a hard link to a host file" {
	xb --variant=essential --include=evil-hardlink "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'evil-hardlink.*hard link'
	[ "$(stat -c %h "$XB_HOSTDIR/marker")" -eq 1 ]
}

@test "refused: a corrupt ar member" {
	xb --variant=essential --include=corrupt-ar "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'corrupt-ar'
}

@test "refused: a corrupt xz member" {
	xb --variant=essential --include=corrupt-xz "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'corrupt-xz'
}

# --- what the user asked for ------------------------------------------------------------

@test "refused: an unsatisfiable dependency, before any download" {
	: >"$XB_SERVER_LOG"
	xb --include=needs-missing "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'does-not-exist.*needs-missing'
	! grep -q '\.deb ' "$XB_SERVER_LOG" || false
}

@test "refused: an unknown architecture" {
	xb --arch=vax "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'unknown architecture vax'
	[ ! -e "$T" ]
}

@test "refused: an unknown suite" {
	xb nosuchsuite "$T" "$XB_REPO_URL"
	failed_with 'nosuchsuite'
}

@test "refused: an unknown package in --include" {
	xb --include=no-such-package "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'no-such-package'
}

@test "refused: a non-empty TARGET, which is left as it was" {
	mkdir -p "$T"
	echo keep >"$T/precious"
	xb "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'not empty'
	[ "$(ls -A "$T")" = precious ] && [ "$(cat "$T/precious")" = keep ]
}

@test "refused: TARGET /" {
	xb "$XB_SUITE" / "$XB_REPO_URL"
	T=/nonexistent failed_with 'root directory'
}

@test "refused: options that exclude each other, before anything is fetched" {
	: >"$XB_SERVER_LOG"
	xb --no-cache "$XB_SUITE" "$T" "$XB_REPO_URL" # xb gives --cache-dir
	failed_with '--cache-dir and --no-cache cannot be used together'
	[ "$status" -eq 2 ]
	[ ! -s "$XB_SERVER_LOG" ]
	[ ! -e "$T" ]
}

@test "refused: a variant the template does not list, before anything is fetched" {
	: >"$XB_SERVER_LOG"
	xb --variant=fancy "$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with 'unknown variant fancy \(known: extract custom essential apt minbase required buildd important debootstrap - standard\)'
	[ "$status" -eq 2 ]
	[ ! -s "$XB_SERVER_LOG" ]
	# the usage text lists what the template lists
	run "$XB" --help
	[[ "$output" == *"--variant=NAME          extract, custom, essential, apt, minbase, required, buildd, important, debootstrap, -, standard (default: important)"* ]]
}

# installed_set: the packages of $T and their dpkg state, one a line
installed_set() {
	chroot "$T" dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | sort
}

@test "variants: extract unpacks and runs no script; custom installs only --include" {
	xb --variant=extract --include=mark-a "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	# what --include names and its dependencies, files there, no script run
	[ -f "$T/etc/mark-a.conf" ] && [ -x "$T/usr/bin/dpkg" ]
	[ ! -e "$T/var/lib/xboot-marks/mark-a" ]
	[ "$(grep -c "^Package: " "$T/var/lib/dpkg/status")" -eq 3 ]
	[ "$(grep -c "^Status: install ok unpacked$" "$T/var/lib/dpkg/status")" -eq 3 ]
	rm -rf "$T"
	xb --variant=extract "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ ! -e "$T/usr/bin/dpkg" ]
	rm -rf "$T"
	xb --variant=custom --include=mark-a "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(installed_set | tr '\n' ' ')" = "ii  hostbase ii  mark-a ii  provider-b " ]
	[ "$(cat "$T/var/lib/xboot-marks/mark-a")" = "$(printf 'preinst install\npostinst configure')" ]
}

@test "variants: required is minbase, debootstrap and - are important, apt is essential's set here" {
	local a b
	for v in minbase required important debootstrap - essential apt; do
		rm -rf "$T"
		xb --variant="$v" "$XB_SUITE" "$T" "$XB_REPO_URL"
		[ "$status" -eq 0 ]
		installed_set >"$BATS_TEST_TMPDIR/set-$v"
	done
	diff "$BATS_TEST_TMPDIR/set-minbase" "$BATS_TEST_TMPDIR/set-required"
	diff "$BATS_TEST_TMPDIR/set-important" "$BATS_TEST_TMPDIR/set-debootstrap"
	diff "$BATS_TEST_TMPDIR/set-important" "$BATS_TEST_TMPDIR/set--"
	# the fixture has no apt: the apt variant is the essential set
	diff "$BATS_TEST_TMPDIR/set-essential" "$BATS_TEST_TMPDIR/set-apt"
	! diff -q "$BATS_TEST_TMPDIR/set-essential" "$BATS_TEST_TMPDIR/set-minbase" || false
}

@test "refused: a wrong flag, with a usage error" {
	xb --no-such-flag "$XB_SUITE" "$T"
	[ "$status" -eq 2 ]
	[ ! -e "$T" ]
}

# --- interruptions ------------------------------------------------------------------------

# sleeper_procs: pids of the sleeper package's postinst and what it started
# (dpkg exports DPKG_MAINTSCRIPT_PACKAGE to them; their root directory is
# not a host path, the second stage having pivoted into the target).
sleeper_procs() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qx 'DPKG_MAINTSCRIPT_PACKAGE=sleeper' &&
			echo "${p#/proc/}"
	done
	return 0
}

no_sleeper() {
	[ -z "$(sleeper_procs)" ]
}

@test "Ctrl-C during the download: exit 130, nothing half-written in the cache" {
	fixture_rules "hostbase_ slow"
	: >"$XB_SERVER_LOG"
	"$XB" --keyring="$XB_KEYRING" --cache-dir="$CACHE" --variant=essential \
		"$XB_SUITE" "$T" "$XB_REPO_URL" 2>"$BATS_TEST_TMPDIR/err" &
	local pid=$!
	wait_for grep -q 'hostbase_.* slow' "$XB_SERVER_LOG"
	sleep 0.5
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	stderr=$(cat "$BATS_TEST_TMPDIR/err")
	echo "$stderr"
	[ "$status" -eq 130 ]
	failed_with 'interrupted'
}

@test "SIGKILL during the download leaves no partial file in the cache" {
	fixture_rules "hostbase_ slow"
	: >"$XB_SERVER_LOG"
	"$XB" --keyring="$XB_KEYRING" --cache-dir="$CACHE" --variant=essential \
		"$XB_SUITE" "$T" "$XB_REPO_URL" 2>/dev/null &
	local pid=$!
	wait_for grep -q 'hostbase_.* slow' "$XB_SERVER_LOG"
	sleep 0.5
	kill -KILL "$pid"
	wait "$pid" || true
	cache_clean
	[ -z "$(find "$CACHE" -name '*.part*' -o -name '*.tmp-*')" ]
}

@test "Ctrl-C during the second stage: exit 130, no process and no mount left" {
	"$XB" --keyring="$XB_KEYRING" --cache-dir="$CACHE" --variant=essential \
		--include=sleeper "$XB_SUITE" "$T" "$XB_REPO_URL" 2>"$BATS_TEST_TMPDIR/err" &
	local pid=$!
	wait_for test -e "$T/var/lib/xboot-marks/sleeper"
	[ -n "$(sleeper_procs)" ]
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	stderr=$(cat "$BATS_TEST_TMPDIR/err")
	echo "$stderr"
	[ "$status" -eq 130 ]
	failed_with 'interrupted'
	wait_for no_sleeper
}

@test "SIGKILL of xboot in the second stage leaves no process and no mount" {
	"$XB" --keyring="$XB_KEYRING" --cache-dir="$CACHE" --variant=essential \
		--include=sleeper "$XB_SUITE" "$T" "$XB_REPO_URL" 2>/dev/null &
	local pid=$!
	wait_for test -e "$T/var/lib/xboot-marks/sleeper"
	kill -KILL "$pid"
	wait "$pid" || true
	wait_for no_sleeper
	[ -z "$(mounts_under "$T")" ]
}

# --- the second stage runs scripts side by side where that changes nothing ---

# sched: the start and end lines the para-*, reg-* and dep-c postinsts logged
sched() { cat "$T/var/lib/xboot-marks/sched"; }
# line_of WORDS: the line number of "WORDS" in sched
line_of() { line_of_in "$T" "$1"; }
# line_of_in TREE WORDS: the same in another tree
line_of_in() { grep -nx "$2" "$1/var/lib/xboot-marks/sched" | cut -d: -f1; }

@test "scripts without a registry in common run side by side; one registry sees them in order" {
	# three at a time: reg-a, which reg-b waits for, starts first (see
	# "the longest chain" below), para-a and para-b beside it
	xb --script-jobs=3 --include=para-a,para-b,reg-a,reg-b "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	sched
	# para-a and para-b overlap: each started before the other ended
	[ "$(line_of 'para-a start')" -lt "$(line_of 'para-b end')" ]
	[ "$(line_of 'para-b start')" -lt "$(line_of 'para-a end')" ]
	# reg-a and reg-b both use update-alternatives: one after the other, in
	# install order (by name, as nothing orders them otherwise)
	[ "$(line_of 'reg-a end')" -lt "$(line_of 'reg-b start')" ]
	chroot "$T" update-alternatives --query regcmd-a | grep -qx 'Value: /usr/bin/reg-a-impl'
	chroot "$T" update-alternatives --query regcmd-b | grep -qx 'Value: /usr/bin/reg-b-impl'
	run chroot "$T" dpkg-query -W -f '${db:Status-Abbrev}\n' para-a para-b reg-a reg-b
	[ "$output" = "$(printf 'ii \nii \nii \nii ')" ]
	# each script's output reached the log whole, after a line naming it
	grep -qx 'Setting up reg-b (1.0) ...' "$T/var/log/xboot.log"
}

@test "a postinst that removes diversions of a package holding none runs beside others; where it holds one, alone" {
	xb --script-jobs=2 --include=para-b,undiv-a "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	sched
	[ "$(line_of 'undiv-a start')" -lt "$(line_of 'para-b end')" ]
	# the same with a diversion of undiv-gone's in the tree: it may move a
	# file para-b runs, so it waits
	xb --script-jobs=2 --include=para-b,undiv-a -d \
		--extract-hook='chroot "$1" dpkg-divert --package undiv-gone --no-rename --divert /usr/bin/undiv-x.moved --add /usr/bin/undiv-x' \
		"$XB_SUITE" "$T.2" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	cat "$T.2/var/lib/xboot-marks/sched"
	[ "$(cat "$T.2/var/lib/xboot-marks/sched")" = "$(printf 'para-b start\npara-b end\nundiv-a start\nundiv-a end')" ]
	grep -q 'the postinst of undiv-a removes diversions of undiv-gone, which holds some' <<<"$stderr"
	# and it removed it, as dpkg-divert does
	run -0 chroot "$T.2" dpkg-divert --list
	[[ $output != *undiv-gone* ]]
	# a script before it that only removes diversions cannot give
	# undiv-gone one: zchain-a, after both, need not wait for undiv-a
	xb --script-jobs=3 --include=undiv-0,undiv-a,zchain-a "$XB_SUITE" "$T.3" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	cat "$T.3/var/lib/xboot-marks/sched"
	[ "$(line_of_in "$T.3" 'zchain-a start')" -lt "$(line_of_in "$T.3" 'undiv-0 end')" ]
	[ "$(line_of_in "$T.3" 'undiv-0 end')" -lt "$(line_of_in "$T.3" 'undiv-a start')" ]
}

@test "of the scripts that may start, the one with the longest chain waiting on it starts first; --script-jobs=1 keeps install order" {
	xb --script-jobs=2 --include=para-a,para-b,zchain-a,zchain-b "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	sched
	# zchain-b waits for zchain-a: zchain-a goes first, para-b after it
	[ "$(line_of 'zchain-a start')" -lt "$(line_of 'para-b start')" ]
	[ "$(line_of 'zchain-a end')" -lt "$(line_of 'zchain-b start')" ]
	xb --script-jobs=1 --include=para-a,para-b,zchain-a,zchain-b "$XB_SUITE" "$T.1" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(grep start "$T.1/var/lib/xboot-marks/sched")" = "$(printf 'para-a start\npara-b start\nzchain-a start\nzchain-b start')" ]
}

@test "a preinst that asks dpkg-query for a status runs beside others (no preinst changes one)" {
	xb --script-jobs=2 --include=qpre-a,qpre-b "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	sched
	[ "$(line_of 'qpre-a start')" -lt "$(line_of 'qpre-b end')" ]
	[ "$(line_of 'qpre-b start')" -lt "$(line_of 'qpre-a end')" ]
}

@test "a postinst runs after its dependencies' postinsts have finished" {
	xb --script-jobs=4 --include=dep-c,para-b "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	sched
	# dep-c's own postinst fails unless para-a's ended first
	[ "$(line_of 'para-a end')" -lt "$(line_of 'dep-c start')" ]
}

@test "--script-jobs=1 runs one script at a time, to the same tree" {
	xb --script-jobs=1 --include=para-a,para-b "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(sched)" = "$(printf 'para-a start\npara-a end\npara-b start\npara-b end')" ]
	run -0 chroot "$T" dpkg --audit
	[ -z "$output" ]
	xb --script-jobs=2 --include=para-a,para-b "$XB_SUITE" "$T.2" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	# the same database and files (the logs aside)
	diff <(cd "$T" && find . -path ./var/log -prune -o -path ./var/lib/xboot-marks -prune -o -printf '%p %m %U %G %s %l\n' | sort) \
		<(cd "$T.2" && find . -path ./var/log -prune -o -path ./var/lib/xboot-marks -prune -o -printf '%p %m %U %G %s %l\n' | sort)
	diff "$T/var/lib/dpkg/status" "$T.2/var/lib/dpkg/status"
}

# debconf_files DIR: the debconf database and its backups, as the tree has them
debconf_files() {
	local f
	for f in config.dat config.dat-old templates.dat templates.dat-old passwords.dat; do
		echo "== $f $(stat -c %a "$1/var/cache/debconf/$f")"
		cat "$1/var/cache/debconf/$f"
	done
}

@test "scripts that use debconf run side by side, each on a copy of the database, to the database of one at a time" {
	xb --script-jobs=2 --include=dc-a,dc-b "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	sched
	[ "$(line_of 'dc-a start')" -lt "$(line_of 'dc-b end')" ]
	[ "$(line_of 'dc-b start')" -lt "$(line_of 'dc-a end')" ]
	# what each asked and set, and the question both own
	run -0 chroot "$T" debconf-show dc-a
	[[ $output == *"dc-a/colour: red-dc-a, set by the postinst"* ]]
	grep -qx 'Owners: dc-a, dc-b' "$T/var/cache/debconf/config.dat"
	[ ! -e "$T/var/cache/debconf/.xboot" ]
	xb --script-jobs=1 --include=dc-a,dc-b "$XB_SUITE" "$T.1" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(cat "$T.1/var/lib/xboot-marks/sched")" = "$(printf 'dc-a start\ndc-a end\ndc-b start\ndc-b end')" ]
	diff <(debconf_files "$T.1") <(debconf_files "$T")
}

@test "where the tree's debconf is not Debian's own setup, its scripts run one at a time" {
	# a root's .debconfrc, which a copy's DEBCONF_SYSTEMRC would hide
	xb --script-jobs=2 --include=dc-a,dc-b \
		--extract-hook='mkdir -p "$1/root" && cp "$1/etc/debconf.conf" "$1/root/.debconfrc"' \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(sched)" = "$(printf 'dc-a start\ndc-a end\ndc-b start\ndc-b end')" ]
	run -0 chroot "$T" debconf-show dc-b
	[[ $output == *"dc-b/colour: red-dc-b, set by the postinst"* ]]
}

@test "configuring a package activates the triggers of one configured before it" {
	xb --include=trig-j "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	# trig-i's postinst ran to configure it, then once for the trigger
	[ "$(cat "$T/var/lib/xboot-marks/trig")" = "$(printf 'trig-i configure \ntrig-i triggered xboot-test-trigger')" ]
	run chroot "$T" dpkg-query -W -f '${db:Status-Abbrev}${Triggers-Pending}\n' trig-i trig-j
	[ "$output" = "$(printf 'ii \nii ')" ]
	[ ! -s "$T/var/lib/dpkg/triggers/Unincorp" ]
}

@test "an activation by a postinst before the interested package is configured is dropped" {
	xb --include=trig-a,trig-i "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	# as under dpkg: trig-i's own postinst does the work, no trigger run
	[ "$(cat "$T/var/lib/xboot-marks/trig")" = "trig-i configure " ]
	run chroot "$T" dpkg-query -W -f '${db:Status-Abbrev}\n' trig-a trig-i
	[ "$output" = "$(printf 'ii \nii ')" ]
	[ ! -s "$T/var/lib/dpkg/triggers/Unincorp" ]
}

@test "a failing postinst stops the run naming the package, nothing mounted" {
	xb --include=para-a --essential-hook='sed -i "s/^sleep 1$/exit 3/" "$1/var/lib/dpkg/info/para-a.postinst"' \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	failed_with "the postinst script of para-a failed \\(exit status 3\\); its output is in var/log/xboot.log in $T\$"
}

@test "an archive's failed run keeps its log beside it, and says so" {
	xb --include=para-a --essential-hook='sed -i "s/^sleep 1$/exit 3/" "$1/var/lib/dpkg/info/para-a.postinst"' \
		"$XB_SUITE" "$BATS_TEST_TMPDIR/out.tar" "$XB_REPO_URL"
	failed_with "its output is in $BATS_TEST_TMPDIR/out.tar.log\$"
	[ ! -e "$BATS_TEST_TMPDIR/out.tar" ]
	grep -q 'para-a' "$BATS_TEST_TMPDIR/out.tar.log"
}

@test "--script-jobs takes a number from 1 to 64" {
	xb --script-jobs=0 "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 2 ]
	grep -q -- '--script-jobs=0: expected a number from 1 to 64' <<<"$stderr"
}

@test "scripts run with dpkg's umask 022, whatever the caller's" {
	umask 077
	xb --include=para-a "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$T/var/lib/xboot-marks/sched")" = 644 ]
	[ "$(stat -c %a "$T/var/lib/xboot-marks")" = 755 ]
}
