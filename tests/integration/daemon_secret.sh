#!/bin/sh
# A secret reaches its run only: absent from the daemon's log, the stored run log, the API,
# and /proc/PID/cmdline and /proc/PID/environ of the runner; what the plugin prints shows ***.
. "$(dirname "$0")/daemon_lib.sh"

secret=s3cr3t-$(date +%s%N | cut -c8-)
write_conf
(umask 077 && printf '[secrets]\ntoken = %s\n' "$secret" >"$tmp/conf.d/90-secrets.conf")
dropin 10-jobs <<'EOF2'
[job leak]
plugin = testplug
schedule = manual
mode = print-secret
token = ${secret:token}

[job hold]
plugin = testplug
schedule = manual
mode = sleep
seconds = 60s
token = ${secret:token}
EOF2
start_daemon || exit 1

id=$(json_get "$(api -X POST http://chored/v1/jobs/leak/run)" 'j["run_id"]')
wait_until 10 at_least 1 "id=$id AND status='ok'"
stored=$(sql "SELECT summary FROM runs WHERE id=$id; SELECT text || ' ' || coalesce(fields, '') FROM run_log WHERE run_id=$id")
contains "$stored" "stdout token=***" "stdout of the plugin is stored with the secret masked"
contains "$stored" "stderr token=***" "stderr of the plugin is stored with the secret masked"
contains "$stored" "log token=***" "log records are stored with the secret masked"
lacks "$stored" "$secret" "no secret in the stored run, its summary or log"
lacks "$(api "http://chored/v1/runs/$id")" "$secret" "no secret in GET /v1/runs/ID"

hid=$(json_get "$(api -X POST http://chored/v1/jobs/hold/run)" 'j["run_id"]')
wait_until 10 sh -c "[ -n \"\$(ps -o pid= --ppid $dpid)\" ]"
pids=$(runner_pids)
echo "$pids" >"$tmp/runner-pids"
check "the runner of the held run is found" [ -n "$pids" ]
for p in $pids; do
	lacks "$(tr '\0' ' ' </proc/$p/cmdline)" "$secret" "no secret in /proc/$p/cmdline of the runner"
	lacks "$(tr '\0' '\n' </proc/$p/environ)" "$secret" "no secret in /proc/$p/environ of the runner"
	lacks "$(tr '\0' '\n' </proc/$p/environ)" "NOTIFY_SOCKET" "no systemd notify socket in the runner's environment"
done
lacks "$(api "http://chored/v1/runs/$hid")" "$secret" "no secret in the live run"
# The held run sleeps long enough to be seen on a loaded machine; end it now.
api -X POST "http://chored/v1/runs/$hid/cancel" >/dev/null
wait_until 20 at_least 1 "id=$hid AND status='cancelled'"
stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
lacks "$(cat "$log")" "$secret" "no secret in the daemon's log"
plan_done
