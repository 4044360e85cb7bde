#!/bin/sh
# backup.so through chored-run with a PostgreSQL source (tests/integration/pg_lib.sh), zstd,
# and the strict S3 fake (tests/fakes/s3_fake.py, SigV4 checked on every request) as the
# store: complete sets with correct manifests, a re-run that changes nothing, retention
# over DeleteObjects, restore tests into a scratch SQLite file and into an empty PostgreSQL
# database; no secret in any output.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/runner_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
tmp=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	pg_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
KEY=kit_S3pg-Secret-991
KEYID=AKIDBACKUPTEST
SECRET='bAckup+Secret/Key=77'

pg_start
pgrc=$?
if [ $pgrc -ne 0 ]; then
	if [ $pgrc -eq 1 ]; then
		echo "1..0 # SKIP $pg_skip"
		exit 0
	fi
	not_ok "the PostgreSQL cluster starts"
	plan_done
	exit 1
fi
# The plugin's scratch files go here (after pg_start: the cluster's directory must be
# reachable by the postgres user).
export TMPDIR="$tmp"
wait_port() { # wait_port FILE: prints the port a fake wrote
	i=0
	while [ ! -s "$1" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
	cat "$1"
}
$PY "$top_srcdir/tests/fakes/kit_fake.py" "$tmp/kit.port" --api-key "$KEY" --subscribers 1100 --tags 1 &
pids="$pids $!"
mkdir -p "$tmp/s3"
$PY "$top_srcdir/tests/fakes/s3_fake.py" "$tmp/s3.port" --data "$tmp/s3" --key "$KEYID:$SECRET" \
	--bucket bkt 2>"$tmp/s3.stderr" &
pids="$pids $!"
kit=http://127.0.0.1:$(wait_port "$tmp/kit.port")
s3port=$(wait_port "$tmp/s3.port")
s3=http://127.0.0.1:$s3port
[ -n "$s3port" ] || { not_ok "the fakes start"; plan_done; exit 1; }

# The site database in PostgreSQL, owned by the backup's role.
pg_psql "SET ROLE chored;
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, vip boolean, joined date);
CREATE TABLE invoices (id bigint PRIMARY KEY, customer integer, amount numeric(10,2), memo text);
INSERT INTO customers SELECT i, 'Customer ' || i || ' ''q''', i % 3 = 0, DATE '2024-01-01' + i FROM generate_series(1, 300) i;
INSERT INTO invoices SELECT i, i % 300 + 1, i * 1.25, CASE WHEN i % 4 = 0 THEN E'multi\nline; -- x' END FROM generate_series(1, 900) i;" >/dev/null
PGDB=$(printf '%s' "$PG_URL" | sed "s|postgresql://chored@|postgresql://chored:$PG_PASSWORD@|")
PG_DB=postgres pg_psql "CREATE DATABASE scratch OWNER chored" >/dev/null
PGSCRATCH=$(printf '%s' "$PGDB" | sed 's|/chored$|/scratch|')
STORE="s3://bkt/backups?endpoint=$s3&region=auto"
mon() { date -u -d "$1" +%s; }
bk_doc() { # bk_doc NOMINAL-DATE [EXTRA-OPTIONS]
	printf '{"plugin":"%s/backup.so","job":"site","run_id":"r","nominal":%s,"options":{"database":"%s","kit_api_key":"%s","kit_base_url":"%s","store":"%s","store_key_id":"%s","store_secret":"%s","compress":"zstd","retention":"2","restore_target":"sqlite://%s/restore.db"%s},"redact":["%s","%s","%s"],"notify":[{"name":"box","type":"outbox","policy":"always","keys":{"path":"%s/outbox"}}],"state_dir":"%s"}' \
		"$PLUGINS" "$(mon "$1")" "$PGDB" "$KEY" "$kit" "$STORE" "$KEYID" "$SECRET" "$tmp" "${2:+,$2}" \
		"$KEY" "$SECRET" "$PG_PASSWORD" "$tmp" "$tmp"
}
field() { last_record | $PY -c "import json,sys; r=json.load(sys.stdin); print(r.get('$1'))"; }
s3state() { curl -sf "$s3/_fake/state" | $PY -c "import json,sys; d=json.load(sys.stdin); o=d['objects']['bkt']; print($1)"; }
s3req() { curl -sf "$s3/_fake/requests" | $PY -c "import json,sys; req=json.load(sys.stdin); print($1)"; }
all=

rundoc "$(bk_doc 2027-01-01T03:00:00Z)"
all="$all$out$err$rec"
is "$(field status)" ok "January (a restore month) from PostgreSQL to S3 with zstd: ok"
contains "$(field summary)" "restore test of 2027-01 passed" "its restore test (PostgreSQL dump into SQLite) passed"
is "$(s3state "sorted(k for k in o)")" \
	"['backups/site/2027-01/db.sql.zst', 'backups/site/2027-01/kit-subscribers.json.zst', 'backups/site/2027-01/kit-tags.json.zst', 'backups/site/2027-01/manifest.json']" \
	"the set is in the bucket under PREFIX/YYYY-MM/"
is "$(s3req "[r['path'].rsplit('/', 1)[1] for r in req if r['method'] == 'PUT']")" \
	"['kit-subscribers.json.zst', 'kit-tags.json.zst', 'db.sql.zst', 'manifest.json']" "the manifest is stored last"
