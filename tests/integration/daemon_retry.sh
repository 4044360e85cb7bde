#!/bin/sh
# retries: a failed slot is retried with the same nominal time, attempt + 1, after
# retry_delay * 2^(attempt-1) ± 25 %, up to `retries` extra attempts; partial is not retried.
. "$(dirname "$0")/daemon_lib.sh"

write_conf
dropin 00-placeholder <<EOF2
[job placeholder]
plugin = testplug
schedule = manual
EOF2
start_daemon || exit 1
# The jobs come with a reload once the daemon is up, due at one second 3 s from now (the
# minute wraps), so a slow start cannot make the test miss the slot.
sec=$((($(date +%s) + 3) % 60))
dropin 10-jobs <<EOF2
[job flaky]
plugin = testplug
schedule = $sec * * * * *
mode = fail
retries = 2
retry_delay = 1s

[job half]
plugin = testplug
schedule = $sec * * * * *
mode = partial
retries = 2
retry_delay = 1s
EOF2
kill -HUP "$dpid"
check "three attempts of the failing slot" wait_until 20 at_least 3 "job='flaky' AND status='failed'"
sleep 1.5
is "$(sql "SELECT group_concat(attempt || ':' || trigger) FROM (SELECT * FROM runs WHERE job='flaky' ORDER BY id)")" \
	"1:schedule,2:retry,3:retry" "attempts 1 to 3: the scheduled run, then two retries, no more"
is "$(sql "SELECT count(DISTINCT nominal) FROM runs WHERE job='flaky'")" 1 "retries keep the slot's nominal time"
gaps=$(sql "SELECT b.started_ms - a.ended_ms FROM runs a JOIN runs b ON b.job=a.job AND b.attempt=a.attempt+1 WHERE a.job='flaky' ORDER BY a.attempt")
set -- $gaps
check "first retry after 1 s ± 25 % (${1} ms)" [ "$1" -ge 750 ] && [ "$1" -le 1600 ]
check "second retry after 2 s ± 25 % (${2} ms)" [ "$2" -ge 1500 ] && [ "$2" -le 2900 ]
is "$(sql "SELECT group_concat(status) FROM runs WHERE job='half'")" "partial" "a partial run is not retried"
stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
plan_done
