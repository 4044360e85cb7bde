#!/bin/sh
# The missed-run alarm through the real daemon: slots that passed while chored was stopped
# (catchup = none: all of them; latest: all but the one it runs) are counted on the job
# (GET /v1/jobs/NAME missed, last_missed), recorded as one skipped run saying why, logged
# once and notified once by policy (on-failure: yes, never: no); overlap skips are counted,
# with one message per blocking run; a crashed run and a timed-out run, which their runner
# could not report, are notified by chored ("crashed", "timeout"); no secret in any message
# or log line.
. "$(dirname "$0")/daemon_lib.sh"

tok=tok-$(date +%s%N | cut -c8-)
pw=smtp-Pw-$(date +%s%N | cut -c9-)
closed=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Every record is kept: the overlap check below counts them all.
write_conf "history = 100000"
(umask 077 && printf '[secrets]\ntok = %s\nsmtp_pw = %s\n' "$tok" "$pw" >"$tmp/conf.d/90-secrets.conf")
# write_jobs yes|no: the jobs; the three 2-s jobs enabled or not.
write_jobs() {
	_en=$1
	{
	# One outbox per job, so each job's messages are counted alone.
	for j in gone late quiet busy crash crashq slow chg told; do
		printf '[notify box-%s]\ntype = outbox\npath = %s/out-%s\n\n' "$j" "$tmp" "$j"
	done
	# A sink that always fails (nothing listens): its password must stay out of every log.
	printf '[notify mail]\ntype = smtp\nurl = smtp://127.0.0.1:%s\nfrom = ops@example.com\n' "$closed"
	printf 'to = a@example.com\nusername = alice\npassword = ${secret:smtp_pw}\n\n'
	cat <<EOF2
[job gone]
plugin = testplug
schedule = */2 * * * * *
enabled = $_en
catchup = none
token = \${secret:tok}
notify = box-gone:on-failure mail:on-failure

[job late]
plugin = testplug
schedule = */2 * * * * *
enabled = $_en
catchup = latest
notify = box-late:on-failure

[job quiet]
plugin = testplug
schedule = */2 * * * * *
enabled = $_en
catchup = none
notify = box-quiet:never

[job busy]
plugin = testplug
schedule = * * * * * *
overlap = skip
mode = sleep
seconds = 3s
notify = box-busy:on-failure

[job crash]
plugin = testplug
schedule = manual
mode = segv
token = \${secret:tok}
notify = box-crash:on-failure mail:always box-chg:on-change

[job crashq]
plugin = testplug
schedule = manual
mode = segv
notify = box-crashq:never

[job slow]
plugin = testplug
schedule = manual
mode = spin
timeout = 1s
token = \${secret:tok}
notify = box-slow:on-failure

[job told]
plugin = testplug
schedule = manual
mode = report-spin
timeout = 1s
notify = box-told:on-failure
EOF2
	} >"$tmp/conf.d/10-jobs.conf"
}
write_jobs yes

