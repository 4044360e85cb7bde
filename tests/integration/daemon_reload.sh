#!/bin/sh
# SIGHUP: a broken drop-in is rejected with file:line and the old jobs keep firing; a new
# job with a new plugin .so is picked up; reload never fires a job; SIGHUPs coalesce.
. "$(dirname "$0")/daemon_lib.sh"

write_conf
dropin 10-tick <<EOF2
[job tick]
plugin = testplug
schedule = * * * * * *
mode = ok

[job yearly]
plugin = testplug
schedule = 0 0 1 1 *
EOF2
start_daemon || exit 1
wait_until 10 at_least 1 "job='tick' AND status='ok'"

# A broken drop-in: rejected, every error logged with file:line, old generation kept.
dropin 20-broken <<EOF2
[job broken]
plugin = testplug
schedule = * * 32 * *
mode = nosuchmode
EOF2
kill -HUP "$dpid"
wait_until 10 grep -q "reload rejected" "$log"
contains "$(cat "$log")" "$tmp/conf.d/20-broken.conf:3: [job broken] schedule: day-of-month 32 is out of range 1-31" \
	"rejected reload: the error names file, line, section and key"
st=$(api http://chored/v1/status)
is "$(json_get "$st" 'j["generation"], j["reload_failed"]')" "1 1" \
	"rejected reload: generation 1 kept, reload_failed counted"
n=$(count "job='tick' AND status='ok'")
check "the old jobs keep firing after a rejected reload" wait_until 10 at_least $((n + 2)) "job='tick' AND status='ok'"

# The API reload answers 422 with the error lines.
code=$(api -X POST -o "$tmp/reload.json" -w '%{http_code}' http://chored/v1/reload)
is "$code" 422 "POST /v1/reload with a broken drop-in: 422"
contains "$(cat "$tmp/reload.json")" "20-broken.conf:3" "POST /v1/reload lists the errors"

# A new job using a plugin .so dropped into plugin_dir.
rm "$tmp/conf.d/20-broken.conf"
cp "$top_builddir/plugins/stage/exec.so" "$tmp/plugins/"
dropin 30-new <<EOF2
[job new]
plugin = exec
schedule = * * * * * *
command = /bin/echo hello-from-exec
EOF2
before=$(date +%s)
kill -HUP "$dpid"
check "SIGHUP adds a job whose plugin is a new .so" wait_until 10 at_least 1 "job='new' AND status='ok'"
first=$(sql "SELECT min(nominal) FROM runs WHERE job='new'")
check "the new job's first slot is after the reload ($first > $before)" [ "$first" -gt "$before" ]
contains "$(sql "SELECT text FROM run_log WHERE run_id=(SELECT min(id) FROM runs WHERE job='new')")" \
	"hello-from-exec" "the new job's output is in its log"
st=$(api http://chored/v1/status)
is "$(json_get "$st" 'j["generation"]')" 2 "generation 2 is live"
is "$(count "job='yearly'")" 0 "reload never fires a job that is not due"

# Several SIGHUPs in a row: coalesced, none lost (the last config is live).
dropin 40-last <<EOF2
[job last]
plugin = testplug
schedule = manual
EOF2
kill -HUP "$dpid"; kill -HUP "$dpid"; kill -HUP "$dpid"
check "a burst of SIGHUPs ends with the newest config live" \
	wait_until 10 sh -c "curl -s --unix-socket '$sock' http://chored/v1/jobs/last | grep -q manual"
sleep 0.5
g=$(json_get "$(api http://chored/v1/status)" 'j["generation"]')
check "a burst of 3 SIGHUPs makes at most 3 reloads (generation $g)" [ "$g" -ge 3 ] && [ "$g" -le 5 ]
check "the daemon survived the reloads" alive

# POST /v1/reload succeeds now.
code=$(api -X POST -o "$tmp/reload.json" -w '%{http_code}' http://chored/v1/reload)
is "$code" 200 "POST /v1/reload: 200"
stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
plan_done
