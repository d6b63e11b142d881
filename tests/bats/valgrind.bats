#!/usr/bin/env bats
# valgrind finds no leak and no memory error in a hermetic bootstrap (the
# main process; the unpacking child and the namespace's set-up run under it
# too, since they are forks of it).

load helpers
hermetic

# xb_valgrind ARG...: xboot under valgrind on the hermetic repository,
# TARGET and SUITE among ARG; fails on any error or leak it reports.
xb_valgrind() {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	export TMPDIR=$BATS_TEST_TMPDIR
	run --separate-stderr valgrind --quiet --leak-check=full --num-callers=50 \
		--show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
		--suppressions="$XB_SRC/tests/fixtures/valgrind.supp" \
		"$XB" -q --keyring="$XB_KEYRING" --cache-dir="$BATS_TEST_TMPDIR/cache" "$@"
	echo "exit $status"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$(printf '%s\n' "$stderr" | grep -E '==[0-9]+==')" ]
}

@test "valgrind: a hermetic bootstrap leaks nothing and touches no bad memory" {
	xb_valgrind --include=mark-c "$XB_SUITE" "$BATS_TEST_TMPDIR/target" "$XB_REPO_URL"
	grep -q '^Package: mark-c$' "$BATS_TEST_TMPDIR/target/var/lib/dpkg/status"
	[ -z "$(mounts_under "$BATS_TEST_TMPDIR/target")" ]
}

@test "valgrind: an OCI image of a hermetic bootstrap, the same" {
	xb_valgrind --variant=essential "$XB_SUITE" "$BATS_TEST_TMPDIR/img.oci.tar" "$XB_REPO_URL"
	tar -tf "$BATS_TEST_TMPDIR/img.oci.tar" ./index.json
}

@test "valgrind: a disk image of a hermetic bootstrap with a password and a key, the same; and boot's refusal" {
	printf 'pw\n' >"$BATS_TEST_TMPDIR/pw"
	printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample k\n' >"$BATS_TEST_TMPDIR/k.pub"
	xb_valgrind --variant=essential --size=200M --ssh-key="$BATS_TEST_TMPDIR/k.pub" \
		--extract-hook='echo "root:*:1::::::" >"$1/etc/shadow"' \
		--root-password-file="$BATS_TEST_TMPDIR/pw" "$XB_SUITE" "$BATS_TEST_TMPDIR/d.img" "$XB_REPO_URL"
	sfdisk -d "$BATS_TEST_TMPDIR/d.img" | grep -q 'name="root"'
	run --separate-stderr valgrind --quiet --leak-check=full --error-exitcode=99 \
		--errors-for-leak-kinds=definite,indirect,possible \
		--suppressions="$XB_SRC/tests/fixtures/valgrind.supp" \
		"$XB" boot "$BATS_TEST_TMPDIR/d.img" -- true
	echo "$stderr"
	[ "$status" -eq 1 ] && [[ $stderr == *"has no kernel on its EFI system partition"* ]]
	[ -z "$(printf '%s\n' "$stderr" | grep -E '==[0-9]+==')" ]
}
