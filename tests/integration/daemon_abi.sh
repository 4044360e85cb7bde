#!/bin/sh
# A plugin built for another ABI major is refused with a message naming the field and both
# values: the daemon logs it and goes on; a job that uses it makes the config rejected (78);
# a reload that needs it keeps the old generation.
. "$(dirname "$0")/daemon_lib.sh"

cp "$top_builddir/tests/plugins/stage/badabi.so" "$tmp/plugins/"
write_conf
dropin 10-jobs <<'EOF2'
[job tick]
plugin = testplug
schedule = * * * * * *
mode = ok
EOF2
start_daemon || exit 1
wait_until 10 at_least 1 "job='tick' AND status='ok'"
contains "$(cat "$log")" "plugin refused: $tmp/plugins/badabi.so: abi_major is 2, this chored supports 1" \
	"a wrong ABI major is refused with a clear message, naming the file and both values"
check "the daemon runs the other plugins' jobs" alive
plugins=$(api http://chored/v1/plugins/badabi)
contains "$plugins" "abi_major is 2" "GET /v1/plugins/badabi shows why it was refused"

dropin 20-bad <<'EOF2'
[job bad]
plugin = badabi
schedule = * * * * * *
EOF2
kill -HUP "$dpid"
wait_until 10 grep -q "reload rejected" "$log"
contains "$(cat "$log")" "[job bad]" "a reload with a job on the refused plugin is rejected, naming the job"
n=$(count "job='tick' AND status='ok'")
check "the old generation keeps running" wait_until 10 at_least $((n + 1)) "job='tick' AND status='ok'"
stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"

: >"$log"
"$CHORED" -c "$tmp/chored.conf" 2>"$log"
is "$?" 78 "start with a job on the refused plugin: exit 78"
contains "$(cat "$log")" "abi_major is 2, this chored supports 1" "the start-up error names both ABI values"
plan_done
