#!/bin/sh
# chorectl's online verbs against api_stub (the HTTP API with canned jobs and a scripted
# run): output text, --json, exit codes, and the daemon unreachable.
. "$(dirname "$0")/tap.sh"
tmp=$(mktemp -d)
stub_pid=
cleanup() {
	[ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null && wait "$stub_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
stub=$top_builddir/tests/unit/api_stub
sock=$tmp/ctl.sock

# start_stub: runs api_stub on $sock and waits (5 s at most) until it answers.
start_stub() {
	"$stub" "$sock" 2>"$tmp/stub.err" &
	stub_pid=$!
	i=0
	until CHORED_SOCKET=$sock "$CHORECTL" status >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 250 ] || ! kill -0 "$stub_pid" 2>/dev/null; then
			diag "api_stub did not start:" "$(cat "$tmp/stub.err")"
			exit 1
		fi
		sleep 0.02
	done
}
start_stub
CHORED_SOCKET=$sock
export CHORED_SOCKET

# status
run "$CHORECTL" status
is "$rc" 0 "status: exit 0"
contains "$out" "version: 0.0-stub" "status: version line"
contains "$out" "generation: 1" "status: generation line"
run "$CHORECTL" status --json
is "$out" '{"version":"0.0-stub","generation":1,"jobs":3,"runs_in_flight":0}' "status --json: the raw answer"
run "$CHORECTL" --json status
contains "$out" '"generation":1' "--json before the verb"

# list
run "$CHORECTL" list
is "$rc" 0 "list: exit 0"
is "$(echo "$out" | head -1)" "JOB      PLUGIN  SCHEDULE    NEXT RUN (UTC)             LAST RUN (UTC)" "list: header"
is "$(echo "$out" | grep '^nightly')" "nightly  exec    30 2 * * *  2026-11-24T02:30:00+00:00  ok 2026-11-23T01:30:00+00:00" "list: next run in UTC, last status and time"
contains "$(echo "$out" | grep '^frozen')" "disabled" "list: a disabled job says so"
is "$(echo "$out" | grep '^demo' | tr -s ' ')" "demo exec manual - -" "list: no next, no last"
run "$CHORECTL" list --json
contains "$out" '{"jobs":[{"name":"nightly"' "list --json: the raw answer"

# history
run "$CHORECTL" history nightly
is "$rc/$out" "0/ID  NOMINAL (UTC)              TRIGGER   STATUS  DURATION  SUMMARY
2   2026-11-23T01:30:00+00:00  schedule  ok      4.0s      3 files
1   2026-11-22T01:30:00+00:00  schedule  failed  1.2s      exit status 3" "history: table, newest first"
run "$CHORECTL" history nightly --limit 1
lacks "$out" "exit status 3" "history --limit 1: one run"
contains "$out" "3 files" "history --limit 1: the newest"
run "$CHORECTL" history nightly --json
contains "$out" '{"runs":[{"id":2,' "history --json"
run "$CHORECTL" history nightly --limit 0
is "$rc" 64 "history --limit 0: usage error"
run "$CHORECTL" history nightly --limit 1001
is "$rc" 64 "history --limit 1001: usage error"
run "$CHORECTL" history nosuch
is "$rc" 65 "history of an unknown job: 65"
contains "$err" "no job 'nosuch'" "history: unknown job named"
run "$CHORECTL" history
is "$rc" 64 "history without a job: usage error"

# logs
run "$CHORECTL" logs 2
is "$rc" 0 "logs: exit 0"
is "$(echo "$out" | head -1)" "run 2 of nightly" "logs: header names run and job"
contains "$out" "status:   ok in 4.0s" "logs: status and duration"
contains "$out" "summary:  3 files" "logs: summary"
contains "$out" "01:30:00.123 OUT hello" "logs: printed output"
contains "$out" '01:30:01.123 INFO uploaded file="a b.txt"' "logs: log record with level and fields"
run "$CHORECTL" logs 2 --json
contains "$out" '"log":[' "logs --json: with the log"
run "$CHORECTL" logs 99
is "$rc" 65 "logs of an unknown run: 65"
run "$CHORECTL" logs abc
is "$rc" 64 "logs abc: usage error"

# run
run "$CHORECTL" run demo
is "$rc" 0 "run: exit 0"
case "$out" in
'' | *[!0-9]*) not_ok "run prints the run id (got '$out')" ;;
*) ok "run prints the run id" ;;
esac
run "$CHORECTL" run demo --json
contains "$out" '{"run_id":' "run --json"
run "$CHORECTL" run demo --dry-run --at 2026-11-23T10:00:00+01:00
is "$rc" 0 "run --dry-run --at"
run "$CHORECTL" run demo --at yesterday
is "$rc" 64 "run --at with a bad time: usage error"
contains "$err" "ISO 8601" "run --at: says what is expected"
run "$CHORECTL" run frozen
is "$rc" 65 "run of a disabled job: 65"
contains "$err" "job frozen is disabled" "run: the daemon's reason"
run "$CHORECTL" run nosuch
is "$rc" 65 "run of an unknown job: 65"
run "$CHORECTL" run demo extra
is "$rc" 64 "run with two jobs: usage error"
run "$CHORECTL" run demo --frobnicate
is "$rc" 64 "run with an unknown option: usage error"
run "$CHORECTL" run --help
is "$rc" 0 "run --help: exit 0"
contains "$out" "75 partial" "run --help: documents the exit status"