count_new() { find "$1/new" -type f 2>/dev/null | wc -l | tr -d ' '; }
# has_mail JOB N: JOB's outbox holds at least N messages (for wait_until).
has_mail() { [ "$(count_new "$tmp/out-$1")" -ge "$2" ]; }
# mails JOB: each message of JOB's outbox as "SUBJECT | TEXT BODY" (one line), oldest first.
mails() {
	/usr/bin/python3 - "$tmp/out-$1/new" <<'EOF'
import email, email.policy, os, sys
d = sys.argv[1]
if os.path.isdir(d):
    for n in sorted(os.listdir(d), key=lambda n: os.stat(os.path.join(d, n)).st_mtime_ns):
        with open(os.path.join(d, n), "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        body = m.get_body(preferencelist=("plain",))
        text = body.get_content() if body else ""
        print(m["subject"], "|", " ".join(text.split()))
EOF
}
# job_field JOB EXPR: a member of GET /v1/jobs/JOB.
job_field() { json_get "$(api "http://chored/v1/jobs/$1")" "$2"; }
# counter_is JOB N: JOB's missed counter is N (the slots missed while chored was down) plus
# the slots of the other skipped records since the restart (an overlap skip, a loop that woke
# late on a loaded machine), read
# twice around the count so that a skip in between is retried, not misread.
counter_is() {
	_c1=$(job_field "$1" 'j["missed"]')
	_s=$(sql "SELECT summary FROM runs WHERE job='$1' AND status='skipped' AND started_ms >= $restart_ms AND NOT $down" |
		awk '{ if (match($0, /\((at least )?[0-9]+ slots?, /)) { t = substr($0, RSTART + 1, RLENGTH); gsub(/[^0-9]/, "", t); n += t } else n += 1 } END { print n + 0 }')
	_c2=$(job_field "$1" 'j["missed"]')
	[ "$_c1" = "$_c2" ] && [ "$_c1" = $(($2 + _s)) ]
}
# check_counter JOB N DESCRIPTION
check_counter() {
	if wait_until 10 counter_is "$1" "$2"; then
		ok "$3"
	else
		not_ok "$3"
		diag "missed: $(job_field "$1" 'j["missed"]'), want $2 + the slots of:" \
			"$(sql "SELECT nominal, trigger, summary FROM runs WHERE job='$1' AND status='skipped' AND started_ms >= $restart_ms")"
	fi
}
# run_job JOB: starts a manual run and waits until it ends; prints its id.
run_job() {
	_id=$(json_get "$(api -X POST "http://chored/v1/jobs/$1/run")" 'j["run_id"]')
	wait_until 30 at_least 1 "id=$_id AND status <> 'running'" || diag "run $_id of $1 did not end"
	echo "$_id"
}

# ---- chored stopped across slots ----
start_daemon || exit 1
wait_until 30 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$db' \"SELECT count(DISTINCT job) FROM runs WHERE job IN ('gone','late','quiet') AND trigger='schedule' AND status='ok' AND nominal=(SELECT max(nominal) FROM runs WHERE job='gone' AND trigger='schedule')\") = 3 ]" ||
	diag "the three 2-s jobs did not run the same slot"
stop_daemon
# Each job's stamp, the last slot begun or skipped before the stop: the same one for the
# three, unless a slow machine made one skip or lag.
last_of() { sql "SELECT nominal FROM stamps WHERE job='$1'"; }
last=$(last_of gone)
last_l=$(last_of late)
last_q=$(last_of quiet)
# Restart once two more slots have passed.
wait_until 15 sh -c "[ \$(date +%s) -ge $((last + 4)) ]"
sleep 0.2
restart_ms=$(($(date +%s) * 1000))
start_daemon || exit 1

# On a loaded machine a slot may also be skipped after the restart (overlap, or the loop
# woke a slot late): the assertions below pick the records and messages of the downtime.
down="summary LIKE 'missed: chored was not running%'"
wait_until 20 at_least 1 "job='gone' AND status='skipped' AND $down"
wait_until 20 at_least 1 "job='late' AND trigger='catchup' AND status='ok'"
wait_until 20 at_least 1 "job='late' AND status='skipped' AND $down"
wait_until 20 at_least 1 "job='quiet' AND status='skipped' AND $down"
# Then the three jobs are disabled by a reload: their counters stay (they are kept across
# reloads) and stop moving, so they can be compared with the records.
write_jobs no
kill -HUP "$dpid"
check "reloaded with the 2-s jobs disabled" wait_until 30 grep -q "reloaded: generation 2" "$log"
settle "job IN ('gone','late','quiet')" || diag "the 2-s jobs did not settle"

rec=$(sql "SELECT nominal || '|' || trigger || '|' || summary FROM runs WHERE job='gone' AND status='skipped' AND $down")
k=$(echo "$rec" | cut -d'|' -f1)
n=$(((k - last) / 2))
diag "gone: $rec"
check "catchup = none: at least the two slots after the stop were missed" [ "$n" -ge 2 ]
contains "$rec" "|schedule|missed: chored was not running ($n slots, " \
	"catchup = none: one skipped record at the newest missed slot, with the count"
is "$(count "job='gone' AND nominal > $last AND nominal <= $k AND status <> 'skipped'")" 0 \
	"catchup = none: no missed slot runs"
is "$(count "job='gone' AND status='skipped' AND $down")" 1 "catchup = none: one record for all the missed slots"
check_counter gone "$n" "catchup = none: the job's missed counter counts every slot"
# last_missed_is JOB: last_missed is the newest skipped slot of JOB.
last_missed_is() {
	_k=$(sql "SELECT max(nominal) FROM runs WHERE job='$1' AND status='skipped'")
	[ "$(job_field "$1" 'j["last_missed"]')" = "$(date -u -d "@$_k" +%Y-%m-%dT%H:%M:%SZ)" ]
}
check "catchup = none: last_missed is the newest missed slot" last_missed_is gone
is "$(grep -c "job gone: missed: chored was not running" "$log")" 1 "catchup = none: one log line for the event"
check "on-failure: the missed slots are notified" wait_until 10 has_mail gone 1
sleep 0.5
m=$(mails gone | grep "chored was not running")
is "$(printf '%s\n' "$m" | grep -c .)" 1 "on-failure: one message for all the missed slots"
contains "$m" "[chored] ❌ gone: missed — chored was not running ($n slots," \
	"the message's subject says the job, the failure mark and what was missed"
contains "$m" "gone: missed" "the report's title names the status"
contains "$m" "chorectl history gone" "the report says where to look"

kl=$(sql "SELECT nominal FROM runs WHERE job='late' AND trigger='catchup'")
is "$kl" "$k" "catchup = latest: the newest missed slot runs"
n_l=$(((k - last_l) / 2 - 1))
rec=$(sql "SELECT nominal || '|' || summary FROM runs WHERE job='late' AND status='skipped' AND $down")
contains "$rec" "$((k - 2))|missed: chored was not running ($n_l slot" \
	"catchup = latest: the others are recorded as missed, at the newest of them"
check_counter late "$n_l" "catchup = latest: the counter leaves out the run slot"
check "catchup = latest: one message" wait_until 10 has_mail late 1

check_counter quiet $(((k - last_q) / 2)) "policy never: the missed slots are still counted"

# ---- overlap = skip ----
wait_until 20 at_least 3 "job='busy' AND status='skipped' AND summary LIKE '%still in progress%'"
check "overlap skips are counted" [ "$(job_field busy 'j["missed"]')" -ge 3 ]
# ---- a crashed run, a crash with policy never, a timed-out run ----
id_c=$(run_job crash)
id_q=$(run_job crashq)
is "$(sql "SELECT status FROM runs WHERE id=$id_c")" crashed "the segv run crashed"
check "crash: a notification from chored" wait_until 15 has_mail crash 1
m=$(mails crash)
contains "$m" "[chored] ❌ crash: crashed — killed by SIGSEGV" "crash: the subject says crashed and why"
contains "$m" "Run $id_c" "crash: the report names the run"
contains "$m" "chorectl logs $id_c" "crash: the report says where its log is"
id_s=$(run_job slow)
is "$(sql "SELECT status FROM runs WHERE id=$id_s")" timeout "the spinning run timed out"
check "timeout: a notification from chored" wait_until 15 has_mail slow 1
contains "$(mails slow)" "[chored] ❌ slow: timeout — " "timeout: the subject says timeout"
# A plugin that sent its own report and then hung: the timeout is not notified again.
id_t=$(run_job told)
is "$(sql "SELECT status FROM runs WHERE id=$id_t")" timeout "the plugin that reported, then hung, timed out"
check "its own report went out" has_mail told 1
check "chored says why it sends no second one" \
	grep -q "job told run $id_t: the plugin already sent its report; no second notification for the timeout" "$log"
sleep 1
is "$(count_new "$tmp/out-crash")" 1 "crash: exactly one message"
is "$(count_new "$tmp/out-told")" 1 "a timeout after the plugin's own report: no second message"
# on-change compares the real status: crashed after nothing is news, after crashed it is not.
is "$(count_new "$tmp/out-chg")" 1 "on-change: the first crash is notified"
id_c2=$(run_job crash)
check "on-failure: the second crash is notified too" wait_until 15 has_mail crash 2
sleep 1
is "$(count_new "$tmp/out-chg")" 1 "on-change: a crash after a crash is not"
check "policy never: no message for a crash" [ ! -e "$tmp/out-crashq" ]
check "policy never: no message for missed slots" [ ! -e "$tmp/out-quiet" ]
check "the failing sink's failure is logged" grep -q "notify mail: not delivered" "$log"

# Overlap: one message per blocking run, not one per skipped slot.
# Stopping waits for the run in flight and for the notifications already started; no slot
# fires meanwhile.
stop_daemon
blockers=$(sql "SELECT count(DISTINCT summary) FROM runs WHERE job='busy' AND status='skipped' AND summary LIKE '%still in progress%'")
skips=$(count "job='busy' AND status='skipped' AND summary LIKE '%still in progress%'")
got=$(mails busy | grep -c "still in progress")
diag "busy: $skips overlap skips behind $blockers runs, $got messages"
[ "$got" = "$blockers" ] || diag "$(mails busy)" "$(sql "SELECT id, nominal, status, summary FROM runs WHERE job='busy' ORDER BY id")"
check "overlap: more skips than blocking runs (the case to test)" [ "$skips" -gt "$blockers" ]
is "$got" "$blockers" "overlap: one message per blocking run"

# ---- secrets ----
for f in "$tmp"/out-*/new/*; do cat "$f"; done >"$tmp/all-mail"
for d in gone late busy crash slow chg; do mails "$d"; done >>"$tmp/all-mail"
check "messages were written" [ -s "$tmp/all-mail" ]
check "no secret in any message" sh -c "! grep -q -e '$tok' -e '$pw' '$tmp/all-mail'"
check "no secret in the daemon's log" sh -c "! grep -q -e '$tok' -e '$pw' '$log'"
check "no secret in the stored runs" sh -c "! sqlite3 '$db' .dump | grep -q -e '$tok' -e '$pw'"
plan_done
