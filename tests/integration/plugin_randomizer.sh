#!/bin/sh
# randomizer.so through chored-run against the Cal.com fake (tests/fakes/calcom_fake.py):
# plans obey every window, rotate the brands and never repeat last week's time for a brand
# on the same weekday; one PATCH per brand (overrides replaced, not merged), read back;
# faults; dry run; the plan and show subcommands.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/runner_lib.sh"
tmp=$(mktemp -d)
fake=
trap '[ -n "$fake" ] && kill "$fake" 2>/dev/null; rm -rf "$tmp"' EXIT
KEY=cal_live_Secret-7788
python3 "$top_srcdir/tests/fakes/calcom_fake.py" "$tmp/port" --api-key "$KEY" &
fake=$!
n=600
while [ ! -s "$tmp/port" ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
port=$(cat "$tmp/port") || { not_ok "the Cal.com fake starts"; plan_done; exit 1; }
base=http://127.0.0.1:$port
ctl() { curl -sf -X "$1" -d "$3" "$base$2" >/dev/null; }
setup() {
	ctl POST /_fake/reset '{}'
	for id in 101 102 103; do
		ctl POST /_cal/schedules "{\"id\":$id,\"name\":\"s$id\",\"timeZone\":\"UTC\",\"isDefault\":false,
			\"availability\":[{\"days\":[\"Tuesday\"],\"startTime\":\"09:00\",\"endTime\":\"17:00\"}],
			\"overrides\":[{\"date\":\"2026-12-01\",\"startTime\":\"08:00\",\"endTime\":\"08:30\"}]}"
	done
}
# Sunday 2026-11-29 21:00 UTC, the business's CRON3 slot; the plan starts Monday 30th.
AT=1795986000
OPTS="\"api_key\":\"$KEY\",\"base_url\":\"$base\",\"brands\":\"byCaliber Forja EO\",
\"schedule_ids\":\"byCaliber=101 Forja=102 EO=103\",\"booking_timezone\":\"Europe/Paris\",
\"windows\":\"mon 13:00-16:00 wed 10:00-11:00 fri 18:30-19:00\",\"seed\":\"7\""
rz_doc() { # rz_doc AT [EXTRA-OPTIONS] [EXTRA-MEMBERS]
	printf '{"plugin":"%s/randomizer.so","job":"chaos","run_id":"r","nominal":%s,"at":%s,"options":{%s%s},"redact":["%s"]%s}' \
		"$PLUGINS" "$1" "$1" "$OPTS" "${2:+,$2}" "$KEY" "${3:+,$3}"
}
requests() { curl -sf "$base/_fake/requests"; }
# pyjson EXPR: evaluates EXPR with `req` (the fake's requests) and `st` (its state).
pyjson() {
	curl -sf "$base/_fake/requests" >"$tmp/req.json"
	curl -sf "$base/_fake/state" >"$tmp/state.json"
	python3 -c "import json,sys; req=json.load(open('$tmp/req.json')); st=json.load(open('$tmp/state.json')); print($1)"
}
plan_of() { printf '%s\n' "$rec" | python3 -c "
import json,sys
for l in sys.stdin:
    r=json.loads(l)
    if r.get('t')=='state' and r.get('key')=='plan': print(r['value'])"; }

setup
rundoc "$(rz_doc $AT)"
is "$(last_record)" '{"t":"result","status":"ok","summary":"36 slots over 4 weeks from 2026-11-30; 3 of 3 schedules updated"}' \
	"run: ok, 36 slots (3 window days x 3 slots x 4 weeks)"
is "$(pyjson "[r['method'] for r in req if r['path'].startswith('/v2/')]")" \
	"['PATCH', 'GET', 'PATCH', 'GET', 'PATCH', 'GET']" "one PATCH per brand, each read back"
is "$(pyjson "sorted(set((r['headers'].get('cal-api-version'), r['headers'].get('authorization')) for r in req if r['path'].startswith('/v2/')))")" \
	"[('2024-06-11', 'Bearer $KEY')]" "schedules version header and the API key on every request"
is "$(pyjson "[(s['id'], len(s['overrides']), s['availability'], s['timeZone']) for s in st['schedules']]")" \
	"[(101, 12, [], 'Europe/Paris'), (102, 12, [], 'Europe/Paris'), (103, 12, [], 'Europe/Paris')]" \
	"each schedule holds its 12 slots: old overrides and weekly rows replaced"
plan1=$(plan_of)
printf '%s' "$plan1" >"$tmp/plan1.json"
check_plan() { # check_plan FILE [PREVIOUS-FILE]: prints problems, nothing when the plan is right
	python3 - "$@" <<'PY'
import json, sys, datetime as dt
pl = json.load(open(sys.argv[1]))["slots"]
prev = json.load(open(sys.argv[2]))["slots"] if len(sys.argv) > 2 else []
win = {0: (13*60, 16*60), 2: (10*60, 11*60), 4: (18*60+30, 19*60)}
m = lambda t: int(t[:2]) * 60 + int(t[3:])
days = {}
for s in pl:
    days.setdefault(s["date"], []).append(s)
last_first = None
for d in sorted(days):
    b = sorted(days[d], key=lambda s: m(s["start"]))
    wd = dt.date.fromisoformat(d).weekday()
    if wd not in win: print("slot on a day without a window:", d)
    lo, hi = win.get(wd, (0, 0))
    if not lo <= m(b[0]["start"]) <= hi: print("first slot outside the window:", d, b[0]["start"])
    if (m(b[0]["start"]) - lo) % 15: print("not on the 15-minute grid:", d)
    if len(b) != 3 or len({s["brand"] for s in b}) != 3: print("not 3 brands:", d)
    for i, s in enumerate(b):
        if m(s["start"]) != m(b[0]["start"]) + 30 * i: print("not back to back:", d)
        if m(s["end"]) != m(s["start"]) + 30: print("not 30 minutes:", d)
    if last_first is not None and b[0]["brand"] == last_first: print("rotation kept:", d)
    last_first = b[0]["brand"]
every = {(s["date"], s["brand"]): s["start"] for s in prev + pl}
for s in pl:
    week_ago = (dt.date.fromisoformat(s["date"]) - dt.timedelta(days=7)).isoformat()
    if every.get((week_ago, s["brand"])) == s["start"]:
        print("same time as a week earlier:", s["date"], s["brand"], s["start"])
PY
}
is "$(check_plan "$tmp/plan1.json")" "" "the plan keeps every window, grid, slot length and rotation rule"
is "$(pyjson "sorted((o['date'], o['startTime']) for o in st['schedules'][1]['overrides']) == sorted((s['date'], s['start']) for s in json.load(open('$tmp/plan1.json'))['slots'] if s['brand'] == 'Forja')")" \
	"True" "Forja's schedule holds exactly Forja's planned slots"

# A week later, with the stored plan: no brand gets last week's time on the same weekday.
setup
rundoc "$(rz_doc $((AT + 7 * 86400)) "" "\"state\":{\"plan\":$(printf '%s' "$plan1" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}")"
is "$(last_record)" '{"t":"result","status":"ok","summary":"36 slots over 4 weeks from 2026-12-07; 3 of 3 schedules updated"}' \
	"next week's run: ok"
plan_of >"$tmp/plan2.json"
is "$(check_plan "$tmp/plan2.json" "$tmp/plan1.json")" "" "next week's plan keeps every rule against the previous plan"
# Over more seeds, each chained on the first week's plan.
bad=0
for seed in 1 2 3 4 5 6 8 9 10 11; do
	setup
	rundoc "$(rz_doc $((AT + 7 * 86400)) "\"seed\":\"$seed\"" "\"state\":{\"plan\":$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$tmp/plan1.json")}")"
	plan_of >"$tmp/planx.json"
	r=$(check_plan "$tmp/planx.json" "$tmp/plan1.json")
	[ -z "$r" ] || { bad=$((bad + 1)); diag "seed $seed: $r"; }
