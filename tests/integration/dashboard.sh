#!/bin/sh
# The dashboard of a real daemon read as a browser without JavaScript would (curl): one card
# per job with the schedule in words, the next run in UTC and in the display zone, the last
# result with its time and summary, the last results as marks linking to each run's page,
# missed slots; every value HTML-escaped; the strict Content-Security-Policy and no inline
# script, style or handler; a run's page with its log; 404 for an unknown run; the JSON the
# page refreshes from; the admin token nowhere.
. "$(dirname "$0")/daemon_lib.sh"

py=/usr/bin/python3
[ -x "$py" ] || py=python3
# jget JSON PYTHON-EXPR (daemon_lib's json_get with Debian's python3: no pyenv shim per call)
jget() { printf '%s' "$1" | $py -c "import json,sys; j=json.load(sys.stdin); print($2)"; }
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=dash-Tok-$(date +%s%N | cut -c10-)
base=http://127.0.0.1:$port
write_conf "listen = 127.0.0.1:$port" "display_timezone = Europe/Paris" 'admin_token = ${secret:admin}'
(umask 077 && printf '[secrets]\nadmin = %s\n' "$token" >"$tmp/conf.d/90-secrets.conf")
dropin 10-jobs <<'EOF2'
[job weekly]
plugin = testplug
schedule = 0 8 * * MON
description = Backs up <script>alert("x")</script> & 'friends'
mode = ok

[job nightly]
plugin = testplug
schedule = 30 2 * * *
timezone = America/New_York
mode = fail

[job busy]
plugin = testplug
schedule = * * * * * *
overlap = skip
mode = sleep
seconds = 2s

[job adhoc]
plugin = testplug
schedule = manual
enabled = false
EOF2
start_daemon || exit 1
wait_until 20 curl -sf "$base/healthz" || diag "the admin listener did not answer" "$(cat "$log")"

