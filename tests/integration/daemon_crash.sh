#!/bin/sh
# kill -9 of the daemon in the middle of a run, then a restart: no finished run is lost,
# the interrupted run is recorded as such, logged and notified to its job's sinks (a kill
# must not make it silent), and its slot does not run a second time.
. "$(dirname "$0")/daemon_lib.sh"

write_conf
dropin 10-tick <<EOF2
[job tick]
plugin = testplug
schedule = * * * * * *
mode = ok
EOF2
start_daemon || exit 1
wait_until 15 at_least 1 "job='tick' AND status='ok'"
# The long job comes with a reload, due 3 s from now (the minute wraps).
sec=$((($(date +%s) + 3) % 60))
dropin 20-long <<EOF2
[notify box]
type = outbox
path = $tmp/out

[job long]
plugin = testplug
schedule = $sec * * * * *
catchup = all
mode = sleep
seconds = 3s
notify = box:on-failure
EOF2
kill -HUP "$dpid"
wait_until 20 at_least 1 "job='long' AND status='running'"
runner_pids >"$tmp/runner-pids"
done_before=$(count "job='tick' AND status='ok'")
ids_before=$(sql "SELECT group_concat(id) FROM (SELECT id FROM runs WHERE job='tick' AND status='ok' ORDER BY id)")
kill -9 "$dpid"
wait "$dpid" 2>/dev/null
dpid=
check "some runs had finished before the kill" [ "$done_before" -ge 1 ]
start_daemon || exit 1
is "$(sql "SELECT group_concat(id) FROM (SELECT id FROM runs WHERE job='tick' AND status='ok' AND id IN ($ids_before) ORDER BY id)")" \
	"$ids_before" "every run finished before the kill is still recorded"
is "$(sql "SELECT status FROM runs WHERE job='long'")" "interrupted" \
	"the run cut by the kill is recorded as interrupted"
long_id=$(sql "SELECT id FROM runs WHERE job='long'")
check "the restart logs it" grep -q "job long run $long_id (schedule) was interrupted: the daemon stopped during it" "$log"
mail_count() { find "$tmp/out/new" -type f 2>/dev/null | wc -l | tr -d ' '; }
has_mail() { [ "$(mail_count)" -ge 1 ]; }
check "the job's sink is told" wait_until 15 has_mail
subject=$(/usr/bin/python3 -c '
import email, email.policy, os, sys
d = sys.argv[1]
for n in os.listdir(d):
    with open(os.path.join(d, n), "rb") as f:
        print(email.message_from_binary_file(f, policy=email.policy.default)["subject"])
' "$tmp/out/new")
contains "$subject" "long: interrupted" "... that the run was interrupted"
wait_until 2 at_least 2 "job='long'"
is "$(count "job='long'")" 1 "its slot is not run a second time after the restart"
is "$(mail_count)" 1 "one message"
check "the daemon schedules again after the restart" \
	wait_until 10 at_least 1 "job='tick' AND status='ok' AND id > (SELECT id FROM runs WHERE job='long')"
stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
plan_done
