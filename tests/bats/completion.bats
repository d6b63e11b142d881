#!/usr/bin/env bats
# Shell completion (completion/xboot.bash, completion/xboot.zsh): what a user
# gets at TAB, asked of bash the way readline asks (COMP_WORDS split at "="),
# with and without bash-completion loaded.

load helpers

# comp WORDS...: COMPREPLY, one per line, for the command line WORDS with the
# cursor at the end of the last word; $with_bc=1 loads bash-completion first.
comp() {
	local line="$*"
	bash -c '
		[ "$1" = 1 ] && . /usr/share/bash-completion/bash_completion
		. "$2"; shift 2
		complete -p xboot >/dev/null || exit 9
		COMP_LINE="$*" COMP_POINT=${#COMP_LINE}
		# readline splits at COMP_WORDBREAKS characters, "=" among them
		read -ra COMP_WORDS <<<"$(sed "s/=/ = /g; s/= \$/=/" <<<"$*")"
		[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
		[[ $COMP_LINE == *= ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_xboot
		printf "%s\n" "${COMPREPLY[@]}"' comp "${with_bc:-0}" "$XB_SRC/completion/xboot.bash" "$XB" "$@"
}

setup() {
	XB=$XB_SRC/xboot
}

@test "completion: the script registers itself with complete -F" {
	run bash -c ". '$XB_SRC/completion/xboot.bash'; complete -p xboot"
	[ "$status" -eq 0 ]
	[ "$output" = "complete -F _xboot xboot" ]
}

@test "completion: --var gives --variant=, and its values (with and without bash-completion)" {
	for with_bc in 0 1; do
		[ $with_bc = 1 ] && [ ! -f /usr/share/bash-completion/bash_completion ] && continue
		run comp --var
		[ "$output" = "--variant=" ]
		run comp --variant=mi
		[ "$output" = minbase ]
		run comp --format=tar.z
		[ "$output" = tar.zst ]
	done
}

@test "completion: architectures from the table, comma lists, distributions, suites, subcommands" {
	run comp --arch=arm
	[ "$(echo "$output" | sort | tr '\n' ' ')" = "arm64 armel armhf " ]
	run comp --arch=amd64,ri
	[ "$output" = amd64,riscv64 ]
	run comp --distribution=ub
	[ "$output" = ubuntu ]
	run comp no
	[ "$output" = noble ]
	run comp en
	[ "$output" = enter ]
	run comp enter --net
	[ "$output" = "--network=" ]
	# after SUITE, TARGET is a file name
	run comp trixie /tm
	[ "$output" = /tmp ]
}

@test "completion: the zsh script is valid zsh" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	zsh -n "$XB_SRC/completion/xboot.zsh"
}
