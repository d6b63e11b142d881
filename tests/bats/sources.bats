#!/usr/bin/env bats
# Packages from where users keep them: local .debs, versions and suites in
# --include, flat repositories, per-source options; on the hermetic
# repository and ones the tests make beside it.

load helpers
hermetic

setup() {
	hermetic_setup
	fixture_rules
}

# mkdeb DIR NAME VERSION [DEPENDS [RECOMMENDS]]: a small Architecture: all
# package, in DIR/NAME_VERSION_all.deb with the epoch's colon as apt's %3a.
mkdeb() {
	local dir=$1 name=$2 version=$3 depends=${4:-} recommends=${5:-} stage
	stage=$(mktemp -d)
	mkdir -p "$stage/DEBIAN" "$stage/usr/share/$name"
	echo "$name $version" >"$stage/usr/share/$name/stamp"
	{
		printf 'Package: %s\nVersion: %s\nArchitecture: all\n' "$name" "$version"
		printf 'Maintainer: xboot tests <t@xboot.invalid>\nDescription: test package\n'
		[ -z "$depends" ] || printf 'Depends: %s\n' "$depends"
		[ -z "$recommends" ] || printf 'Recommends: %s\n' "$recommends"
	} >"$stage/DEBIAN/control"
	dpkg-deb --root-owner-group -b "$stage" "$dir/${name}_${version/:/%3a}_all.deb" >&2
	rm -rf "$stage"
}

installed() {
	chroot "$T" dpkg-query -W -f '${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null
}

@test "--include takes a local .deb: it joins the resolution, its dependencies from the archive" {
	local d=$BATS_TEST_TMPDIR/debs
	mkdir -p "$d"
	mkdeb "$d" local-tool 2.0 mark-c
	cd "$BATS_TEST_TMPDIR"
	xb --variant=essential --include=./debs/local-tool_2.0_all.deb "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(installed local-tool)" = "ii  2.0" ]
	[ "$(installed mark-c | cut -c1-3)" = "ii " ]
	[ "$(cat "$T/usr/share/local-tool/stamp")" = "local-tool 2.0" ]
	grep -q "local package local-tool 2.0 all from $d/local-tool_2.0_all.deb" "$T/var/log/xboot.log" ||
		[[ $stderr == *"local package local-tool 2.0 all"* ]]
}

@test "--include takes NAME=VERSION and NAME/SUITE; one not there is refused before any download" {
	xb --variant=essential --include=mark-c=1.0,mark-a/"$XB_SUITE" "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(installed mark-c)" = "ii  1.0" ]
	rm -rf "$T"
	xb --variant=essential --include=mark-c=9.9 "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -ne 0 ]
	[[ $stderr == *"package mark-c=9.9 not found in the indices (with that version or suite)"* ]]
	[ ! -e "$T/var/lib/dpkg/status" ]
}

# flatrepo DIR KEY|-: a flat repository of DIR's .debs, its InRelease signed
# by the fixture's KEY (a fingerprint), or with - a plain Release only.
flatrepo() {
	local dir=$1 key=$2
	(
		cd "$dir"
		dpkg-scanpackages -m . /dev/null 2>/dev/null >Packages
		xz -k Packages
		{
			echo "Date: $(date -Ru)"
			echo "SHA256:"
			for f in Packages Packages.xz; do
				echo " $(sha256sum <"$f" | cut -d' ' -f1) $(stat -c %s "$f") $f"
			done
		} >Release
		[ "$key" = - ] && exit 0
		GNUPGHOME=$XB_FIXTURE/gnupg gpg --batch --quiet --yes --local-user "$key" \
			--digest-algo SHA256 --clearsign -o InRelease Release
	)
}

fixture_keys() {
	# shellcheck disable=SC1091
	. "$XB_FIXTURE/fixture.env"
}

@test "a flat repository (deb URI ./) whose file names hold %3a" {
	local flat=$BATS_TEST_TMPDIR/flat
	fixture_keys
	mkdir -p "$flat"
	mkdeb "$flat" flat-pkg 1:1.0 mark-c
	flatrepo "$flat" "$XB_FIXTURE_KEY"
	grep -q '^Filename: ./flat-pkg_1%3a1.0_all.deb$' "$flat/Packages"
	xb --variant=essential --include=flat-pkg "$XB_SUITE" "$T" "$XB_REPO_URL" "deb file://$flat ./"
	[ "$status" -eq 0 ]
	[ "$(installed flat-pkg)" = "ii  1:1.0" ]
	grep -qx "deb file://$flat ./" "$T/etc/apt/sources.list"
}