# run --wait: the log as it comes, then the outcome; 75 for partial
run "$CHORECTL" run demo --wait
is "$rc" 75 "run --wait: partial exits 75"
id=$(echo "$err" | sed -n 's/^chorectl: run \([0-9]*\) of demo started$/\1/p')
is "$out" "starting upload
INFO item done item=a.txt
INFO item done item=\"b c.txt\"
WARN item failed item=d.txt
RUN $id partial in 312ms: 2 of 3 items uploaded" "run --wait: log lines and the outcome"
lacks "$out" "[" "run --wait: no progress bar when not on a terminal"
run "$CHORECTL" run demo --wait --json
is "$rc" 75 "run --wait --json: exit 75"
contains "$out" '"status":"partial"' "run --wait --json: the finished run"
run "$CHORECTL" history demo --limit 1
contains "$out" "partial" "the waited run is in the history"

# a terminal gets the progress bar (script(1) provides one)
if command -v script >/dev/null 2>&1; then
	script -qec "$CHORECTL run demo --wait" "$tmp/typescript" >"$tmp/tty.out" 2>&1
	tty_rc=$?
	tty_out=$(cat "$tmp/tty.out")
	contains "$tty_out" "[####################] 3/3" "run --wait on a terminal: progress bar"
	contains "$tty_out" "[#############-------] 2/3" "run --wait on a terminal: bar redrawn"
	contains "$tty_out" "partial in 312ms" "run --wait on a terminal: outcome"
	case $tty_rc in
	75 | 0) ok "run --wait on a terminal: exit status passed through script" ;;
	*) not_ok "run --wait on a terminal: exit $tty_rc" ;;
	esac
else
	ok "# SKIP script(1) not installed"
	ok "# SKIP script(1) not installed"
	ok "# SKIP script(1) not installed"
	ok "# SKIP script(1) not installed"
fi

# reload
run "$CHORECTL" reload
is "$rc/$out" "0/ok (generation 2)" "reload: ok and the new generation"
touch "$sock.reject"
run "$CHORECTL" reload
is "$rc" 78 "reload rejected: 78"
contains "$err" "rejected: 2 errors" "reload rejected: error count"
lacks "$err" "10-x.conf" "reload without --wait: no error lines"
run "$CHORECTL" reload --wait
is "$rc" 78 "reload --wait rejected: 78"
contains "$err" "conf.d/10-x.conf:3: [job x] schedule: hour 25 is out of range 0-23" "reload --wait: first error line"
contains "$err" "conf.d/10-x.conf:7: [job y] plugin: no plugin named 'nope'" "reload --wait: second error line"
run "$CHORECTL" reload --json
is "$rc" 78 "reload --json rejected: 78"
contains "$out" '"code":"config_rejected"' "reload --json: the error answer"
rm -f "$sock.reject"
run "$CHORECTL" reload --wait
is "$rc/$out" "0/ok (generation 3)" "reload --wait: ok"

# the socket path from the configuration
cat >"$tmp/chored.conf" <<CONF
[daemon]
socket = $sock
state = sqlite://$tmp/state.db
plugin_dir = $tmp
CONF
run env CHORED_SOCKET= "$CHORECTL" -c "$tmp/chored.conf" status
is "$rc" 0 "socket path read from -c FILE"
# A configuration with errors still names its socket (what reload --wait is for); a
# drop-in overrides the main file.
mkdir -p "$tmp/b/conf.d"
printf '[daemon]\nsocket = %s\nhistory = lots\n' "$tmp/nowhere.sock" >"$tmp/b/chored.conf"
printf '[daemon]\nsocket = %s\n[job x]\nschedule = 99 * * * *\n' "$sock" >"$tmp/b/conf.d/10-x.conf"
run env -u CHORED_SOCKET "$CHORECTL" -c "$tmp/b/chored.conf" status
is "$rc" 0 "socket path from a configuration with errors, drop-in last"
lacks "$err" "warning" "no warning when the socket was found"
run env -u CHORED_SOCKET "$CHORECTL" -c "$tmp/missing.conf" status
is "$rc" 69 "unreadable config: the default socket, unreachable: 69"
contains "$err" "warning: cannot read $tmp/missing.conf" "unreadable config: warned"

# daemon unreachable: every online verb exits 69
for verb in status list "run demo" "history nightly" "logs 1" reload; do
	# shellcheck disable=SC2086
	run env CHORED_SOCKET="$tmp/none.sock" "$CHORECTL" $verb
	is "$rc" 69 "$verb: unreachable daemon: 69"
done
contains "$err" "chorectl: cannot reach chored at $tmp/none.sock: No such file or directory" "unreachable: socket named with the reason"

# a daemon that died leaves its socket: connection refused, then a new one takes it over
kill -9 "$stub_pid"
wait "$stub_pid" 2>/dev/null
stub_pid=
run "$CHORECTL" status
is "$rc" 69 "stale socket: 69"
contains "$err" "Connection refused" "stale socket: connection refused"
start_stub
run "$CHORECTL" status
is "$rc" 0 "a new daemon replaces the stale socket"
"$stub" "$sock" 2>"$tmp/second.err"
is "$?" 69 "a second daemon does not steal a live socket"
contains "$(cat "$tmp/second.err")" "another chored is listening on $sock" "second daemon: says why"
kill "$stub_pid"
wait "$stub_pid"
is "$?" 0 "stub stops cleanly on SIGTERM"
stub_pid=
[ -e "$sock" ] && not_ok "socket removed on exit" || ok "socket removed on exit"
run "$CHORECTL" list
is "$rc" 69 "daemon gone: 69"
plan_done
