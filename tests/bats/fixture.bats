#!/usr/bin/env bats
# The hermetic fixture itself: the repository mkrepo builds and the misbehaving
# server. The other tests trust both; this file is why they may.

load helpers
hermetic

# mkrepo runs here as other users too: the system's TMPDIR, not a test's own.
setup() {
	:
}

teardown() {
	if [ -f "$BATS_TEST_TMPDIR/cleanup" ]; then
		rm -rf "$(cat "$BATS_TEST_TMPDIR/cleanup")"
	fi
}

dists() {
	echo "$XB_FIXTURE/repo/dists/$1"
}

# pkgfield NAME FIELD: FIELD of NAME's stanza in the testsuite Packages index.
pkgfield() {
	awk -v p="$1" -v f="$2:" '
		/^Package: / { cur = $2 }
		cur == p && $1 == f { sub(/^[^:]*: /, ""); print; exit }' \
		"$(dists testsuite)/main/binary-$XB_ARCH/Packages"
}

pooldeb() {
	echo "$XB_FIXTURE/repo/$(pkgfield "$1" Filename)"
}

# check_release_hashes DIST: every SHA256 line of DIST's Release matches the file.
check_release_hashes() {
	local d hash size path bad=0
	d=$(dists "$1")
	while read -r hash size path; do
		[ "$(stat -c %s "$d/$path")" = "$size" ] || { echo "size of $path"; bad=1; }
		[ "$(sha256sum <"$d/$path" | cut -d' ' -f1)" = "$hash" ] || { echo "sha256 of $path"; bad=1; }
	done < <(sed -n '/^SHA256:/,/^[^ ]/{/^ /p}' "$d/Release")
	return $bad
}

@test "mkrepo: the layout is there" {
	local d
	d=$(dists testsuite)
	for f in InRelease Release Release.gpg main/binary-$XB_ARCH/Packages \
		main/binary-$XB_ARCH/Packages.xz main/binary-$XB_ARCH/Packages.gz \
		main/binary-all/Packages; do
		[ -s "$d/$f" ] || { echo "missing $f"; false; }
	done
	[ -s "$XB_KEYRING" ]
	[ -s "$XB_OTHER_KEYRING" ]
	[ -d "$XB_FIXTURE/gnupg" ]
	[ "$(cat "$XB_FIXTURE/hostdir-path")" = "$XB_HOSTDIR" ]
	[ -f "$XB_HOSTDIR/marker" ]
	[ "$(readlink "$XB_FIXTURE/repo/dists/testcode")" = testsuite ]
	[ "$(find "$XB_FIXTURE/bad" -name '*.deb' | wc -l)" -eq 8 ]
}