# run_job JOB: starts a manual run over the control socket, waits until it ends, prints its id.
run_job() {
	_id=$(jget "$(api -X POST "http://chored/v1/jobs/$1/run")" 'j["run_id"]')
	wait_until 30 at_least 1 "id=$_id AND status <> 'running'" || diag "run $_id of $1 did not end"
	echo "$_id"
}
ok_id=$(run_job weekly)
fail_id=$(run_job nightly)
missed_now() { [ "$(jget "$(api http://chored/v1/jobs/busy)" 'j["missed"]')" -ge 1 ]; }
wait_until 20 missed_now || diag "busy: no slot skipped yet"

page_file=$tmp/page.html
curl -s -D "$tmp/page.hdr" -o "$page_file" "$base/"
page=$(cat "$page_file")
hdr=$(tr -d '\r' <"$tmp/page.hdr")
contains "$hdr" "HTTP/1.1 200" "GET /: 200"
contains "$hdr" "Content-Type: text/html; charset=utf-8" "GET /: HTML"
contains "$hdr" "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'" \
	"GET /: the strict Content-Security-Policy"
contains "$hdr" "X-Content-Type-Options: nosniff" "GET /: nosniff"

# cards: each card of the page as one JSON object (an HTML parser, not patterns).
cards=$($py - "$page_file" <<'EOF'
import html.parser, json, sys

class P(html.parser.HTMLParser):
    FIELDS = ("f-sched", "f-next", "f-last", "f-missed", "desc", "plugin", "strip", "disp")
    VOID = ("br", "input", "meta", "link", "img", "hr")
    def __init__(self):
        super().__init__()
        self.cards, self.card, self.stack = [], None, [None]
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        field = self.stack[-1]
        if tag == "article" and "card" in cls:
            self.card = {"job": a.get("data-job"), "state": a.get("data-state"),
                         "alarm": "alarm" in cls, "marks": [], "text": {}}
            self.cards.append(self.card)
        if self.card is not None:
            if tag == "a" and "mark" in cls and field == "strip":
                self.card["marks"].append([a.get("href"), cls[1] if len(cls) > 1 else ""])
            if tag == "button" and "run-now" in cls:
                self.card["button"] = a.get("data-job")
            if tag == "time" and field == "f-next":
                self.card["next_iso"] = a.get("datetime")
            field = next((f for f in self.FIELDS if f in cls), "name" if tag == "h2" else field)
        if tag not in self.VOID:
            self.stack.append(field)
    def handle_endtag(self, tag):
        if tag not in self.VOID and len(self.stack) > 1:
            self.stack.pop()
        if tag == "article":
            self.card = None
    def handle_data(self, data):
        if self.card is None:
            return
        # A span inside a field counts for both (the display zone is part of "Next run").
        for f in set(self.stack[1:]):
            if f:
                self.card["text"][f] = self.card["text"].get(f, "") + data

p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
for c in p.cards:
    print(json.dumps(c))
EOF
)
card() { printf '%s\n' "$cards" | grep "\"job\": \"$1\""; }
cget() { jget "$(card "$1")" "$2"; }

is "$(printf '%s\n' "$cards" | $py -c 'import json,sys; print(" ".join(json.loads(l)["job"] for l in sys.stdin))')" \
	"weekly nightly busy adhoc" "one card per job, in configuration order"
is "$(cget weekly 'j["text"]["name"], j["text"]["plugin"]')" "weekly testplug" "card: name and plugin"
words=$(jget "$(api http://chored/v1/jobs/weekly)" 'j["schedule_text"]')
is "$(cget weekly 'j["text"]["f-sched"]')" "$words 0 8 * * MON" "card: the schedule in words (and as written)"
contains "$words" "08:00" "the words say the hour"
contains "$words" "Monday" "the words say the day"

# The next slot: a Monday 08:00 UTC in the future, shown in UTC and in Europe/Paris.
next_iso=$(cget weekly 'j["next_iso"]')
want=$($py - "$next_iso" <<'EOF'
import datetime, sys, zoneinfo
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
ok = t.weekday() == 0 and (t.hour, t.minute) == (8, 0) and t > datetime.datetime.now(datetime.timezone.utc)
p = t.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
print(ok, t.strftime("%Y-%m-%d %H:%M UTC"), "\u2248 " + p.strftime("%H:%M") + " Europe/Paris")
EOF
)
is "$(cget weekly 'j["next_iso"] == "'"$next_iso"'", j["text"]["f-next"]')" \
	"True $(echo "$want" | cut -d' ' -f2-4) $(echo "$want" | cut -d' ' -f5-)" \
	"card: the next run in UTC and ≈ in the display zone"
is "$(echo "$want" | cut -d' ' -f1)" True "the next run is the coming Monday 08:00 UTC"
is "$(cget weekly 'j["text"]["disp"]')" "$(echo "$want" | cut -d' ' -f5-)" "the display-zone time is marked apart"
# nightly runs at 02:30 New York time: 07:30 or 06:30 UTC, 08:30 or 07:30 in Paris.
nn=$(cget nightly 'j["text"]["f-next"]')
case "$nn" in
*" 07:30 UTC ≈ 08:30 Europe/Paris" | *" 06:30 UTC ≈ 07:30 Europe/Paris") ok "a job in another zone: next run in UTC and Paris" ;;
*) not_ok "a job in another zone: next run in UTC and Paris"; diag "$nn" ;;
esac

# The last result: status, time, summary; the strip links each run's page.
started=$(sql "SELECT started_ms / 1000 FROM runs WHERE id=$ok_id")
when=$(date -u -d "@$started" '+%Y-%m-%d %H:%M:%S UTC' | sed 's/:00 UTC$/ UTC/')
is "$(cget weekly 'j["state"], j["text"]["f-last"]')" "ok ✓ ok · $when · ok" "card: the last result with its time and summary"
is "$(cget weekly 'j["marks"]')" "[['/runs/$ok_id', 'st-ok']]" "card: the result strip links the run's page"
is "$(cget nightly 'j["state"]')" failed "a failed last result colours the card"
contains "$(cget nightly 'j["text"]["f-last"]')" "failed · " "card: failed last result"
contains "$(cget nightly 'j["text"]["f-last"]')" "failed on purpose" "card: the failure's summary"
is "$(cget adhoc 'j["text"]["f-next"]')" "none: the job is disabled" "a disabled job has no next run"
contains "$(card adhoc)" '"button": "adhoc"' "every card has a Run now button"
contains "$page" '<span class="badge off">disabled</span>' "a disabled job is marked"

# Missed slots (busy skips a slot each second while its 2-s run goes on).
is "$(cget busy 'j["alarm"]')" True "missed slots raise the card's alarm"
case "$(cget busy 'j["text"]["f-missed"]')" in
"⚠ "[0-9]*" missed slot"*" · last 20"*" UTC") ok "card: missed slot count and the last one" ;;
*) not_ok "card: missed slot count and the last one"; diag "$(card busy)" ;;
esac

