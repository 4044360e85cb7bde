#!/bin/sh
# The daemon's log: <N> priority prefixes on a non-terminal stderr, one JSON object per line
# with --log-format=json, the timing (spawn_lag_us, start_lag_us) on the line that ends each
# run, and the same figures in the run's "timing" over the socket.
. "$(dirname "$0")/daemon_lib.sh"

write_conf
dropin 10-jobs <<'EOF2'
[job tick]
plugin = testplug
schedule = * * * * * *
mode = ok
EOF2
start_daemon --log-format=json || exit 1
wait_until 15 at_least 2 "job='tick' AND status='ok'"
id=$(sql "SELECT max(id) FROM runs WHERE job='tick' AND status='ok'")
run=$(api "http://chored/v1/runs/$id")
stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
bad=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    try:
        o = json.loads(line)
        assert {"ts", "level", "priority", "msg"} <= set(o)
    except Exception:
        print(line.strip())
' "$log")
is "$bad" "" "--log-format=json: every line is a JSON object with ts, level, priority, msg"
timing=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("job") == "tick" and o.get("run_id") == int(sys.argv[2]):
        print(o["msg"].startswith("job tick run "), o["status"], o["nominal"] > 0,
              o["spawn_lag_us"] >= 0, o["start_lag_us"] >= o["spawn_lag_us"],
              o["duration_ms"] >= 0)
' "$log" "$id")
is "$timing" "True ok True True True True" \
	"one line per run, its end: status, nominal, spawn_lag_us, start_lag_us, duration_ms"
is "$(json_get "$run" 'j["timing"]["spawn_lag_us"] >= 0, j["timing"]["start_lag_us"] >= j["timing"]["spawn_lag_us"]')" \
	"True True" "the run's timing over the socket"
contains "$(cat "$log")" '"msg":"chored stopped"' "JSON log: the stop line"

# Text format on a non-terminal: syslog priority prefixes, no timestamps.
: >"$log"
start_daemon --log-format=text || exit 1
stop_daemon
first=$(head -n 1 "$log")
case "$first" in
"<6>chored "*) ok "text log on a pipe: <6> prefix" ;;
*) not_ok "text log on a pipe: <6> prefix"; diag "$first" ;;
esac
bad=$(grep -v '^<[0-7]>' "$log")
is "$bad" "" "every text line carries a priority prefix"
plan_done
