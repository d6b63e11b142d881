# helpers.bash — shared by the bats tests (load with `load helpers`): the hermetic
# repository and its server, and views of host state (mounts, binfmt entries, the
# host's Debian mirror) that a test compares before and after running xboot.
#
#   load helpers
#   hermetic        # a file of tests against the fixture (see hermetic below)
#
# fixture_setup exports XB_REPO_URL (http://127.0.0.1:PORT, the repository root),
# XB_KEYRING, XB_OTHER_KEYRING, XB_FIXTURE (mkrepo's OUTDIR), XB_SUITE, XB_CODENAME,
# XB_ARCH, XB_HOSTDIR (the host directory the evil packages aim at), XB_SERVER_PID,
# XB_SERVER_RULES (the server's rules file; see fixture_rules) and XB_SERVER_LOG
# (one line per request: METHOD PATH MODE STATUS).

XB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XB_FIXTURES=$XB_SRC/tests/fixtures
# The system's python first: a version manager's shim in PATH costs most of a second
# per start.
XB_PYTHON=/usr/bin/python3
[ -x "$XB_PYTHON" ] || XB_PYTHON=python3

bats_require_minimum_version 1.5.0

# hermetic: called at the top of a bats file of tests against the hermetic
# fixture, right after `load helpers`.  Defines setup_file and teardown_file
# (the repository built and its server started once for the file, then
# stopped) and setup (hermetic_setup).  A file that needs more in setup
# defines its own afterwards and calls hermetic_setup first.
hermetic() {
	setup_file() { fixture_setup; }
	teardown_file() { fixture_teardown; }
	setup() { hermetic_setup; }
}

# hermetic_setup: each test's own T (a target that does not exist yet),
# CACHE, and TMPDIR (empty, for xboot's work directory: what a killed run
# leaves there, bats removes).
hermetic_setup() {
	T=$BATS_TEST_TMPDIR/target
	CACHE=$BATS_TEST_TMPDIR/cache
	mkdir -p "$BATS_TEST_TMPDIR/tmp"
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
}

# fixture_build DIR: runs mkrepo into DIR unless DIR already holds a build by the
# current mkrepo. Several bats files may share DIR (XB_FIXTURE_DIR, see
# fixture_setup): a lock makes the first one build and the others wait.
fixture_build() {
	local dir=$1 want
	want=$(sha256sum "$XB_FIXTURES/mkrepo") || return 1
	want=${want%% *}
	mkdir -p "$dir" || return 1
	(
		flock 9
		[ "$(cat "$dir/.built-by" 2>/dev/null)" = "$want" ] && exit 0
		rm -f "$dir/.built-by"
		if ! "$XB_FIXTURES/mkrepo" "$dir" >"$dir/mkrepo.log" 2>&1; then
			echo "# mkrepo $dir failed:" >&2
			sed 's/^/#   /' "$dir/mkrepo.log" >&2
			exit 1
		fi
		echo "$want" >"$dir/.built-by"
	) 9>"$dir/.lock"
}

