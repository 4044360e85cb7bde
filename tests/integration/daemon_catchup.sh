#!/bin/sh
# Catch-up after the daemon was stopped across two slots of an every-2-s schedule:
# catchup = latest runs once, all twice, none never; a new job never catches up; @reboot
# runs once per boot id.
. "$(dirname "$0")/daemon_lib.sh"

write_conf
for policy in none latest all; do
	dropin "10-$policy" <<EOF2
[job $policy]
plugin = testplug
schedule = */2 * * * * *
catchup = $policy
mode = ok
EOF2
done
dropin 20-boot <<EOF2
[job boot]
plugin = testplug
schedule = @reboot
mode = ok
EOF2

start_daemon || exit 1
check "@reboot runs at the first start" wait_until 10 at_least 1 "job='boot' AND trigger='reboot' AND status='ok'"
wait_until 10 at_least 1 "job='all' AND status='ok' AND trigger='schedule'"
# Stop right after a slot ran for all three jobs.
wait_until 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$db' \"SELECT count(DISTINCT job) FROM runs WHERE trigger='schedule' AND status='ok' AND nominal=(SELECT max(nominal) FROM runs WHERE trigger='schedule')\") = 3 ]"
stop_daemon
is "$stop_rc" 0 "stopped"
last=$(sql "SELECT max(nominal) FROM runs WHERE trigger='schedule'")
is "$(sql "SELECT count(*) FROM stamps WHERE nominal=$last AND job IN ('none','latest','all')")" 3 \
	"each job's stamp is its last slot"
# Restart once the two following slots have passed, before a third one.
wait_until 10 sh -c "[ \$(date +%s) -ge $((last + 4)) ]"
sleep 0.2
start_daemon || exit 1
restart=$(date +%s)
wait_until 10 at_least 1 "job='latest' AND trigger='catchup' AND status='ok'"
wait_until 10 at_least 2 "job='all' AND trigger='catchup' AND status='ok'"
settle "job='all' AND trigger='catchup'"
# The daemon's clock at restart decides how many slots were missed: normally two (4 s after
# the last slot), more when a loaded machine restarts it late. K = the newest missed slot.
k=$(sql "SELECT max(nominal) FROM runs WHERE job='all' AND trigger='catchup'")
diag "restarted $((restart - last)) s after the last slot; newest missed slot: last + $((k - last))"
check "at least the two slots after the stop were missed" [ "$k" -ge $((last + 4)) ]
want=$(i=2; sep=; while [ $i -le $((k - last)) ]; do printf '%s%s' "$sep" $i; sep=,; i=$((i + 2)); done)
is "$(sql "SELECT group_concat(nominal - $last) FROM (SELECT nominal FROM runs WHERE job='all' AND trigger='catchup' ORDER BY nominal)")" \
	"$want" "catchup = all: every missed slot runs once, oldest first"
is "$(sql "SELECT group_concat(nominal) FROM runs WHERE job='latest' AND trigger='catchup'")" \
	"$k" "catchup = latest: only the newest missed slot runs, once"
is "$(count "job='none' AND trigger='catchup'")" 0 "catchup = none: no missed slot runs"
is "$(count "job='none' AND nominal > $last AND nominal <= $k AND status <> 'skipped'")" 0 \
	"catchup = none: nothing ran for the missed slots"
is "$(sql "SELECT count(*), max(nominal) FROM runs WHERE job='none' AND nominal > $last AND status='skipped' AND summary LIKE 'missed: chored was not running (%'")" \
	"1|$k" "catchup = none: the missed slots are one skipped record, at the newest of them"
check "the schedule goes on after the catch-up" wait_until 10 at_least 1 "job='none' AND trigger='schedule' AND nominal > $k"
is "$(sql "SELECT count(*) FROM (SELECT job, nominal, attempt FROM runs WHERE status <> 'skipped' GROUP BY 1,2,3 HAVING count(*) > 1)")" 0 \
	"no slot ran twice"
is "$(count "job='boot'")" 1 "@reboot does not run again on a restart with the same boot id"
stop_daemon

# A job added while the daemon was down does not catch up on the past.
dropin 30-fresh <<EOF2
[job fresh]
plugin = testplug
schedule = * * * * * *
catchup = all
mode = ok
EOF2
start_daemon || exit 1
wait_until 10 at_least 1 "job='fresh'"
sleep 0.3
is "$(count "job='fresh' AND trigger='catchup'")" 0 "a new job never catches up"
stop_daemon
plan_done
