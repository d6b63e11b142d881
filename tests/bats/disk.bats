#!/usr/bin/env bats
# Disk images (TARGET NAME.img, --format=disk) on the hermetic repository:
# a GPT disk that sfdisk, fsck.fat, mtools and e2fsck read, /etc/fstab by
# the file systems' UUIDs, the same bytes twice with SOURCE_DATE_EPOCH;
# --size, --root-fs, and the logins (--root-password-file, --ssh-key).
# Booting one is e2e.bats' (a real kernel from the archive).

load helpers
hermetic

setup() {
	hermetic_setup
	O=$BATS_TEST_TMPDIR/out
	mkdir -p "$O"
}

# partition N of disk $1 (1: ESP, 2: root) copied out to $2
part() {
	local start size
	read -r start size < <(sfdisk -d "$1" | sed -n "s|^$1$3 : start= *\([0-9]*\), size= *\([0-9]*\).*|\1 \2|p")
	dd if="$1" of="$2" bs=512 skip="$start" count="$size" status=none
}

@test "a disk image: GPT, an ESP and the tree's root; fstab by UUID; the same bytes twice" {
	SOURCE_DATE_EPOCH=1700000000 xb "$XB_SUITE" "$O/d.img" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[[ $stderr == *"the tree has no kernel in /boot"*"the disk will not boot"* ]]
	run -0 sfdisk -d "$O/d.img"
	[[ $output == *"label: gpt"* ]]
	[[ $output == *"type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B"*'name="esp"'* ]]
	case $(dpkg --print-architecture) in
	amd64) [[ $output == *"type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"*'name="root"'* ]] ;;
	arm64) [[ $output == *"type=B921B045-1DF0-41C3-AF44-4C6F280D3FAE"*'name="root"'* ]] ;;
	esac
	part "$O/d.img" "$O/esp" 1
	part "$O/d.img" "$O/root" 2
	fsck.fat -n "$O/esp"
	e2fsck -fn "$O/root"
	MTOOLS_SKIP_CHECK=1 mtype -i "$O/esp" ::/loader/loader.conf | grep -q '^timeout 0'
	local ru eu
	ru=$(blkid -o value -s UUID "$O/root") eu=$(blkid -o value -s UUID "$O/esp")
	run -0 debugfs -R 'cat /etc/fstab' "$O/root"
	[[ $output == *"UUID=$ru / ext4 errors=remount-ro 0 1"* ]]
	[[ $output == *"UUID=$eu /boot/efi vfat umask=0077,nofail 0 1"* ]]
	debugfs -R 'stat /boot/efi' "$O/root" | grep -q 'Type: directory'
	debugfs -R 'cat /etc/hostbase.conf' "$O/root" | grep -q 'as shipped'
	# the same tree and epoch: the same disk, identifiers included
	SOURCE_DATE_EPOCH=1700000000 xb "$XB_SUITE" "$O/e.img" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	cmp "$O/d.img" "$O/e.img"
	[ "$(ls "$O")" = "$(printf 'd.img\ne.img\nesp\nroot')" ]
	# another epoch, other identifiers
	SOURCE_DATE_EPOCH=1700000001 xb --format=disk "$XB_SUITE" "$O/f" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(sfdisk --disk-id "$O/d.img")" != "$(sfdisk --disk-id "$O/f")" ]
}

@test "--size makes the disk that large, --root-fs=btrfs; refused: too small, no disk, xfs" {
	xb --size=300M "$XB_SUITE" "$O/d.img" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$O/d.img")" -eq $((300 * 1024 * 1024)) ]
	part "$O/d.img" "$O/root" 2
	e2fsck -fn "$O/root"
	xb --size=70M "$XB_SUITE" "$O/small.img" "$XB_REPO_URL"
	[ "$status" -ne 0 ] && [[ $stderr == *"more than the"*"MiB --size leaves it"* ]]
	[ ! -e "$O/small.img" ] && [ -z "$(ls "$O" | grep -v '^d.img$\|^root$\|^small.img.log$')" ]
	xb --size=1G "$XB_SUITE" "$O/d.tar" "$XB_REPO_URL"
	[ "$status" -eq 2 ] && [[ $stderr == *"--size and --root-fs are for a disk image"* ]]
	xb --size=lots "$XB_SUITE" "$O/d.img" "$XB_REPO_URL"
	[ "$status" -eq 2 ] && [[ $stderr == *"--size=lots: expected a size"* ]]
	xb --root-fs=xfs "$XB_SUITE" "$O/x.img" "$XB_REPO_URL"
	[ "$status" -eq 2 ] && [[ $stderr == *"--root-fs=xfs: ext4 or btrfs"* ]]
	command -v mkfs.btrfs || skip "btrfs-progs is not installed"
	xb --root-fs=btrfs "$XB_SUITE" "$O/b.img" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	part "$O/b.img" "$O/broot" 2
	[ "$(blkid -o value -s TYPE "$O/broot")" = btrfs ]
	btrfs check --readonly "$O/broot"
}

