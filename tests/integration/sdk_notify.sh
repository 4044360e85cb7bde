#!/bin/sh
# The notify service through tests/sdk/notify_probe: each sink delivers (outbox Maildir, SMTP
# with STARTTLS and AUTH to a real aiosmtpd server, Resend to its fake, a webhook), the
# Idempotency-Key makes a second send a no-op, a sink that is down never stops the others,
# policies, the default report, dry runs, and no secret in any output.
. "$(dirname "$0")/tap.sh"
: "${top_builddir:?run through make check (top_builddir is not set)}"
probe=$top_builddir/tests/sdk/notify_probe
# Debian's python3: it has aiosmtpd, and it starts fast (a pyenv shim on PATH may not).
PY=/usr/bin/python3
fakes=$top_srcdir/tests/fakes
tmp=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
if ! $PY -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP $PY cannot import aiosmtpd (apt-get install python3-aiosmtpd)"
	exit 0
fi

# wait_port FILE: the port a server wrote, once it is there (20 s at most).
wait_port() {
	_n=400
	while [ ! -s "$1" ] && [ $_n -gt 0 ]; do sleep 0.05; _n=$((_n - 1)); done
	cat "$1"
}

# The secrets: none may appear in any output.
SMTP_PW=smtp-Pw-7f3a91
RESEND_KEY=re_live_4bQk29xSecret
HOOK_TOKEN=whk-Token-88e1c0

# A self-signed certificate for 127.0.0.1, valid from 2000 to 2099: other tests may step the
# machine's clock, and a certificate "not yet valid" would fail the TLS cases.
mkdir "$tmp/ca"
: >"$tmp/ca/index.txt"
echo 01 >"$tmp/ca/serial"
cat >"$tmp/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $tmp/ca/index.txt
serial = $tmp/ca/serial
new_certs_dir = $tmp/ca
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
EOF
openssl req -new -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/req.pem" \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null &&
	openssl ca -batch -config "$tmp/ca.cnf" -selfsign -keyfile "$tmp/key.pem" -in "$tmp/req.pem" \
		-out "$tmp/cert.pem" -startdate 20000101000000Z -enddate 20991231000000Z -notext \
		2>/dev/null || {
	echo "1..0 # SKIP openssl could not make a test certificate"
	exit 0
}
CURL_CA_BUNDLE=$tmp/cert.pem
export CURL_CA_BUNDLE

$PY "$fakes/smtp_server.py" "$tmp/smtp" "$tmp/smtp.port" \
	--starttls "$tmp/cert.pem" "$tmp/key.pem" --auth "alice:$SMTP_PW" 2>"$tmp/smtp.log" &
pids="$pids $!"
$PY "$fakes/smtp_server.py" "$tmp/plain" "$tmp/plain.port" 2>"$tmp/plain.log" &
pids="$pids $!"
$PY "$fakes/smtp_server.py" "$tmp/smtps" "$tmp/smtps.port" \
	--smtps "$tmp/cert.pem" "$tmp/key.pem" --auth "alice:$SMTP_PW" 2>"$tmp/smtps.log" &