@test "[signed-by=] verifies its source only, beside the archive's keyring; without it, refused" {
	local vendor=$BATS_TEST_TMPDIR/vendor
	fixture_keys
	mkdir -p "$vendor"
	mkdeb "$vendor" vendor-pkg 1.0
	flatrepo "$vendor" "$XB_FIXTURE_OTHER_KEY"
	xb --variant=essential --include=vendor-pkg "$XB_SUITE" "$T" "$XB_REPO_URL" \
		"deb [signed-by=$XB_OTHER_KEYRING] file://$vendor ./"
	[ "$status" -eq 0 ]
	[ "$(installed vendor-pkg)" = "ii  1.0" ]
	[ "$(printf '%s\n' "$stderr" | grep -c 'signature verified')" -eq 2 ]
	rm -rf "$T"
	xb --variant=essential --include=vendor-pkg "$XB_SUITE" "$T" "$XB_REPO_URL" "deb file://$vendor ./"
	[ "$status" -ne 0 ]
	[[ $stderr == *"xboot: error: "*"$vendor"* ]]
}

@test "deb822 Signed-By with the key inline; [trusted=yes]; [arch=] of another architecture" {
	local vendor=$BATS_TEST_TMPDIR/vendor open=$BATS_TEST_TMPDIR/open
	fixture_keys
	mkdir -p "$vendor" "$open"
	mkdeb "$vendor" vendor-pkg 1.0
	mkdeb "$open" open-pkg 1.0
	flatrepo "$vendor" "$XB_FIXTURE_OTHER_KEY"
	flatrepo "$open" -
	{
		printf 'Types: deb\nURIs: file://%s\nSuites: ./\nSigned-By:\n' "$vendor"
		GNUPGHOME=$XB_FIXTURE/gnupg gpg --batch --armor --export "$XB_FIXTURE_OTHER_KEY" |
			sed 's/^$/./; s/^/ /'
	} >"$BATS_TEST_TMPDIR/vendor.sources"
	xb --variant=essential --include=vendor-pkg,open-pkg "$XB_SUITE" "$T" "$XB_REPO_URL" \
		"$BATS_TEST_TMPDIR/vendor.sources" "deb [trusted=yes] file://$open ./" \
		"deb [arch=no-such-arch] file:///nonexistent ./"
	[ "$status" -eq 0 ]
	[ "$(installed vendor-pkg)" = "ii  1.0" ] && [ "$(installed open-pkg)" = "ii  1.0" ]
	[[ $stderr == *"file://$open: suite ./, signature NOT checked"* ]]
}

@test "a setup hook's sources.list.d entry and trusted.gpg.d key take effect for the bootstrap" {
	local vendor=$BATS_TEST_TMPDIR/vendor
	fixture_keys
	mkdir -p "$vendor"
	mkdeb "$vendor" vendor-pkg 1.0
	flatrepo "$vendor" "$XB_FIXTURE_OTHER_KEY"
	cp "$XB_OTHER_KEYRING" "$BATS_TEST_TMPDIR/vendor.gpg"
	xb --variant=essential --include=vendor-pkg \
		--setup-hook='mkdir -p "$1/etc/apt/sources.list.d" "$1/etc/apt/trusted.gpg.d"' \
		--setup-hook="upload $BATS_TEST_TMPDIR/vendor.gpg /etc/apt/trusted.gpg.d/vendor.gpg" \
		--setup-hook="echo 'deb file://$vendor ./' >\"\$1/etc/apt/sources.list.d/vendor.list\"" \
		"$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(installed vendor-pkg)" = "ii  1.0" ]
	[[ $stderr == *"file://$vendor: suite ./, signature verified"* ]]
	# the entry stays where the hook put it, and only there
	grep -qx "deb file://$vendor ./" "$T/etc/apt/sources.list.d/vendor.list"
	! grep -q vendor "$T/etc/apt/sources.list" || false
}

@test "no SUITE, the sources on stdin; an empty stdin when a setup hook writes them" {
	printf 'deb %s %s main\n' "$XB_REPO_URL" "$XB_SUITE" >"$BATS_TEST_TMPDIR/in.list"
	"$XB" --keyring="$XB_KEYRING" --cache-dir="$CACHE" --variant=essential \
		<"$BATS_TEST_TMPDIR/in.list" >"$BATS_TEST_TMPDIR/out.tar"
	tar -tf "$BATS_TEST_TMPDIR/out.tar" | grep -qx './var/lib/dpkg/status'
	xb --variant=essential \
		--setup-hook='mkdir -p "$1/etc/apt"' \
		--setup-hook="upload $BATS_TEST_TMPDIR/in.list /etc/apt/sources.list" \
		"$XB_SUITE" "$T" - </dev/null
	[ "$status" -eq 0 ]
	[ "$(cat "$T/etc/apt/sources.list")" = "$(cat "$BATS_TEST_TMPDIR/in.list")" ]
}