# fixture_start_server ROOT STATEDIR [LIFETIME]: starts server.py on a free port;
# prints "PID PORT". Its state (port file, log, rules, stderr) goes to STATEDIR.
fixture_start_server() {
	local root=$1 state=$2 lifetime=${3:-1800} pid _
	mkdir -p "$state"
	rm -f "$state/port"
	: >"$state/rules"
	# fd 3 is bats' own: a background child holding it makes bats wait for it.
	"$XB_PYTHON" "$XB_FIXTURES/server.py" --root "$root" --port-file "$state/port" \
		--rules "$state/rules" --log "$state/log" --lifetime "$lifetime" \
		</dev/null >"$state/stderr" 2>&1 3>&- &
	pid=$!
	for _ in $(seq 100); do
		[ -s "$state/port" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$state/port" ]; then
		echo "# server.py did not start:" >&2
		sed 's/^/#   /' "$state/stderr" >&2
		kill "$pid" 2>/dev/null
		return 1
	fi
	echo "$pid $(cat "$state/port")"
}

# fixture_stop_server PID: SIGTERM, then SIGKILL if it is still there after 5 s.
fixture_stop_server() {
	local pid=$1 _
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	return 0
}

# fixture_setup: builds the repository (once per bats file in $BATS_FILE_TMPDIR, or
# once per run in $XB_FIXTURE_DIR when the runner exports one) and starts a server
# for this bats file. Call it from setup_file.
fixture_setup() {
	local dir=${XB_FIXTURE_DIR:-$BATS_FILE_TMPDIR/fixture} state=$BATS_FILE_TMPDIR/server
	local started
	fixture_build "$dir" || return 1
	dir=$(cd "$dir" && pwd -P)
	# shellcheck source=/dev/null
	. "$dir/fixture.env"
	fixture_hostdir "$XB_FIXTURE_HOSTDIR"
	started=$(fixture_start_server "$dir/repo" "$state") || return 1
	export XB_SERVER_PID=${started% *}
	export XB_REPO_URL=http://127.0.0.1:${started#* }
	export XB_FIXTURE=$dir
	export XB_KEYRING=$dir/keyring.gpg
	export XB_OTHER_KEYRING=$dir/other-keyring.gpg
	export XB_SUITE=$XB_FIXTURE_SUITE
	export XB_CODENAME=$XB_FIXTURE_CODENAME
	export XB_ARCH=$XB_FIXTURE_ARCH
	export XB_HOSTDIR=$XB_FIXTURE_HOSTDIR
	export XB_SERVER_RULES=$state/rules
	export XB_SERVER_LOG=$state/log
	export XB=$XB_SRC/xboot
}

# fixture_hostdir DIR: the host directory the evil packages aim at, as the
# tests expect it: its marker, an empty aptdir, a victim file and
# libapt/lists/keep.  A test that failed may have let a package write there.
fixture_hostdir() {
	find "$1" -mindepth 1 ! -name marker -exec rm -rf {} + 2>/dev/null
	mkdir -p "$1/aptdir" "$1/libapt/lists"
	echo "a host file" >"$1/victim"
	echo "a host file" >"$1/libapt/lists/keep"
}

# xb ARGS...: xboot against the fixture (its keyring; the test's $CACHE;
# --timeout=$XB_TIMEOUT when set), stderr kept apart in $stderr and both
# printed for a failing test's log.  Needs bats_require_minimum_version 1.5.0.
xb() {
	run --separate-stderr "$XB" --keyring="$XB_KEYRING" --cache-dir="$CACHE" \
		${XB_TIMEOUT:+--timeout=$XB_TIMEOUT} "$@"
	echo "exit $status; stderr:"
	echo "$stderr"
}

# wait_for CMD...: up to 20 s for CMD to succeed.
wait_for() {
	local _
	for _ in $(seq 200); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# fixture_teardown: stops the server; the repository stays for the next file or is
# removed with $BATS_FILE_TMPDIR. Call it from teardown_file.
fixture_teardown() {
	fixture_stop_server "${XB_SERVER_PID:-}"
}

# fixture_rules ["SUBSTRING MODE"]...: replaces the server's rules (no argument:
# none). Modes are those of server.py: 404 500 truncate oversize oversize-nolen stall
# slow redirect flip ok.
fixture_rules() {
	if [ $# -eq 0 ]; then
		: >"$XB_SERVER_RULES"
	else
		printf '%s\n' "$@" >"$XB_SERVER_RULES"
	fi
}

# fixture_url MODE: a mirror URL under which every request misbehaves as MODE.
fixture_url() {
	echo "$XB_REPO_URL/_$1"
}

# mounts_under DIR: the lines of /proc/self/mountinfo whose mount point is DIR or
# below it (empty output: nothing is mounted there).
mounts_under() {
	local dir esc
	dir=$(realpath -m "$1")
	# mountinfo escapes space, tab, newline and backslash as octal.
	esc=$(printf '%s' "$dir" | sed 's/\\/\\134/g; s/ /\\040/g; s/\t/\\011/g')
	D=$esc awk 'BEGIN { d = ENVIRON["D"] }
		d == "/" || $5 == d || index($5, d "/") == 1' /proc/self/mountinfo
}

# binfmt_snapshot: the host's binfmt_misc state as text, to compare before and after
# a run. It only reads and never mounts: mounting it here would itself change what
# is compared, and a run that mounts or registers anything on the host shows up
# either way (as a new mount, or as entries that were not there before). When
# binfmt_misc is not mounted the snapshot says so; when systemd's automount point is
# there but not yet triggered, it is left untriggered.
binfmt_snapshot() {
	local d=/proc/sys/fs/binfmt_misc f
	local types
	types=$(awk '$5 == "/proc/sys/fs/binfmt_misc" {
			for (i = 6; i <= NF; i++) if ($i == "-") { print $(i + 1); break } }' \
		/proc/self/mountinfo)
	case $types in
	*binfmt_misc*) ;;
	*autofs*)
		echo "binfmt_misc: automount, not mounted"
		return 0
		;;
	*)
		echo "binfmt_misc: not mounted"
		return 0
		;;
	esac
	echo "status: $(cat "$d/status")"
	for f in "$d"/*; do
		case ${f##*/} in register | status) continue ;; esac
		echo "== ${f##*/}"
		cat "$f"
	done
}

