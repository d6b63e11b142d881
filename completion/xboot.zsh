#compdef xboot
# zsh completion for xboot: the words come from xboot itself (--list=KIND and
# the subcommands' --help), as in the bash completion.

_xboot_words() { ${words[1]} --list=$1 2>/dev/null }

_xboot() {
	local -a opts suites
	local sub=
	(( CURRENT > 2 )) && [[ ${words[2]} == (enter|boot|bootstrap) ]] && sub=${words[2]}
	case $PREFIX in
	--variant=*) compset -P '*='; compadd -- $(_xboot_words variants); return ;;
	--arch=*|--architectures=*|--platforms=*)
		compset -P '*='; compset -P '*,'; compadd -S '' -- $(_xboot_words architectures); return ;;
	--format=*) compset -P '*='; compadd -- $(_xboot_words formats); return ;;
	--distribution=*) compset -P '*='; compadd -- $(_xboot_words distributions); return ;;
	--mode=*) compset -P '*='; compadd -- auto root unshare; return ;;
	--list=*) compset -P '*='; compadd -- options architectures distributions suites variants formats; return ;;
	--cache-dir=*|--hook-dir=*|--workdir=*) compset -P '*='; _files -/; return ;;
	--*=*) compset -P '*='; _files; return ;;
	-*)
		if [[ -n $sub && $sub != bootstrap ]]; then
			opts=(${(f)"$(${words[1]} $sub --help 2>/dev/null |
				sed -n 's/^ *\(-[a-zA-Z], \)*\(--[a-z][a-z-]*\)\(=\)\{0,1\}.*/\2\3/p')"})
		else
			opts=(${(f)"$(_xboot_words options)"})
		fi
		compadd -S '' -- ${opts:#*[^=]}
		compadd -- ${opts:#*=}
		return ;;
	esac
	if [[ -z $sub && CURRENT -eq 2 ]]; then
		compadd -- enter boot $(_xboot_words suites)
	elif [[ $sub == bootstrap && CURRENT -eq 3 ]]; then
		compadd -- $(_xboot_words suites)
	else
		_files
	fi
}

_xboot "$@"