done
is "$bad" 0 "ten more seeds: every rule kept"

# The same seed and clock give the same plan.
setup
rundoc "$(rz_doc $AT)"
is "$(plan_of)" "$plan1" "seed = N: the same plan again"

# Faults: a 429 with Cal.com's headers is waited out; a brand whose PATCH keeps failing.
setup
ctl POST /_fake/fault '{"status":429,"method":"PATCH","headers":{"X-RateLimit-Limit-Default":"120","X-RateLimit-Remaining-Default":"0","X-RateLimit-Reset-Default":"1"},"body":{"status":"error","error":{"code":"ThrottlerException","message":"ThrottlerException: Too Many Requests"}}}'
rundoc "$(rz_doc $AT)"
is "$(last_record)" '{"t":"result","status":"ok","summary":"36 slots over 4 weeks from 2026-11-30; 3 of 3 schedules updated"}' \
	"a 429 on a PATCH is retried"
is "$(pyjson "len([r for r in req if r['method'] == 'PATCH'])")" 4 "the throttled PATCH was sent again"
setup
ctl POST /_fake/fault '{"status":500,"path":"/v2/schedules/102","method":"PATCH","count":10,"body":{"status":"error","error":{"code":"InternalServerErrorException","message":"database down"}}}'
rundoc "$(rz_doc $AT)"
is "$(last_record)" '{"t":"result","status":"partial","summary":"36 slots over 4 weeks from 2026-11-30; 2 of 3 schedules updated"}' \
	"a schedule that cannot be updated: partial"
