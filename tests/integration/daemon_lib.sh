# Helpers for the daemon integration tests (sourced): a temp dir with a config, the test
# plugins, the real chored started in the background, the state DB read with sqlite3 and
# the control socket with curl. Every wait polls against a deadline.
. "$(dirname "$0")/tap.sh"

: "${top_builddir:?run through make check (top_builddir is not set)}"
tmp=$(mktemp -d)
dpid=
# Helpers a test starts in the background (listeners, fakes): ended on any exit, since one
# left running holds the test's stdout open and the harness would wait for it forever.
bg_pids=
cleanup() {
	for p in $bg_pids; do kill "$p" 2>/dev/null; done
	if [ -n "$dpid" ]; then
		kill -9 "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
	fi
	# Runners left by a kill -9 of the daemon are their own process group leaders.
	for p in $(cat "$tmp"/runner-pids 2>/dev/null); do kill -9 "-$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
umask 022
# The clock-step lock is taken by tap.sh (shared; exclusive for daemon_clock.sh).
mkdir -p "$tmp/conf.d" "$tmp/plugins"
cp "$top_builddir/tests/plugins/stage/testplug.so" "$tmp/plugins/"
CHORED_RUNNER=$top_builddir/daemon/chored-run-uninstalled
export CHORED_RUNNER
db=$tmp/state.db
sock=$tmp/run/chored.sock
log=$tmp/daemon.log

# write_conf [EXTRA DAEMON KEYS…]: the main file; jobs go into conf.d/ drop-ins. The admin
# HTTP listener is off unless a `listen = …` key is given: tests run side by side.
write_conf() {
	{
		echo "[daemon]"
		echo "state = sqlite://$db"
		echo "plugin_dir = $tmp/plugins"
		echo "socket = $sock"
		_listen=
		for kv in "$@"; do
			case $kv in listen*) _listen=1 ;; esac
			echo "$kv"
		done
		[ -n "$_listen" ] || echo "listen ="
	} >"$tmp/chored.conf"
}

# dropin NAME <<EOF … EOF
dropin() { cat >"$tmp/conf.d/$1.conf"; }

# Seconds since boot: deadlines must not move when daemon_clock.sh steps the wall clock.
uptime_s() {
	read -r _up _ </proc/uptime
	echo "${_up%.*}"
}

# wait_until SECONDS CMD…: polls CMD every 0.1 s; returns 1 when the deadline passes.
wait_until() {
	_deadline=$(($(uptime_s) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(uptime_s)" -ge "$_deadline" ] && return 1
		sleep 0.1
	done
	return 0
}

alive() { kill -0 "$dpid" 2>/dev/null; }

# start_daemon [OPTIONS…] (default -d)
start_daemon() {
	rm -f "$sock"
	[ $# -gt 0 ] || set -- -d
	"$CHORED" "$@" -c "$tmp/chored.conf" 2>>"$log" &
	dpid=$!
	if ! wait_until 20 test -S "$sock"; then
		diag "chored did not open its socket; log:" "$(cat "$log")"
		return 1
	fi
}

# stop_daemon: SIGTERM, wait; sets $stop_rc.
stop_daemon() {
	kill -TERM "$dpid"
	wait "$dpid"
	stop_rc=$?
	dpid=
}

sql() { sqlite3 -cmd '.timeout 5000' "$db" "$1" 2>/dev/null; }
# count WHERE-CLAUSE: number of runs matching
count() { sql "SELECT count(*) FROM runs WHERE $1"; }
# at_least N WHERE-CLAUSE (for wait_until)
at_least() { [ "$(count "$2")" -ge "$1" ] 2>/dev/null; }

api() { curl -s --max-time 20 --unix-socket "$sock" "$@"; }

# The pids of the daemon's children (the runners).
runner_pids() { ps -o pid= --ppid "$dpid" 2>/dev/null | tr -d ' '; }

# json_get JSON PYTHON-EXPR: evaluates EXPR with `j` bound to the parsed document. Debian's
# python3 when present: a pyenv shim first on PATH costs seconds per call.
_json_py=python3
[ -x /usr/bin/python3 ] && _json_py=/usr/bin/python3
json_get() { printf '%s' "$1" | "$_json_py" -c "import json,sys; j=json.load(sys.stdin); print($2)"; }

# settle WHERE-CLAUSE: waits (10 s at most) until the matching runs stop changing for 0.5 s
# and none of them is still running.
settle() {
	_deadline=$(($(uptime_s) + 10))
	_prev=$(sql "SELECT count(*), sum(status='running') FROM runs WHERE $1")
	while [ "$(uptime_s)" -lt "$_deadline" ]; do
		sleep 0.5
		_now=$(sql "SELECT count(*), sum(status='running') FROM runs WHERE $1")
		[ "$_now" = "$_prev" ] && [ "${_now#*|}" = 0 ] && return 0
		_prev=$_now
	done
	return 1
}
