#!/bin/sh
# The real chored runs a 6-field schedule every 2 s through chored-run and records each run;
# a plugin that segfaults is recorded as crashed (SIGSEGV) while the daemon goes on; a run
# over its timeout is killed; the control socket answers; SIGTERM exits 0.
. "$(dirname "$0")/daemon_lib.sh"

write_conf
dropin 10-jobs <<EOF
[job every2]
plugin = testplug
schedule = */2 * * * * *
mode = ok

[job crash]
plugin = testplug
schedule = * * * * * *
mode = segv

[job slow]
plugin = testplug
schedule = * * * * * *
timeout = 1s
mode = sleep
seconds = 60s

[job busy]
plugin = testplug
schedule = manual
mode = sleep
seconds = 2s

[job later]
plugin = testplug
schedule = 0 0 1 1 *
description = never during the test
EOF

start_daemon || exit 1
check "every2: three ok runs recorded" wait_until 15 at_least 3 "job='every2' AND status='ok'"
slots=$(sql "SELECT nominal FROM runs WHERE job='every2' ORDER BY nominal LIMIT 3")
odd=$(for s in $slots; do echo $((s % 2)); done | sort -u)
is "$odd" 0 "every2: nominal slots are even seconds"
set -- $slots
is "$(($2 - $1)):$(($3 - $2))" "2:2" "every2: one run every 2 s, none missed or doubled"
late=$(sql "SELECT max(started_ms - nominal*1000) FROM runs WHERE job='every2'")
[ "$late" -ge 0 ] && [ "$late" -lt 1000 ] && ok "every2: started within 1 s of its slot (${late} ms)" ||
	not_ok "every2: started ${late} ms after its slot"
is "$(sql "SELECT DISTINCT trigger FROM runs WHERE job='every2'")" schedule "every2: trigger is schedule"

wait_until 10 at_least 2 "job='crash' AND status='crashed'"
is "$(sql "SELECT status || ' ' || signal FROM runs WHERE job='crash' AND status <> 'skipped' ORDER BY id LIMIT 1")" "crashed 11" \
	"segv: recorded as crashed by signal 11"
contains "$(sql "SELECT summary FROM runs WHERE job='crash' AND status='crashed' LIMIT 1")" "SIGSEGV" \
	"segv: summary names SIGSEGV"
n=$(count "job='every2' AND status='ok'")
wait_until 10 at_least $((n + 1)) "job='every2' AND status='ok'"
check "daemon still runs after the plugin crashes" alive
check "every2 keeps firing after the crashes" at_least $((n + 1)) "job='every2' AND status='ok'"

wait_until 15 at_least 1 "job='slow' AND status='timeout'"
row=$(sql "SELECT status, ended_ms - started_ms FROM runs WHERE job='slow' AND status='timeout' LIMIT 1")
is "${row%%|*}" timeout "timeout: a run over its timeout is recorded as timeout"
dur=${row#*|}
[ "$dur" -ge 900 ] && [ "$dur" -lt 10000 ] && ok "timeout: killed after ${dur} ms (timeout 1 s)" ||
	not_ok "timeout: run lasted ${dur} ms"
check "slow: slots due while it ran were skipped (overlap = skip by default)" \
	at_least 1 "job='slow' AND status='skipped'"

# Control socket.
st=$(api http://chored/v1/status)
is "$(json_get "$st" 'j["generation"], j["jobs"], j["pid"]')" "1 5 $dpid" "status: generation, jobs and pid"
jobs=$(api http://chored/v1/jobs)
is "$(json_get "$jobs" '[x["name"] for x in j["jobs"]]')" \
	"['every2', 'crash', 'slow', 'busy', 'later']" "jobs: every job listed in config order"
job=$(api http://chored/v1/jobs/later)
is "$(json_get "$job" 'j["next"], j["schedule"], j["description"]')" \
	"$(date -u +%Y | awk '{print $1+1}')-01-01T00:00:00Z 0 0 1 1 * never during the test" \
	"job: next slot in ISO UTC, schedule and description"
contains "$(json_get "$job" 'j["schedule_text"]')" "January" "job: schedule in words"
is "$(count "job='later'")" 0 "a job whose slot is not due never runs"
api -X POST -o /dev/null http://chored/v1/jobs/busy/run
is "$(api -X POST -o /dev/null -w '%{http_code}' http://chored/v1/jobs/busy/run)" 409 \
	"manual run of a job with a run in flight: 409"

# A manual run over the socket, with its log and timing.
resp=$(api -X POST -d '{"dry_run":true}' http://chored/v1/jobs/later/run)
id=$(json_get "$resp" 'j["run_id"]')
wait_until 10 at_least 1 "id=$id AND status='ok'"
run=$(api "http://chored/v1/runs/$id")
is "$(json_get "$run" 'j["status"], j["trigger"], j["dry_run"]')" "ok manual True" \
	"manual run: ok, trigger manual, dry run"
# --at: the run's nominal time is the given instant.
resp=$(api -X POST -d '{"at":"2030-01-01T00:00:00Z"}' http://chored/v1/jobs/later/run)
id=$(json_get "$resp" 'j["run_id"]')
wait_until 10 at_least 1 "id=$id AND status='ok'"
is "$(sql "SELECT nominal, trigger, dry_run FROM runs WHERE id=$id")" "1893456000|manual|0" \
	"manual run --at: nominal is the given instant"
is "$(api http://chored/v1/jobs/nosuch -o /dev/null -w '%{http_code}')" 404 "unknown job: 404"

stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
contains "$(cat "$log")" "chored stopped" "SIGTERM: logs its stop"
is "$(count "status='running'")" 0 "no run left running in the store"
plan_done
