#!/bin/sh
# slotwatch.so through chored-run against the Cal.com fake: the randomizer's plan as the
# expected slots; across runs a slot goes DEAD then REVIVED with exactly one message each,
# an unchanged run sends nothing, and an API failure (500, 404, malformed) declares nothing
# DEAD; the min_slots mode; chorectl slotwatch status.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/runner_lib.sh"
tmp=$(mktemp -d)
fake=
trap '[ -n "$fake" ] && kill "$fake" 2>/dev/null; rm -rf "$tmp"' EXIT
python3 "$top_srcdir/tests/fakes/calcom_fake.py" "$tmp/port" &
fake=$!
n=600
while [ ! -s "$tmp/port" ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
port=$(cat "$tmp/port") || { not_ok "the Cal.com fake starts"; plan_done; exit 1; }
base=http://127.0.0.1:$port
ctl() { curl -sf -X "$1" -d "$3" "$base$2" >/dev/null; }

# Monday 2026-11-30 06:00 UTC (07:00 in Paris), the business's CRON2 slot.
AT=1796018400
# The randomizer's stored plan: three brands, one block on Wednesday 2 December.
PLAN='{"zone":"Europe/Paris","slot_length":30,"slots":[
{"date":"2026-12-02","start":"10:15","end":"10:45","brand":"byCaliber","pos":0},
{"date":"2026-12-02","start":"10:45","end":"11:15","brand":"Forja","pos":1},
{"date":"2026-12-02","start":"11:15","end":"11:45","brand":"EO","pos":2}]}'
setup() {
	ctl POST /_fake/reset '{}'
	ctl POST /_cal/now '{"now":"2026-11-30T06:00:00Z"}'
	id=0
	for b in byCaliber Forja EO; do
		id=$((id + 1))
		t=$(printf '%s' "$PLAN" | python3 -c "import json,sys; print([s['start']+'-'+s['end'] for s in json.load(sys.stdin)['slots'] if s['brand']=='$b'][0])")
		ctl POST /_cal/schedules "{\"id\":$id,\"name\":\"$b\",\"timeZone\":\"Europe/Paris\",\"isDefault\":false,
			\"overrides\":[{\"date\":\"2026-12-02\",\"startTime\":\"${t%-*}\",\"endTime\":\"${t#*-}\"}]}"
		ctl POST /_cal/event-types "{\"id\":$((50 + id)),\"slug\":\"intro\",\"username\":\"$(echo $b | tr A-Z a-z)\",\"length\":30,\"scheduleId\":$id}"
	done
}
mkdir -p "$tmp/outbox"
STATE='{}'
sw_doc() { # sw_doc AT [EXTRA-OPTIONS]: the job with the current $STATE
	printf '{"plugin":"%s/slotwatch.so","job":"watch","run_id":"r","nominal":%s,"at":%s,"options":{"base_url":"%s","pages":"byCaliber=intro@bycaliber Forja=intro@forja EO=53","booking_timezone":"Europe/Paris","expect_from":"chaos"%s},"state":{"dead":%s},"peers":{"chaos":{"plan":%s}},"notify":[{"name":"box","type":"outbox","policy":"always","keys":{"path":"%s/outbox"}}],"state_dir":"%s"}' \
		"$PLUGINS" "$1" "$1" "$base" "${2:+,$2}" \
		"$(printf '%s' "$STATE" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')" \
		"$(printf '%s' "$PLAN" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')" "$tmp" "$tmp"
}
# keep_state: the "dead" state the run stored becomes the next run's.
keep_state() {
	s=$(printf '%s\n' "$rec" | python3 -c "
import json,sys
for l in sys.stdin:
    r=json.loads(l)
    if r.get('t')=='state' and r.get('key')=='dead': print(r['value'])")
	[ -n "$s" ] && STATE=$s
}
mails() { ls "$tmp/outbox/new" 2>/dev/null | wc -l; }
# mailtext FILE: the subject and the text/plain part of a message, decoded.
mailtext() {
	python3 -c "
import email, email.header, sys
m = email.message_from_file(open(sys.argv[1]))
print(str(email.header.make_header(email.header.decode_header(m['Subject']))))
for p in m.walk():
    if p.get_content_type() == 'text/plain':
        print(p.get_payload(decode=True).decode())" "$1"
}
newest() { ls -t "$tmp"/outbox/new/* | head -n 1; }

setup
rundoc "$(sw_doc $AT)"
is "$(last_record)" '{"t":"result","status":"ok","summary":"3 watched, 3 bookable, 0 DEAD and 0 REVIVED now"}' \
	"run 1: every planned slot is bookable"
is "$(mails)" 0 "run 1: nothing changed, nothing sent"
keep_state
is "$(curl -sf "$base/_fake/requests" | python3 -c "import json,sys; print(sorted({r['headers'].get('cal-api-version') for r in json.load(sys.stdin) if r['path']=='/v2/slots'}))")" \
	"['2024-09-04']" "the slots version header on every request"

# Someone takes Forja's slot (or the page breaks): DEAD, one message.
ctl POST /_cal/booked '{"eventTypeId":52,"start":"2026-12-02T10:45:00+01:00"}'
rundoc "$(sw_doc $AT)"
is "$(last_record)" '{"t":"result","status":"ok","summary":"3 watched, 2 bookable, 1 DEAD and 0 REVIVED now"}' \
	"run 2: the slot is DEAD"
is "$(mails)" 1 "run 2: one message"
msg=$(mailtext "$(newest)")
contains "$msg" "[chored] ⚠️ watch: partial — 3 watched, 2 bookable, 1 DEAD" "the subject: a DEAD slot is a warning"
contains "$msg" "DEAD    Forja" "the message says DEAD"
contains "$msg" "Forja" "the message names the page"
contains "$msg" "2026-12-02 10:45" "the message gives the date and time in the booking zone"
keep_state
contains "$STATE" '"Forja 2026-12-02 10:45"' "the DEAD slot is kept in job state"

rundoc "$(sw_doc $((AT + 3600)))"
is "$(last_record)" '{"t":"result","status":"ok","summary":"3 watched, 2 bookable, 0 DEAD and 0 REVIVED now"}' \
	"run 3: unchanged"
is "$(mails)" 1 "run 3: silent"
keep_state

# An API failure is never read as 0 slots: the page is unknown, nothing is declared DEAD.
ctl POST /_cal/booked '{"eventTypeId":51,"start":"2026-12-02T10:15:00+01:00"}'
ctl POST /_fake/fault '{"status":500,"path":"/v2/slots","count":8,"body":{"status":"error","error":{"code":"InternalServerErrorException","message":"boom"}}}'
rundoc "$(sw_doc $((AT + 7200)) '"pages":"byCaliber=intro@bycaliber"')"
is "$(last_record)" '{"t":"result","status":"partial","summary":"0 watched, 0 bookable, 0 DEAD and 0 REVIVED now, some pages unknown"}' \
	"a 500 beyond retries: partial, nothing declared"
contains "$rec" "byCaliber: unknown this run: HTTP 500: boom" "the unknown page is logged with Cal.com's message"
is "$(mails)" 1 "a failing page sends nothing"
ctl POST /_fake/reset '{}'
setup
ctl POST /_cal/booked '{"eventTypeId":52,"start":"2026-12-02T10:45:00+01:00"}'
rundoc "$(sw_doc $((AT + 7200)) '"pages":"byCaliber=intro@nobody Forja=intro@forja EO=53"')"
is "$(last_record)" '{"t":"result","status":"partial","summary":"2 watched, 1 bookable, 0 DEAD and 0 REVIVED now, some pages unknown"}' \
	"a 404 page: partial, the others still watched"
contains "$rec" "User with username nobody not found" "the 404 is logged"
ctl POST /_fake/fault '{"malformed":true,"path":"/v2/slots","count":1}'
rundoc "$(sw_doc $((AT + 7200)) '"pages":"Forja=intro@forja"')"
contains "$(last_record)" '"status":"partial"' "a malformed answer: partial"
is "$(mails)" 1 "no message for unknown pages"
ctl POST /_fake/fault '{"status":429,"path":"/v2/slots","headers":{"X-RateLimit-Limit-Default":"120","X-RateLimit-Remaining-Default":"0","X-RateLimit-Reset-Default":"1"},"body":{"status":"error","error":{"code":"ThrottlerException","message":"ThrottlerException: Too Many Requests"}}}'
rundoc "$(sw_doc $((AT + 7200)))"
is "$(last_record)" '{"t":"result","status":"ok","summary":"3 watched, 2 bookable, 0 DEAD and 0 REVIVED now"}' \
	"a 429 is waited out"

# The slot is free again: REVIVED, one message.
ctl POST /_fake/reset '{}'
setup
rundoc "$(sw_doc $((AT + 10800)))"
is "$(last_record)" '{"t":"result","status":"ok","summary":"3 watched, 3 bookable, 0 DEAD and 1 REVIVED now"}' \
	"run 4: REVIVED"
is "$(mails)" 2 "run 4: one more message"
contains "$(mailtext "$(newest)")" "REVIVED" "the message says REVIVED"
keep_state
is "$STATE" "{}" "no DEAD slot left in state"

# Without a plan: at least min_slots on each watched weekday.
STATE='{}'
rundoc "$(sw_doc $AT '"expect_from":null,"weekdays":"wed thu","min_slots":"1","weeks":"1"')"
is "$(last_record)" '{"t":"result","status":"ok","summary":"6 watched, 3 bookable, 3 DEAD and 0 REVIVED now"}' \
	"min_slots: Wednesday has its slot, Thursday has none on each page"
contains "$(mailtext "$(newest)")" "0 of 1 slots" "min_slots: the detail in the message"

# Bad options are refused by check().
rundoc "$(printf '{"plugin":"%s/slotwatch.so","job":"w","options":{"pages":"byCaliber"}}' "$PLUGINS")"
contains "$(last_record)" "pages: 'byCaliber' is not BRAND=SLUG@USERNAME" "a page without = is refused"
rundoc "$(printf '{"plugin":"%s/slotwatch.so","job":"w","options":{"pages":"a=1","weekdays":"mon funday"}}' "$PLUGINS")"
contains "$(last_record)" "weekdays: 'funday' is not a weekday" "a bad weekday is refused"

# chorectl slotwatch status reads the stored state (and the randomizer's through expect_from).
cat >"$tmp/chored.conf" <<CONF
[daemon]
plugin_dir = $PLUGINS
state = sqlite://$tmp/state.db
[job watch]
plugin = slotwatch
schedule = 0 7 * * *
base_url = $base
pages = Forja=intro@forja
expect_from = watch
CONF
run "$CHORECTL" -c "$tmp/chored.conf" slotwatch status
is "$rc/$out" "0/no DEAD slot" "status: nothing stored yet"
sqlite3 "$tmp/state.db" "CREATE TABLE kv (job TEXT NOT NULL, key TEXT NOT NULL,
	value TEXT NOT NULL, PRIMARY KEY (job, key)) WITHOUT ROWID;
	INSERT INTO kv VALUES ('watch', 'dead', '{\"Forja 2026-12-02 10:45\":{\"since\":1796018400}}');"
run "$CHORECTL" -c "$tmp/chored.conf" slotwatch status
is "$out" "DEAD SINCE                               ITEM
2026-11-30T06:00:00Z                     Forja 2026-12-02 10:45" "status: the DEAD slots"
# expect_from must name a job of the configuration.
sed -i 's/^expect_from = watch$/expect_from = nosuch/' "$tmp/chored.conf"
run "$CHORECTL" check -c "$tmp/chored.conf"
is "$rc" 78 "check: expect_from naming no job is a configuration error"
contains "$err" "$tmp/chored.conf:9: [job watch] expect_from: no job 'nosuch' in the configuration" \
	"check: the error names the file, line, key and value"
plan_done