@test "--aptopt APT::Install-Recommends \"true\" brings the Recommends, as apt would" {
	local d=$BATS_TEST_TMPDIR/debs
	mkdir -p "$d"
	mkdeb "$d" rec-tool 1.0 "" mark-c
	xb --variant=essential --include="$d/rec-tool_1.0_all.deb" "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(installed mark-c | cut -c1-2)" != "ii" ]
	rm -rf "$T"
	xb --variant=essential --include="$d/rec-tool_1.0_all.deb" \
		--aptopt='APT::Install-Recommends "true"' "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(installed mark-c | cut -c1-3)" = "ii " ]
}

@test "no MIRROR: of the host's apt mirrors, the one with SUITE and Origin Debian" {
	local etc=$BATS_TEST_TMPDIR/etc deb=$BATS_TEST_TMPDIR/debian d
	fixture_keys
	d=$deb/dists/$XB_SUITE
	mkdir -p "$etc" "$d"
	cp -al "$XB_FIXTURE/repo/pool" "$deb/pool"
	cp -r "$XB_FIXTURE/repo/dists/$XB_SUITE/." "$d/"
	sed -i 's/^Origin: .*/Origin: Debian/' "$d/Release"
	rm -f "$d/InRelease" "$d/Release.gpg"
	GNUPGHOME=$XB_FIXTURE/gnupg gpg --batch --quiet --yes --local-user "$XB_FIXTURE_KEY" \
		--digest-algo SHA256 --clearsign -o "$d/InRelease" "$d/Release"
	# the first is another origin's, the second Debian's
	printf 'deb %s %s main\ndeb file://%s %s main\n' "$XB_REPO_URL" "$XB_SUITE" "$deb" "$XB_SUITE" \
		>"$etc/sources.list"
	XBOOT_APT_ETC=$etc xb --variant=essential "$XB_SUITE" "$T"
	[ "$status" -eq 0 ]
	[[ $stderr == *"file://$deb: suite $XB_SUITE"* ]]
	! printf '%s\n' "$stderr" | grep -q '^xboot: error' || false
	grep -qx "deb file://$deb $XB_SUITE main" "$T/etc/apt/sources.list"
}

# mkdeb_arch DIR NAME ARCH MULTI-ARCH|- [DEPENDS]: a package of ARCH with a file
# in its architecture's library directory, a copyright file the same in every
# architecture, and a postinst that writes down what dpkg would tell it.
mkdeb_arch() {
	local dir=$1 name=$2 arch=$3 ma=$4 depends=${5:-} stage
	stage=$(mktemp -d)
	mkdir -p "$stage/DEBIAN" "$stage/usr/share/doc/$name" "$stage/usr/lib/$arch-xb"
	echo "$name, in any architecture" >"$stage/usr/share/doc/$name/copyright"
	echo "$name for $arch" >"$stage/usr/lib/$arch-xb/$name.so"
	{
		printf 'Package: %s\nVersion: 1.0\nArchitecture: %s\n' "$name" "$arch"
		[ "$ma" = - ] || printf 'Multi-Arch: %s\n' "$ma"
		printf 'Maintainer: xboot tests <t@xboot.invalid>\nDescription: test package\n'
		[ -z "$depends" ] || printf 'Depends: %s\n' "$depends"
	} >"$stage/DEBIAN/control"
	cat >"$stage/DEBIAN/postinst" <<-'SH'
	#!/bin/sh
	mkdir -p /var/lib/ma-marks
	echo "$DPKG_MAINTSCRIPT_PACKAGE $DPKG_MAINTSCRIPT_ARCH $1" >>/var/lib/ma-marks/log
	SH
	chmod 755 "$stage/DEBIAN/postinst"
	dpkg-deb --root-owner-group -b "$stage" "$dir/${name}_1.0_$arch.deb" >&2
	rm -rf "$stage"
}