contains "$rec" "Forja: PATCH schedule 102 (Forja): HTTP 500: database down" "the failing brand is logged with Cal.com's message"
is "$(plan_of | python3 -c "import json,sys; p=json.load(sys.stdin); print(sorted({s['brand'] for s in p['slots']}))")" \
	"['EO', 'byCaliber']" "the stored plan holds only what is live (the failed brand had no plan before)"
lacks "$out$err$rec" "$KEY" "the API key appears nowhere"

# Dry run: planned, nothing sent, nothing stored.
setup
rundoc "$(rz_doc $AT "" '"dry_run":true')"
is "$(last_record)" '{"t":"result","status":"ok","summary":"dry run: 36 slots over 4 weeks from 2026-11-30"}' "dry run: ok"
is "$(pyjson "len([r for r in req if r['path'].startswith('/v2/')])")" 0 "dry run: no request to Cal.com"
lacks "$rec" '"key":"plan"' "dry run: no plan stored"

# Bad options are refused by check() with the key at fault.
rundoc "$(printf '{"plugin":"%s/randomizer.so","job":"chaos","options":{"api_key":"%s","brands":"A B C","schedule_ids":"A=1 B=2 C=3","windows":"fri 18:30-18:40"},"redact":["%s"]}' "$PLUGINS" "$KEY" "$KEY")"
contains "$(last_record)" '"status":"failed","summary":"windows: window fri 18:30-18:40 is shorter than the 15-minute granularity' "a window without room to move is refused"
rundoc "$(printf '{"plugin":"%s/randomizer.so","job":"chaos","options":{"api_key":"%s","brands":"A B C","schedule_ids":"A=1 C=3","windows":"mon 10:00-11:00"},"redact":["%s"]}' "$PLUGINS" "$KEY" "$KEY")"
contains "$(last_record)" 'schedule_ids: no schedule id for brand' "a brand without a schedule is refused"

# chorectl randomizer plan / show, on a configuration.
mkdir -p "$tmp/conf.d"
cat >"$tmp/chored.conf" <<CONF
[daemon]
plugin_dir = $PLUGINS
state = sqlite://$tmp/state.db
[job chaos]
plugin = randomizer
schedule = 0 21 * * SUN
api_key = \${secret:cal}
base_url = $base
brands = byCaliber Forja EO
schedule_ids = byCaliber=101 Forja=102 EO=103
booking_timezone = Europe/Paris
windows = mon 13:00-16:00 wed 10:00-11:00 fri 18:30-19:00
[secrets]
cal = $KEY
CONF
chmod 0600 "$tmp/chored.conf"
run "$CHORECTL" -c "$tmp/chored.conf" randomizer plan --seed 7
is "$rc" 0 "chorectl randomizer plan: exit 0"
is "$(printf '%s\n' "$out" | head -n 1)" "DATE        DAY  TIME         BRAND" "plan: a table"
is "$(printf '%s\n' "$out" | grep -c '^20')" 36 "plan: 36 slots"
run "$CHORECTL" -c "$tmp/chored.conf" randomizer show
is "$rc/$err" "0/chorectl randomizer show: job chaos has no stored plan yet" "show: nothing stored yet"
sqlite3 "$tmp/state.db" "CREATE TABLE kv (job TEXT NOT NULL, key TEXT NOT NULL,
	value TEXT NOT NULL, PRIMARY KEY (job, key)) WITHOUT ROWID;
	INSERT INTO kv VALUES ('chaos', 'plan', readfile('$tmp/plan1.json'));"
run "$CHORECTL" -c "$tmp/chored.conf" randomizer show
is "$(printf '%s\n' "$out" | grep -c '^20')" 36 "show: the stored plan"
contains "$out" "(times in Europe/Paris)" "show: the zone"
is "$(pyjson "len([r for r in req if r['path'].startswith('/v2/')])")" 0 \
	"plan and show send nothing to Cal.com"
plan_done
