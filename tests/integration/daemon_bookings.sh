#!/bin/sh
# The booking pair through the real daemon and the Cal.com fake: the randomizer applies and
# stores a plan; the slot watcher reads it through expect_from (the runner input's "peers");
# a slot taken goes DEAD with one message in the outbox; the DEAD state survives a daemon
# restart (no second message); the slot freed again is REVIVED with one more message.
. "$(dirname "$0")/daemon_lib.sh"
cp "$top_builddir/plugins/stage/randomizer.so" "$top_builddir/plugins/stage/slotwatch.so" \
	"$tmp/plugins/"
fake=
trap '[ -n "$fake" ] && kill "$fake" 2>/dev/null; cleanup' EXIT
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
$PY "$top_srcdir/tests/fakes/calcom_fake.py" "$tmp/port" &
fake=$!
wait_until 30 test -s "$tmp/port" || { not_ok "the Cal.com fake starts"; plan_done; exit 1; }
base=http://127.0.0.1:$(cat "$tmp/port")
ctl() { curl -sf -X "$1" -d "$3" "$base$2" >/dev/null; }
id=0
for b in byCaliber Forja EO; do
	id=$((id + 1))
	ctl POST /_cal/schedules "{\"id\":$((100 + id)),\"name\":\"$b\",\"timeZone\":\"UTC\",\"isDefault\":false}"
	ctl POST /_cal/event-types "{\"id\":$((50 + id)),\"slug\":\"intro\",\"username\":\"$(echo $b | tr A-Z a-z)\",\"length\":30,\"scheduleId\":$((100 + id))}"
done

write_conf
dropin 10-bookings <<EOF
[notify box]
type = outbox
path = $tmp/outbox

[job chaos]
plugin = randomizer
schedule = manual
api_key = \${secret:cal}
base_url = $base
brands = byCaliber Forja EO
schedule_ids = byCaliber=101 Forja=102 EO=103
booking_timezone = Europe/Paris
windows = mon 13:00-16:00 wed 10:00-11:00 fri 18:30-19:00
notify = box:never

[job watch]
plugin = slotwatch
schedule = manual
base_url = $base
pages = byCaliber=intro@bycaliber Forja=intro@forja EO=53
booking_timezone = Europe/Paris
expect_from = chaos
notify = box:always
EOF
dropin 90-secrets <<'EOF'
[secrets]
cal = cal_live_test
EOF
chmod 0600 "$tmp/conf.d/90-secrets.conf"
start_daemon || exit 1
CHORED_SOCKET=$sock
export CHORED_SOCKET
mails() { ls "$tmp/outbox/new" 2>/dev/null | wc -l; }
summary() { sql "SELECT summary FROM runs WHERE job = '$1' ORDER BY id DESC LIMIT 1"; }

run "$CHORECTL" run chaos --wait
is "$rc" 0 "randomizer run: exit 0"
contains "$(summary chaos)" "3 of 3 schedules updated" "randomizer: every schedule updated"
plan=$(sql "SELECT value FROM kv WHERE job = 'chaos' AND key = 'plan'")
contains "$plan" '"slots":[' "randomizer: the plan is in the store"

run "$CHORECTL" run watch --wait
is "$rc" 0 "slotwatch run 1: exit 0"
contains "$(summary watch)" "0 DEAD and 0 REVIVED" "slotwatch run 1: every planned slot is bookable"
case $(summary watch) in
"0 watched"*) not_ok "slotwatch run 1: the plan reached the watcher (peers)" ;;
*) ok "slotwatch run 1: the plan reached the watcher (peers)" ;;
esac
is "$(mails)" 0 "slotwatch run 1: silent"

# Take Forja's first planned slot.
start=$(printf '%s' "$plan" | $PY -c "
import json, sys, datetime as dt
from zoneinfo import ZoneInfo
s = [x for x in json.load(sys.stdin)['slots'] if x['brand'] == 'Forja'][0]
t = dt.datetime.fromisoformat(s['date'] + 'T' + s['start']).replace(tzinfo=ZoneInfo('Europe/Paris'))
print(t.isoformat())")
ctl POST /_cal/booked "{\"eventTypeId\":52,\"start\":\"$start\"}"
run "$CHORECTL" run watch --wait
contains "$(summary watch)" "1 DEAD and 0 REVIVED" "slotwatch run 2: the taken slot is DEAD"
is "$(mails)" 1 "slotwatch run 2: one message"

stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
start_daemon || exit 1
run "$CHORECTL" run watch --wait
contains "$(summary watch)" "0 DEAD and 0 REVIVED" "after a restart: the DEAD slot is remembered"
is "$(mails)" 1 "after a restart: no second message"

ctl DELETE /_cal/booked "{\"eventTypeId\":52,\"start\":\"$start\"}"
run "$CHORECTL" run watch --wait
contains "$(summary watch)" "0 DEAD and 1 REVIVED" "the slot freed: REVIVED"
is "$(mails)" 2 "REVIVED: one more message"
check "the daemon is alive" alive
stop_daemon
plan_done
