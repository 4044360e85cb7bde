#!/bin/sh
# Cancelling a run in flight (POST /v1/runs/ID/cancel, chorectl cancel) with the real
# daemon: the run ends as cancelled through SIGTERM to its group (and SIGKILL after the
# grace period for a plugin that ignores it), is not retried, and the answers are 202, 404,
# 409; chorectl's exit codes. And `chorectl run --wait` interrupted by SIGINT on a terminal:
# the line is cleared, exit 130, the run goes on in the daemon.
. "$(dirname "$0")/daemon_lib.sh"

write_conf
dropin jobs <<'EOF'
[job sleeper]
plugin = testplug
schedule = manual
mode = sleep
seconds = 60s
retries = 2
retry_delay = 1s

[job spinner]
plugin = testplug
schedule = manual
mode = spin
EOF
start_daemon || exit 1
CHORED_SOCKET=$sock
export CHORED_SOCKET

# start_run JOB: a manual run; prints its id.
start_run() { "$CHORECTL" run "$1"; }
running() { [ "$(sql "SELECT status FROM runs WHERE id = $1")" = running ]; }
ended() { [ -n "$(sql "SELECT ended_ms FROM runs WHERE id = $1 AND status <> 'running'")" ]; }
# The plugin's run() was entered: the run's "started" event is out.
started() { api "http://chored/v1/runs/$1/events" | grep -q '"t":"started"'; }

id=$(start_run sleeper)
check "a manual run starts" wait_until 20 started "$id"
run "$CHORECTL" cancel "$id"
is "$rc" 0 "chorectl cancel: exit 0"
is "$out" "run $id: cancelling" "chorectl cancel: says so"
check "the run ends" wait_until 20 ended "$id"
is "$(sql "SELECT status FROM runs WHERE id = $id")" cancelled "recorded as cancelled"
ms=$(sql "SELECT ended_ms - started_ms FROM runs WHERE id = $id")
check "at once, through SIGTERM ($ms ms; the plugin sleeps 60 s)" [ "${ms:-99999}" -lt 5000 ]
run "$CHORECTL" logs "$id"
contains "$out" "callback called" "the plugin saw the cancellation (its cancel callback ran)"
sleep 1.5
is "$(count "job = 'sleeper'")" 1 "a cancelled run is not retried (retries = 2)"

run "$CHORECTL" cancel "$id"
is "$rc" 65 "cancel a finished run: exit 65"
contains "$err" "already finished (cancelled)" "cancel a finished run: the reason"
is "$(api -o /dev/null -w '%{http_code}' -X POST "http://chored/v1/runs/$id/cancel")" 409 \
	"POST /v1/runs/ID/cancel on a finished run: 409"
run "$CHORECTL" cancel 999999
is "$rc" 65 "cancel an unknown run: exit 65"
contains "$err" "no run 999999" "cancel an unknown run: says so"
is "$(api -o /dev/null -w '%{http_code}' -X POST http://chored/v1/runs/999999/cancel)" 404 \
	"POST /v1/runs/ID/cancel, unknown run: 404"
is "$(api -o /dev/null -w '%{http_code}' "http://chored/v1/runs/$id/cancel")" 405 \
	"GET /v1/runs/ID/cancel: 405"
is "$(api -o /dev/null -w '%{http_code}' -X POST -d '{"now":true}' \
	"http://chored/v1/runs/$id/cancel")" 400 "POST /v1/runs/ID/cancel with an unknown key: 400"
run "$CHORECTL" cancel 12x
is "$rc" 64 "cancel with a bad id: exit 64"
run "$CHORECTL" cancel
is "$rc" 64 "cancel without a run: exit 64"
run "$CHORECTL" cancel --help
contains "$out" "Usage: chorectl cancel RUN" "cancel --help"
CHORED_SOCKET=$tmp/nothing.sock run "$CHORECTL" cancel "$id"
is "$rc" 69 "cancel, daemon unreachable: exit 69"

# A plugin that ignores SIGTERM is killed after the grace period, still "cancelled".
id=$(start_run spinner)
check "the spinning run starts" wait_until 20 started "$id"
ans=$(api -X POST "http://chored/v1/runs/$id/cancel")
is "$ans" "{\"run_id\":$id,\"status\":\"cancelling\"}" "POST /v1/runs/ID/cancel: the answer"
check "the spinning run ends after the grace period" wait_until 20 ended "$id"
is "$(sql "SELECT status FROM runs WHERE id = $id")" cancelled "... recorded as cancelled"
ms=$(sql "SELECT ended_ms - started_ms FROM runs WHERE id = $id")
check "... through SIGKILL after the 5 s grace ($ms ms)" [ "${ms:-0}" -ge 4500 ]

# run --wait on a terminal, interrupted: clean line, 130, the run goes on.
script -qec "$CHORECTL run sleeper --wait" "$tmp/typescript" >"$tmp/tty.out" 2>&1 &
spid=$!
check "the waited run starts" wait_until 20 at_least 1 "job = 'sleeper' AND status = 'running'"
wid=$(sql "SELECT max(id) FROM runs WHERE job = 'sleeper'")
check "... and its plugin" wait_until 20 started "$wid"
# chorectl itself (after its libtool wrapper's exec), not script nor the shell it starts.
pat='^[^ ]*chorectl run sleeper --wait'
cpid=
wait_until 10 pgrep -f "$pat" && cpid=$(pgrep -f "$pat" | head -n 1)
kill -INT "${cpid:-0}" 2>/dev/null
wait "$spid"
is "$?" 130 "run --wait interrupted: exit 130"
tty_out=$(cat "$tmp/tty.out")
contains "$tty_out" "goes on in the daemon" "... says the run goes on in the daemon"
contains "$tty_out" "chorectl cancel $wid" "... and how to cancel it"
check "... the line is cleared (\\r ESC[K)" grep -q "$(printf '\r\033\\[K')" "$tmp/tty.out"
check "the run is still running in the daemon" running "$wid"
run "$CHORECTL" cancel "$wid"
check "... until cancelled" wait_until 20 ended "$wid"

check "the daemon is alive" alive
stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
plan_done
