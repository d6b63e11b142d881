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
	run --separate-stderr valgrind --quiet --leak-check=full \
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
