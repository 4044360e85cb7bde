#!/bin/sh
# archive.so through the real daemon, a SQLite site database and the S3 fake: a dry run
# (chorectl run --dry-run) writes nothing; the daemon and its runner killed (kill -9) between
# the upload and the delete — held there by a writer that keeps the database locked — leave
# every row in place, and the next run completes the months with no duplicate and no loss;
# a mid-month re-run writes nothing; a failing put deletes nothing; a bad identifier is a
# configuration error naming file and line; no secret in any log.
. "$(dirname "$0")/daemon_lib.sh"
cp "$top_builddir/plugins/stage/archive.so" "$tmp/plugins/"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
fakes=
locker=
trap 'for p in $fakes $locker; do kill "$p" 2>/dev/null; done; cleanup' EXIT
KEYID=AKIDDAEMONARCHIVE
SECRET='dAemon+Archive/Secret=1'
mkdir -p "$tmp/s3"
$PY "$top_srcdir/tests/fakes/s3_fake.py" "$tmp/s3/port" --data "$tmp/s3/data" \
	--key "$KEYID:$SECRET" --bucket bkt 2>"$tmp/s3/stderr" &
fakes=$!
wait_until 30 test -s "$tmp/s3/port" || { not_ok "the S3 fake starts"; plan_done; exit 1; }
S3P=$(cat "$tmp/s3/port")
s3ctl() { # s3ctl PATH [JSON]
	if [ $# -gt 1 ]; then curl -s -X POST -d "$2" "http://127.0.0.1:$S3P/_fake/$1"; else curl -s "http://127.0.0.1:$S3P/_fake/$1"; fi
}
objects() { s3ctl state | $PY -c "import json,sys; print(' '.join(sorted(json.load(sys.stdin)['objects']['bkt'])))"; }

# The site database, relative to today: rows one and two months back and this month.
SITE=$tmp/site.db
sqlite3 "$SITE" <<'EOF'
CREATE TABLE events (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, event_type TEXT, path TEXT);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 49)
INSERT INTO events (created_at, event_type, path)
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now', 'start of month', '-2 months', '+' || (i * 13) || ' hours'),
       CASE i % 2 WHEN 0 THEN 'pageview' ELSE 'signup' END, '/a/' || (i % 5) FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 59)
INSERT INTO events (created_at, event_type, path)
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now', 'start of month', '-1 months', '+' || (i * 11) || ' hours'),
       'pageview', '/b/' || (i % 3) FROM n;
