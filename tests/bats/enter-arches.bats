#!/usr/bin/env bats
# xboot enter on every architecture qemu-user runs (issue 16, part 1): tiny
# trees with no dpkg, as a firmware image gives them, whose architecture
# only the ELF header of a program tells: static probes cross-built once per
# run (tests/fixtures/mkprobes, cached under $XB_TEST_CACHE/probes), a
# dynamic one whose loader sits at a musl path, and a mipsel busybox-static
# tree from bookworm's archive.  Nothing may stay behind: no binfmt_misc
# entry on the host, nothing mounted.

load helpers
load enter-helpers

# Not enter-helpers' own: these tests need none of the shared trees.
setup_file() {
	export XB="$BATS_TEST_DIRNAME/../../xboot"
	export CACHE=${XB_TEST_CACHE:-/var/cache/xboot-tests}
	[ "$(id -u)" = 0 ] || skip "needs root"
	P=$("$XB_FIXTURES/mkprobes" "$CACHE/probes")
	W=$(mktemp -d /var/tmp/xboot-arches.XXXXXX)
	export P W
	host_binfmt >"$W/binfmt-before"
	for t in mips:mips ppc:powerpc m68k:m68k sh4:sh4; do
		mkdir -p "$W/${t#*:}/bin"
		cp "$P/probe-${t%%:*}" "$W/${t#*:}/bin/probe"
	done
}

teardown_file() {
	local m
	[ -n "${W:-}" ] || return 0
	for m in $(mounts_under "$W" | awk '{print $5}' | sort -r); do
		umount -l "$m"
	done
	rm -rf "$W"
}

# no_emu_error ARCH QEMU: the line xboot says when qemu-QEMU is missing:
# the package the static emulators are in on this host, and its name for
# the emulator (trixie's qemu-user has qemu-Q, bookworm's qemu-user-static
# qemu-Q-static).
no_emu_error() {
	local pkg=qemu-user-static suffix=-static
	# shellcheck disable=SC1091
	if (. /etc/os-release && [ "$ID" = debian ] && [ "${VERSION_ID:-99}" -ge 13 ]); then
		pkg=qemu-user suffix=
	fi
	echo "xboot: error: no emulator for $1: install $pkg (qemu-$2$suffix not found)"
}

# without_emu QEMU CMD...: CMD in a mount namespace of its own where every
# name xboot looks for qemu-QEMU under is an empty file.
without_emu() {
	local q=$1
	shift
	Q=$q unshare --mount --propagation private bash -c '
		: >"$W/empty"
		for f in /usr/bin/qemu-$Q-static /usr/local/bin/qemu-$Q-static /usr/bin/qemu-$Q \
			/usr/local/bin/qemu-$Q /usr/libexec/qemu-binfmt/$Q-binfmt-P; do
			[ -e "$f" ] || continue
			mount --bind "$W/empty" "$(realpath "$f")" || exit 125
		done
		exec "$@"' _ "$@"
}

