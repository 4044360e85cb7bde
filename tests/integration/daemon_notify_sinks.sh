#!/bin/sh
# Notification sinks through the real daemon: a failing exec job with an on-failure outbox
# sink leaves one "[chored] ❌ JOB: failed" message; an ok job sends nothing; on-change sends
# on the first run and on status changes only; a sink's password is in no log.
. "$(dirname "$0")/daemon_lib.sh"

cp "$top_builddir/plugins/stage/exec.so" "$tmp/plugins/"
pw=smtp-Pw-$(date +%s%N | cut -c8-)
# A port nothing listens on: the smtp sink fails, and its failure is logged.
closed=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
write_conf
(umask 077 && printf '[secrets]\nsmtp_pw = %s\n' "$pw" >"$tmp/conf.d/90-secrets.conf")
echo 0 >"$tmp/flip"
dropin 10-jobs <<EOF2
[notify ops]
type = outbox
path = $tmp/outbox

[notify mail]
type = smtp
url = smtp://127.0.0.1:$closed
from = ops@example.com
to = a@example.com
username = alice
password = \${secret:smtp_pw}

[notify chg]
type = outbox
path = $tmp/change

[job failer]
plugin = exec
schedule = manual
command = /bin/false
notify = ops:on-failure mail:always

[job fine]
plugin = exec
schedule = manual
command = /bin/true
notify = ops:on-failure

[job flip]
plugin = exec
schedule = manual
shell = yes
command = exit \$(cat $tmp/flip)
notify = chg:on-change
EOF2
start_daemon || exit 1

# run_job JOB: starts a manual run, waits until it ends; prints its id.
run_job() {
	_id=$(json_get "$(api -X POST "http://chored/v1/jobs/$1/run")" 'j["run_id"]')
	wait_until 20 at_least 1 "id=$_id AND status NOT IN ('running')" || diag "run $_id of $1 did not end"
	echo "$_id"
}
count_new() { find "$1/new" -type f 2>/dev/null | wc -l | tr -d ' '; }
# subjects DIR: the decoded subjects of the messages in DIR/new, sorted.
subjects() {
	/usr/bin/python3 - "$1/new" <<'EOF'
import email, email.policy, os, sys
d = sys.argv[1]
for n in sorted(os.listdir(d), key=lambda n: os.stat(os.path.join(d, n)).st_mtime_ns):
    with open(os.path.join(d, n), "rb") as f:
        print(email.message_from_binary_file(f, policy=email.policy.default)["subject"])
EOF
}

id=$(run_job failer)
is "$(sql "SELECT status FROM runs WHERE id=$id")" failed "the failing job failed"
is "$(count_new "$tmp/outbox")" 1 "on-failure: one message in the outbox"
is "$(subjects "$tmp/outbox")" "[chored] ❌ failer: failed — exited with status 1" \
	"the message's subject names the job, its status and summary"
runlog=$(sql "SELECT text FROM run_log WHERE run_id=$id")
contains "$runlog" "notify ops: sent (outbox)" "the run's log says the outbox got it"
contains "$runlog" "notify mail: not delivered (smtp)" "the run's log says why smtp did not"
contains "$(sql "SELECT counters FROM runs WHERE id=$id")" '"notify_failed":1' \
	"the failed sink is counted on the run"
is "$(sql "SELECT status FROM runs WHERE id=$id")" failed "a failing sink does not change the run's status"
CHORED_SOCKET=$sock "$CHORECTL" logs "$id" >"$tmp/ctl-logs" 2>&1
contains "$(cat "$tmp/ctl-logs")" "notify mail" "chorectl logs shows the notify lines"
lacks "$(cat "$tmp/ctl-logs")" "$pw" "the smtp password is not in chorectl logs"
lacks "$(sql "SELECT text || coalesce(fields, '') FROM run_log WHERE run_id=$id")" "$pw" \
	"the smtp password is not in the stored run log"
lacks "$(api "http://chored/v1/runs/$id")" "$pw" "the smtp password is not in GET /v1/runs/ID"

id=$(run_job fine)
is "$(sql "SELECT status FROM runs WHERE id=$id")" ok "the ok job is ok"
is "$(count_new "$tmp/outbox")" 1 "on-failure: an ok run sends nothing"

id=$(run_job flip)
is "$(count_new "$tmp/change")" 1 "on-change: the first run sends"
id=$(run_job flip)
is "$(count_new "$tmp/change")" 1 "on-change: ok again sends nothing"
echo 3 >"$tmp/flip"
id=$(run_job flip)
is "$(sql "SELECT status FROM runs WHERE id=$id")" failed "flip failed"
is "$(count_new "$tmp/change")" 2 "on-change: ok -> failed sends"
id=$(run_job flip)
is "$(count_new "$tmp/change")" 2 "on-change: failed again sends nothing"
echo 0 >"$tmp/flip"
id=$(run_job flip)
is "$(count_new "$tmp/change")" 3 "on-change: failed -> ok sends"
is "$(subjects "$tmp/change")" "[chored] ✅ flip: ok — exited with status 0
[chored] ❌ flip: failed — exited with status 3
[chored] ✅ flip: ok — exited with status 0" "on-change: the three subjects"

stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
lacks "$(cat "$log")" "$pw" "the smtp password is not in the daemon's log"
plan_done
