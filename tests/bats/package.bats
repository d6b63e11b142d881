#!/usr/bin/env bats
# Installed the Debian way: the package built from this tree (tests/package-build:
# dpkg-buildpackage, lintian without errors), what it installs, and the
# installed xboot at work with no checkout in reach; `make install PREFIX=`.

load helpers

setup_file() {
	export PKG=$BATS_FILE_TMPDIR/pkg
	"$XB_SRC/tests/package-build" "$PKG" >"$BATS_FILE_TMPDIR/build.out" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/build.out" >&2; return 1; }
	export DEB=$(ls "$PKG"/xboot_*.deb)
	export WANT_VERSION=$(dpkg-parsechangelog -l "$XB_SRC/debian/changelog" -S Version)
	export CACHE=${XB_TEST_CACHE:-/var/cache/xboot-tests}
	# a run killed before its teardown left the package it installed (and
	# only that one: the mark is made just before dpkg -i)
	export MARK=$CACHE/.package-test-installed
	if [ -e "$MARK" ]; then
		dpkg -P xboot >/dev/null 2>&1 || true
		rm -f "$MARK"
	fi
}

# hidden CMD...: CMD in a mount namespace where the checkout is an empty tmpfs.
hidden() {
	unshare -m sh -c 'mount -t tmpfs none "$0" && cd / && exec "$@"' "$XB_SRC" "$@"
}

@test "package: lintian reports no error; the package holds the binary, templates, man page, completion" {
	run grep '^E:' "$PKG/lintian.log"
	[ "$status" -eq 1 ]
	run dpkg-deb -c "$DEB"
	for f in ./usr/bin/xboot ./usr/share/xboot/debian.conf ./usr/share/xboot/ubuntu.conf \
		./usr/share/xboot/devuan.conf ./usr/share/xboot/raspbian.conf \
		./usr/share/man/man1/xboot.1.gz ./usr/share/bash-completion/completions/xboot \
		./usr/share/zsh/vendor-completions/_xboot; do
		grep -q " $f\$" <<<"$output" || { echo "missing $f"; false; }
	done
	[ "$(dpkg-deb -f "$DEB" Version)" = "$WANT_VERSION" ]
	dpkg-deb -f "$DEB" Depends | grep -q gpgv
	dpkg-deb -f "$DEB" Recommends | grep -q 'qemu-user-static | qemu-user'
	# no path of the build tree inside the binary
	dpkg-deb -x "$DEB" "$BATS_TEST_TMPDIR/x"
	run grep -c "$PKG/xboot" "$BATS_TEST_TMPDIR/x/usr/bin/xboot"
	[ "$output" = 0 ]
}

@test "package: installed, it bootstraps trixie minbase amd64 with no checkout present" {
	if dpkg-query -W -f='${Status}' xboot 2>/dev/null | grep -q 'ok installed'; then
		skip "an xboot package is installed on this machine already"
	fi
	mkdir -p "$CACHE"
	touch "$BATS_TEST_TMPDIR/installed" "$MARK"
	dpkg -i "$DEB"
	run hidden /usr/bin/xboot --version
	[ "$output" = "xboot $WANT_VERSION" ]
	run hidden /usr/bin/xboot --list=distributions
	[ "$output" = "$(printf 'debian\ndevuan\nraspbian\nubuntu')" ]
	run hidden /usr/bin/xboot -q --variant=minbase --arch=amd64 --cache-dir="$CACHE" \
		trixie "$BATS_TEST_TMPDIR/root.tar" "$(tests/host-mirror 2>/dev/null || "$XB_SRC/tests/host-mirror")"
	echo "$output"
	[ "$status" -eq 0 ]
	tar -tf "$BATS_TEST_TMPDIR/root.tar" | grep -qx './usr/bin/apt'
	tar -xOf "$BATS_TEST_TMPDIR/root.tar" ./etc/debian_version | grep -q '^13'
	# the completion the package installs answers as the tree's does
	run bash -c '. /usr/share/bash-completion/completions/xboot; COMP_WORDS=(xboot --var); COMP_CWORD=1; _xboot; echo "${COMPREPLY[@]}"'
	[ "$output" = "--variant=" ]
}

# The package the test installed goes again, whatever the test's outcome.
teardown() {
	if [[ $BATS_TEST_DESCRIPTION == "package: installed"* ]] && [ -e "$BATS_TEST_TMPDIR/installed" ]; then
		dpkg -P xboot >/dev/null
		rm -f "$MARK"
	fi
}

@test "make install PREFIX=: the binary finds its templates there, and no path of the tree is in it" {
	local p=$BATS_TEST_TMPDIR/prefix
	make -s -C "$XB_SRC" install PREFIX="$p" >/dev/null
	[ -x "$p/bin/xboot" ] && [ -f "$p/share/xboot/debian.conf" ] &&
		[ -f "$p/share/man/man1/xboot.1" ] && [ -f "$p/share/bash-completion/completions/xboot" ]
	# (the debugging information names the sources, as every -g build's does);
	# the tree's path alone or followed by a slash, since a short one (/src)
	# is also part of /var/cache/apt/srcpkgcache.bin
	objcopy --strip-debug "$p/bin/xboot" "$BATS_TEST_TMPDIR/stripped"
	run bash -c 'strings -n 2 "$1" | awk -v p="$2" '"'"'$0 == p || index($0, p "/") { n++ } END { print n + 0 }'"'"'' \
		_ "$BATS_TEST_TMPDIR/stripped" "$XB_SRC"
	[ "$output" = 0 ]
	run hidden "$p/bin/xboot" --list=distributions
	[ "$output" = "$(printf 'debian\ndevuan\nraspbian\nubuntu')" ]
	run hidden "$p/bin/xboot" --variant=nosuch trixie /tmp/nothing-here
	[ "$status" -eq 2 ]
	grep -q 'known: extract' <<<"$output"
}
