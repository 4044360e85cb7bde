#!/bin/sh
# overlap = skip | queue | replace for a job due every second whose runs take 2 s.
. "$(dirname "$0")/daemon_lib.sh"

write_conf
for policy in skip queue replace; do
	dropin "10-$policy" <<EOF2
[job $policy]
plugin = testplug
schedule = * * * * * *
overlap = $policy
mode = sleep
seconds = 2s
EOF2
done

start_daemon || exit 1
# Long enough for each policy to meet at least two overlapping slots.
wait_until 20 at_least 1 "job='queue' AND status='ok' AND trigger='schedule' AND id > (SELECT min(id) FROM runs WHERE job='queue' AND status='ok')"
wait_until 20 at_least 1 "job='replace' AND status='cancelled'"
wait_until 20 at_least 2 "job='skip' AND status='ok'"

# skip: slots due during a run are recorded as skipped, runs never overlap.
check "skip: slots due during a run are recorded as skipped" at_least 2 "job='skip' AND status='skipped'"
contains "$(sql "SELECT summary FROM runs WHERE job='skip' AND status='skipped' LIMIT 1")" \
	"still in progress" "skip: the skipped record says why"
overlaps() {
	sql "SELECT count(*) FROM runs a, runs b WHERE a.job='$1' AND b.job='$1' AND a.id < b.id
	     AND a.status NOT IN ('skipped') AND b.status NOT IN ('skipped')
	     AND b.started_ms < a.ended_ms"
}
is "$(overlaps skip)" 0 "skip: no two runs overlap"

# queue: one slot waits and starts when the run in flight ends; later ones are skipped.
is "$(overlaps queue)" 0 "queue: no two runs overlap"
gap=$(sql "SELECT b.started_ms - a.ended_ms FROM runs a, runs b WHERE a.job='queue' AND b.job='queue'
	   AND a.status='ok' AND b.id = (SELECT min(id) FROM runs WHERE job='queue' AND id > a.id
	   AND status <> 'skipped') ORDER BY a.id LIMIT 1")
[ -n "$gap" ] && [ "$gap" -ge 0 ] && [ "$gap" -lt 500 ] &&
	ok "queue: the queued slot starts as the previous run ends (${gap} ms later)" ||
	not_ok "queue: gap between runs '$gap' ms"
check "queue: a slot due while one already waits is skipped" at_least 1 "job='queue' AND status='skipped'"
contains "$(sql "SELECT summary FROM runs WHERE job='queue' AND status='skipped' LIMIT 1")" \
	"already queued" "queue: the skipped record says why"

# replace: the run in flight is cancelled and the new slot runs.
check "replace: the run in flight is cancelled" at_least 1 "job='replace' AND status='cancelled'"
next=$(sql "SELECT count(*) FROM runs a WHERE a.job='replace' AND a.status='cancelled' AND EXISTS
	    (SELECT 1 FROM runs b WHERE b.job='replace' AND b.nominal > a.nominal AND b.status <> 'skipped'
	     AND b.started_ms >= a.ended_ms - 50)")
check "replace: a newer slot starts once the cancelled run ended" [ "$next" -ge 1 ]
is "$(count "job='replace' AND status='skipped' AND summary <> 'replaced by a newer slot'")" 0 \
	"replace: a slot is skipped only when a newer one replaced it while it waited"

stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0 with runs in flight"
is "$(count "status='running'")" 0 "runs in flight at SIGTERM were recorded"
plan_done
