#!/usr/bin/env bats
# Through a caching proxy, as a CI fleet shares its downloads: a real
# apt-cacher-ng in front of the hermetic repository.  xboot goes through the
# proxy that http_proxy or --aptopt='Acquire::http::Proxy "URL";' names, a
# second run gets its .debs from the proxy's cache and not from the mirror,
# and a .deb that the proxy's cache holds corrupted is still refused on its
# SHA256, leaving nothing of it in xboot's cache.
#
# Each test starts its own apt-cacher-ng (proxy_start): on 127.0.0.1, in the
# foreground, with its configuration, cache and logs under the test's
# directory, stopped by its pid in teardown.  The system's apt-cacher-ng
# service (port 3142) is neither used nor touched.
#
# apt-cacher-ng 3.7 (bookworm) reads a port above 32767 as a negative
# number, both the one it listens on and a mirror's in a URL (38337 becomes
# "-2719": it cannot bind, or answers "503 Connection refused"), so both the
# proxy and this file's fixture server are on ports below 32768.

load helpers

setup_file() {
	fixture_setup || return 1
	low_port_server
}

teardown_file() {
	fixture_teardown
}

setup() {
	hermetic_setup
	export XB_TIMEOUT=5
	fixture_rules
	# only what a test names: no proxy of the caller's, no exception for 127.0.0.1
	unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
	command -v apt-cacher-ng >/dev/null ||
		skip "apt-cacher-ng is not installed (make deps installs it)"
	proxy_start
}

teardown() {
	proxy_stop
}

# low_port: a port below 32768 that nothing on 127.0.0.1 is bound to now.
low_port() {
	"$XB_PYTHON" -c '
import random, socket
for _ in range(200):
    port = random.randint(20000, 32767)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit(1)
'
}

# low_port_server: the file's fixture server again, on a port below 32768:
# stops the one fixture_setup started and starts server.py on the same
# repository, rules and log; XB_SERVER_PID and XB_REPO_URL follow it.
low_port_server() {
	local state=$BATS_FILE_TMPDIR/server port _ attempt
	fixture_stop_server "$XB_SERVER_PID"
	for attempt in 1 2 3 4 5; do
		[ "$attempt" -eq 1 ] || echo "# attempt $attempt" >&2
		port=$(low_port) || return 1
		rm -f "$state/port"
		# fd 3 is bats' own: a background child holding it makes bats wait for it.
		"$XB_PYTHON" "$XB_FIXTURES/server.py" --root "$XB_FIXTURE/repo" --port "$port" \
			--port-file "$state/port" --rules "$XB_SERVER_RULES" --log "$XB_SERVER_LOG" \
			--lifetime 1800 </dev/null >"$state/stderr" 2>&1 3>&- &
		export XB_SERVER_PID=$!
		for _ in $(seq 100); do
			[ -s "$state/port" ] && break
			kill -0 "$XB_SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		if [ "$(cat "$state/port" 2>/dev/null)" = "$port" ]; then
			export XB_REPO_URL=http://127.0.0.1:$port
			return 0
		fi
		fixture_stop_server "$XB_SERVER_PID"
	done
	echo "# server.py did not start on a port below 32768:" >&2
	sed 's/^/#   /' "$state/stderr" >&2
	return 1
}

