#!/usr/bin/env bats
# xboot boot: disk images of real trixie trees with Debian's kernel, booted
# under qemu-system with Debian's UEFI firmware (KVM where a probe guest
# runs, TCG otherwise), a command run in the booted system and its status
# returned.  And: qemu dies with xboot, even by SIGKILL.

load helpers

setup_file() {
	export XB="$BATS_TEST_DIRNAME/../../xboot"
	export CACHE=${XB_TEST_CACHE:-/var/cache/xboot-tests}
	export IMAGES=${XB_TEST_ROOTS:-/var/tmp/xboot-test-roots}/boot
	# what a killed run left (half made, or half removed) is never reused
	rm -rf "$IMAGES"
	mkdir -p "$IMAGES"
}

teardown_file() {
	rm -rf "$IMAGES"
}

# make_disk ARCH [TARGET]: minbase, an init, the kernel and the EFI loader,
# as a disk image (or TARGET).  The initramfs holds only what a VM's root
# needs (MODULES=list, as an image builder for VMs would set it): under
# emulation, Debian's default (most) takes minutes to build, twice.
make_disk() {
	local img=${2:-$IMAGES/$1.img}
	[ -e "$img" ] && return 0
	run "$XB" -q --arch="$1" --variant=minbase --include=systemd-sysv,systemd-boot-efi --kernel \
		--extract-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/vm"
			printf "virtio_blk\next4\n" >>"$1/etc/initramfs-tools/modules"' \
		--cache-dir="$CACHE" trixie "$img"
	echo "$output"
	[ "$status" -eq 0 ]
}

# qemu processes that are children of pid $1
qemu_of() {
	pgrep -P "$1" -f 'qemu-system' || true
}

@test "trixie amd64 tree: xboot boot DIR runs uname -m in it (the tree unchanged); qemu dies with a SIGKILLed xboot, whose files the next run removes" {
	local dir=$IMAGES/amd64 before
	make_disk amd64 "$dir"
	before=$(cd "$dir" && find . -printf '%p %m %s %T@\n' | sort | sha256sum)
	run --separate-stderr "$XB" boot --timeout=900 "$dir" -- sh -c 'uname -m; findmnt -no FSTYPE /'
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'x86_64\next4')" ]
	[[ $stderr == *"making a disk of $dir to boot"*"booting $dir (amd64) under "*"is up after"* ]]
	[ "$(cd "$dir" && find . -printf '%p %m %s %T@\n' | sort | sha256sum)" = "$before" ]
	# SIGKILL: qemu is gone with xboot
	TMPDIR=$BATS_TEST_TMPDIR "$XB" boot --timeout=900 "$dir" -- sleep 600 >/dev/null 2>&1 &
	local xpid=$! q= i
	for i in $(seq 300); do
		q=$(qemu_of "$xpid" | tail -1)
		[ -n "$q" ] && grep -q -- '-smbios' "/proc/$q/cmdline" 2>/dev/null && break
		q=
		sleep 0.2
	done
	[ -n "$q" ]
	kill -9 "$xpid"
	wait "$xpid" || true
	for i in $(seq 50); do kill -0 "$q" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$q" 2>/dev/null || false
	# what the killed run left, a later run removes (once it is a minute old)
	local left
	left=$(ls -d "$BATS_TEST_TMPDIR"/xboot-boot.*)
	[ -d "$left" ] && touch -d '-2 min' "$left"
	truncate -s 1M "$BATS_TEST_TMPDIR/blank.img"
	TMPDIR=$BATS_TEST_TMPDIR run "$XB" boot "$BATS_TEST_TMPDIR/blank.img" -- true
	[ "$status" -ne 0 ] && [ ! -e "$left" ]
}

@test "trixie arm64 disk: aarch64 under emulation, systemd up (running or degraded), CMD's exit status; a CMD longer than a kernel command line" {
	make_disk arm64
	local long
	long=$(printf "'%.0s\"" $(seq 1500))
	run --separate-stderr "$XB" boot --timeout=1200 "$IMAGES/arm64.img" -- \
		sh -c 'uname -m; systemctl is-system-running; echo ${#1}; exit 7' sh "$long"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 7 ]
	[ "${lines[0]}" = aarch64 ]
	[[ ${lines[1]} == running || ${lines[1]} == degraded ]]
	[ "${lines[2]}" = 3000 ]
	[[ $stderr == *"(arm64) under TCG (another architecture than the host's)"* ]]
	[ -z "$(pgrep -f "qemu-system-aarch64.*$IMAGES/arm64.img" || true)" ]
}

@test "trixie armhf disk: Debian's U-Boot (--firmware=u-boot) boots its extlinux.conf as a board would" {
	local img=$IMAGES/armhf.img con=$BATS_TEST_TMPDIR/console off uuid
	# no init: the boot is followed until the initramfs mounts the root by UUID
	run "$XB" -q --arch=armhf --variant=minbase --kernel \
		--extract-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/vm"
			printf "virtio_blk\next4\n" >>"$1/etc/initramfs-tools/modules"' \
		--cache-dir="$CACHE" trixie "$img"
	echo "$output"
	[ "$status" -eq 0 ]
	run -0 sfdisk -d "$img"
	[[ $output == *'name="esp", attrs="LegacyBIOSBootable"'* ]]
	off=$(sfdisk -d "$img" | sed -n 's/.*img1 : start= *\([0-9]*\).*/\1/p')
	run -0 env MTOOLS_SKIP_CHECK=1 mtype -i "$img@@$((off * 512))" ::/extlinux/extlinux.conf
	uuid=$(sed -n 's/.*append root=UUID=\([^ ]*\) .*/\1/p' <<<"$output")
	[ -n "$uuid" ]
	[[ $output == *"fdtdir /debian/dtbs-"* ]]
	run --separate-stderr "$XB" boot --firmware=u-boot "$img" -- true
	[ "$status" -eq 2 ] && [[ $stderr == *"a command needs --firmware=uefi"* ]]
	"$XB" boot --firmware=u-boot --timeout=900 "$img" </dev/null >"$con" 2>"$con.err" &
	local xpid=$! i
	for i in $(seq 900); do
		grep -aq "EXT4-fs (vda2): mounted filesystem $uuid" "$con" && break
		kill -0 "$xpid" 2>/dev/null || break
		sleep 1
	done
	kill -TERM "$xpid" 2>/dev/null || true
	wait "$xpid" || true
	grep -a 'extlinux\|Linux version\|command line\|EXT4-fs' "$con" || tail -20 "$con"
	cat "$con.err"
	grep -aq "Retrieving file: /extlinux/extlinux.conf" "$con"
	grep -aq "Linux version .*armmp" "$con"
	grep -aq "Kernel command line: root=UUID=$uuid ro" "$con"
	grep -aq "EXT4-fs (vda2): mounted filesystem $uuid" "$con"
	[ -z "$(pgrep -f "qemu-system-arm.*$img" || true)" ]
}