# Escaping and no inline code.
is "$(cget weekly 'j["text"]["desc"]')" "Backs up <script>alert(\"x\")</script> & 'friends'" \
	"the description reads as written"
contains "$page" "Backs up &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;friends&#39;" \
	"the description is HTML-escaped"
lacks "$page" "<script>alert" "no script from a description"
inline=$(printf '%s' "$page" | grep -Eoi '<script[^>]*>|<style|style="|[[:space:]]on[a-z]+=' | grep -v '<script src="/dashboard.js?v=[^"]*" defer>')
is "$inline" "" "no inline script, style or event handler"
lacks "$page" "http://" "no external asset"
lacks "$page" "$token" "the admin token is not in the page"
contains "$page" "Legend" "a legend"

# A run's page.
curl -s -D "$tmp/run.hdr" -o "$tmp/run.html" "$base/runs/$ok_id"
run_page=$(cat "$tmp/run.html")
contains "$(cat "$tmp/run.hdr")" "200 OK" "GET /runs/ID: 200"
contains "$(tr -d '\r' <"$tmp/run.hdr")" "Content-Security-Policy: default-src 'none';" "GET /runs/ID: CSP"
contains "$run_page" "<h1>Run #$ok_id · weekly</h1>" "run page: run and job"
contains "$run_page" '<td class="lv">info</td><td class="x">testplug ok</td>' "run page: the log"
contains "$run_page" "<dt>Summary</dt><dd>ok</dd>" "run page: the summary"
fail_page=$(curl -s "$base/runs/$fail_id")
contains "$fail_page" '<tr class="lv-err">' "run page: log levels"
contains "$fail_page" "failing on purpose" "run page: the failed run's log"
contains "$fail_page" '<span class="mark st-failed">✗</span> failed' "run page: status"
is "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$base/runs/999999")" \
	"404 text/html; charset=utf-8" "unknown run: 404 page"
is "$(curl -s -o /dev/null -w '%{http_code}' "$base/runs/x1")" 404 "malformed run id: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' "$base/runs/$ok_id/x")" 404 "run page path with a tail: 404"

# The page's refresh: one JSON document for every card.
js=$(curl -s "$base/dashboard.json")
is "$(jget "$js" '[x["name"] for x in j["jobs"]] == ["weekly","nightly","busy","adhoc"], j["zone"], [r["id"] for r in j["jobs"][0]["recent"]] == ['"$ok_id"'], j["jobs"][0]["view"]["next_display"] == "'"$(echo "$want" | cut -d' ' -f5-)"'"')" \
	"True Europe/Paris True True" "/dashboard.json: jobs, display zone, recent results, the page's texts"
lacks "$js" "$token" "the admin token is not in the JSON"
is "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$base/dashboard.js")" \
	"200 text/javascript; charset=utf-8" "the script is served"
is "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$base/dashboard.css")" \
	"200 text/css; charset=utf-8" "the style sheet is served"
is "$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/jobs")" 200 "the /v1 API still answers beside it"
stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
plan_done