# proxy_start: apt-cacher-ng on 127.0.0.1:$PROXY_PORT ($PROXY, its URL), as
# this test's own process $PROXY_PID, everything of it in $P: conf/acng.conf,
# cache/ (a file of the mirror's is cache/127.0.0.1/PATH: by host, without
# the port), log/apt-cacher.log (see proxy_log).  The settings it needs in
# front of the fixture: AllowUserPorts 0 (by default it only goes to port
# 80 of a mirror named in the request, and answers 403 for the fixture's
# port); no Remap, no PassThroughPattern (plain http in proxy mode: the
# request names the mirror).  A token that only its LocalDirs serve shows
# that what answers on the port is this process.
proxy_start() {
	P=$BATS_TEST_TMPDIR/acng
	mkdir -p "$P/conf" "$P/cache" "$P/log" "$P/probe"
	local token=$RANDOM$RANDOM$RANDOM attempt _
	echo "$token" >"$P/probe/token"
	for attempt in 1 2 3 4 5; do
		[ "$attempt" -eq 1 ] || echo "# attempt $attempt" >&2
		PROXY_PORT=$(low_port) || return 1
		cat >"$P/conf/acng.conf" <<-EOF
			CacheDir: $P/cache
			LogDir: $P/log
			PidFile: $P/pid
			Port: $PROXY_PORT
			BindAddress: 127.0.0.1
			SocketPath:
			ForeGround: 1
			UnbufferLogs: 1
			VerboseLog: 1
			AllowUserPorts: 0
			LocalDirs: xboot-probe $P/probe
		EOF
		rm -f "$P/pid"
		apt-cacher-ng -c "$P/conf" ForeGround=1 </dev/null >"$P/stderr" 2>&1 3>&- &
		PROXY_PID=$!
		for _ in $(seq 100); do
			if [ "$(curl -fsS --noproxy '*' "http://127.0.0.1:$PROXY_PORT/xboot-probe/token" 2>/dev/null)" = "$token" ]; then
				PROXY=http://127.0.0.1:$PROXY_PORT
				# in the foreground: the pid it records is the one started here
				wait_for test -s "$P/pid"
				[ "$(cat "$P/pid")" = "$PROXY_PID" ] && return 0
				echo "# apt-cacher-ng left the foreground (pid $(cat "$P/pid"))" >&2
				fixture_stop_server "$(cat "$P/pid")"
				break
			fi
			kill -0 "$PROXY_PID" 2>/dev/null || break
			sleep 0.1
		done
		proxy_stop
	done
	echo "# apt-cacher-ng did not start:" >&2
	sed 's/^/#   /' "$P/stderr" "$P/log/apt-cacher.err" >&2 2>/dev/null
	return 1
}

# proxy_stop: SIGTERM to the test's apt-cacher-ng (SIGKILL after 5 s).
proxy_stop() {
	[ -n "${PROXY_PID:-}" ] || return 0
	fixture_stop_server "$PROXY_PID"
	wait "$PROXY_PID" 2>/dev/null || true
	PROXY_PID=
}

# proxy_log [FROM]: apt-cacher-ng's transfer log from line FROM (default 1),
# as "TYPE PATH": I, bytes of PATH it fetched from the mirror; O, bytes of
# PATH it sent to a client; E, an error.  A file it sent from its cache has
# an O record and no I record.
proxy_log() {
	tail -n "+${1:-1}" "$P/log/apt-cacher.log" 2>/dev/null | awk -F'|' '{ print $2, $5 }'
}

# proxy_mark: where proxy_log of what comes next starts.
proxy_mark() {
	local n
	n=$(wc -l <"$P/log/apt-cacher.log")
	echo $((n + 1))
}

# proxy_has FROM RECORD: proxy_log FROM has the line RECORD.
proxy_has() {
	proxy_log "$1" | grep -qxF -- "$2"
}

# proxy_sent FROM PATH...: each PATH has its O record since FROM (the proxy
# writes it once the client has the whole file, which may be just after the
# client is done: up to 20 s).
proxy_sent() {
	local from=$1 path
	shift
	for path; do
		wait_for proxy_has "$from" "O 127.0.0.1$path" ||
			{ echo "no O record for $path"; proxy_log "$from"; return 1; }
	done
}

# server_debs: the .debs the fixture server was asked for, one path a line.
server_debs() {
	awk '$1 == "GET" && $2 ~ /^\/pool\/.*\.deb$/ { print $2 }' "$XB_SERVER_LOG" | sort
}

# cache_verified DIR: every .deb and index in xboot's cache DIR is named by
# its own SHA256, and nothing else is there (no temporary file, nothing
# unverified).
cache_verified() {
	local f
	while IFS= read -r f; do
		case $f in
		*/.lock) ;;
		*/sha256/*.deb)
			[ "$(sha256sum <"$f" | cut -d' ' -f1).deb" = "${f##*/}" ] ||
				{ echo "bad file in cache: $f"; return 1; }
			;;
		*/indices/*)
			[ "$(sha256sum <"$f" | cut -d' ' -f1)" = "${f##*/}" ] ||
				{ echo "bad index in cache: $f"; return 1; }
			;;
		*) echo "stray file in cache: $f"; return 1 ;;
		esac
	done < <(find "$1" -type f)
}