pids="$pids $!"
$PY "$fakes/resend_fake.py" "$tmp/resend.port" --api-key "$RESEND_KEY" &
pids="$pids $!"
$PY "$fakes/http_echo.py" "$tmp/hook.port" "$tmp/hook.log" &
pids="$pids $!"
smtp_port=$(wait_port "$tmp/smtp.port")
plain_port=$(wait_port "$tmp/plain.port")
smtps_port=$(wait_port "$tmp/smtps.port")
resend=http://127.0.0.1:$(wait_port "$tmp/resend.port")
hook=http://127.0.0.1:$(wait_port "$tmp/hook.port")
if [ -z "$smtp_port" ] || [ -z "$plain_port" ] || [ -z "$smtps_port" ] ||
	[ "$resend" = http://127.0.0.1: ] ||
	[ "$hook" = http://127.0.0.1: ]; then
	echo "1..0 # SKIP a test server did not start"
	exit 0
fi
# A port nothing listens on: bound, then closed.
closed=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

outbox_sink() { # NAME POLICY PATH
	printf '{"name":"%s","type":"outbox","policy":"%s","keys":{"path":"%s"}}' "$1" "$2" "$3"
}
smtp_sink() { # NAME POLICY URL [PASSWORD]
	printf '{"name":"%s","type":"smtp","policy":"%s","keys":{"url":"%s","from":"ops@example.com","to":"a@example.com, b@example.com","username":"alice","password":"%s"}}' \
		"$1" "$2" "$3" "${4:-$SMTP_PW}"
}
resend_sink() { # NAME POLICY [API_KEY]
	printf '{"name":"%s","type":"resend","policy":"%s","keys":{"api_key":"%s","from":"Acme Ops <ops@example.com>","to":"owner@example.com","base_url":"%s"}}' \
		"$1" "$2" "${3:-$RESEND_KEY}" "$resend"
}
hook_sink() { # NAME POLICY URL
	printf '{"name":"%s","type":"webhook","policy":"%s","keys":{"url":"%s","token":"%s"}}' \
		"$1" "$2" "$3" "$HOOK_TOKEN"
}
# doc SINKS-JSON [PREVIOUS-STATUS-JSON [EXTRA-MEMBERS]]: an input document (no "redact":
# the notify service registers sink secrets for redaction itself).
doc() {
	printf '{"job":"probe-job","run_id":"42","nominal":1772438400,"notify":[%s],"previous_status":%s,"state_dir":"%s"%s}' \
		"$1" "${2:-null}" "$tmp/state" "${3:+,$3}" >"$tmp/doc.json"
}
all_out="$tmp/all-output"
probe_run() { # MODE STATUS [SUMMARY]
	run "$probe" "$tmp/doc.json" "$@"
	printf '%s\n%s\n' "$out" "$err" >>"$all_out"
}
count_new() { find "$1/new" -type f 2>/dev/null | wc -l | tr -d ' '; }
# py EXPR FILE: a Python expression on the e-mail message in FILE (m), printed.
py_mail() {
	$PY - "$2" "$1" <<'EOF'
import email, email.policy, sys
with open(sys.argv[1], "rb") as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
def part(t):
    return next(p for p in m.walk() if p.get_content_type() == t).get_content()
print(eval(sys.argv[2]))
EOF
}
fake_state() { curl -s "$resend/_fake/state"; }
SUBJ='[chored] ❌ probe-job: failed — 3 dead links'

# --- every sink delivers -------------------------------------------------------------
doc "$(outbox_sink box always "$tmp/outbox"),$(smtp_sink mail always "smtp://127.0.0.1:$smtp_port"),$(resend_sink rs always),$(hook_sink hook always "$hook/hook")"
probe_run notify failed "3 dead links"
is "$out" "failed 0" "four sinks: chored_notify returns 0"
is "$(count_new "$tmp/outbox")" 1 "outbox: one message in new/ (and no default report after)"
is "$(find "$tmp/outbox/tmp" -type f | wc -l | tr -d ' ')" 0 "outbox: nothing left in tmp/"
check_dir() { [ -d "$tmp/outbox/cur" ] && [ -d "$tmp/outbox/tmp" ]; }
if check_dir; then ok "outbox: cur/ and tmp/ exist"; else not_ok "outbox: cur/ and tmp/ exist"; fi
msg=$(find "$tmp/outbox/new" -type f | head -n 1)
is "$(py_mail 'm["subject"]' "$msg")" "$SUBJ" "outbox: RFC 2047 subject decodes to the status line"
is "$(py_mail 'm["from"].startswith("chored@")' "$msg")" True "outbox: From chored@HOST"
is "$(py_mail 'bool(m["date"] and m["to"] and m["message-id"])' "$msg")" True \
	"outbox: Date, To and Message-ID"
is "$(py_mail 'm.get_content_type()' "$msg")" multipart/alternative "outbox: multipart/alternative"
is "$(py_mail '"probe-marker-line" in part("text/plain")' "$msg")" True "outbox: the text part"
is "$(py_mail '"probe-marker-line" in part("text/html") and "<" in part("text/html")' "$msg")" \
	True "outbox: the HTML part"
case $(basename "$msg") in
[0-9]*.P[0-9]*R[0-9a-f]*.*) ok "outbox: Maildir name time.pid.random.host" ;;
*) not_ok "outbox: Maildir name time.pid.random.host"; diag "$(basename "$msg")" ;;
esac

is "$(ls "$tmp/smtp" | grep -c '\.eml$')" 1 "smtp: aiosmtpd received one message"
is "$($PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["tls"], j["auth"], j["mail_from"], ",".join(j["rcpt_tos"]))' "$tmp/smtp/1.json")" \
	"True alice ops@example.com a@example.com,b@example.com" \
	"smtp: STARTTLS, AUTH as alice, envelope from and both recipients"
is "$(py_mail 'm["subject"]' "$tmp/smtp/1.eml")" "$SUBJ" "smtp: the subject"
is "$(py_mail '"probe-marker-line" in part("text/plain") and "probe-marker-line" in part("text/html")' "$tmp/smtp/1.eml")" \
	True "smtp: both parts"

