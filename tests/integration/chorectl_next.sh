#!/bin/sh
# chorectl next: arguments, output formats, job lookup and every error path.
. "$(dirname "$0")/tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 022

run "$CHORECTL" next '0 8 * * 1' --from 2026-11-22T00:00:00Z --count 2
is "$rc/$out" "0/2026-11-23T08:00:00+00:00
2026-11-30T08:00:00+00:00" "expression, UTC by default"

run "$CHORECTL" next '0 8 * * 1' --from 2026-11-23T08:00:00Z --count 1
is "$out" "2026-11-30T08:00:00+00:00" "strictly after --from"

run "$CHORECTL" next '0 8 * * 1' --from 2026-11-23T09:00:00+01:00 --count 1
is "$out" "2026-11-30T08:00:00+00:00" "--from with an offset is the same instant"

run "$CHORECTL" next '30 2 * * *' --tz Europe/Paris --from 2026-03-28T12:00:00Z --count 2
is "$out" "2026-03-29T03:00:00+02:00
2026-03-30T02:30:00+02:00" "skipped wall time fires at the jump"

run "$CHORECTL" next '0 9 * * *' --tz Asia/Kathmandu --from 2026-11-22T00:00:00Z
is "$(echo "$out" | wc -l | tr -d ' ')" "5" "default count is 5"

run "$CHORECTL" next '*/10 * * * * *' --from 2026-11-22T23:59:55Z --count 2
is "$out" "2026-11-23T00:00:00+00:00
2026-11-23T00:00:10+00:00" "6-field schedule"

run "$CHORECTL" next '0 3 * * *' --tz Europe/Paris --from 2026-01-01T00:00:00Z --count 2 --json
contains "$out" '"timezone":"Europe/Paris"' "--json names the zone"
contains "$out" '"2026-01-01T03:00:00+01:00"' "--json lists the times"
run "$CHORECTL" --json next '0 3 * * *' --from 2026-01-01T00:00:00Z --count 1
contains "$out" '"next":[' "--json before the verb works too"

# Errors: usage (64) vs bad data (65).
run "$CHORECTL" next '0 3 * * *' --tz Mars/Olympus
is "$rc" 64 "unknown zone: exit 64"
contains "$err" "Mars/Olympus" "unknown zone is named"
run "$CHORECTL" next '0 3 * * *' --from yesterday
is "$rc" 64 "bad --from: exit 64"
contains "$err" "ISO 8601" "bad --from says what is expected"
run "$CHORECTL" next '0 3 * * *' --from 2026-01-01T00:00:00
is "$rc" 64 "--from without a zone is refused"
run "$CHORECTL" next '0 3 * * *' --count 0
is "$rc" 64 "--count 0 refused"
run "$CHORECTL" next '0 3 * * *' --count 12x
is "$rc" 64 "--count 12x refused"
run "$CHORECTL" next 0 3 '*' '*' '*'
is "$rc" 64 "unquoted schedule: exit 64"
contains "$err" "quote" "unquoted schedule: hint to quote"
run "$CHORECTL" next '0 3 32 * *'
is "$rc/$out" "65/" "out-of-range day: exit 65, no output"
contains "$err" "day-of-month" "error names the field"
contains "$err" "32" "error names the value"
contains "$err" "1-31" "error names the allowed range"
run "$CHORECTL" next '0 0 30 2 *' --from 2026-01-01T00:00:00Z
is "$rc" 65 "a schedule that never fires: exit 65"
contains "$err" "never fires" "never-firing schedule explained"
run "$CHORECTL" next '@reboot'
is "$rc/$out" "0/" "@reboot: no calendar times, exit 0"
contains "$err" "reboot" "@reboot explained"
run "$CHORECTL" next manual
is "$rc/$out" "0/" "manual: no calendar times"
run "$CHORECTL" frobnicate
is "$rc" 64 "unknown verb: exit 64"

# Jobs from a configuration.
mkdir -p "$tmp/conf.d"
cat >"$tmp/chored.conf" <<'CONF'
[daemon]
timezone = Europe/Paris
state = sqlite:///tmp/chored-test-state.db
CONF
cat >"$tmp/conf.d/10-jobs.conf" <<'CONF'
[job nightly]
plugin = exec
schedule = 30 2 * * *
command = /bin/true

[job ny]
plugin = exec
schedule = 0 9 * * MON-FRI
timezone = America/New_York
command = /bin/true
CONF
run "$CHORECTL" -c "$tmp/chored.conf" next nightly --from 2026-03-28T12:00:00Z --count 1
is "$rc/$out" "0/2026-03-29T03:00:00+02:00" "job uses the daemon's zone"
run "$CHORECTL" -c "$tmp/chored.conf" next ny --from 2026-11-20T00:00:00Z --count 2
is "$out" "2026-11-20T09:00:00-05:00
2026-11-23T09:00:00-05:00" "job uses its own zone"
run "$CHORECTL" -c "$tmp/chored.conf" next ny --tz UTC --from 2026-11-20T00:00:00Z --count 1
is "$out" "2026-11-20T09:00:00+00:00" "--tz overrides the job's zone"
run "$CHORECTL" -c "$tmp/chored.conf" next nosuchjob
is "$rc" 65 "unknown job: exit 65"
contains "$err" "nosuchjob" "unknown job is named"
run "$CHORECTL" -c "$tmp/chored.conf" next --from 2026-11-20T00:00:00Z
contains "$out" "nightly" "no argument lists every job"
contains "$out" "2026-11-20T09:00:00-05:00" "listing shows each job's next time"
run "$CHORECTL" -c "$tmp/missing.conf" next nightly
is "$rc" 78 "missing config: exit 78"
plan_done