@test "static probes, no dpkg, no /bin/sh: the ELF header picks the emulator of mips, ppc, m68k, sh4" {
	local t deb machine
	for t in mips:mips powerpc:ppc m68k:m68k sh4:sh4; do
		deb=${t%%:*} machine=${t#*:}
		run --separate-stderr "$XB" enter -v "$W/$deb" /bin/probe
		echo "$deb: $output; stderr: $stderr"
		[ "$status" -eq 0 ]
		[ "$output" = "$machine" ]
		emu_said "$deb" "$machine"
	done
	[ -z "$(mounts_under "$W")" ]
}

@test "--arch overrides the ELF header, by Debian or qemu name; an unknown name is a usage error" {
	local tree=$W/override
	mkdir -p "$tree/bin"
	# /bin/sh says m68k, whose emulator is hidden; the command is mips
	cp "$P/probe-m68k" "$tree/bin/sh"
	cp "$P/probe-mips" "$tree/bin/probe"
	run --separate-stderr without_emu m68k "$XB" enter "$tree" /bin/probe
	echo "stderr: $stderr"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$(no_emu_error m68k m68k)" ]
	run --separate-stderr without_emu m68k "$XB" enter -v --arch=mips "$tree" /bin/probe
	echo "$output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = mips ]
	emu_said mips mips
	# powerpc is qemu's ppc
	run --separate-stderr "$XB" enter -v --arch=ppc "$W/powerpc" /bin/probe
	[ "$status" -eq 0 ]
	[ "$output" = ppc ]
	emu_said powerpc ppc
	run --separate-stderr "$XB" enter --arch=vax "$W/mips" /bin/probe
	echo "stderr: $stderr"
	[ "$status" -eq 2 ]
	[ "$(echo "$stderr" | grep -c .)" = 1 ]
	[[ $stderr == "xboot: error: --arch=vax: unknown architecture (known, "*" powerpc/ppc "*" m68k "* ]]
}

@test "an emulator that is not installed, or a machine no qemu runs: one line, naming the package" {
	local tree=$W/odd
	run --separate-stderr without_emu sh4 "$XB" enter "$W/sh4" /bin/probe
	echo "stderr: $stderr"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$(no_emu_error sh4 sh4)" ]
	# e_machine 0x1234 (big-endian at 18): no target has it
	mkdir -p "$tree/bin"
	cp "$P/probe-mips" "$tree/bin/sh"
	printf '\022\064' | dd of="$tree/bin/sh" bs=1 seek=18 conv=notrunc status=none
	run --separate-stderr "$XB" enter "$tree" /bin/sh
	echo "stderr: $stderr"
	[ "$status" -eq 1 ]
	[ "$stderr" = "xboot: error: $tree: /bin/sh is an ELF file for machine 0x1234 (32-bit big-endian), which no qemu-user emulator runs; give --arch if that is wrong" ]
}

@test "no shell and no command: the shells looked for are named" {
	run --separate-stderr "$XB" enter --network=none "$W/m68k"
	echo "$output; stderr: $stderr"
	[ "$status" -eq 125 ]
	[ "$(stderr_but_chrooted)" = "xboot: error: no shell in the root (looked for /bin/sh, /bin/bash, /bin/ash, /usr/bin/bash, /bin/busybox, /usr/bin/busybox); give a command to run" ]
}

@test "a dynamic mips program: its loader, at a musl path, is found inside the tree" {
	local tree=$W/dyn
	mkdir -p "$tree/bin" "$tree/lib"
	cp "$P/probe-mips-dyn" "$tree/bin/probe"
	cp /usr/mips-linux-gnu/lib/ld.so.1 "$tree/lib/ld-musl-mips.so.1"
	cp -L /usr/mips-linux-gnu/lib/libc.so.6 "$tree/lib/"
	run --separate-stderr "$XB" enter "$tree" /bin/probe
	echo "$output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = mips ]
	# and only there: without it, the program cannot start
	rm "$tree/lib/ld-musl-mips.so.1"
	run --separate-stderr "$XB" enter "$tree" /bin/probe
	[ "$status" -ne 0 ]
}

@test "a mipsel busybox-static tree from bookworm, no dpkg: busybox sh, and busybox as the shell" {
	local tree=$W/busybox
	run --separate-stderr "$XB" -q --arch=mipsel --variant=extract --include=busybox-static \
		--cache-dir="$CACHE" bookworm "$tree"
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	rm -rf "$tree/var/lib/dpkg"
	[ ! -e "$tree/bin/sh" ]
	run --separate-stderr "$XB" enter -v "$tree" busybox sh -c 'echo $((6*7)); uname -m'
	echo "$output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '42\nmips')" ]
	emu_said mipsel mipsel
	# no /bin/sh: busybox is the shell
	run --separate-stderr "$XB" enter "$tree" <<<'echo $((6*7))'
	[ "$status" -eq 0 ]
	[ "$output" = 42 ]
	# an absolute /bin/sh link is followed inside the tree
	ln -s /bin/busybox "$tree/bin/sh"
	run --separate-stderr "$XB" enter "$tree" sh -c 'echo $0 $((6*7))'
	[ "$status" -eq 0 ]
	[ "$output" = "sh 42" ]
}

@test "nothing left on the host: no binfmt_misc entry, nothing mounted" {
	[ "$(host_binfmt)" = "$(cat "$W/binfmt-before")" ]
	[ -z "$(mounts_under "$W")" ]
}