# host_mirror [ARCHIVE]: the first URI of the host's apt configuration whose
# path ends in /ARCHIVE (default debian; debian-security for the security
# archive), deb822 .sources first, then one-line .list files, without a
# trailing slash.  Fails when there is none.
host_mirror() {
	local f archive=${1:-debian}
	for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		case $f in
		*.sources)
			awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f"
			;;
		*)
			awk '$1 == "deb" { sub(/\[[^]]*\]/, ""); print $2 }' "$f"
			;;
		esac
	done | sed -n "s|/*\$||; \\|^[a-z+]*://.*/$archive\$|{p;q}" | grep . || return 1
}

# index_matches MIRROR SUITE ARCH: the main/binary-ARCH/Packages.xz that
# SUITE's InRelease lists is what MIRROR serves (by hash, else by name).
index_matches() {
	local want got dir=$1/dists/$2/main/binary-$3
	want=$(curl -fsS "$1/dists/$2/InRelease" | awk -v f="main/binary-$3/Packages.xz" '
		/^SHA256:/ { s = 1; next } /^[^ ]/ { s = 0 } s && $3 == f { print $1 }')
	[ -n "$want" ] || return 1
	got=$({ curl -fsS "$dir/by-hash/SHA256/$want" || curl -fsS "$dir/Packages.xz"; } | sha256sum)
	[ "${got%% *}" = "$want" ]
}

# emu_chroot DIR CMD...: chroot(8) into DIR, with the emulator registered in
# a private binfmt_misc instance when DIR is foreign (the host's entries are
# neither used nor changed).  Where user namespaces are refused (inside a
# chroot, as on a CI runner that is one), a temporary entry of the host's
# binfmt_misc, removed afterwards, does it instead.
emu_chroot() {
	local dir=$1 qemu="" conf
	shift
	qemu=$(ls "$dir"/usr/bin/qemu-*-static 2>/dev/null | head -n 1)
	if [ -z "$qemu" ]; then
		chroot "$dir" "$@"
		return
	fi
	qemu=${qemu##*/qemu-}
	qemu=${qemu%-static}
	conf=$(sed "s#:[^:]*:\([A-Z]*\)\$#:$(realpath /usr/bin/qemu-$qemu-static):F#" /usr/lib/binfmt.d/qemu-$qemu.conf)
	if unshare --user --map-root-user true 2>/dev/null; then
		unshare --user --map-root-user --mount --fork bash -c '
			mount -t tmpfs xboot-test /mnt && mkdir /mnt/b &&
			mount -t binfmt_misc binfmt_misc /mnt/b && echo "$1" >/mnt/b/register || exit 125
			shift; exec chroot "$@"' _ "$conf" "$dir" "$@"
		return
	fi
	host_binfmt_chroot "$conf" "$dir" "$@"
}

# host_binfmt_chroot CONF DIR CMD...: chroot(8) into DIR as real root, with
# CONF (a binfmt.d line) as a temporary entry of the host's binfmt_misc,
# removed afterwards (binfmt_misc mounted in a mount namespace of its own).
host_binfmt_chroot() {
	unshare --mount --propagation private --fork bash -c '
		b=/proc/sys/fs/binfmt_misc name=xboot-test-$$ conf=$1
		[ -e $b/register ] || mount -t binfmt_misc binfmt_misc $b || exit 125
		echo ":$name:${conf#:*:}" >$b/register || exit 125
		shift; chroot "$@"; rc=$?
		echo -1 >$b/$name
		exit $rc' _ "$@"
}

# podman_in STORE [--binfmt CONF] PODMAN-ARGS...: podman with its storage
# under STORE (nothing in the host's), in a mount namespace of its own: a
# private cgroup2 mount where the host has a hybrid hierarchy (crun refuses
# one; containers run with --cgroups=disabled), and with CONF (a binfmt.d
# line) a temporary entry of the host's binfmt_misc, removed afterwards.
# For `run`, the limits podman would raise are kept to what the host allows.
podman_in() {
	local store=$1 conf=
	shift
	if [ "$1" = --binfmt ]; then
		conf=$2
		shift 2
	fi
	unshare --mount --propagation private --fork bash -c '
		store=$1 conf=$2 b=/proc/sys/fs/binfmt_misc name=xboot-test-$$
		shift 2
		if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
			umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || exit 125
		fi
		if [ -n "$conf" ]; then
			[ -e $b/register ] || mount -t binfmt_misc binfmt_misc $b || exit 125
			echo ":$name:${conf#:*:}" >$b/register || exit 125
		fi
		if [ "$1" = run ]; then
			shift
			set -- run --cgroups=disabled --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$@"
		fi
		podman --root "$store/root" --runroot "$store/run" --cgroup-manager=cgroupfs "$@"
		rc=$?
		[ -z "$conf" ] || echo -1 >$b/$name
		exit $rc' _ "$store" "$conf" "$@"
}

# stderr_but_chrooted: $stderr without the one warning of a run without a
# user namespace.
stderr_but_chrooted() {
	grep -v '^xboot: warning: no user namespace here (chrooted?)' <<<"$stderr" || true
}

# stderr_clean: $stderr holds nothing but, where xboot runs chrooted (no
# user namespace: root inside is the host's root), the one warning saying so.
stderr_clean() {
	[ -z "$(stderr_but_chrooted | grep .)" ]
}

# emu_said DEB QEMU: $stderr says that DEB's programs run under
# qemu-QEMU-static: in the session's own binfmt_misc instance or, where
# there is no user namespace, through a temporary entry in the host's.
emu_said() {
	local q
	q=$(realpath "/usr/bin/qemu-$2-static")
	grep -Fqx "xboot: $1 programs run under $q, registered in the session's own binfmt_misc instance" <<<"$stderr" ||
		{ ! unshare --user true 2>/dev/null &&
			[[ $stderr == *"; $1 programs run through a temporary entry xboot-"*" in the host's binfmt_misc, for $q"* ]]; }
}

# need_userns: skip where the kernel refuses user namespaces (inside a
# chroot, as the fresh-machine harness runs us, or switched off).
need_userns() {
	unshare --user true 2>/dev/null || skip "no user namespaces here (chroot, or switched off)"
}
