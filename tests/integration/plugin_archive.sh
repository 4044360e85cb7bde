#!/bin/sh
# archive.so through chored-run: a SQLite events table with rows in September, October and
# the current month (November 2026, by the run's --at clock); file:// and the S3 fake
# (tests/fakes/s3_fake.py); an outbox and the Notion fake. Dry run writes nothing; a put or
# a read-back that fails deletes nothing; a kill between upload and delete is completed by
# the next run with no duplicate and no loss; rows of a completed month found later go to a
# second batch; Notion down is partial with the rows deleted; the current month is never
# touched; a mid-month re-run writes nothing; bad identifiers are refused; no secret shows.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/runner_lib.sh"
tmp=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
KEYID=AKIDARCHIVETEST
SECRET='arCh1ve+Secret/Key=Zz'
NTOKEN=secret_archive_notion
PAGE=1f217cc1-225f-4580-8e22-cd7eb8db3c5e
AT=1794744000  # 2026-11-15T12:00:00Z: September and October are past months
DB=$tmp/site.db
STORE=$tmp/store
mkdir -p "$STORE"

# start_fake NAME SCRIPT ARGS...: sets $port.
start_fake() {
	name=$1 script=$2
	shift 2
	mkdir -p "$tmp/$name"
	$PY "$top_srcdir/tests/fakes/$script" "$tmp/$name/port" "$@" 2>"$tmp/$name/stderr" &
	pids="$pids $!"
	i=0
	while [ ! -s "$tmp/$name/port" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
	port=$(cat "$tmp/$name/port")
}
ctl() { # ctl PORT PATH [JSON]
	if [ $# -gt 2 ]; then curl -s -X POST -d "$3" "http://127.0.0.1:$1/_fake/$2"; else curl -s "http://127.0.0.1:$1/_fake/$2"; fi
}
js() { $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# seed: 30 rows in September, 42 in October (one as UTC seconds, one at 23:30 on the 31st
# UTC, already November in Paris, one with a NULL event_type), 10 in November.
seed() {
	rm -f "$DB"
	sqlite3 "$DB" <<'EOF'
CREATE TABLE events (id INTEGER PRIMARY KEY, created_at, event_type TEXT, path TEXT, user_id INTEGER);
CREATE TABLE keep (id INTEGER PRIMARY KEY, created_at TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
INSERT INTO events (created_at, event_type, path, user_id)
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', '2026-09-01', '+' || (i * 23) || ' hours'),
       CASE i % 3 WHEN 0 THEN 'signup' WHEN 1 THEN 'pageview' ELSE 'booking' END,
       '/p/' || (i % 4), i FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 38)
INSERT INTO events (created_at, event_type, path, user_id)
SELECT strftime('%Y-%m-%d %H:%M:%S', '2026-10-01', '+' || (i * 18) || ' hours'),
       CASE WHEN i < 20 THEN 'pageview' ELSE 'signup' END, '/blog/' || (i % 7), 100 + i FROM n;
INSERT INTO events (created_at, event_type, path, user_id) VALUES (1791014400, 'booking', '/book', 7);
INSERT INTO events (created_at, event_type, path, user_id) VALUES ('2026-10-31T23:30:00Z', 'late', '/late', 8);
INSERT INTO events (created_at, event_type, path, user_id) VALUES ('2026-10-20T10:00:00+02:00', NULL, '/x', 9);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
INSERT INTO events (created_at, event_type, path, user_id)
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', '2026-11-01', '+' || (i * 24) || ' hours'), 'pageview', '/now', i FROM n;
INSERT INTO keep (created_at) VALUES ('2020-01-01T00:00:00Z');
-- A column whose name is no identifier, values with quotes: read, archived and looked up.
ALTER TABLE events ADD COLUMN "user agent" TEXT;
UPDATE events SET "user agent" = 'Mozilla/5.0 "x'' y' WHERE id % 3 = 1;
EOF
}
rows() { sqlite3 "$DB" "SELECT count(*) FROM events${1:+ WHERE $1}"; }
month_rows() { rows "created_at < 1800000000 AND strftime('%Y-%m', CASE WHEN typeof(created_at) = 'integer' THEN datetime(created_at, 'unixepoch') ELSE created_at END) = '$1'"; }

OUTBOX='{"name":"box","type":"outbox","policy":"always","keys":{"path":"'$tmp'/outbox"}}'
# doc STORE-URL [EXTRA-OPTIONS] [NOTIFY-SINKS] [DRY]
doc() {
	printf '{"plugin":"%s/archive.so","job":"mover","run_id":"r","nominal":%s,"at":%s,"dry_run":%s,"options":{"database":"sqlite://%s","store":"%s"%s},"redact":["%s","%s","%s"],"notify":[%s],"state_dir":"%s"}' \
		"$PLUGINS" "$AT" "$AT" "${4:-false}" "$DB" "$1" "${2:+,$2}" "$KEYID" "$SECRET" "$NTOKEN" "${3-$OUTBOX}" "$tmp"
}
summary() { last_record | js 'd["status"] + ": " + d["summary"]'; }
mails() { find "$tmp/outbox" -type f -path '*/new/*' 2>/dev/null | wc -l; }
# keep every output for the secret check at the end
keep() { printf '%s\n%s\n%s\n' "$out" "$err" "$rec" >>"$tmp/all-output"; }
# archive_info FILE: "rows=N count=N months=M first_id=I" of a .json.gz object, checked as JSON
archive_info() {
	$PY - "$1" <<'PY'
import gzip, json, sys
raw = gzip.open(sys.argv[1]).read().decode()
d = json.loads(raw)  # the whole object is one JSON document
lines = raw.split("\n")
assert lines[0].startswith('{"archive":') and lines[-1] == "", "line layout"
print("rows=%d count=%d month=%s first_id=%s days=%d top=%s" % (
    len(d["rows"]), d["count"], d["archive"]["month"], d["rows"][0]["id"] if d["rows"] else "-",
    sum(d["aggregates"]["per_day"].values()), d["aggregates"]["top"]["event_type"][0]))
PY
}
# poll SECONDS CMD...: until CMD succeeds; 1 on timeout.
poll() {
	_n=$(($1 * 20))
	shift
	while ! "$@"; do
		[ $_n -le 0 ] && return 1
		sleep 0.05
		_n=$((_n - 1))
	done
}
has_mail() { [ "$(mails)" -ge 1 ]; }
# mailtext FILE...: the text/plain part of each message, decoded
mailtext() {
	$PY - "$@" <<'PY'
import email, email.policy, sys
for f in sys.argv[1:]:
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    print(m["subject"])
    print(m.get_body(preferencelist=("plain",)).get_content())
PY
}
objects() { (cd "$STORE" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' '); }

# ---------------------------------------------------------------- dry run
seed
rundoc "$(doc "file://$STORE" '' "$OUTBOX" true)"
keep
is "$(summary)" "ok: dry run: would archive and delete 72 rows of 2026-09, 2026-10" "dry run: says what would be archived and deleted"
contains "$rec" "would archive 42 rows of 2026-10 to archive/2026-10/events-archive-2026-10-01.json.gz" "dry run: names the object of each month"
is "$(objects)$(rows)$(mails)" "820" "dry run: nothing stored, no row deleted, no mail"

# ---------------------------------------------------------------- the normal run
rundoc "$(doc "file://$STORE")"
keep
is "$(summary)" "ok: archived and deleted 72 rows of 2026-09, 2026-10" "run: ok, 72 rows of two months"
is "$(objects)" "archive/2026-09/events-archive-2026-09-01.json.gz archive/2026-10/events-archive-2026-10-01.json.gz " \
	"run: one object per month, PREFIX/YYYY-MM/events-archive-YYYY-MM-01.json.gz"
is "$(archive_info "$STORE/archive/2026-09/events-archive-2026-09-01.json.gz")" \
	"rows=30 count=30 month=2026-09 first_id=1 days=30 top=['booking', 10]" "run: September object: 30 rows, count, per-day and top event types"
is "$(archive_info "$STORE/archive/2026-10/events-archive-2026-10-01.json.gz")" \
	"rows=42 count=42 month=2026-10 first_id=31 days=42 top=['pageview', 20]" "run: October object: UTC seconds, ISO text with offset and without all read"
is "$(rows)|$(rows "created_at >= '2026-11'")|$(sqlite3 "$DB" 'SELECT count(*) FROM keep')" "10|10|1" \
	"run: exactly the archived rows deleted; the current month and other tables untouched"
is "$(mails)" 1 "run: one report in the outbox"
mail=$(mailtext "$tmp"/outbox/new/*)
contains "$mail" "Archive of events: 72 rows in 2 months" "report: the title counts rows and months"
contains "$mail" "pageview" "report: counts per event_type"
contains "$mail" "/blog/" "report: top paths"
contains "$mail" "2026-10-31" "report: activity per day"
contains "$rec" '"t":"counter","name":"rows_deleted","delta":72' "run: counter rows_deleted"
contains "$rec" '"sha256"' "run: the log gives the object's sha256"

# ---------------------------------------------------------------- re-run mid-month
rundoc "$(doc "file://$STORE")"
keep
contains "$(summary)" "ok: nothing to archive before 2026-11-01T00:00:00Z" "re-run mid-month: ok, nothing to archive"
is "$(objects | wc -w)|$(rows)|$(mails)" "2|10|1" "re-run mid-month: nothing written, deleted or sent"

# ---------------------------------------------------------------- a later row of a done month
sqlite3 "$DB" "INSERT INTO events (created_at, event_type, path, user_id) VALUES ('2026-10-05T00:00:00Z', 'lost', '/found', 99)"
rundoc "$(doc "file://$STORE")"
keep
is "$(summary)" "ok: archived and deleted 1 row of 2026-10" "late row of a completed month: archived"
is "$(archive_info "$STORE/archive/2026-10/events-archive-2026-10-01.2.json.gz" | cut -d' ' -f1-3)|$(archive_info "$STORE/archive/2026-10/events-archive-2026-10-01.json.gz" | cut -d' ' -f1)" \
	"rows=1 count=1 month=2026-10|rows=42" "late row: a second batch; the first object is kept whole"

# ---------------------------------------------------------------- time zone
seed
rm -rf "$STORE" "$tmp/outbox"
mkdir -p "$STORE"
rundoc "$(doc "file://$STORE" '"timezone":"Europe/Paris"')"
keep
is "$(summary)|$(rows "created_at = '2026-10-31T23:30:00Z'")" "ok: archived and deleted 71 rows of 2026-09, 2026-10|1" \
	"timezone Europe/Paris: 23:30 UTC on Oct 31 is November there: kept"

# ---------------------------------------------------------------- kill between upload and delete
seed
rm -rf "$STORE" "$tmp/outbox"
mkdir -p "$STORE"
# A writer holds the database (BEGIN IMMEDIATE): reads go on, the delete waits.
$PY -c "
import sqlite3, os, time, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN IMMEDIATE')
open(sys.argv[2] + '.tmp', 'w').close(); os.rename(sys.argv[2] + '.tmp', sys.argv[2])
while not os.path.exists(sys.argv[3]): time.sleep(0.05)
c.execute('ROLLBACK')" "$DB" "$tmp/locked" "$tmp/release" &
locker=$!
pids="$pids $locker"
poll 10 test -e "$tmp/locked"
startdoc "$(doc "file://$STORE")"
# The report goes out right before the delete: then the runner waits for the lock.
if poll 20 has_mail; then
	ok "kill: the run reached the delete (report sent)"
else
	not_ok "kill: the run reached the delete (report sent)"
fi
kill -9 "$pid"
wait "$pid" 2>/dev/null
touch "$tmp/release"
wait "$locker"
is "$(objects | wc -w)|$(rows)" "2|82" "kill: both objects uploaded, every row still there"
rundoc "$(doc "file://$STORE")"
keep
is "$(summary)" "ok: archived and deleted 72 rows of 2026-09, 2026-10" "kill: the next run completes both months"
contains "$rec" "was uploaded by an earlier run that did not delete its rows" "kill: it says it completes the earlier upload"
is "$(objects)" "archive/2026-09/events-archive-2026-09-01.json.gz archive/2026-10/events-archive-2026-10-01.json.gz " \
	"kill: the same keys, no second batch (no duplicate)"
is "$(archive_info "$STORE/archive/2026-09/events-archive-2026-09-01.json.gz" | cut -d' ' -f1)|$(archive_info "$STORE/archive/2026-10/events-archive-2026-10-01.json.gz" | cut -d' ' -f1)|$(rows)" \
	"rows=30|rows=42|10" "kill: every archived row is in the store once (no loss)"

# ---------------------------------------------------------------- bad options
for case in 'table|events; DROP TABLE keep' 'time_column|created at' 'group_columns|path x-y' 'compress|zip' 'prefix|../up' 'timezone|Mars/Base'; do
	k=${case%%|*} v=${case#*|}
	rundoc "$(doc "file://$STORE" "\"$k\":\"$v\"")"
	keep
	if [ "$(last_record | js 'd["status"]')" = failed ] && case "$rec$err" in *"$k"*) true ;; *) false ;; esac; then
		ok "bad $k '$v' refused, naming the key"
	else
		not_ok "bad $k '$v' refused, naming the key"
		diag "$rec" "$err"
	fi
done
is "$(sqlite3 "$DB" 'SELECT count(*) FROM keep')|$(rows)" "1|10" "bad options: nothing touched"

# ---------------------------------------------------------------- S3: put and read-back failures
start_fake s3 s3_fake.py --data "$tmp/s3/data" --key "$KEYID:$SECRET" --bucket bkt
S3P=$port
S3="s3://bkt/site?endpoint=http://127.0.0.1:$S3P&region=auto"
S3OPTS="\"store_key_id\":\"$KEYID\",\"store_secret\":\"$SECRET\""
seed
rm -rf "$tmp/outbox"
ctl $S3P fault '{"status": 500, "method": "PUT", "count": 50, "body": "<Error><Code>InternalError</Code><Message>boom</Message></Error>"}' >/dev/null
rundoc "$(doc "$S3" "$S3OPTS")"
keep
contains "$(summary)" "failed: 2026-09: PUT" "put fails: the run fails and names the operation"
contains "$(summary)" "nothing deleted" "put fails: the summary says nothing was deleted"
is "$(rows)|$(ctl $S3P state | js 'len(d["objects"]["bkt"])')" "82|0" "put fails: no row deleted, no object"
is "$(mails)" 1 "put fails: a failure report is sent"
fmail=$(mailtext "$tmp"/outbox/new/*)
contains "$fmail" "Nothing was deleted." "put fails: the report says nothing was deleted"
contains "$fmail" "failed" "put fails: the report's subject says failed"
lacks "$fmail" "2026-10" "put fails: the report shows only the month that was tried"
ctl $S3P reset '{}' >/dev/null
# The first GET of a month's key asks whether an earlier run left it (no: 404), the next
# one is the read-back (faults match the exact key: the .json twin is asked for too).
nosuchkey() { ctl $S3P fault '{"status": 404, "method": "GET", "path": "'"$1"'", "body": "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"}' >/dev/null; }
# The read-back answers other bytes: the sha256 check refuses them.
K=/bkt/site/archive/2026-09/events-archive-2026-09-01.json.gz
nosuchkey $K
ctl $S3P fault '{"status": 200, "method": "GET", "path": "'$K'", "body": "not the object"}' >/dev/null
rundoc "$(doc "$S3" "$S3OPTS")"
keep
contains "$(summary)" "failed: 2026-09: read-back of archive/2026-09/events-archive-2026-09-01.json.gz" "read-back fails: the run fails naming the object"
is "$(rows)|$(ctl $S3P state | js 'sorted(d["objects"]["bkt"])')" "82|[]" "read-back fails: no row deleted, the unverified object removed"
K=/bkt/site/archive/2026-10/events-archive-2026-10-01.json.gz
nosuchkey $K
ctl $S3P fault '{"status": 500, "method": "GET", "path": "'$K'", "count": 50}' >/dev/null
rundoc "$(doc "$S3" "$S3OPTS")"
keep
contains "$(summary)" "failed: 2026-10: read-back" "read-back error on the second month: failed"
is "$(rows)" 82 "read-back error on the second month: the first month's rows are kept too"
ctl $S3P reset '{}' >/dev/null

# ---------------------------------------------------------------- S3 + Notion down: partial
start_fake notion notion_fake.py --token "$NTOKEN" --page "$PAGE"
NP=$port
rm -rf "$tmp/outbox"
NOTION='{"name":"wiki","type":"notion","policy":"always","keys":{"token":"'$NTOKEN'","parent_page":"'$PAGE'","mode":"subpage","base_url":"http://127.0.0.1:'$NP'"}}'
ctl $NP fault '{"status": 503, "count": 100, "body": {"object": "error", "status": 503, "code": "service_unavailable", "message": "down"}}' >/dev/null
rundoc "$(doc "$S3" "$S3OPTS" "$OUTBOX,$NOTION")"
keep
is "$(summary)" "partial: archived and deleted 72 rows of 2026-09, 2026-10; report: 1 sink failed" "Notion down: partial"
is "$(rows)|$(mails)" "10|1" "Notion down: rows deleted, the mail went out"
is "$(ctl $S3P state | js 'sorted(d["objects"]["bkt"])')" "['site/archive/2026-09/events-archive-2026-09-01.json.gz', 'site/archive/2026-10/events-archive-2026-10-01.json.gz']" \
	"s3: the objects after the failed read-backs are rewritten under the same keys"
ctl $NP reset '{}' >/dev/null

# ---------------------------------------------------------------- Notion up: the page
seed
ctl $S3P reset '{}' >/dev/null
rundoc "$(doc "$S3" "$S3OPTS" "$NOTION")"
keep
is "$(summary)" "ok: archived and deleted 72 rows of 2026-09, 2026-10" "Notion up: ok"
page=$(ctl $NP state)
is "$(echo "$page" | js 'd["pages"][-1]["title"]')" "[chored] ✅ mover: ok" "Notion: a page for the run"
contains "$(echo "$page" | js '" | ".join(b.get("text", "") for b in d["pages"][-1]["blocks"])')" "2026-10: 42 rows" "Notion: a section per month"
contains "$(echo "$page" | js '[b["type"] for b in d["pages"][-1]["blocks"]]')" "'table'" "Notion: the aggregates as tables"

# ---------------------------------------------------------------- PostgreSQL source
. "$(dirname "$0")/pg_lib.sh"
trap 'pg_stop; cleanup' EXIT
if pg_start; then
	pg_psql "CREATE TABLE events (id serial PRIMARY KEY, created_at timestamptz NOT NULL, event_type text, path text);
		INSERT INTO events (created_at, event_type, path)
		SELECT timestamptz '2026-09-01 00:00:00+00' + i * interval '20 hours', CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END, '/pg/' || (i % 3)
		FROM generate_series(1, 100) AS i;
		ALTER TABLE events OWNER TO chored;" >/dev/null
	pgrows() { pg_psql "SELECT count(*) FROM events${1:+ WHERE $1}"; }
	before=$(pgrows "created_at >= '2026-11-01T00:00:00Z'")
	pgdoc() {
		doc "$S3" "$S3OPTS,\"prefix\":\"pg\"$1" "$OUTBOX" "$2" | sed "s|\"database\":\"sqlite://$DB\"|\"database\":\"$(echo "$PG_URL" | sed "s|//chored@|//chored:$PG_PASSWORD@|")\"|; s|\"redact\":\[|\"redact\":[\"$PG_PASSWORD\",|"
	}
	rundoc "$(pgdoc '' true)"
	keep
	is "$(summary)|$(pgrows)" "ok: dry run: would archive and delete $((100 - before)) rows of 2026-09, 2026-10|100" "postgresql: dry run"
	# October's read-back fails: September stays uploaded with its rows in the table.
	K=/bkt/site/pg/2026-10/events-archive-2026-10-01.json.gz
	nosuchkey $K
	ctl $S3P fault '{"status": 200, "method": "GET", "path": "'$K'", "body": "garbage"}' >/dev/null
	rundoc "$(pgdoc)"
	keep
	is "$(last_record | js 'd["status"]')|$(pgrows)" "failed|100" "postgresql: a failed read-back deletes nothing"
	rundoc "$(pgdoc)"
	keep
	is "$(summary)" "ok: archived and deleted $((100 - before)) rows of 2026-09, 2026-10" "postgresql: archived"
	contains "$rec" "pg/2026-09/events-archive-2026-09-01.json.gz was uploaded by an earlier run that did not delete its rows" \
		"postgresql: the pending September object is found by its first row (timestamptz, serial) and rewritten"
	pg_psql "INSERT INTO events (created_at, event_type, path) VALUES ('2026-09-09 09:09:09+00', 'late', '/late')" >/dev/null
	rundoc "$(pgdoc)"
	keep
	is "$(summary)" "ok: archived and deleted 1 row of 2026-09" "postgresql: a late row of a completed month"
	contains "$rec" "new rows of 2026-09 go to pg/2026-09/events-archive-2026-09-01.2.json.gz" "postgresql: goes to batch 2"
	is "$(pgrows)|$(pgrows "created_at < '2026-11-01T00:00:00Z'")" "$before|0" "postgresql: exactly the past months deleted"
	is "$(ctl $S3P state | js 'sorted(k for k in d["objects"]["bkt"] if k.startswith("site/pg/"))')" \
		"['site/pg/2026-09/events-archive-2026-09-01.2.json.gz', 'site/pg/2026-09/events-archive-2026-09-01.json.gz', 'site/pg/2026-10/events-archive-2026-10-01.json.gz']" "postgresql: one object per month and batch"
	rundoc "$(pgdoc)"
	keep
	contains "$(summary)" "ok: nothing to archive" "postgresql: re-run writes nothing"
else
	ok "# SKIP postgresql: $pg_skip"
fi

# ---------------------------------------------------------------- secrets
lacks "$(cat "$tmp/all-output")" "$SECRET" "the store secret never shows"
lacks "$(cat "$tmp/all-output")" "$NTOKEN" "the Notion token never shows"
[ -n "${PG_PASSWORD:-}" ] && lacks "$(cat "$tmp/all-output")" "$PG_PASSWORD" "the database password never shows"
plan_done
