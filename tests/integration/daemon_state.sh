#!/bin/sh
# Plugin state (chored_state_get/set) carries from one run of a job to the next: the daemon
# reads it in the transaction that claims the run and stores the changes with the outcome.
. "$(dirname "$0")/daemon_lib.sh"

write_conf
dropin jobs <<'EOF2'
[job counter]
plugin = testplug
schedule = manual
mode = state

[job other]
plugin = testplug
schedule = manual
mode = state
EOF2
start_daemon || exit 1
CHORED_SOCKET=$sock
export CHORED_SOCKET

for n in 1 2 3; do
	run "$CHORECTL" run counter --wait
	is "$rc" 0 "run $n of counter: exit 0"
	contains "$out" "ok in" "run $n of counter: ok"
	contains "$out" ": n=$n" "run $n of counter sees the state of run $((n - 1))"
done
is "$(sql "SELECT value FROM kv WHERE job = 'counter' AND key = 'n'")" 3 "the store holds n = 3"
run "$CHORECTL" run other --wait
contains "$out" ": n=1" "another job has its own state"
check "the daemon is alive" alive
stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
plan_done