jst() { printf '%s' "$st" | $PY -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
st=$(fake_state)
is "$(jst 'len(j["emails"])')" 1 "resend: one email sent"
is "$(jst 'j["emails"][0]["subject"]')" "$SUBJ" "resend: the subject"
is "$(jst 'j["emails"][0]["to"]')" "['owner@example.com']" "resend: to as an array"
is "$(jst 'j["emails"][0]["idempotency_key"]')" "chored/probe-job/2026-03-02T08:00:00Z/rs" \
	"resend: Idempotency-Key from job, nominal time and sink"
is "$(jst '"probe-marker-line" in j["emails"][0]["text"] and "probe-marker-line" in j["emails"][0]["html"]')" \
	True "resend: text and html"
req=$(curl -s "$resend/_fake/requests")
is "$(printf '%s' "$req" | $PY -c 'import json,sys; r=json.load(sys.stdin)[0]["headers"]; print(r["authorization"] == "Bearer " + sys.argv[1], r["user-agent"].startswith("chored/"))' "$RESEND_KEY")" \
	"True True" "resend: Bearer api_key and a User-Agent"

hk() { tail -n 1 "$tmp/hook.log" | $PY -c "import json,sys; r=json.loads(sys.stdin.read()); b=json.loads(r['body']); print($1)"; }
is "$(hk 'b["text"]')" "$SUBJ" "webhook: text is the subject (Slack-compatible)"
is "$(hk 'b["job"], b["status"], b["summary"], b["run_id"], b["nominal"]')" \
	"probe-job failed 3 dead links 42 2026-03-02T08:00:00Z" \
	"webhook: job, status, summary, run_id, nominal"
is "$(hk '"probe-marker-line" in b["report_markdown"]')" True "webhook: report_markdown"
is "$(hk 'r["headers"].get("authorization")')" "Bearer $HOOK_TOKEN" "webhook: Bearer token"
for s in box mail rs hook; do
	contains "$err" "\"level\":5,\"msg\":\"notify $s: sent" "a NOTICE names sink $s"
done

# --- idempotency ----------------------------------------------------------------------
curl -s -X POST "$resend/_fake/reset" >/dev/null
doc "$(resend_sink rs always)"
probe_run twice failed "3 dead links"
is "$out" "failed 0
failed 0" "resend twice with the same key: both calls succeed"
st=$(fake_state)
is "$(jst 'len(j["emails"])')" 1 "resend: the same Idempotency-Key sends one email"
is "$(curl -s "$resend/_fake/requests" | $PY -c 'import json,sys; r=json.load(sys.stdin); print(len(r), len({x["headers"]["idempotency-key"] for x in r}))')" \
	"2 1" "resend: two requests with one key"
probe_run notify failed "another summary"
is "$out" "failed 1" "resend: the same key with another body fails"
contains "$err" "invalid_idempotent_request" "resend: the 409 reason is logged"
st=$(fake_state)
is "$(jst 'len(j["emails"])')" 1 "resend: still one email"

# --- one sink down, the others deliver ----------------------------------------------------
curl -s -X POST "$resend/_fake/reset" >/dev/null
curl -s -X POST -d '{"status":500,"body":{"statusCode":500,"name":"application_error","message":"Internal server error"},"count":10}' \
	"$resend/_fake/fault" >/dev/null
before_box=$(count_new "$tmp/outbox")
doc "$(hook_sink hook always "http://127.0.0.1:$closed/hook"),$(resend_sink rs always),$(outbox_sink box always "$tmp/outbox"),$(smtp_sink mail always "smtp://127.0.0.1:$smtp_port")"
probe_run notify failed "3 dead links"
is "$out" "failed 2" "webhook down and Resend failing: chored_notify returns 2"
is "$(count_new "$tmp/outbox")" $((before_box + 1)) "the outbox still delivers"
is "$(ls "$tmp/smtp" | grep -c '\.eml$')" 2 "smtp still delivers"
contains "$err" '"level":4,"msg":"notify hook: not delivered (webhook)' "a WARNING names the webhook"
contains "$err" '"level":4,"msg":"notify rs: not delivered (resend)' "a WARNING names Resend"
contains "$err" 'application_error' "the Resend error is in the reason"
contains "$err" '{"t":"counter","name":"notify_failed","delta":2}' "counter notify_failed = 2"
is "$(curl -s "$resend/_fake/requests" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)) > 1)')" \
	True "Resend's 500 was retried"
curl -s -X POST "$resend/_fake/reset" >/dev/null

# --- SMTP: implicit TLS, credentials never in clear, bad password ------------------------------
doc "$(smtp_sink mail always "smtps://127.0.0.1:$smtps_port")"
probe_run notify ok
is "$out" "failed 0" "smtps: delivered"
is "$($PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["tls"], j["auth"])' "$tmp/smtps/1.json" 2>&1)" \
	"True alice" "smtps: over TLS from the first byte, AUTH as alice"
doc "$(smtp_sink mail always "smtp://127.0.0.1:$plain_port")"
probe_run notify failed
is "$out" "failed 1" "smtp with credentials refuses a server without STARTTLS"
is "$(ls "$tmp/plain" 2>/dev/null | grep -c '\.eml$')" 0 "nothing was sent in clear"
doc "$(smtp_sink mail always "smtp://127.0.0.1:$smtp_port" wrong-Pw-0000)"
probe_run notify failed
is "$out" "failed 1" "smtp: a wrong password fails"
lacks "$err" "wrong-Pw-0000" "the wrong password is not in the log"
doc "$(resend_sink rs always re_bad_key_00000)"
probe_run notify failed
contains "$err" "invalid_api_key" "resend: a bad key is reported with Resend's error name"
lacks "$err" "re_bad_key_00000" "resend: the bad key is not in the log"

# --- policies ---------------------------------------------------------------------------
pol_doc() { # PREVIOUS
	doc "$(outbox_sink a always "$tmp/p/always"),$(outbox_sink f on-failure "$tmp/p/fail"),$(outbox_sink c on-change "$tmp/p/change"),$(outbox_sink n never "$tmp/p/never")" "$1"
}
counts() { echo "$(count_new "$tmp/p/always") $(count_new "$tmp/p/fail") $(count_new "$tmp/p/change") $(count_new "$tmp/p/never")"; }
pol_doc '"ok"'
probe_run notify ok
is "$(counts)" "1 0 0 0" "ok after ok: always only"
probe_run notify failed
is "$(counts)" "2 1 1 0" "failed after ok: always, on-failure, on-change"
pol_doc '"failed"'
probe_run notify failed
is "$(counts)" "3 2 1 0" "failed after failed: always, on-failure"
probe_run notify partial
is "$(counts)" "4 3 2 0" "partial after failed: always, on-failure, on-change"
pol_doc null
probe_run notify ok
is "$(counts)" "5 3 3 0" "a first run (no previous status) is a change"
pol_doc '"crashed"'
probe_run notify ok
is "$(counts)" "6 3 4 0" "ok after crashed: a change"

# --- the default report ------------------------------------------------------------------
doc "$(outbox_sink d on-failure "$tmp/d")"
probe_run after ok "fine"
is "$(count_new "$tmp/d")" 0 "default report: an ok run with on-failure sends nothing"
probe_run after failed "boom"
is "$(count_new "$tmp/d")" 1 "default report: a failed run is sent"
msg=$(find "$tmp/d/new" -type f | head -n 1)
is "$(py_mail 'm["subject"]' "$msg")" "[chored] ❌ probe-job: failed — boom" "default report: the subject"
t=$(py_mail 'part("text/plain")' "$msg")
contains "$t" "boom" "default report: the summary"
contains "$t" "disk almost full" "default report: the run's warnings"
contains "$t" "upload failed: HTTP 503" "default report: the run's errors"
lacks "$t" "an info line" "default report: no info lines"

# --- dry run -----------------------------------------------------------------------------
doc "$(outbox_sink dry always "$tmp/dry")" null '"dry_run":true'
probe_run notify failed
is "$out" "failed 0" "dry run: nothing fails"
is "$(count_new "$tmp/dry")" 0 "dry run: nothing is delivered"
contains "$err" "dry run, would send" "dry run: what would be sent is logged"

# --- no secret anywhere --------------------------------------------------------------------
for label in smtp-password resend-key webhook-token; do
	case $label in
	smtp-password) s=$SMTP_PW ;;
	resend-key) s=$RESEND_KEY ;;
	*) s=$HOOK_TOKEN ;;
	esac
	if grep -qF -- "$s" "$all_out"; then
		not_ok "the $label is in no probe output"
	else
		ok "the $label is in no probe output"
	fi
	if grep -rqF -- "$s" "$tmp/outbox" "$tmp/smtp"/*.eml "$tmp/smtps"/*.eml; then
		not_ok "the $label is in no message"
	else
		ok "the $label is in no message"
	fi
done
plan_done