is "$(s3req "[(r['method'], r['path'], r['status']) for r in req if r['status'] != 200]")" \
	"[('GET', '/bkt/backups/site/2027-01/manifest.json', 404)]" \
	"every S3 request passed the strict SigV4 check; the only miss is the new month's manifest"

cat >"$tmp/chored.conf" <<CONF
[daemon]
plugin_dir = $PLUGINS
state = sqlite://$tmp/state.db
listen =
[job site]
plugin = backup
schedule = 0 3 1 * *
database = \${secret:pgurl}
kit_api_key = \${secret:kit}
kit_base_url = $kit
store = $STORE
store_key_id = \${secret:keyid}
store_secret = \${secret:s3}
compress = zstd
retention = 2
restore_target = sqlite://$tmp/restore.db
[secrets]
kit = $KEY
s3 = $SECRET
keyid = $KEYID
pgurl = $PGDB
CONF
chmod 0600 "$tmp/chored.conf"
ctl() { "$CHORECTL" -c "$tmp/chored.conf" backup "$@"; }
run ctl fetch 2027-01 db.sql.zst -o "$tmp/db.sql.zst"
all="$all$out$err"
is "$rc" 0 "fetch of the stored dump from S3"
is "$(zstd -dc "$tmp/db.sql.zst" | sqlite3 "$tmp/plain.db" && sqlite3 "$tmp/plain.db" "SELECT count(*), sum(amount), count(memo) FROM invoices; SELECT count(*), sum(vip) FROM customers" | tr '\n' ' ')" \
	"900|506812.5|225 300|100 " "zstd(1) reads it; the rows are PostgreSQL's"
run ctl fetch 2027-01 kit-subscribers.json -o "$tmp/subs.json"
is "$($PY -c "import json; s=json.load(open('$tmp/subs.json')); print(len(s), s[-1]['id'])")" "1100 3397" \
	"fetch decompressed: 1100 subscribers, the last id"
run ctl fetch 2027-01 manifest.json -o "$tmp/x"
is "$rc" 65 "the manifest itself is not a file of the set"
run ctl verify 2027-01
all="$all$out$err"
is "$rc/$out" "0/2027-01: 3 files ok (size, sha256, records)" "verify over S3: ok"

# Re-running the month changes nothing: no PUT, no DELETE.
n0=$(s3req "len(req)")
etags=$(s3state "sorted((k, v['etag']) for k, v in o.items())")
rundoc "$(bk_doc 2027-01-01T03:00:00Z)"
all="$all$out$err$rec"
is "$(field status)" ok "re-run of January: ok"
contains "$(field summary)" "set 2027-01 already complete: nothing changed" "nothing to do"
is "$(s3req "[r['method'] for r in req[$n0:] if r['method'] in ('PUT', 'POST', 'DELETE')]")" "[]" "no write to the store"
is "$(s3state "sorted((k, v['etag']) for k, v in o.items())")" "$etags" "objects unchanged"

# Retention 2 over three months: January goes once March is complete.
rundoc "$(bk_doc 2027-02-01T03:00:00Z)"
is "$(field status)" ok "February: ok"
is "$(s3state "sorted(set(k.split('/')[2] for k in o))")" "['2027-01', '2027-02']" "two sets kept"
n0=$(s3req "len(req)")
rundoc "$(bk_doc 2027-03-01T03:00:00Z)"
all="$all$out$err$rec"
is "$(field status)" ok "March: ok"
contains "$(field summary)" "1 expired set deleted" "one expired set deleted"
is "$(s3state "sorted(set(k.split('/')[2] for k in o))")" "['2027-02', '2027-03']" "January is gone, the newest 2 stay"
is "$(s3req "[r['raw_query'] for r in req[$n0:] if r['method'] == 'POST' and 'delete' in r['raw_query']]")" "['delete=']" \
	"the set's files went in one DeleteObjects"
run ctl list
contains "$out" "2027-03  complete" "list over S3"
is "$(printf '%s\n' "$out" | grep -c complete)" 2 "two complete sets listed"

# The restore test into an empty PostgreSQL database (April 1st is a restore month).
rundoc "$(bk_doc 2027-04-01T03:00:00Z "\"restore_target\":\"$PGSCRATCH\"")"
all="$all$out$err$rec"
is "$(field status)" ok "April: ok"
contains "$(field summary)" "restore test of 2027-04 passed" "restore test into PostgreSQL passed"
is "$(PG_DB=scratch pg_psql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 0 \
	"the PostgreSQL scratch database is left empty"
PG_DB=scratch pg_psql "CREATE TABLE precious (x int); INSERT INTO precious VALUES (1)" >/dev/null
rundoc "$(bk_doc 2027-07-01T03:00:00Z "\"restore_target\":\"$PGSCRATCH\"")"
all="$all$out$err$rec"
is "$(field status)" failed "a restore target that is not empty: the restore test fails"
contains "$(field summary)" "is not empty (table precious)" "and says why"
is "$(PG_DB=scratch pg_psql "SELECT x FROM precious")" 1 "the target's table is untouched"
lacks "$all" "$PG_PASSWORD" "the database password appears nowhere"
lacks "$all" "$SECRET" "the S3 secret appears nowhere"
lacks "$all" "$KEY" "the Kit key appears nowhere"
plan_done