@test "--architectures=NATIVE,FOREIGN: a foreign package, its dependencies met as dpkg meets them" {
	local ma=$BATS_TEST_TMPDIR/ma na fa=i386
	na=$(dpkg --print-architecture)
	[ "$na" != i386 ] || fa=amd64
	fixture_keys
	mkdir -p "$ma"
	mkdeb_arch "$ma" ma-lib "$na" same
	mkdeb_arch "$ma" ma-lib "$fa" same
	mkdeb_arch "$ma" ma-conf all foreign
	mkdeb_arch "$ma" ma-tool "$fa" - "ma-lib, ma-conf"
	mkdeb_arch "$ma" ma-bad "$fa" - "mark-c"
	flatrepo "$ma" "$XB_FIXTURE_KEY"
	xb --variant=essential --architectures="$na,$fa" --include="ma-tool:$fa,ma-lib" \
		"$XB_SUITE" "$T" "$XB_REPO_URL" "deb file://$ma ./"
	[ "$status" -eq 0 ]
	# the hermetic suite has no packages of $fa: apt skips it for $fa, and so does xboot
	[[ $stderr == *"suite $XB_SUITE has no $fa packages, none taken from it"* ]]
	[ "$(chroot "$T" dpkg --print-foreign-architectures)" = "$fa" ]
	run chroot "$T" dpkg-query -W -f '${db:Status-Abbrev}${binary:Package}\n' 'ma-*'
	[ "$(echo "$output" | sort)" = "$(printf 'ii ma-conf\nii ma-lib:%s\nii ma-lib:%s\nii ma-tool:%s' \
		"$(printf '%s\n' "$na" "$fa" | sort | head -1)" "$(printf '%s\n' "$na" "$fa" | sort | tail -1)" "$fa")" ]
	run -0 chroot "$T" dpkg --audit
	[ -z "$output" ]
	chroot "$T" dpkg -L "ma-lib:$fa" | grep -qx "/usr/lib/$fa-xb/ma-lib.so"
	chroot "$T" dpkg -L "ma-lib:$na" | grep -qx "/usr/share/doc/ma-lib/copyright"
	[ "$(cat "$T/usr/lib/$fa-xb/ma-lib.so")" = "ma-lib for $fa" ]
	grep -qx "ma-lib $na configure" "$T/var/lib/ma-marks/log"
	grep -qx "ma-lib $fa configure" "$T/var/lib/ma-marks/log"
	grep -qx "ma-tool $fa configure" "$T/var/lib/ma-marks/log"

	# mark-c is Architecture: all and not Multi-Arch: foreign: dpkg counts it
	# native, so it cannot meet a $fa package's Depends
	rm -rf "$T"
	xb --variant=essential --architectures="$na,$fa" --include="ma-bad:$fa" \
		"$XB_SUITE" "$T" "$XB_REPO_URL" "deb file://$ma ./"
	[ "$status" -ne 0 ]
	[[ $stderr == *"cannot resolve the package set"*"mark-c"* ]]
	# and without $fa among the architectures, there is no ma-tool:$fa
	xb --variant=essential --include="ma-tool:$fa" "$XB_SUITE" "$T" "$XB_REPO_URL" "deb file://$ma ./"
	[ "$status" -ne 0 ]
	[[ $stderr == *"package ma-tool:$fa not found"* ]]
}

# mkdeb_script DIR NAME POSTINST: an Architecture: all package whose postinst
# is the text POSTINST.
mkdeb_script() {
	local stage
	stage=$(mktemp -d)
	mkdir -p "$stage/DEBIAN"
	printf 'Package: %s\nVersion: 1.0\nArchitecture: all\nMaintainer: xboot tests <t@xboot.invalid>\nDescription: test package\n' \
		"$2" >"$stage/DEBIAN/control"
	printf '#!/bin/sh\nset -e\n%s\n' "$3" >"$stage/DEBIAN/postinst"
	chmod 755 "$stage/DEBIAN/postinst"
	dpkg-deb --root-owner-group -b "$stage" "$1/$2_1.0_all.deb" >&2
	rm -rf "$stage"
}

@test "a script that diverts with --rename runs alone: another's use of the diverted file never fails" {
	local d=$BATS_TEST_TMPDIR/div
	fixture_keys
	mkdir -p "$d"
	# bookworm's dash does this to /bin/sh, which every other script runs
	mkdeb_script "$d" div-a 'dpkg-divert --package div-a --rename --divert /usr/bin/env.real --add /usr/bin/env
sleep 2
dpkg-divert --package div-a --rename --remove /usr/bin/env'
	mkdeb_script "$d" use-b 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
/usr/bin/env true; sleep 0.1; done'
	flatrepo "$d" "$XB_FIXTURE_KEY"
	xb --variant=essential --script-jobs=4 --include=div-a,use-b "$XB_SUITE" "$T" "$XB_REPO_URL" \
		"deb file://$d ./"
	[ "$status" -eq 0 ]
	[ "$(chroot "$T" dpkg-query -W -f '${db:Status-Abbrev}\n' div-a use-b)" = "$(printf 'ii \nii ')" ]
	[ -x "$T/usr/bin/env" ] && [ ! -e "$T/usr/bin/env.real" ]
}