@test "mkrepo: Release describes the suite and hashes every index" {
	local r
	r=$(dists testsuite)/Release
	grep -qx 'Suite: testsuite' "$r"
	grep -qx 'Codename: testcode' "$r"
	grep -qx 'Components: main' "$r"
	grep -qx "Architectures: $XB_ARCH all" "$r"
	grep -q '^MD5Sum:' "$r"
	[ "$(sed -n '/^SHA256:/,$p' "$r" | grep -c ' main/binary-')" -eq 6 ]
	valid=$(date -d "$(sed -n 's/^Valid-Until: //p' "$r")" +%s)
	[ "$valid" -gt $(($(date +%s) + 9 * 365 * 86400)) ]
	run check_release_hashes testsuite
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "mkrepo: Packages hashes match the pool, except tampered's" {
	local pk
	pk=$(dists testsuite)/main/binary-$XB_ARCH/Packages
	cd "$XB_FIXTURE/repo"
	[ "$(grep -c '^Package: ' "$pk")" -eq 41 ]
	# one line per package, "SHA256  Filename" then "Size Filename"
	run sha256sum -c <(awk '/^SHA256: / { h = $2 } /^Filename: / { f = $2 }
		/^$/ { print h "  " f } END { print h "  " f }' "$pk")
	[ "$status" -ne 0 ]
	[ "$(grep -c ': OK$' <<<"$output")" -eq 40 ]
	grep -qx "$(pkgfield tampered Filename): FAILED" <<<"$output"
	diff <(awk '/^Size: / { s = $2 } /^Filename: / { f = $2 }
		/^$/ { print s, f } END { print s, f }' "$pk" | sort) \
		<(awk '/^Filename: / { print $2 }' "$pk" | xargs stat -c '%s %n' | sort)
	# the damage is in content, not in the format: it still unpacks
	dpkg-deb --fsys-tarfile "$(pooldeb tampered)" | tar -xO ./usr/share/tampered/README |
		grep -q 'the Bytes'
}

@test "mkrepo: packages carry the relations the tests rely on" {
	[ "$(pkgfield hostbase Essential)" = yes ]
	[ "$(pkgfield hostbase Priority)" = required ]
	[ "$(pkgfield mark-a Pre-Depends)" = hostbase ]
	[ "$(pkgfield dc-a Depends)" = hostdebconf ] && [ "$(pkgfield dc-b Depends)" = hostdebconf ]
	[ "$(pkgfield mark-a Depends)" = virt-b ]
	[ "$(pkgfield provider-b Provides)" = virt-b ]
	[ "$(pkgfield provider-b2 Provides)" = "virt-b (= 2.0)" ]
	[ "$(pkgfield mark-c Depends)" = "virt-b (>= 2.0)" ]
	[ "$(pkgfield mark-c Priority)" = extra ]
	[ "$(pkgfield alt-d Priority)" = required ]
	[ "$(pkgfield needs-missing Depends)" = does-not-exist ]
	[ "$(pkgfield evil-through Depends)" = evil-symlink ]
	dpkg-deb -I "$(pooldeb mark-a)" conffiles | grep -qx /etc/mark-a.conf
	dpkg-deb -I "$(pooldeb hostbase)" conffiles | grep -qx /etc/hostbase.conf
	dpkg-deb -I "$(pooldeb alt-d)" postinst | grep -q 'update-alternatives --install'
	# the data.tar compressions xboot must read
	ar t "$(pooldeb mark-a)" | grep -qx data.tar.xz
	ar t "$(pooldeb alt-d)" | grep -qx data.tar.zst
	ar t "$(pooldeb provider-b2)" | grep -qx data.tar.gz
	ar t "$(pooldeb needs-missing)" | grep -qx data.tar
	# binary-all holds only Architecture: all packages
	! grep -q "^Architecture: $XB_ARCH" "$(dists testsuite)/main/binary-all/Packages" || false
	grep -qx 'Package: mark-a' "$(dists testsuite)/main/binary-all/Packages"
}

@test "mkrepo: hostbase is merged-/usr and has what dpkg needs" {
	run dpkg-deb -c "$(pooldeb hostbase)"
	[ "$status" -eq 0 ]
	for l in bin sbin lib lib64; do
		grep -q " \./$l -> usr/$l\$" <<<"$output" || { echo "no ./$l symlink"; false; }
	done
	# nothing but those symlinks outside /usr, /etc, /var, /root, /tmp
	! grep -vE ' \./((usr|etc|var|root|tmp)/.*|(bin|sbin|lib|lib64) -> usr/.*)?$' <<<"$output" || false
	for f in usr/bin/dpkg usr/bin/dash usr/bin/update-alternatives usr/bin/dpkg-maintscript-helper \
		usr/share/dpkg/cputable etc/passwd etc/group; do
		grep -q " \./$f\$" <<<"$output" || { echo "no $f"; false; }
	done
	grep -q ' \./usr/bin/sh -> dash$' <<<"$output"
	# the dynamic loader at the path the programs ask for
	interp=$(readelf -lW /usr/bin/dpkg | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
	grep -qE " \.(/usr)?$interp( |\$)" <<<"$output"
}

@test "mkrepo: hostbase runs dpkg --configure in a chroot" {
	[ "$(id -u)" = 0 ] || skip "chroot needs root"
	local t=$BATS_TEST_TMPDIR/root n p f
	mkdir -p "$t/var/lib/dpkg/info" "$t/var/lib/dpkg/updates" "$t/var/lib/dpkg/triggers"
	for n in hostbase provider-b mark-a alt-d; do
		p=$(pooldeb "$n")
		dpkg-deb -x "$p" "$t"
		{ dpkg-deb -f "$p" | sed '/^Package:/a Status: install ok unpacked'; echo; } \
			>>"$t/var/lib/dpkg/status"
		dpkg-deb -e "$p" "$BATS_TEST_TMPDIR/ctl-$n"
		for f in "$BATS_TEST_TMPDIR/ctl-$n"/*; do
			[ "${f##*/}" = control ] || cp "$f" "$t/var/lib/dpkg/info/$n.${f##*/}"
		done
		dpkg-deb -c "$p" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||; s|^$|/.|' \
			>"$t/var/lib/dpkg/info/$n.list"
	done
	in_root() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$t" "$@"; }
	in_root /var/lib/dpkg/info/mark-a.preinst install
	run in_root dpkg --configure -a
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# shellcheck disable=SC2016 # dpkg-query's own ${field} syntax
	run in_root dpkg-query -W -f '${Package} ${Status}\n'
	[ "$(grep -c 'install ok installed' <<<"$output")" -eq 4 ]
	[ "$(cat "$t/var/lib/xboot-marks/mark-a")" = "$(printf 'preinst install\npostinst configure')" ]
	[ "$(in_root altcmd)" = alt-d ]
}

@test "mkrepo: the bad packages are bad in the intended way" {
	local b=$XB_FIXTURE/bad
	dpkg-deb --fsys-tarfile "$b"/evil-dotdot_*.deb | tar -t | grep -qx '\.\./x'
	dpkg-deb --fsys-tarfile "$b"/evil-abs_*.deb | tar -t 2>/dev/null | grep -qx '/etc/x'
	dpkg-deb -c "$b"/evil-symlink_*.deb | grep -q "\./escape -> $XB_HOSTDIR\$"
	dpkg-deb -c "$b"/evil-through_*.deb | grep -q '\./escape/pwned$'
	dpkg-deb --fsys-tarfile "$b"/evil-hardlink_*.deb | tar -tv 2>/dev/null | grep -q 'hostdir/marker$'
	run dpkg-deb -x "$b"/corrupt-xz_*.deb "$BATS_TEST_TMPDIR/x"
	[ "$status" -ne 0 ]
	dpkg-deb -I "$b"/corrupt-xz_*.deb >/dev/null # only the data is broken
	run dpkg-deb -I "$b"/corrupt-ar_*.deb
	[ "$status" -ne 0 ]
	cmp "$b"/tampered_*.deb "$(pooldeb tampered)"
}

@test "mkrepo: the extra suites break trust as described" {
	gpgv --keyring "$XB_KEYRING" "$(dists testsuite)/InRelease" 2>/dev/null
	gpgv --keyring "$XB_KEYRING" "$(dists testsuite)/Release.gpg" "$(dists testsuite)/Release" 2>/dev/null
	! gpgv --keyring "$XB_KEYRING" "$(dists othersigned)/InRelease" 2>/dev/null || false
	gpgv --keyring "$XB_OTHER_KEYRING" "$(dists othersigned)/InRelease" 2>/dev/null
	! gpgv --keyring "$XB_KEYRING" "$(dists unsigned)/InRelease" 2>/dev/null || false
	[ ! -e "$(dists unsigned)/Release.gpg" ]
	# appended: the signature is good, the text after it is not covered
	gpgv --keyring "$XB_KEYRING" "$(dists appended)/InRelease" 2>/dev/null
	tail -n 3 "$(dists appended)/InRelease" | grep -qx 'Package: evil'
	# expired: good signature, Valid-Until past
	gpgv --keyring "$XB_KEYRING" "$(dists expired)/InRelease" 2>/dev/null
	valid=$(date -d "$(sed -n 's/^Valid-Until: //p' "$(dists expired)/Release")" +%s)
	[ "$valid" -lt "$(date +%s)" ]
	run check_release_hashes expired
	[ "$status" -eq 0 ]
	# badpackages: good signature, indices that do not match it
	gpgv --keyring "$XB_KEYRING" "$(dists badpackages)/InRelease" 2>/dev/null
	run check_release_hashes badpackages
	[ "$status" -ne 0 ]
	grep -q "sha256 of main/binary-$XB_ARCH/Packages.xz" <<<"$output"
}

@test "mkrepo: reruns cleanly, also as an ordinary user" {
	local d as=()
	# not under $BATS_TEST_TMPDIR: an ordinary user cannot reach into bats' 0700 dirs
	d=$(mktemp -d "${TMPDIR:-/tmp}/xboot-fixture-again.XXXXXX")
	echo "$d" >"$BATS_TEST_TMPDIR/cleanup"
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
		chown nobody:nogroup "$d"
		as=(setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/nonexistent)
	fi
	"${as[@]}" "$XB_FIXTURES/mkrepo" "$d"
	"${as[@]}" touch "$d/repo/stale"
	"${as[@]}" "$XB_FIXTURES/mkrepo" "$d"
	[ ! -e "$d/repo/stale" ]
	[ ! -e "$d/stage" ]
	gpgv --keyring "$d/keyring.gpg" "$d/repo/dists/testsuite/InRelease" 2>/dev/null
	! gpgv --keyring "$XB_KEYRING" "$d/repo/dists/testsuite/InRelease" 2>/dev/null || false
	# no gpg-agent left running for that GNUPGHOME
	! pgrep -f "gpg-agent.*$d" >/dev/null || false
}

@test "server: serves InRelease, which verifies with the key and not the other" {
	local f=$BATS_TEST_TMPDIR/InRelease
	curl -sSf -o "$f" "$XB_REPO_URL/dists/$XB_SUITE/InRelease"
	cmp "$f" "$(dists testsuite)/InRelease"
	gpgv --keyring "$XB_KEYRING" "$f" 2>/dev/null
	! gpgv --keyring "$XB_OTHER_KEYRING" "$f" 2>/dev/null || false
	curl -sSf -o "$f" "$XB_REPO_URL/dists/$XB_CODENAME/InRelease"
	cmp "$f" "$(dists testsuite)/InRelease"
	grep -q "GET /dists/$XB_SUITE/InRelease ok 200" "$XB_SERVER_LOG"
}

@test "server: 404 for missing files and paths outside the root" {
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$XB_REPO_URL/dists/nosuch/InRelease")" = 404 ]
	[ "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$XB_REPO_URL/../../../etc/passwd")" = 404 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$XB_REPO_URL/dists/")" = 404 ]
}

@test "server: /_404 and /_500" {
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$(fixture_url 404)/dists/$XB_SUITE/InRelease")" = 404 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$(fixture_url 500)/dists/$XB_SUITE/InRelease")" = 500 ]
}

@test "server: /_truncate sends half the body, then closes" {
	local size
	size=$(stat -c %s "$(dists testsuite)/InRelease")
	run curl -sS -o "$BATS_TEST_TMPDIR/t" -w '%{size_download}' "$(fixture_url truncate)/dists/$XB_SUITE/InRelease"
	[ "$status" -eq 18 ] # partial file
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/t")" -eq $((size / 2)) ]
}