@test "--root-password-file sets root's yescrypt hash, --ssh-key its authorized_keys; bad files refused" {
	local d=$BATS_TEST_TMPDIR shadow='printf "root:*:19000:0:99999:7:::\nnobody:*:19000::::::\n" >"$1/etc/shadow"; chmod 640 "$1/etc/shadow"'
	printf 'correct horse\n' >"$d/pw"
	printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host\n' >"$d/key.pub"
	xb --extract-hook="$shadow" --root-password-file="$d/pw" --ssh-key="$d/key.pub" \
		"$XB_SUITE" "$O/t" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	local hash
	hash=$(sed -n 's/^root:\([^:]*\):19000:0:99999:7:::$/\1/p' "$O/t/etc/shadow")
	[[ $hash == '$y$'* ]]
	python3 -W ignore -c 'import crypt, sys; sys.exit(crypt.crypt("correct horse", sys.argv[1]) != sys.argv[1])' "$hash"
	grep -qx 'nobody:\*:19000::::::' "$O/t/etc/shadow"
	[ "$(stat -c %a "$O/t/etc/shadow")" = 640 ]
	cmp "$d/key.pub" "$O/t/root/.ssh/authorized_keys"
	[ "$(stat -c %a "$O/t/root/.ssh")" = 700 ] && [ "$(stat -c %a "$O/t/root/.ssh/authorized_keys")" = 600 ]
	: >"$d/empty"
	xb --extract-hook="$shadow" --root-password-file="$d/empty" "$XB_SUITE" "$O/u" "$XB_REPO_URL"
	[ "$status" -ne 0 ] && [[ $stderr == *"holds no password on its first line"* ]]
	xb --ssh-key="$d/pw" "$XB_SUITE" "$O/v" "$XB_REPO_URL"
	[ "$status" -ne 0 ] && [[ $stderr == *"holds no ssh public key"* ]]
	xb --root-password-file="$d/pw" "$XB_SUITE" "$O/w" "$XB_REPO_URL"
	[ "$status" -ne 0 ] && [[ $stderr == *"/etc/shadow: there is none (the passwd package makes it)"* ]]
	xb --foreign --root-password-file="$d/pw" "$XB_SUITE" "$O/x" "$XB_REPO_URL"
	[ "$status" -eq 2 ] && [[ $stderr == *"--foreign: --root-password-file needs the configured tree"* ]]
	xb --foreign "$XB_SUITE" "$O/x.img" "$XB_REPO_URL"
	[ "$status" -eq 2 ] && [[ $stderr == *"--foreign: a disk image needs the configured tree"* ]]
}

@test "xboot boot: a disk without a kernel fails at once, one line; no GPT, no IMAGE, bad options refused" {
	xb "$XB_SUITE" "$O/d.img" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	local t0=$SECONDS
	run --separate-stderr "$XB" boot "$O/d.img" -- true
	[ "$status" -eq 1 ] && [ $((SECONDS - t0)) -lt 5 ]
	[ "$stderr" = "xboot: error: $O/d.img has no kernel on its EFI system partition (make it with --kernel, or --include=linux-image-...)" ]
	truncate -s 1M "$O/blank.img"
	run --separate-stderr "$XB" boot "$O/blank.img" -- true
	[ "$status" -ne 0 ] && [[ $stderr == *"no GPT partition table"* ]]
	run --separate-stderr "$XB" boot "$O/missing.img"
	[ "$status" -ne 0 ] && [[ $stderr == *"missing.img: No such file or directory"* ]]
	run --separate-stderr "$XB" boot "$O/d.img" uname
	[ "$status" -eq 2 ] && [[ $stderr == *"expected -- before the command"* ]]
	run --separate-stderr "$XB" boot --accel=fast "$O/d.img"
	[ "$status" -eq 2 ] && [[ $stderr == *"--accel=fast: expected auto, kvm or tcg"* ]]
	run --separate-stderr "$XB" boot --firmware=bios "$O/d.img"
	[ "$status" -eq 2 ] && [[ $stderr == *"--firmware=bios: expected uefi or u-boot"* ]]
	run --separate-stderr "$XB" boot --firmware=u-boot "$O/d.img" -- true
	[ "$status" -eq 2 ] && [[ $stderr == *"a command needs --firmware=uefi"* ]]
	run --separate-stderr "$XB" boot --firmware=u-boot "$O/d.img"
	[ "$status" -ne 0 ] && [[ $stderr == *"no extlinux/extlinux.conf on its EFI system partition"* ]]
	[ -z "$(ls "$O" | grep -v '^d.img$\|^blank.img$')" ]
}

@test "xboot boot removes what SIGKILLed runs left in TMPDIR, and only that" {
	local t=$BATS_TEST_TMPDIR/tmp d
	for d in old young held nolock; do mkdir -p "$t/xboot-boot.$d"; done
	touch "$t/xboot-boot.old/lock" "$t/xboot-boot.young/lock" "$t/xboot-boot.held/lock"
	touch -d '-2 min' "$t/xboot-boot.old" "$t/xboot-boot.held" "$t/xboot-boot.nolock"
	local fd
	exec {fd}>"$t/xboot-boot.held/lock"
	flock "$fd"
	truncate -s 1M "$O/blank.img"
	TMPDIR=$t run --separate-stderr "$XB" boot "$O/blank.img" -- true
	exec {fd}>&-
	[ "$status" -ne 0 ] && [[ $stderr == *"no GPT partition table"* ]]
	[ "$(ls "$t")" = "$(printf 'xboot-boot.held\nxboot-boot.nolock\nxboot-boot.young')" ]
}
