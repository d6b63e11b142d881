#!/usr/bin/env bats
# The fuzz targets of tests/fuzz/ replay their seed corpus and regression
# inputs (the inputs that once found a bug) under ASan and UBSan, one test
# per target, failing on any sanitizer report, leak or broken property.
# The fuzzing itself is make fuzz's (clang, libFuzzer); this needs only gcc.

load helpers

setup_file() {
	# One build for the file (build-fuzz-replay/); not make check's jobserver.
	local log=$BATS_FILE_TMPDIR/build.log
	if ! env -u MAKEFLAGS -u MAKELEVEL make -C "$XB_SRC" -s -j"$(nproc)" fuzz-replay-build \
		>"$log" 2>&1; then
		echo "# make fuzz-replay-build failed:" >&2
		sed 's/^/#   /' "$log" >&2
		return 1
	fi
}

# replay NAME: the target's inputs through its replay build.
replay() {
	run env FUZZ_NO_BUILD=1 "$XB_SRC/tests/fuzz/replay" "$1"
	echo "$output"
	[ "$status" -eq 0 ]
	# It ran inputs, and at least one from each of its directories.
	local n
	n=$(printf '%s\n' "$output" | sed -n "s/^fuzz-$1: \([0-9]*\) inputs$/\1/p")
	[ "${n:-0}" -ge "$(ls "$XB_SRC/tests/fuzz/corpus/$1" | wc -l)" ]
	[ "$n" -gt 0 ]
}

@test "fuzz-deb822: paragraphs replay clean under ASan and UBSan" {
	replay deb822
}

@test "fuzz-release: InRelease frames and Release fields replay clean" {
	replay release
}

@test "fuzz-sources: one-line and deb822 sources replay clean" {
	replay sources
}

@test "fuzz-version: versions replay clean, dpkgver an order" {
	replay version
}

@test "fuzz-relation: relation fields replay clean, the set meets them" {
	replay relation
}

@test "fuzz-packages: Packages indices replay clean through the resolver" {
	replay packages
}

@test "fuzz-control: control.tar members replay clean" {
	replay control
}

@test "fuzz-deb: .deb files replay clean up to data.tar" {
	replay deb
}

@test "every fuzz target is replayed by a test of this file" {
	local f n
	for f in "$XB_SRC"/tests/fuzz/fuzz-*.c; do
		n=${f##*/fuzz-}
		n=${n%.c}
		grep -q "^	replay $n\$" "$BATS_TEST_FILENAME" || { echo "no test replays $n"; return 1; }
	done
}
