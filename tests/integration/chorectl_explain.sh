#!/bin/sh
# chorectl explain: words, lint warnings, errors.
. "$(dirname "$0")/tap.sh"

run "$CHORECTL" explain '0 8 * * MON'
is "$rc/$out" "0/at 08:00 on Monday (UTC)" "words for a weekly schedule, no warning"
run "$CHORECTL" explain '59 23 LW * *'
is "$out" "at 23:59 on the last weekday of the month (UTC)" "words for LW"
run "$CHORECTL" explain '*/15 * * * *'
is "$out" "every 15 minutes (UTC)" "words for a step"
run "$CHORECTL" explain '@reboot'
is "$rc/$out" "0/when the daemon starts after a reboot" "words for @reboot"

run "$CHORECTL" explain '0 21 * * SUN' --tz Europe/Paris
is "$out" "at 21:00 on Sunday (Europe/Paris)" "zone shown"

run "$CHORECTL" explain '0 0 1,15 * 5'
contains "$out" "warning:" "OR rule warned about"
contains "$out" "EITHER" "OR rule spelled out"

run "$CHORECTL" explain '0/30 * * * *'
contains "$out" "vixie" "a/n portability warned about"

run "$CHORECTL" explain '0 9 * * 1'
contains "$out" "Sunday as 1" "numeric day-of-week warned about"
run "$CHORECTL" explain '0 9 * * MON'
lacks "$out" "warning:" "names: no warning"

run "$CHORECTL" --json explain '0 0 1,15 * 5'
contains "$out" '"warnings":[' "--json lists warnings"

run "$CHORECTL" explain '0 25 * * *'
is "$rc" 65 "bad expression: exit 65"
contains "$err" "hour" "names the field"
run "$CHORECTL" explain '0 3 * * *' --tz Nowhere/Land
is "$rc" 64 "bad zone: exit 64"
run "$CHORECTL" explain
is "$rc" 64 "missing expression: exit 64"
run "$CHORECTL" explain --help
is "$rc" 0 "explain --help exits 0"
contains "$out" "Usage: chorectl explain" "explain --help prints usage"
plan_done