@test "server: /_oversize and /_oversize-nolen send a MiB too much" {
	local size mode
	size=$(stat -c %s "$(dists testsuite)/InRelease")
	for mode in oversize oversize-nolen; do
		curl -sSf -o "$BATS_TEST_TMPDIR/o" "$(fixture_url $mode)/dists/$XB_SUITE/InRelease"
		[ "$(stat -c %s "$BATS_TEST_TMPDIR/o")" -eq $((size + 1048576)) ]
		head -c "$size" "$BATS_TEST_TMPDIR/o" | cmp - "$(dists testsuite)/InRelease"
	done
	curl -sS -I "$(fixture_url oversize)/dists/$XB_SUITE/InRelease" |
		grep -qi "^content-length: $((size + 1048576))"
	! curl -sS -I "$(fixture_url oversize-nolen)/dists/$XB_SUITE/InRelease" | grep -qi '^content-length' || false
}

@test "server: /_stall never finishes" {
	local start
	start=$(date +%s)
	run curl -sS --max-time 3 -o /dev/null "$(fixture_url stall)/dists/$XB_SUITE/InRelease"
	[ "$status" -eq 28 ] # timed out
	[ $(($(date +%s) - start)) -lt 10 ]
}

@test "server: /_redirect answers 302 to the real path" {
	run curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$(fixture_url redirect)/dists/$XB_SUITE/Release"
	[ "$output" = "302 $XB_REPO_URL/dists/$XB_SUITE/Release" ]
	curl -sSfL "$(fixture_url redirect)/dists/$XB_SUITE/Release" | cmp - "$(dists testsuite)/Release"
}

