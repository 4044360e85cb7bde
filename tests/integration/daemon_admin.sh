#!/bin/sh
# The admin HTTP API of the real daemon on 127.0.0.1 (a free port picked at run time):
# reads without a token, mutations with Bearer admin_token only, tokens in query strings
# refused, the Host rule, the bad-token slow-down, token changes on reload, /healthz (503
# while stopping), /metrics checked by a strict exposition parser (promcheck.py) and its
# values after a few runs, reloads and a restart; and a non-loopback listen without a token
# refused at start.
. "$(dirname "$0")/daemon_lib.sh"

py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3 # a pyenv shim costs a second per start
promcheck() { "$py" "$top_srcdir/tests/integration/promcheck.py"; }
TOKEN=adm-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
TOKEN2=adm2-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

free_port() {
	"$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# conf LISTEN [TOKEN-NAME]: the main file with [secrets] (mode 0600) and the display zone.
conf() {
	if [ -n "${2:-}" ]; then
		write_conf "listen = $1" "admin_token = \${secret:$2}" "display_timezone = Europe/Paris" \
			"history = 10000"
	else
		write_conf "listen = $1" "display_timezone = Europe/Paris" "history = 10000"
	fi
	printf '[secrets]\nadmin = %s\nadmin2 = %s\n' "$TOKEN" "$TOKEN2" >>"$tmp/chored.conf"
	chmod 600 "$tmp/chored.conf"
}

# ---- a non-loopback listen needs a token: refused by -t, chorectl check and at start ----
port=$(free_port)
conf "0.0.0.0:$port"
run "$CHORED" -t -c "$tmp/chored.conf"
is "$rc" 78 "chored -t: 0.0.0.0 without admin_token exits 78"
contains "$err$out" "$tmp/chored.conf:5: [daemon] listen: '0.0.0.0:$port' is not a loopback address, and [daemon] admin_token is not set" \
	"chored -t names FILE:LINE, the key and the reason"
run "$CHORECTL" -c "$tmp/chored.conf" check
is "$rc" 78 "chorectl check: refused too (78)"
contains "$err$out" "chored.conf:5: [daemon] listen:" "chorectl check names the line"
run "$CHORED" -d -c "$tmp/chored.conf"
is "$rc" 78 "chored does not start with it (78)"
contains "$err" "is not a loopback address" "the start error says why"
check "nothing listens on the port" sh -c "! curl -s -o /dev/null --max-time 2 http://127.0.0.1:$port/healthz"
write_conf "listen = [::]:$port"
run "$CHORED" -t -c "$tmp/chored.conf"
is "$rc" 78 "[::] without a token is refused too"
conf "0.0.0.0:$port" admin
run "$CHORED" -t -c "$tmp/chored.conf"
is "$rc" 0 "0.0.0.0 with admin_token passes -t"
lacks "$out$err" "$TOKEN" "-t never prints the token"
conf "localhost:$port"
run "$CHORED" -t -c "$tmp/chored.conf"
is "$rc" 0 "localhost without a token is fine"

# ---- the daemon on a loopback port with a token ----
dropin 10-jobs <<EOF2
[job tick]
plugin = testplug
schedule = * * * * * *
mode = ok

[job bad]
plugin = testplug
schedule = 0 0 1 1 *
mode = fail

[job good]
plugin = testplug
schedule = 0 0 1 1 *
mode = ok

[job sleeper]
plugin = testplug
schedule = 0 0 1 1 *
mode = sleep
seconds = 60s
EOF2
started=
for attempt in 1 2 3; do
	port=$(free_port)
	conf "127.0.0.1:$port" admin
	: >"$log"
	start_daemon || break
	base=http://127.0.0.1:$port
	if wait_until 10 curl -sf -o /dev/null "$base/healthz"; then
		started=1
		break
	fi
	# the port was taken between the pick and the bind: try another
	stop_daemon 2>/dev/null
done
if [ -z "$started" ]; then
	not_ok "chored serves the admin API"
	diag "$(cat "$log")"
	plan_done
	exit 1
fi
ok "chored serves the admin API on 127.0.0.1:$port"

# req METHOD PATH [CURL ARGS…]: sets $code, $body (and $tmp/h the headers).
req() {
	_m=$1
	_p=$2
	shift 2
	code=$(curl -s --max-time 20 -X "$_m" -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$@" "$base$_p")
	body=$(cat "$tmp/b")
}
auth() { req "$@" -H "Authorization: Bearer $TOKEN"; }
errcode() { json_get "$body" 'j["error"]["code"]'; }
header() { tr -d '\r' <"$tmp/h" | grep -i "^$1:" | head -n 1; }

# ---- read routes: no token, JSON shapes ----
req GET /healthz
is "$code $(json_get "$body" 'j["status"], type(j["generation"]).__name__, "version" in j')" \
	"200 ok int True" "GET /healthz: 200 {status: ok, generation, version}"
req GET /v1/status
is "$code $(json_get "$body" 'j["display_timezone"], j["jobs"], j["stopping"]')" \
	"200 Europe/Paris 4 False" "GET /v1/status: display_timezone, jobs, stopping"
is "$(header Content-Type)" "Content-Type: application/json" "JSON content type"
req GET /v1/jobs
is "$code $(json_get "$body" 'sorted(x["name"] for x in j["jobs"])')" \
	"200 ['bad', 'good', 'sleeper', 'tick']" "GET /v1/jobs lists the jobs"
req GET /v1/jobs/good
is "$code $(json_get "$body" 'j["missed"], j["last_missed"], j["next"]')" \
	"200 0 None $(date -u +%Y | awk '{print $1 + 1}')-01-01T00:00:00Z" \
	"GET /v1/jobs/good: missed 0, last_missed null, next"
is "$(json_get "$body" 'j["next_display"]')" "$(date -u +%Y | awk '{print $1 + 1}')-01-01T01:00:00+01:00" \
	"next_display: the next run in the display zone with its offset"
wait_until 10 at_least 1 "job='tick' AND status='ok'"
req GET /v1/jobs/tick
check "GET /v1/jobs/tick: next_display is the same instant as next" \
	"$py" -c 'import json,sys,datetime as d
j=json.loads(sys.argv[1]); f=d.datetime.fromisoformat
a=f(j["next"].replace("Z","+00:00")); b=f(j["next_display"])
sys.exit(not (a == b and b.utcoffset() in (d.timedelta(hours=1), d.timedelta(hours=2))
              and isinstance(j["missed"], int)))' "$body"
id=$(sql "SELECT max(id) FROM runs WHERE job='tick' AND status='ok'")
req GET "/v1/jobs/tick/runs?limit=2"
is "$code $(json_get "$body" 'len(j["runs"]) >= 1')" "200 True" "GET /v1/jobs/NAME/runs"
req GET "/v1/runs/$id"
is "$code $(json_get "$body" 'j["id"], j["status"], type(j["log"]).__name__')" "200 $id ok list" \
	"GET /v1/runs/ID with its log"
req GET /v1/plugins/testplug
is "$code $(json_get "$body" 'j["name"]')" "200 testplug" "GET /v1/plugins/NAME"
req GET /v1/nothing
is "$code $(errcode)" "404 not_found" "unknown route: 404 JSON"
req GET /v1/reload
is "$code $(errcode)" "405 method_not_allowed" "GET on a POST route: 405"

# ---- mutations: token required, refused, accepted ----
req POST /v1/jobs/bad/run
is "$code $(errcode)" "401 unauthorized" "POST without a token: 401"
is "$(header WWW-Authenticate)" 'WWW-Authenticate: Bearer realm="chored"' "401 carries WWW-Authenticate: Bearer"
req POST /v1/jobs/bad/run -H "Authorization: Bearer wrong-$TOKEN"
is "$code $(errcode)" "401 unauthorized" "POST with a wrong token: 401"
contains "$(header WWW-Authenticate)" 'error="invalid_token"' "wrong token: error=invalid_token"
req POST /v1/jobs/bad/run -H "Authorization: Basic $TOKEN"
is "$code" 401 "another scheme: 401"
is "$(count "job='bad'")" 0 "no run was started by the refused requests"
auth POST /v1/jobs/bad/run
is "$code" 202 "POST /v1/jobs/bad/run with the token: 202"
bad_id=$(json_get "$body" 'j["run_id"]')
auth POST /v1/jobs/good/run -d '{"dry_run":false}'
is "$code" 202 "POST /v1/jobs/good/run with a body: 202"
good_id=$(json_get "$body" 'j["run_id"]')
auth POST /v1/jobs/nosuch/run
is "$code $(errcode)" "404 not_found" "unknown job with the token: 404"
auth POST /v1/jobs/good/run -d '{"dry_run":1}'
is "$code $(errcode)" "400 bad_request" "bad body with the token: 400"
wait_until 10 at_least 1 "id=$bad_id AND status='failed'"
wait_until 10 at_least 1 "id=$good_id AND status='ok'"

# ---- tokens in the query string: refused everywhere ----
req GET "/v1/status?token=abc"
is "$code $(errcode)" "400 token_in_query" "?token= on a read route: 400"
contains "$(json_get "$body" 'j["error"]["message"]')" "Authorization: Bearer" "the message names the header to use"
req GET "/?access_token=abc"
is "$code $(errcode)" "400 token_in_query" "?access_token= on the dashboard: 400"
req GET "/metrics?admin_token=abc"
is "$code $(errcode)" "400 token_in_query" "?admin_token= on /metrics: 400"
req POST "/v1/reload?token=$TOKEN" -H "Authorization: Bearer $TOKEN"
is "$code $(errcode)" "400 token_in_query" "a query token with a good header: 400 still"
req GET "/v1/jobs/tick/runs?limit=1&x=$TOKEN"
is "$code $(errcode)" "400 token_in_query" "the token itself under another name: 400"
lacks "$(cat "$log")" "$TOKEN" "the daemon log never holds the token"

# ---- Host rule ----
req GET /v1/status -H "Host: evil.example"
is "$code $(errcode)" "421 bad_host" "Host: evil.example: 421"
req GET / -H "Host: rebind.evil.example:$port"
is "$code $(errcode)" "421 bad_host" "a rebinding name with the port: 421 (the dashboard too)"
req POST /v1/reload -H "Host: evil.example" -H "Authorization: Bearer $TOKEN"
is "$code $(errcode)" "421 bad_host" "a POST with the token from a foreign Host: 421"
req GET /v1/status -H "Host: localhost:$port"
is "$code" 200 "Host: localhost:PORT is served"
req GET /v1/status -H "Host: 127.0.0.1"
is "$code" 200 "Host: 127.0.0.1 is served"
req GET /v1/status -H "Host: [::1]:$port"
is "$code" 200 "Host: [::1]:PORT is served"

# ---- /metrics: a strict parse, then the values ----
# The checker must fail on broken expositions, or it proves nothing.
bad_exp() { printf "$1" | promcheck >/dev/null 2>&1; }
check "promcheck refuses a missing final newline" sh -c "! printf '# HELP a_total a\n# TYPE a_total counter\na_total 1' | $py $top_srcdir/tests/integration/promcheck.py >/dev/null 2>&1"
for broken in \
	'a_total 1\n' \
	'# TYPE a_total counter\n# HELP a_total a\na_total 1\n# HELP a_total b\n' \
	'# HELP a a\n# TYPE a counter\na 1\n' \
	'# HELP a_total a\n# TYPE a_total counter\na_total{job="x\\q"} 1\n' \
	'# HELP a_total a\n# TYPE a_total counter\na_total{job="x",job="y"} 1\n' \
	'# HELP a_total a\n# TYPE a_total counter\na_total{1job="x"} 1\n' \
	'# HELP h a\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n' \
	'# HELP h a\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n' \
	'# HELP h a\n# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n' \
	'# HELP g a\n# TYPE g gauge\ng 1\n# HELP f a\n# TYPE f gauge\nf 1\ng{x="1"} 2\n' \
	'# HELP g a\n# TYPE g gauge\ng one\n'; do
	i=$((${i:-0} + 1))
	if bad_exp "$broken"; then
		not_ok "promcheck refuses broken exposition $i"
		diag "$broken"
	else
		ok "promcheck refuses broken exposition $i"
	fi
done
good='# HELP a_total a \\\\ b\\n\n# TYPE a_total counter\na_total{job="x\\"y\\\\z\\n"} 1\n# HELP h a\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\n'
check "promcheck accepts a valid exposition with escapes" bad_exp "$good"

# scrape: GET /metrics checked by promcheck into $tmp/m (normalised samples).
scrape() {
	code=$(curl -s --max-time 20 -D "$tmp/mh" -o "$tmp/metrics" -w '%{http_code}' "$base/metrics")
	[ "$code" = 200 ] && promcheck <"$tmp/metrics" >"$tmp/m" 2>"$tmp/merr"
}
# m SERIES: the value of a normalised series ("" when absent).
m() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/m"; }

before=$(count "job='tick' AND status='ok'")
t0=$(date +%s)
if scrape; then ok "GET /metrics passes the strict format check"; else
	not_ok "GET /metrics passes the strict format check"
	diag "$(cat "$tmp/merr")"
fi
t1=$(date +%s)
after=$(count "job='tick' AND status='ok'")
is "$(tr -d '\r' <"$tmp/mh" | grep -i '^content-type:')" \
	"Content-Type: text/plain; version=0.0.4; charset=utf-8" "/metrics content type is 0.0.4"
for fam in chored_job_runs_total chored_job_last_run_timestamp_seconds \
	chored_job_last_success_timestamp_seconds chored_job_next_run_timestamp_seconds \
	chored_job_running chored_job_duration_seconds chored_firing_lag_seconds \
	chored_job_missed_total chored_reloads_total chored_config_last_reload_successful; do
	grep -q "^# HELP $fam " "$tmp/metrics" && grep -q "^# TYPE $fam " "$tmp/metrics" ||
		not_ok "family $fam has HELP and TYPE"
done
ok "every family has HELP and TYPE"
ticks=$(m 'chored_job_runs_total{job="tick",status="ok"}')
check "runs_total{tick,ok} = the runs in the store ($before <= $ticks <= $after)" \
	[ "$before" -le "${ticks:-0}" -a "${ticks:--1}" -le "$after" ]
is "$(m 'chored_job_runs_total{job="bad",status="failed"}') $(m 'chored_job_runs_total{job="bad",status="ok"}')" \
	"1 0" "runs_total{bad}: failed 1, ok 0"
is "$(m 'chored_job_runs_total{job="good",status="ok"}')" 1 "runs_total{good,ok} 1"
is "$(m 'chored_job_duration_seconds_count{job="bad"}')" 1 "duration histogram of bad: 1 run"
check "tick's duration count = its runs" [ "$(m 'chored_job_duration_seconds_count{job="tick"}')" = "$ticks" ]
is "$(m 'chored_job_last_success_timestamp_seconds{job="bad"}')" "" "bad never succeeded: no last success"
check "bad has a last run" [ -n "$(m 'chored_job_last_run_timestamp_seconds{job="bad"}')" ]
good_end=$(sql "SELECT ended_ms FROM runs WHERE id=$good_id")
good_ls=$(m 'chored_job_last_success_timestamp_seconds{job="good"}')
check "last success of good ($good_ls) = its end in the store (${good_end} ms)" \
	"$py" -c 'import sys; sys.exit(abs(float(sys.argv[1]) * 1000 - int(sys.argv[2])) > 1000)' "$good_ls" "$good_end"
next_good=$(json_get "$(curl -s "$base/v1/jobs/good")" 'j["next"]')
is "$(m 'chored_job_next_run_timestamp_seconds{job="good"}')" \
	"$("$py" -c 'import sys,datetime as d; print(int(d.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).timestamp()))' "$next_good")" \
	"next_run_timestamp{good} = the job's next slot"
nt=$(m 'chored_job_next_run_timestamp_seconds{job="tick"}')
check "next_run_timestamp{tick} is the next second ($t0 <= $nt <= $t1 + 2)" \
	[ "${nt:-0}" -ge "$t0" -a "${nt:-0}" -le $((t1 + 2)) ]
is "$(m 'chored_job_running{job="sleeper"}') $(m 'chored_job_missed_total{job="good"}')" "0 0" \
	"running{sleeper} 0, missed_total{good} 0"
is "$(m 'chored_reloads_total{result="ok"}') $(m 'chored_reloads_total{result="failed"}') $(m chored_config_last_reload_successful)" \
	"0 0 1" "no reload yet, the config loaded"
check "the firing lag histogram counts the scheduled runs" [ "$(m chored_firing_lag_seconds_count)" -ge 1 ]

# running: a live run shows 1, then 0 once cancelled
auth POST /v1/jobs/sleeper/run
sleep_id=$(json_get "$body" 'j["run_id"]')
wait_until 10 sh -c "curl -s $base/v1/jobs/sleeper | grep -q '\"running\":$sleep_id'"
scrape
is "$(m 'chored_job_running{job="sleeper"}')" 1 "running{sleeper} 1 while it runs"
auth POST "/v1/runs/$sleep_id/cancel"
is "$code" 202 "cancel with the token: 202"
wait_until 10 at_least 1 "id=$sleep_id AND status='cancelled'"
scrape
is "$(m 'chored_job_running{job="sleeper"}') $(m 'chored_job_runs_total{job="sleeper",status="cancelled"}')" \
	"0 1" "running{sleeper} 0 after the cancel, runs_total{cancelled} 1"

# reloads: a good SIGHUP, a rejected one, the API's own
kill -HUP "$dpid"
wait_until 10 sh -c "curl -s $base/v1/status | grep -q '\"generation\":2'"
scrape
is "$(m 'chored_reloads_total{result="ok"}') $(m chored_config_last_reload_successful)" "1 1" \
	"a good SIGHUP: reloads_total{ok} 1, last reload successful"
printf '[job broken]\nplugin = testplug\nschedule = * * 32 * *\n' >"$tmp/conf.d/20-broken.conf"
kill -HUP "$dpid"
wait_until 10 grep -q "reload rejected" "$log"
scrape
is "$(m 'chored_reloads_total{result="failed"}') $(m chored_config_last_reload_successful)" "1 0" \
	"a rejected SIGHUP: reloads_total{failed} 1, last reload unsuccessful"
rm "$tmp/conf.d/20-broken.conf"
auth POST /v1/reload
is "$code $(json_get "$body" 'j["result"]')" "200 ok" "POST /v1/reload with the token: 200"
scrape
is "$(m 'chored_reloads_total{result="ok"}') $(m chored_config_last_reload_successful)" "2 1" \
	"after the next good reload: ok 2, successful again"

# ---- the token follows reloads ----
conf "127.0.0.1:$port"
kill -HUP "$dpid"
wait_until 10 sh -c "curl -s $base/v1/status | grep -q '\"generation\":4'"
auth POST /v1/jobs/good/run
is "$code $(errcode)" "403 no_admin_token" "admin_token removed by a reload: mutations 403"
contains "$(json_get "$body" 'j["error"]["message"]')" "admin_token" "the 403 says how to set a token"
req GET /v1/jobs
is "$code" 200 "reads still work without a token configured"
conf "127.0.0.1:$port" admin2
kill -HUP "$dpid"
wait_until 10 sh -c "curl -s $base/v1/status | grep -q '\"generation\":5'"
auth POST /v1/reload
is "$code" 401 "a new token by reload: the old one is refused"
req POST /v1/reload -H "Authorization: Bearer $TOKEN2"
is "$code" 200 "the new one is accepted"
TOKEN=$TOKEN2

# ---- a burst of bad tokens is slowed down ----
codes=
for i in 1 2 3 4 5 6; do
	[ "$i" = 5 ] && t_lock=$(uptime_s) # the lock-out starts after this
	req POST /v1/reload -H "Authorization: Bearer guess-$i"
	codes="$codes $code"
done
is "$codes" " 401 401 401 401 401 429" "six bad tokens: five 401, then 429"
ra=$(header Retry-After)
check "429 carries Retry-After ($ra)" [ "$ra" = "Retry-After: 5" -o "$ra" = "Retry-After: 4" ]
auth POST /v1/reload
is "$code $(errcode)" "429 too_many_attempts" "even the right token waits out the lock"
req GET /v1/status
is "$code" 200 "reads are not slowed down"
contains "$(cat "$log")" "repeated bad tokens from 127.0.0.1" "the slow-down is logged"
# (a run for the stop below, over the control socket, which has no token to slow down)
sleep_id=$(json_get "$(api -X POST http://chored/v1/jobs/sleeper/run)" 'j["run_id"]')
check "after Retry-After the right token is accepted" wait_until 15 sh -c \
	"curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $TOKEN' $base/v1/reload | grep -qx 200"
check "not before the lock-out ended" [ $(($(uptime_s) - t_lock)) -ge 4 ]
lacks "$(cat "$log")" "guess-" "tried tokens are not logged"
lacks "$(cat "$log")" "$TOKEN" "the token is not logged"

# ---- /healthz while stopping, then a restart keeps the last success ----
wait_until 10 sh -c "curl -s $base/v1/jobs/sleeper | grep -q '\"running\":$sleep_id'"
kill -TERM "$dpid"
check "GET /healthz answers 503 while the daemon stops" \
	wait_until 10 sh -c "curl -s -o $tmp/hz -w '%{http_code}' $base/healthz | grep -q 503"
is "$(json_get "$(cat "$tmp/hz")" 'j["status"]')" stopping '/healthz says "stopping"'
api -X POST "http://chored/v1/runs/$sleep_id/cancel" >/dev/null
wait "$dpid"
dpid=

: >"$log"
start_daemon || exit 1
check "restarted" wait_until 10 curl -sf -o /dev/null "$base/healthz"
scrape
good_ls2=$(m 'chored_job_last_success_timestamp_seconds{job="good"}')
check "after a restart the last success of good is still known ($good_ls2)" \
	"$py" -c 'import sys; sys.exit(abs(float(sys.argv[1]) * 1000 - int(sys.argv[2])) > 1000)' "${good_ls2:-0}" "$good_end"
is "$(m 'chored_job_runs_total{job="good",status="ok"}')" 0 "counters start again at 0 (Prometheus handles resets)"
check "the last run of bad is still known" [ -n "$(m 'chored_job_last_run_timestamp_seconds{job="bad"}')" ]
stop_daemon
is "$stop_rc" 0 "chored stops cleanly"

plan_done