@test "proxy: through apt-cacher-ng by http_proxy, then by Acquire::http::Proxy: the second run's .debs come from its cache, not the mirror" {
	local debs from d
	# 1: the proxy in the environment, as libcurl and apt read it
	: >"$XB_SERVER_LOG"
	from=$(proxy_mark)
	export http_proxy=$PROXY
	CACHE=$BATS_TEST_TMPDIR/cache1 xb --variant=essential --include=mark-c "$XB_SUITE" "$T.1" "$XB_REPO_URL"
	unset http_proxy
	[ "$status" -eq 0 ]
	debs=$(server_debs)
	echo "$debs"
	# the mirror was asked for each .deb once, by the proxy
	[ "$(echo "$debs" | wc -l)" -eq 3 ]
	[ -z "$(echo "$debs" | uniq -d)" ]
	proxy_sent "$from" $debs
	for d in $debs; do
		proxy_has "$from" "I 127.0.0.1$d"
	done
	# 2: the proxy as apt's option, another cache: the .debs from the proxy's cache
	: >"$XB_SERVER_LOG"
	from=$(proxy_mark)
	CACHE=$BATS_TEST_TMPDIR/cache2 xb --variant=essential --include=mark-c \
		--aptopt="Acquire::http::Proxy \"$PROXY\";" "$XB_SUITE" "$T.2" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	cat "$XB_SERVER_LOG"
	[ -z "$(server_debs)" ]
	proxy_sent "$from" $debs
	[ -z "$(proxy_log "$from" | grep '^I .*\.deb$')" ]
	# the same packages, whole, in both caches, and the same trees
	diff <(ls "$BATS_TEST_TMPDIR/cache1/sha256") <(ls "$BATS_TEST_TMPDIR/cache2/sha256")
	[ "$(ls "$BATS_TEST_TMPDIR/cache2/sha256" | wc -l)" -eq 3 ]
	cache_verified "$BATS_TEST_TMPDIR/cache2/sha256"
	diff "$T.1/var/lib/dpkg/status" "$T.2/var/lib/dpkg/status"
	[ -f "$T.2/usr/share/mark-c/README" ]
}

@test "proxy: Acquire::http::Proxy wins over http_proxy, and \"DIRECT\" goes around the proxy" {
	local from dead debs
	dead=http://127.0.0.1:$(low_port)
	# nothing listens where http_proxy points: the option's proxy is the one used
	: >"$XB_SERVER_LOG"
	from=$(proxy_mark)
	export http_proxy=$dead
	CACHE=$BATS_TEST_TMPDIR/cache1 xb --variant=essential --include=mark-c \
		--aptopt="Acquire::http::Proxy \"$PROXY\";" "$XB_SUITE" "$T.1" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	# (what the proxy fetched from the mirror for it)
	debs=$(server_debs)
	[ -n "$debs" ]
	proxy_sent "$from" $debs
	# DIRECT: to the mirror, past the proxy that http_proxy names now
	export http_proxy=$PROXY
	: >"$XB_SERVER_LOG"
	from=$(proxy_mark)
	CACHE=$BATS_TEST_TMPDIR/cache2 xb --variant=essential --include=mark-c \
		--aptopt='Acquire::http::Proxy "DIRECT";' "$XB_SUITE" "$T.2" "$XB_REPO_URL"
	unset http_proxy
	[ "$status" -eq 0 ]
	[ "$(server_debs)" = "$debs" ]
	[ -z "$(proxy_log "$from")" ]
}

@test "proxy: a .deb corrupted in apt-cacher-ng's cache is refused on its SHA256, and nothing of it stays in --cache-dir" {
	local f good bad from opt="Acquire::http::Proxy \"$PROXY\";"
	local deb=/pool/main/m/mark-c/mark-c_1.0_all.deb
	# a first run fills the proxy's cache
	CACHE=$BATS_TEST_TMPDIR/warm xb --no-tree-cache --variant=essential --include=mark-c \
		--aptopt="$opt" "$XB_SUITE" "$T.warm" "$XB_REPO_URL"
	[ "$status" -eq 0 ]
	f=$P/cache/127.0.0.1$deb
	[ -s "$f" ]
	good=$(sha256sum <"$f" | cut -d' ' -f1)
	[ "$good" = "$(sha256sum <"$XB_FIXTURE/repo$deb" | cut -d' ' -f1)" ]
	# eight bytes in the middle changed in place: the same name and size,
	# which the proxy serves as they are, without asking the mirror
	printf 'XXXXXXXX' | dd of="$f" bs=1 seek=$(( $(stat -c %s "$f") / 2 )) conv=notrunc status=none
	bad=$(sha256sum <"$f" | cut -d' ' -f1)
	[ "$bad" != "$good" ]
	: >"$XB_SERVER_LOG"
	from=$(proxy_mark)
	xb --variant=essential --include=mark-c --aptopt="$opt" "$XB_SUITE" "$T" "$XB_REPO_URL"
	[ "$status" -ne 0 ]
	# one error line, naming the URL and both hashes
	[ "$(grep -c '^xboot: error: ' <<<"$stderr")" -eq 1 ]
	grep -qx "xboot: error: downloading $XB_REPO_URL$deb: SHA256 mismatch (expected $good, got $bad)" <<<"$stderr"
	# it came from the proxy's cache: the mirror was not asked for it
	proxy_sent "$from" "$deb"
	[ -z "$(grep mark-c "$XB_SERVER_LOG")" ]
	# nothing of it in xboot's cache (neither name), nothing half-written,
	# nothing of it in the tree
	[ ! -e "$CACHE/sha256/$good.deb" ]
	[ ! -e "$CACHE/sha256/$bad.deb" ]
	cache_verified "$CACHE"
	[ ! -e "$T/usr/share/mark-c" ]
	[ -z "$(mounts_under "$T")" ]
}