@test "server: /_flip changes one byte, keeps the size" {
	local f=$BATS_TEST_TMPDIR/flip
	curl -sSf -o "$f" "$(fixture_url flip)/dists/$XB_SUITE/main/binary-$XB_ARCH/Packages.xz"
	run cmp -l "$f" "$(dists testsuite)/main/binary-$XB_ARCH/Packages.xz"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "server: /_slow still delivers the whole file" {
	curl -sSf --max-time 20 "$(fixture_url slow)/dists/$XB_SUITE/Release" | cmp - "$(dists testsuite)/Release"
}

@test "server: byte ranges" {
	[ "$(curl -sSf -r 0-5 "$XB_REPO_URL/dists/$XB_SUITE/Release")" = "Origin" ]
	[ "$(curl -sS -r 0-5 -o /dev/null -w '%{http_code}' "$XB_REPO_URL/dists/$XB_SUITE/Release")" = 206 ]
}

@test "server: the rules file applies per path and is re-read every request" {
	local u=$XB_REPO_URL/dists/$XB_SUITE
	fixture_rules "Release.gpg 404" "binary-$XB_ARCH/Packages.xz redirect"
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$u/Release.gpg")" = 404 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$u/Release")" = 200 ]
	# a rule's redirect leads to /_ok/, which ignores the rules, so it cannot loop
	curl -sSfL -o "$BATS_TEST_TMPDIR/p" "$u/main/binary-$XB_ARCH/Packages.xz"
	cmp "$BATS_TEST_TMPDIR/p" "$(dists testsuite)/main/binary-$XB_ARCH/Packages.xz"
	grep -q "GET /_ok/dists/$XB_SUITE/main/binary-$XB_ARCH/Packages.xz ok 200" "$XB_SERVER_LOG"
	fixture_rules
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$u/Release.gpg")" = 200 ]
}

