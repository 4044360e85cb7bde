#!/bin/sh
# http.so through chored-run against a local fake server (tests/fakes/http_echo.py): method,
# headers, body, bearer token (and its redaction), expected statuses, retries, Retry-After.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/runner_lib.sh"
tmp=$(mktemp -d)
fake=
trap '[ -n "$fake" ] && kill "$fake" 2>/dev/null; rm -rf "$tmp"' EXIT
if ! command -v python3 >/dev/null; then
	echo "1..0 # SKIP python3 is needed for the fake HTTP server"
	exit 0
fi
python3 "$top_srcdir/tests/fakes/http_echo.py" "$tmp/port" "$tmp/requests" &
fake=$!
n=200
while [ ! -s "$tmp/port" ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
port=$(cat "$tmp/port") || { echo "1..0 # SKIP the fake HTTP server did not start"; exit 0; }
base=http://127.0.0.1:$port
T=tok-Secret-42

http_doc() { # http_doc OPTIONS-JSON [EXTRA-MEMBERS-JSON]
	printf '{"plugin":"%s/http.so","job":"ping","run_id":"r","options":{%s},"redact":["%s"]%s}' \
		"$PLUGINS" "$1" "$T" "${2:+,$2}"
}
# last_request method|path|body|HEADER-NAME: from the last request the fake saw ("" if absent).
last_request() {
	case $1 in
	method | path | body) sed -n "s/^$1 //p" "$tmp/requests.last" ;;
	*) sed -n "s/^$1: //p" "$tmp/requests.last" ;;
	esac
}

rundoc "$(http_doc "\"url\":\"$base/hook\",\"method\":\"POST\",\"body\":\"{\\\"a\\\": 1}\",\"headers\":\"'X-Trace: a b c' X-Flag:on\",\"token\":\"$T\"")"
case $(last_record) in
'{"t":"result","status":"ok","summary":"HTTP 200 in '[0-9]*' ms"}') ok "POST: ok, summary HTTP 200 in N ms" ;;
*) not_ok "POST: ok, summary HTTP 200 in N ms"; diag "$rec" ;;
esac
is "$(last_request method)" POST "the method is sent"
is "$(last_request authorization)" "Bearer $T" "the token is sent as a bearer"
is "$(last_request x-trace)" "a b c" "a quoted header keeps its blanks"
is "$(last_request x-flag)" "on" "a header without a blank after the colon"
is "$(last_request content-type)" "application/json" "a JSON body gets a JSON content type"
is "$(last_request body)" '{"a": 1}' "the body is sent"
contains "$(last_request user-agent)" "chored-http/" "User-Agent names chored-http"
# The fake echoes the request, Authorization included, into the response body the plugin logs.
contains "$rec" 'Bearer ***' "the token is *** in the logged response"
lacks "$rec$out$err" "$T" "the token appears nowhere in the runner's output"

rundoc "$(http_doc "\"url\":\"$base/x\",\"method\":\"DELETE\",\"headers\":\"'Content-Type: text/plain'\",\"body\":\"[1]\"")"
is "$(last_request method)" DELETE "another method"
is "$(last_request content-type)" "text/plain" "a Content-Type header wins over the JSON default"
rundoc "$(http_doc "\"url\":\"$base/x\"")"
is "$(last_request method)" GET "GET by default"
is "$(last_request authorization)" "" "no token, no Authorization"

