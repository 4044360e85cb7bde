#!/bin/sh
# The http service of libchored (chored-sdk-http(3)) through tests/sdk/http_probe against
# tests/fakes/http_fake.py: retries counted on the fake, Retry-After waited out and capped,
# vendor 429s, timeouts, bad JSON, the three pagination kinds with a 429 mid-walk, the
# redacted trace, callbacks and cancellation.
. "$(dirname "$0")/tap.sh"
if ! command -v python3 >/dev/null || ! command -v curl >/dev/null; then
	echo "1..0 # SKIP python3 and curl are needed for the fake"
	exit 0
fi
probe="$top_builddir/tests/sdk/http_probe"
tmp=$(mktemp -d)
fake_pid=
cleanup() {
	[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

python3 "$top_srcdir/tests/fakes/http_fake.py" "$tmp/port" --items 10 \
	--kit-key kit-SECRET-key --cal-key cal_SECRET_key --google-token ya29.SECRET-goog &
fake_pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
port=$(cat "$tmp/port")
base="http://127.0.0.1:$port"

ctl() { curl -s -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$base$2"; }
reset() { ctl POST /_fake/reset >/dev/null; }
fault() { ctl POST /_fake/fault "$1" >/dev/null; }
# The number of vendor requests the fake saw (each logged request has one "method").
seen() { ctl GET /_fake/requests | grep -o '"method": ' | wc -l | tr -d ' '; }
# A field of the probe's output ($out: "name=value" lines).
get() { printf '%s\n' "$out" | sed -n "s/^$1=//p"; }
# at_least N MIN DESCRIPTION / below N MAX DESCRIPTION
at_least() { if [ "${1:-0}" -ge "$2" ]; then ok "$3"; else not_ok "$3"; diag "got $1, want >= $2"; fi; }
below() { if [ "${1:-999999999999}" -lt "$2" ]; then ok "$3"; else not_ok "$3"; diag "got $1, want < $2"; fi; }
# run the probe with fast backoff unless told otherwise
probe() { run "$probe" "$@"; }

# 1. A plain request: bearer, headers, User-Agent, body.
reset
probe --bearer tok-1 --header "X-One: 1" --body 'hello' --print-body do "$base/echo/a?x=1"
is "$rc" 0 "echo: success"
is "$(get json)" "" "do does not parse JSON"
is "$(get status)" 200 "echo: status 200"
body=$(get body)
contains "$body" '"authorization": "Bearer tok-1"' "the bearer is sent"
contains "$body" '"user-agent": "chored/' "User-Agent chored/VERSION"
contains "$body" '"x-one": "1"' "caller's header is sent"
contains "$body" '"method": "POST"' "a body without a method is a POST"
contains "$body" '"body": "hello"' "the memory body is sent"

# chored_http_json with a body: POST, Content-Type and Accept, the document serialised.
reset
probe --json-body '{"a":[1,2],"s":"x/y"}' json "$base/echo/j"
is "$rc" 0 "json with a body: success"
j=$(get json)
contains "$j" '"method":"POST"' "json with a body: POST by default"
contains "$j" '"content-type":"application\/json"' "json with a body: Content-Type"
contains "$j" '"accept":"application\/json"' "json: Accept"
contains "$j" '"body":"{\"a\":[1,2],\"s\":\"x\/y\"}"' "json with a body: serialised"

# 2. 5xx twice, then 200: three attempts on the fake.
reset
fault '{"status": 503, "count": 2, "path": "/echo"}'
probe --base-ms 20 do "$base/echo/retry"
is "$rc" 0 "5xx then 200: success"
is "$(get attempts)" 3 "5xx then 200: three attempts reported"
is "$(seen)" 3 "5xx then 200: three requests seen by the fake"
contains "$err" '"msg":"http: retrying"' "each retry is logged"
contains "$err" '"status":"503"' "the retry log names the status"

# 3. 429 with Retry-After: 1 waits at least one second.
reset
fault '{"status": 429, "headers": {"Retry-After": "1"}, "body": {"message": "slow down"}}'
probe --base-ms 10 do "$base/echo/ra"
is "$rc" 0 "429 Retry-After: success"
is "$(get attempts)" 2 "429 Retry-After: two attempts"
at_least "$(get elapsed_ms)" 1000 "429 Retry-After: 1 waited at least 1000 ms (measured)"
at_least "$(get waited_ms)" 1000 "waited_ms counts the wait"

# 4. Kit's bare 429 "Retry later" (no header): backoff, then success.
reset
fault '{"status": 429, "body": "Retry later", "path": "/v4/subscribers"}'
probe --base-ms 20 --header "X-Kit-Api-Key: kit-SECRET-key" json "$base/v4/subscribers?per_page=2"
is "$rc" 0 "Kit bare 429: recovers"
is "$(get attempts)" 2 "Kit bare 429: two attempts"
contains "$(get json)" '"has_next_page":true' "Kit answer parsed"

# 5. Connection refused: retried, then a clear error.
# a port nobody listens on (bound, then closed)
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' >"$tmp/dead"
dead=$(cat "$tmp/dead")
probe --base-ms 10 --attempts 3 do "http://127.0.0.1:$dead/x?token=q-SECRET-tok"
is "$rc" 1 "connect refused: failure"
is "$(get attempts)" 3 "connect refused: three attempts"
contains "$(get error)" "cannot connect" "connect refused: clear error"
contains "$(get error)" "after 3 attempts" "connect refused: attempts in the error"
contains "$(get error)" "token=***" "the URL in the error is redacted"
lacks "$out$err" "q-SECRET-tok" "the query token is in no output"

# 6. A slow answer hits the timeout.
reset
fault '{"delay_ms": 20000, "status": 200, "body": {}}'
probe --attempts 1 --timeout-ms 400 do "$base/echo/slow"
is "$rc" 1 "slow answer: failure"
contains "$(get error)" "timeout after 400 ms" "slow answer: timeout error"
below "$(get elapsed_ms)" 10000 "slow answer: gave up early"

# 7. A malformed JSON body is an error.
reset
fault '{"malformed": true}'
probe json "$base/echo/bad"
is "$rc" 1 "malformed JSON: failure"
contains "$(get error)" "malformed JSON" "malformed JSON: clear error"
is "$(get status)" 200 "malformed JSON: status kept"

# 8. Retry-After beyond the cap fails at once.
reset
fault '{"status": 429, "headers": {"Retry-After": "3600"}, "body": "busy"}'
probe --max-ms 2000 do "$base/echo/cap"
is "$rc" 1 "Retry-After over the cap: failure"
is "$(get attempts)" 1 "Retry-After over the cap: no second attempt"
contains "$(get error)" "more than the 2000 ms cap" "Retry-After over the cap: clear error"
below "$(get elapsed_ms)" 10000 "Retry-After over the cap: fails fast"

# 9. Retry-After as an HTTP-date (an hour ahead: the wait it asks for is reported, measured
# against the answer's Date header; the exact arithmetic is in test_http_policy).
reset
when=$(LC_ALL=C date -u -d "@$(($(date +%s) + 3600))" '+%a, %d %b %Y %H:%M:%S GMT')
fault "{\"status\": 503, \"headers\": {\"Retry-After\": \"$when\"}}"
probe --base-ms 10 do "$base/echo/date"
is "$rc" 1 "Retry-After HTTP-date over the cap: failure"
asked=$(get error | sed -n 's/.*asks to wait \([0-9]*\) ms.*/\1/p')
at_least "$asked" 3500000 "Retry-After HTTP-date: about an hour asked (>= 3500 s)"
below "$asked" 3600001 "Retry-After HTTP-date: about an hour asked (<= 3600 s)"

# 10. Pagination: Kit cursor, 10 items by 3 (4 pages), the second request throttled.
reset
ctl POST /_fake/config '{"items": 10, "throttle": [2]}' >/dev/null
probe --base-ms 20 --header "X-Kit-Api-Key: kit-SECRET-key" --kind cursor --items subscribers \
	--size-param per_page --size 3 --cursor-param after --next-path pagination.end_cursor \
	--more-path pagination.has_next_page page "$base/v4/subscribers?sort_order=asc"
is "$rc" 0 "Kit cursor walk: success"
is "$(get items)" 10 "Kit cursor walk: 10 items"
is "$(get ids)" "[1,2,3,4,5,6,7,8,9,10]" "Kit cursor walk: each item once, in order"
is "$(seen)" 5 "Kit cursor walk: 4 pages + 1 throttled request"
is "$(get attempts)" 5 "Kit cursor walk: attempts summed over pages"
# One job's requests share its libcurl handle: every page over one kept-alive connection.
is "$(ctl GET /_fake/requests | grep -o '"peer_port": [0-9]*' | sort -u | wc -l | tr -d ' ')" 1 \
	"Kit cursor walk: one connection for all 5 requests"

# 11. Cal.com offset, 10 by 3, throttled on the third request (X-RateLimit-Reset-Default: 1).
reset
ctl POST /_fake/config '{"items": 10, "throttle": [3]}' >/dev/null
probe --base-ms 10 --bearer cal_SECRET_key --header "cal-api-version: 2024-08-13" --kind offset \
	--items data --size-param take --size 3 --cursor-param skip page "$base/v2/bookings"
is "$rc" 0 "Cal.com offset walk: success"
is "$(get ids)" "[1,2,3,4,5,6,7,8,9,10]" "Cal.com offset walk: each item once"
is "$(seen)" 5 "Cal.com offset walk: 4 pages + 1 throttled request"
at_least "$(get waited_ms)" 1000 "Cal.com offset walk: X-RateLimit-Reset-Default waited out"
# the reset as a unix time (the other reading of the header), an hour ahead: over the cap
reset
ctl POST /_fake/config "{\"items\": 4, \"throttle\": [1], \"cal_reset\": \"$(($(date +%s) + 3600))\"}" >/dev/null
probe --base-ms 10 --bearer cal_SECRET_key --header "cal-api-version: 2024-08-13" --kind offset \
	--items data --size-param take --size 3 --cursor-param skip page "$base/v2/bookings"
is "$rc" 1 "Cal.com reset as a unix time an hour ahead: failure"
asked=$(get error | sed -n 's/.*asks to wait \([0-9]*\) ms.*/\1/p')
at_least "$asked" 3500000 "Cal.com reset as a unix time: about an hour asked"
below "$asked" 3600001 "Cal.com reset as a unix time: not more"
# without the version header the old shape comes back: an error, not a silent empty walk
reset
probe --bearer cal_SECRET_key --kind offset --items data --size-param take --size 3 \
	--cursor-param skip page "$base/v2/bookings"
is "$rc" 1 "Cal.com old shape: failure"
contains "$(get error)" 'no array "data"' "Cal.com old shape: clear error"

# 12. Google page token, 10 by 4 (3 pages), the last request throttled.
reset
ctl POST /_fake/config '{"items": 10, "throttle": [3]}' >/dev/null
probe --base-ms 20 --bearer ya29.SECRET-goog --kind token --items items --size-param maxResults \
	--size 4 --cursor-param pageToken --next-path nextPageToken \
	page "$base/calendar/v3/calendars/primary/events?singleEvents=true"
is "$rc" 0 "Google token walk: success"
is "$(get items)" 10 "Google token walk: 10 items"
is "$(get ids | tr ',' '\n' | sort -u | wc -l | tr -d ' ')" 10 "Google token walk: 10 distinct ids"
is "$(seen)" 4 "Google token walk: 3 pages + 1 throttled request"
# stopping early returns the callback's value
reset
ctl POST /_fake/config '{"items": 10}' >/dev/null
probe --bearer ya29.SECRET-goog --kind token --items items --size-param maxResults --size 4 \
	--cursor-param pageToken --next-path nextPageToken --stop-after 5 \
	page "$base/calendar/v3/calendars/primary/events"
is "$(get rc)" 7 "early stop: the callback's value is returned"
is "$(get items)" 5 "early stop: no item after the stop"
is "$(seen)" 2 "early stop: no page after the stop"

# 13. The trace: request and answer headers at DEBUG, credentials redacted, no secret anywhere.
reset
fault '{"status": 200, "headers": {"Set-Cookie": "sid=cookie-SECRET-v"}, "body": {}}'
CHORED_HTTP_TRACE=1 probe --bearer bearer-SECRET-tok --header "X-Kit-Api-Key: kit-SECRET-key" \
	--header "Cookie: c=cookie-SECRET-c" json "$base/echo/t?access_token=q-SECRET-tok&page=2"
trace_all="$out$err"
is "$rc" 0 "trace: request ok"
contains "$err" '"level":7' "trace: DEBUG records"
contains "$err" 'http > GET \/echo\/t?access_token=***&page=2 HTTP\/1.1' "trace: request line, token redacted"
contains "$err" 'http > Authorization: ***' "trace: Authorization redacted"
contains "$err" 'http > X-Kit-Api-Key: ***' "trace: X-Kit-Api-Key redacted"
contains "$err" 'http > Cookie: ***' "trace: Cookie redacted"
contains "$err" 'http < Set-Cookie: ***' "trace: Set-Cookie redacted"
contains "$err" 'http < HTTP\/1.1 200' "trace: status line"
# an error with a URL, and SigV4 credentials
reset
CHORED_HTTP_TRACE=1 probe --attempts 1 --aws-sigv4 aws:amz:auto:s3 \
	--aws-credentials AKID-SECRET-id:aws-SECRET-pass do "$base/nothere?X-Amz-Signature=sig-SECRET-x"
trace_all="$trace_all$out$err"
is "$rc" 1 "trace: 404 is an error"
contains "$(get error)" "HTTP 404 from GET $base/nothere?X-Amz-Signature=***" "404 error names the redacted URL"
contains "$err" 'http > Authorization: ***' "trace: SigV4 Authorization redacted"
lacks "$trace_all" "SECRET" "no secret in any output (bearer, api key, cookies, query token, AWS)"
is "$(ctl GET /_fake/requests | grep -c 'AWS4-HMAC-SHA256 Credential=AKID-SECRET-id/')" 1 "SigV4 signed the request"
# without the switch there is no trace
reset
probe --bearer bearer-SECRET-tok do "$base/echo/quiet"
lacks "$err" '"level":7' "no trace without CHORED_HTTP_TRACE"

# 14. Cancellation stops a backoff sleep.
reset
fault '{"status": 429, "headers": {"Retry-After": "30"}, "body": "wait"}'
probe --max-ms 60000 --cancel-after-ms 300 do "$base/echo/cancel"
is "$rc" 1 "cancel: failure"
contains "$(get error)" "cancelled" "cancel: the error says so"
below "$(get elapsed_ms)" 10000 "cancel: the 30 s wait was cut short"
# and a transfer in flight
reset
fault '{"delay_ms": 20000, "status": 200, "body": {}}'
probe --cancel-after-ms 300 do "$base/echo/cancel2"
is "$rc" 1 "cancel in flight: failure"
below "$(get elapsed_ms)" 10000 "cancel in flight: the transfer was aborted"

# 15. Bodies from callbacks: rewound for the retry; without a rewind, no retry.
reset
fault '{"status": 503, "path": "/echo"}'
probe --base-ms 10 --method PUT --stream-body 'streamed body' do "$base/echo/put"
is "$rc" 0 "stream body: success after a retry"
at_least "$(get rewinds)" 1 "stream body: rewound"
is "$(ctl GET /_fake/requests | grep -o '"body": "streamed body"' | wc -l | tr -d ' ')" 2 \
	"stream body: sent whole both times"
reset
fault '{"status": 503, "path": "/echo"}'
probe --base-ms 10 --method PUT --stream-body 'streamed body' --no-rewind do "$base/echo/put"
is "$rc" 1 "no rewind: failure"
is "$(get attempts)" 1 "no rewind: not retried"

# 16. no_retry_after_send: a 503 is not retried, a 429 (a refusal) is.
reset
fault '{"status": 503, "path": "/echo"}'
probe --base-ms 10 --no-retry-after-send --method POST --body x do "$base/echo/once"
is "$(get attempts)" 1 "no_retry_after_send: 503 not retried"
reset
fault '{"status": 429, "path": "/echo"}'
probe --base-ms 10 --no-retry-after-send --method POST --body x do "$base/echo/once"
is "$(get attempts)" 2 "no_retry_after_send: 429 retried"
reset
fault '{"status": 418, "path": "/echo"}'
probe --base-ms 10 --retry-status 418 do "$base/echo/teapot"
is "$(get attempts)" 2 "retry_status: an extra status is retried"

# 17. The write callback gets 2xx bodies only; the memory limit holds.
reset
probe --write do "$base/echo/w"
at_least "$(get written)" 1 "write callback: got the body"
is "$(get body_null)" true "write callback: nothing kept in memory"
reset
probe --write do "$base/nothere"
is "$(get written)" 0 "write callback: error bodies are not streamed"
at_least "$(get body_len)" 1 "write callback: the error body is in memory"
reset
probe --max-body 10 do "$base/echo/big"
is "$rc" 1 "max_body: failure"
contains "$(get error)" "larger than 10 bytes" "max_body: clear error"
probe --show-header Content-Type --show-header X-Missing do "$base/echo/h"
is "$(get Content-Type)" application/json "chored_http_header: value"
is "$(get X-Missing)" null "chored_http_header: NULL when absent"

plan_done