@test "server: exits on SIGTERM, even with a stalled client" {
	local started pid port
	started=$(fixture_start_server "$XB_FIXTURE/repo" "$BATS_TEST_TMPDIR/srv")
	pid=${started% *} port=${started#* }
	curl -s --max-time 30 -o /dev/null "http://127.0.0.1:$port/_stall/dists/$XB_SUITE/Release" 3>&- &
	sleep 0.5
	kill "$pid"
	for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$pid" 2>/dev/null || false
	wait
}

@test "server: exits by itself after --lifetime" {
	local started pid
	started=$(fixture_start_server "$XB_FIXTURE/repo" "$BATS_TEST_TMPDIR/srv" 1)
	pid=${started% *}
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$pid" 2>/dev/null || false
}

@test "helpers: mounts_under sees a mount below a directory and nothing after" {
	[ "$(id -u)" = 0 ] || skip "mounting needs root"
	local d="$BATS_TEST_TMPDIR/m with space"
	mkdir -p "$d/sub"
	[ -z "$(mounts_under "$d")" ]
	mount -t tmpfs xboot-test "$d/sub"
	run mounts_under "$d"
	umount "$d/sub"
	[ "${#lines[@]}" -eq 1 ]
	grep -q 'xboot-test' <<<"$output"
	[ -z "$(mounts_under "$d")" ]
	[ -z "$(mounts_under "${d}x")" ]
}

@test "helpers: binfmt_snapshot is stable and changes nothing" {
	local before after
	before=$(mounts_under /proc)
	a=$(binfmt_snapshot)
	b=$(binfmt_snapshot)
	[ -n "$a" ]
	[ "$a" = "$b" ]
	after=$(mounts_under /proc)
	[ "$before" = "$after" ]
}

@test "helpers: host_mirror reads the host's apt configuration" {
	run host_mirror
	[ "$status" -eq 0 ] || skip "no Debian mirror in the host's apt configuration"
	[[ $output =~ ^[a-z+]+://[^[:space:]]+/debian$ ]]
	[ "${#lines[@]}" -eq 1 ]
}
