#!/bin/sh
# chorectl explain: words, lint warnings, errors.
. "$(dirname "$0")/tap.sh"

run "$CHORECTL" explain '0 8 * * 1'
is "$rc/$out" "0/at 08:00 on Monday (UTC)" "words for a weekly schedule"
contains "$out" "(UTC)" "default zone is UTC"

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