rundoc "$(http_doc "\"url\":\"$base/status/404\"")"
case $(last_record) in
'{"t":"result","status":"failed","summary":"HTTP 404 in '[0-9]*' ms (expected 2xx)"}') ok "404 with the default expect_status: failed" ;;
*) not_ok "404 with the default expect_status: failed"; diag "$rec" ;;
esac
rundoc "$(http_doc "\"url\":\"$base/status/404\",\"expect_status\":\"200 404\"")"
contains "$(last_record)" '"status":"ok","summary":"HTTP 404 in' "404 listed in expect_status: ok"
rundoc "$(http_doc "\"url\":\"$base/status/204\",\"expect_status\":\"3xx\"")"
contains "$(last_record)" '"status":"failed","summary":"HTTP 204 in' "204 against 3xx: failed"
before=$(wc -l <"$tmp/requests")
rundoc "$(http_doc "\"url\":\"$base/status/404\",\"retries\":\"3\"")"
is "$(( $(wc -l <"$tmp/requests") - before ))" 1 "a 4xx is not retried"

before=$(wc -l <"$tmp/requests")
rundoc "$(http_doc "\"url\":\"$base/flaky/a/2/0\",\"retries\":\"2\"")"
contains "$(last_record)" '"status":"ok","summary":"HTTP 200 in' "503, 503, then 200 with retries = 2: ok"
is "$(( $(wc -l <"$tmp/requests") - before ))" 3 "three attempts"
contains "$rec" '"msg":"retrying in 0 s (attempt 2 of 3)"' "Retry-After: 0 honoured"
rundoc "$(http_doc "\"url\":\"$base/flaky/b/5/0\",\"retries\":\"1\"")"
contains "$(last_record)" '"status":"failed","summary":"HTTP 503 in' "retries exhausted: failed with the last status"
start=$(date +%s)
rundoc "$(http_doc "\"url\":\"$base/flaky/c/1/2\",\"retries\":\"1\"")"
elapsed=$(( $(date +%s) - start ))
contains "$(last_record)" '"status":"ok"' "Retry-After: 2 then 200: ok"
if [ "$elapsed" -ge 1 ]; then ok "Retry-After: 2 made it wait"; else not_ok "Retry-After: 2 made it wait"; diag "elapsed $elapsed s"; fi
rundoc "$(http_doc '"url":"http://127.0.0.1:1/","retries":"0"')"
contains "$(last_record)" '"status":"failed","summary":"Failed to connect to 127.0.0.1 port 1' "connection refused: failed with curl's reason"
rundoc "$(http_doc "\"url\":\"$base/slow/3000\",\"timeout\":\"1s\"")"
contains "$(last_record)" '"status":"failed","summary":"Operation timed out' "timeout: failed"

rundoc "$(http_doc "\"url\":\"$base/x\"" '"dry_run":true')"
is "$(last_record)" "{\"t\":\"result\",\"status\":\"ok\",\"summary\":\"dry run: GET $base/x not sent\"}" "dry run: nothing sent"

rundoc "$(http_doc '"url":"ftp://example.org/"')"
contains "$(last_record)" "url: 'ftp://example.org/' is not an http:// or https:// URL" "check: url scheme"
rundoc "$(http_doc "\"url\":\"$base/\",\"headers\":\"NoColon\"")"
contains "$(last_record)" "headers: 'NoColon' is not" "check: header without a colon"
rundoc "$(http_doc "\"url\":\"$base/\",\"headers\":\"'Authorization: Basic x'\",\"token\":\"$T\"")"
contains "$(last_record)" "headers: Authorization is already set by token" "check: Authorization and token together"
rundoc "$(http_doc "\"url\":\"$base/\",\"expect_status\":\"2x\"")"
contains "$(last_record)" "expect_status: '2x' is not a status" "check: bad expect_status"
rundoc "$(http_doc "\"url\":\"$base/\",\"method\":\"get it\"")"
contains "$(last_record)" "method: 'get it' is not a method" "check: bad method"

# Cancel during a slow request.
startdoc "$(http_doc "\"url\":\"$base/slow/20000\"")"
wait_for "$tmp/fd3" '"t":"started"' || diag "no start"
sleep 0.2
kill -TERM "$pid"
wait "$pid"
is "$(tail -n 1 "$tmp/fd3")" '{"t":"result","status":"failed","summary":"cancelled"}' "cancel: the request is aborted"

plan_done
