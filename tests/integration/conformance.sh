#!/bin/sh
# Feeds every vector of ../shared/conformance to chorectl next (design §5).
. "$(dirname "$0")/tap.sh"
dir=$shared_dir/conformance
if [ ! -f "$dir/cron-next.tsv" ]; then
	if [ -n "${CHORED_SHARED_DIR:-}" ]; then
		echo "not ok 1 - conformance vectors missing: $dir/cron-next.tsv"
		echo "1..1"
		exit 1
	fi
	echo "1..0 # SKIP conformance vectors not found at $dir (set CHORED_SHARED_DIR)"
	exit 0
fi

tab=$(printf '\t')
while IFS="$tab" read -r expr zone from count expected; do
	case "$expr" in '#'* | '') continue ;; esac
	want=$(printf '%s\n' $expected)
	run "$CHORECTL" next "$expr" --tz "$zone" --from "$from" --count "$count"
	if [ "$rc" -ne 0 ]; then
		not_ok "next '$expr' $zone from $from: exit $rc"
		diag "$err"
		continue
	fi
	is "$out" "$want" "next '$expr' $zone from $from ×$count"
done <"$dir/cron-next.tsv"

while IFS= read -r expr; do
	case "$expr" in '#'* | '') continue ;; esac
	run "$CHORECTL" next "$expr" --from 2026-01-01T00:00:00Z
	# The message names the field (or the field count / macro) and quotes the schedule.
	named=no
	case "$err" in
	*second* | *minute* | *hour* | *day-of-month* | *month* | *day-of-week* | *fields* | *macro*) named=yes ;;
	esac
	if [ "$rc" -eq 65 ] && [ -z "$out" ] && [ "$named" = yes ]; then
		ok "rejects '$expr' (65): $(echo "$err" | head -n 1)"
	else
		not_ok "rejects '$expr': exit $rc, stdout '$out'"
		diag "$err"
	fi
done <"$dir/cron-invalid.txt"
plan_done