INSERT INTO events (created_at, event_type, path)
VALUES (strftime('%Y-%m-%dT%H:%M:%SZ', 'now', 'start of month'), 'now', '/c'),
       (strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 seconds'), 'now', '/c');
EOF
rows() { sqlite3 -cmd '.timeout 5000' "$SITE" "SELECT count(*) FROM events${1:+ WHERE $1}"; }
this_month="created_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', 'start of month')"
m1=$(date -u -d "$(date -u +%Y-%m-15) -1 month" +%Y-%m)
m2=$(date -u -d "$(date -u +%Y-%m-15) -2 month" +%Y-%m)

write_conf
dropin 15-archive <<EOF
[notify box]
type = outbox
path = $tmp/outbox

[job mover]
plugin = archive
schedule = 0 2 1 * *
database = sqlite://$SITE
store = s3://bkt/site?endpoint=http://127.0.0.1:$S3P&region=auto
store_key_id = \${secret:s3_id}
store_secret = \${secret:s3_key}
notify = box:always
EOF
dropin 90-secrets <<EOF
[secrets]
s3_id = $KEYID
s3_key = $SECRET
EOF
chmod 0600 "$tmp/conf.d/90-secrets.conf"
start_daemon || exit 1
CHORED_SOCKET=$sock
export CHORED_SOCKET
mails() { ls "$tmp/outbox/new" 2>/dev/null | wc -l; }
has_mail() { [ "$(mails)" -ge 1 ]; }
summary() { sql "SELECT status || ': ' || summary FROM runs WHERE job = 'mover' ORDER BY id DESC LIMIT 1"; }

# ---------------------------------------------------------------- dry run
run "$CHORECTL" run mover --dry-run --wait
is "$rc" 0 "dry run: exit 0"
is "$(summary)" "ok: dry run: would archive and delete 110 rows of $m2, $m1" "dry run: what would be archived and deleted"
is "$(sql "SELECT dry_run FROM runs WHERE job = 'mover' ORDER BY id DESC LIMIT 1")|$(objects)|$(rows)|$(mails)" "1||112|0" \
	"dry run: recorded as one; no object, no row deleted, no mail"

# ---------------------------------------------------------------- kill -9 between upload and delete
$PY -c "
import sqlite3, os, time, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN IMMEDIATE')
open(sys.argv[2], 'w').close()
while not os.path.exists(sys.argv[3]): time.sleep(0.05)
c.execute('ROLLBACK')" "$SITE" "$tmp/locked" "$tmp/release" &
locker=$!
wait_until 10 test -e "$tmp/locked"
run "$CHORECTL" run mover
is "$rc" 0 "kill: run started"
# The report goes out right before the delete, which then waits for the writer's lock.
if wait_until 20 has_mail; then ok "kill: the run uploaded, verified and reported"; else not_ok "kill: the run uploaded, verified and reported"; diag "$(cat "$log")"; fi
# Every process under the daemon (the runner may sit below a spawn helper), taken before
# the kill reparents them; each runner leads its own process group.
runners=$(ps -e -o pid=,ppid= | awk -v root="$dpid" '{ p[$1] = $2 } END {
	for (x in p) { y = x; while ((y in p) && y != root && y > 1) y = p[y]; if (y == root && x != root) print x } }')
echo "$runners" >>"$tmp/runner-pids"
kill -9 "$dpid"
wait "$dpid" 2>/dev/null
dpid=
for p in $runners; do kill -9 "-$p" 2>/dev/null; done  # dash: no "--"
touch "$tmp/release"
wait "$locker"
locker=
is "$(objects)|$(rows)" "site/archive/$m2/events-archive-$m2-01.json.gz site/archive/$m1/events-archive-$m1-01.json.gz|112" \
	"kill: both months uploaded, every row still in the table"
gone() { for p in $runners; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
check "kill: the runner is gone (reaped by init)" wait_until 10 gone

start_daemon || exit 1
run "$CHORECTL" run mover --wait
is "$rc" 0 "after the kill: the next run exits 0"
is "$(summary)" "ok: archived and deleted 110 rows of $m2, $m1" "after the kill: the months are completed"
is "$(objects)" "site/archive/$m2/events-archive-$m2-01.json.gz site/archive/$m1/events-archive-$m1-01.json.gz" \
	"after the kill: the same objects, no second batch"
count_in() { # rows in an object of the fake
	$PY - "$tmp/s3/data" "$1" <<'PY'
import gzip, json, os, sys
# the fake keeps bodies on disk under --data; find the file whose gzip holds our month
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        try:
            d = json.loads(gzip.open(os.path.join(root, f)).read())
        except Exception:
            continue
        if d.get("archive", {}).get("month") == sys.argv[2]:
            print(len(d["rows"]), d["count"], len({r["id"] for r in d["rows"]}))
PY
}
is "$(count_in "$m2")|$(count_in "$m1")" "50 50 50|60 60 60" "after the kill: every row in the store exactly once"
is "$(rows)|$(rows "$this_month")" "2|2" "after the kill: the past months deleted, this month untouched"
contains "$(sql "SELECT group_concat(text, ' ') FROM run_log WHERE run_id = (SELECT max(id) FROM runs WHERE job = 'mover')" 2>/dev/null)$(cat "$log")" \
	"did not delete its rows" "after the kill: the log says an earlier upload was completed"

# ---------------------------------------------------------------- re-run mid-month
before=$(mails)
run "$CHORECTL" run mover --wait
contains "$(summary)" "ok: nothing to archive" "re-run: ok, nothing to archive"
is "$(objects | wc -w)|$(rows)|$(mails)" "2|2|$before" "re-run: nothing written, deleted or sent"

# ---------------------------------------------------------------- a failing put
sqlite3 "$SITE" "INSERT INTO events (created_at, event_type, path) VALUES (strftime('%Y-%m-%dT%H:%M:%SZ', 'now', 'start of month', '-3 months'), 'old', '/old')"
s3ctl fault '{"status": 500, "method": "PUT", "count": 50}' >/dev/null
run "$CHORECTL" run mover --wait
is "$(summary | cut -d: -f1)|$(rows)|$(objects | wc -w)" "failed|3|2" "put fails: run failed, nothing deleted, no object"
s3ctl reset '{}' >/dev/null

# ---------------------------------------------------------------- configuration errors
sed -i 's/^plugin = archive$/plugin = archive\ntable = events;drop/' "$tmp/conf.d/15-archive.conf"
run "$CHORECTL" -c "$tmp/chored.conf" check
is "$rc" 78 "bad table: chorectl check exits 78"
contains "$err$out" "15-archive.conf:7: [job mover] table: 'events;drop' is not an identifier" "bad table: file, line, key and why"

# ---------------------------------------------------------------- secrets
lacks "$(cat "$log"; sql 'SELECT * FROM run_log' 2>/dev/null; sql 'SELECT * FROM runs')" "$SECRET" "the store secret is in no log"
plan_done
