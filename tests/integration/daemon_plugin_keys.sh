#!/bin/sh
# A plugin that declares chored's own `retries` and `timeout` (http) owns them: it retries
# the request inside one run, chored does not retry the run too, and the run's deadline
# leaves room for every attempt.
. "$(dirname "$0")/daemon_lib.sh"

cp "$top_builddir/plugins/stage/http.so" "$tmp/plugins/"
python3 "$top_srcdir/tests/fakes/http_echo.py" "$tmp/port" "$tmp/requests" &
fake=$!
trap 'kill $fake 2>/dev/null; cleanup' EXIT
n=200
while [ ! -s "$tmp/port" ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
port=$(cat "$tmp/port")

write_conf
dropin 00-placeholder <<EOF2
[job placeholder]
plugin = testplug
schedule = manual
EOF2
start_daemon || exit 1
sec=$((($(date +%s) + 3) % 60))
# down: always 503, two attempts (1 s apart) inside one run. slow: each attempt times out
# after 1 s, three of them: more than the 1 s `timeout`, yet the run is not killed.
dropin 10-jobs <<EOF2
[job down]
plugin = http
schedule = $sec * * * * *
url = http://127.0.0.1:$port/status/503
retries = 1
retry_delay = 1s

[job slow]
plugin = http
schedule = $sec * * * * *
url = http://127.0.0.1:$port/slow/3000
timeout = 1s
retries = 2
EOF2
kill -HUP "$dpid"
check "the failing slot ends" wait_until 20 at_least 1 "job='down' AND status='failed'"
check "the slow slot ends" wait_until 30 at_least 1 "job='slow' AND status!='running'"
sleep 2.5 # a run-level retry would come after retry_delay = 1 s
is "$(sql "SELECT group_concat(attempt || ':' || status) FROM runs WHERE job='down'")" \
	"1:failed" "one run: chored does not retry a plugin that retries itself"
is "$(grep -c '/status/503' "$tmp/requests")" 2 "the plugin made 1 + retries requests"
is "$(sql "SELECT status FROM runs WHERE job='slow'")" "failed" \
	"per-attempt timeouts end the run as failed, not killed by chored's deadline"
is "$(grep -c '/slow/3000' "$tmp/requests")" 3 "every attempt of the slow job was made"
stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
plan_done
