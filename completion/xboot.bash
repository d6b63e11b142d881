# bash completion for xboot.  The words come from xboot itself (--list=KIND
# and the subcommands' --help), so that they are always the installed
# binary's: options, variants, architectures from its table, suites and
# distributions from its templates, formats.

_xboot_list()
{
	"${1:-xboot}" --list="$2" 2>/dev/null
}

# The long options of `xboot SUB --help`, "--name=" for those taking a value.
_xboot_sub_options()
{
	"$1" "$2" --help 2>/dev/null |
		sed -n 's/^ *\(-[a-zA-Z], \)*\(--[a-z][a-z-]*\)\(=\)\{0,1\}.*/\2\3/p'
}

# Completes the last element of a comma-separated list (--arch=A,B,...).
_xboot_comma()
{
	local cur=$1 prefix=
	shift
	[[ $cur == *,* ]] && prefix=${cur%,*},
	COMPREPLY=($(compgen -P "$prefix" -W "$*" -- "${cur##*,}"))
	compopt -o nospace 2>/dev/null
}

_xboot()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n = || return
	else
		# without bash-completion: readline splits at "=", join it back
		local w j=-1
		words=()
		for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
			w=${COMP_WORDS[i]}
			if ((j >= 0)) && { [ "$w" = = ] || [[ ${words[j]} == *= ]]; } && ((i > 0)); then
				words[j]+=$w
			else
				words[++j]=$w
			fi
			((i == COMP_CWORD)) && cword=$j
		done
		cur=${words[cword]}
	fi
	local xb=${words[0]} sub= i npos=0
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		enter|boot|bootstrap) [ -z "$sub" ] && [ $npos = 0 ] && sub=${words[i]} || ((npos++)) ;;
		*) ((npos++)) ;;
		esac
	done

	if [[ $cur == --*=* ]]; then
		local opt=${cur%%=*} val=${cur#*=}
		case $opt in
		--variant) COMPREPLY=($(compgen -W "$(_xboot_list "$xb" variants)" -- "$val")) ;;
		--arch|--architectures|--platforms)
			_xboot_comma "$val" $(_xboot_list "$xb" architectures) ;;
		--format) COMPREPLY=($(compgen -W "$(_xboot_list "$xb" formats)" -- "$val")) ;;
		--distribution) COMPREPLY=($(compgen -W "$(_xboot_list "$xb" distributions)" -- "$val")) ;;
		--mode) COMPREPLY=($(compgen -W "auto root unshare" -- "$val")) ;;
		--network) COMPREPLY=($(compgen -W "host none" -- "$val")) ;;
		--root-fs) COMPREPLY=($(compgen -W "ext4 btrfs" -- "$val")) ;;
		--components) _xboot_comma "$val" main contrib non-free non-free-firmware ;;
		--list) COMPREPLY=($(compgen -W "options architectures distributions suites variants formats" -- "$val")) ;;
		--skip) _xboot_comma "$val" output/dev output/mknod cleanup/reproducible ;;
		--cache-dir|--hook-dir|--hook-directory|--workdir|--second-stage-target)
			COMPREPLY=($(compgen -d -- "$val")) ;;
		--keyring|--logfile|--make-tarball|--unpack-tarball|--root-password-file|--ssh-key|--bind|--ro-bind)
			COMPREPLY=($(compgen -f -- "$val")) ;;
		esac
		return 0
	fi
	if [[ $cur == -* ]]; then
		local opts
		if [ -n "$sub" ] && [ "$sub" != bootstrap ]; then
			opts=$(_xboot_sub_options "$xb" "$sub")
		else
			opts=$(_xboot_list "$xb" options)
		fi
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		[[ ${COMPREPLY[*]} == *= ]] && compopt -o nospace 2>/dev/null
		return 0
	fi
	case $sub,$npos in
	,0) COMPREPLY=($(compgen -W "enter boot $(_xboot_list "$xb" suites)" -- "$cur")) ;;
	bootstrap,0) COMPREPLY=($(compgen -W "$(_xboot_list "$xb" suites)" -- "$cur")) ;;
	enter,0|boot,0|,1|bootstrap,1) COMPREPLY=($(compgen -f -- "$cur")) ;;
	enter,*) COMPREPLY=($(compgen -c -- "$cur")) ;;
	esac
	return 0
}
complete -F _xboot xboot
