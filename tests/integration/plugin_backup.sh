#!/bin/sh
# backup.so through chored-run: Kit (tests/fakes/kit_fake.py: >= 3 cursor pages, a 429 and a
# 500 mid-walk) and a SQLite database into a file:// store, gzip; the manifest matches what
# is stored; a complete month is never redone unless force; retention deletes exactly the
# expired sets and never the newest complete ones; nothing is deleted after a failed export;
# the restore test passes on a good set and fails loudly on a tampered file; the recap in
# an outbox; chorectl backup list / verify / restore-test / fetch; config errors.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/runner_lib.sh"
tmp=$(mktemp -d)
fake=
trap '[ -n "$fake" ] && kill "$fake" 2>/dev/null; rm -rf "$tmp"' EXIT
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
KEY=kit_Secret-4455aa
$PY "$top_srcdir/tests/fakes/kit_fake.py" "$tmp/port" --api-key "$KEY" --subscribers 2500 --tags 3 &
fake=$!
n=600
while [ ! -s "$tmp/port" ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
port=$(cat "$tmp/port") || { not_ok "the Kit fake starts"; plan_done; exit 1; }
kit=http://127.0.0.1:$port
ctl() { curl -sf -X "$1" -d "$3" "$kit$2" >/dev/null; }
export TMPDIR="$tmp"

# The site database.
DB=$tmp/site.db
sqlite3 "$DB" "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, note TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL, data BLOB);
CREATE TABLE empty_one (x TEXT);
CREATE INDEX orders_user ON orders(user_id);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
INSERT INTO users SELECT i, 'u' || i || '@example.com', CASE WHEN i % 5 = 0 THEN 'it''s; INSERT INTO x VALUES(1);
-- not a comment' END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 700)
INSERT INTO orders SELECT i, i % 1200 + 1, i * 1.5, randomblob(16) FROM n;"
mkdir -p "$tmp/outbox" "$tmp/store"
STORE=file://$tmp/store
mon() { date -u -d "$1" +%s; }
bk_doc() { # bk_doc NOMINAL-DATE [EXTRA-OPTIONS] [EXTRA-MEMBERS]
	printf '{"plugin":"%s/backup.so","job":"monthly","run_id":"r","nominal":%s,"options":{"database":"sqlite://%s","kit_api_key":"%s","kit_base_url":"%s","store":"%s","restore_target":"sqlite://%s/restore.db"%s},"redact":["%s"],"notify":[{"name":"box","type":"outbox","policy":"always","keys":{"path":"%s/outbox"}}],"state_dir":"%s"%s}' \
		"$PLUGINS" "$(mon "$1")" "$DB" "$KEY" "$kit" "$STORE" "$tmp" "${2:+,$2}" "$KEY" "$tmp" "$tmp" "${3:+,$3}"
}
result() { last_record | $PY -c "import json,sys; r=json.load(sys.stdin); print(r.get('status'))"; }
summary() { last_record | $PY -c "import json,sys; r=json.load(sys.stdin); print(r.get('summary'))"; }
pyreq() { curl -sf "$kit/_fake/requests" >"$tmp/req.json"; $PY -c "import json; req=json.load(open('$tmp/req.json')); print($1)"; }
# man EXPR: evaluates EXPR with m = the manifest of set $SET.
man() { $PY -c "import json; m=json.load(open('$tmp/store/monthly/$SET/manifest.json')); print($1)"; }
tree() { (cd "$tmp/store" && find . -type f | sort | xargs sha256sum); }
newest_mail() { ls -t "$tmp"/outbox/new/* | head -n 1; }
# mail_text FILE: the decoded subject and text part of a mail.
mail_text() {
	$PY -c "
import email, email.header, sys
m = email.message_from_file(open(sys.argv[1]))
print(email.header.make_header(email.header.decode_header(m['Subject'])))
for p in m.walk():
    if p.get_content_type() == 'text/plain': print(p.get_payload(decode=True).decode())" "$1"
}
# sets: the months holding at least one object.
sets() { (cd "$tmp/store/monthly" && find . -type f | cut -d/ -f2 | sort -u | tr '\n' ' '); }

# 1. A full backup; the first subscribers page is slow, the second gets Kit's bare 429
# "Retry later", the tags listing a 500: both recover. (fakelib applies the first queued
# fault that matches a request, each once.)
ctl POST /_fake/fault '{"delay_ms":50,"path":"/v4/subscribers"}'
ctl POST /_fake/fault '{"status":429,"path":"/v4/subscribers","body":"Retry later"}'
ctl POST /_fake/fault '{"status":500,"path":"/v4/tags","body":{"errors":["Internal Server Error"]}}'
rundoc "$(bk_doc 2026-11-01T03:00:00Z)"
SET=2026-11
is "$(ls "$tmp/store/monthly/$SET" | tr '\n' ' ')" "db.sql.gz kit-subscribers.json.gz kit-tags.json.gz manifest.json " \
	"the set holds the three files and the manifest"
is "$(pyreq "sorted(set((r['query'].get('status'), r['query'].get('sort_field'), r['query'].get('sort_order'), r['query'].get('per_page'), r['headers'].get('x-kit-api-key')) for r in req if r['path'] == '/v4/subscribers'))")" \
	"[('all', 'id', 'asc', '1000', '$KEY')]" "status=all, ascending id, per_page=1000, the API key header"
is "$(result)" ok "with a 429 on page 2 and a 500 on the tags: ok"
is "$(pyreq "[(r['path'], r['query'].get('after') is not None) for r in req if r['path'] == '/v4/subscribers']")" \
	"[('/v4/subscribers', False), ('/v4/subscribers', True), ('/v4/subscribers', True), ('/v4/subscribers', True)]" \
	"the throttled page was asked again with the same cursor (4 requests for 3 pages)"
is "$(pyreq "(lambda a: a[1] == a[2] and a[2] != a[3])([r['query'].get('after') for r in req if r['path'] == '/v4/subscribers'])")" \
	"True" "the retried request repeats its cursor, the next page has the next one"
is "$(pyreq "len([r for r in req if r['path'] == '/v4/tags'])")" 2 "the tags listing that got a 500 was retried"
is "$(pyreq "sorted(set(r['headers'].get('x-kit-api-key') for r in req))")" "['$KEY']" "every Kit request carries X-Kit-Api-Key"

# The manifest matches the stored objects, the fake's data and the database.
check_set() { # prints problems of set $SET, nothing when the manifest matches the objects
	$PY - "$tmp/store/monthly/$SET" "$DB" <<'PY'
import gzip, hashlib, json, os, sqlite3, sys
d, db = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(d, "manifest.json")))
for f in m["files"]:
    p = os.path.join(d, f["name"])
    raw = open(p, "rb").read()
    if hashlib.sha256(raw).hexdigest() != f["sha256"]: print("sha256", f["name"])
    if len(raw) != f["size"]: print("size", f["name"])
    data = gzip.decompress(raw)
    if len(data) != f["raw_size"]: print("raw_size", f["name"])
    if f["content"].endswith(".json"):
        j = json.loads(data)
        if len(j) != f["records"]: print("records", f["name"], len(j), f["records"])
if m["compress"] != "gzip": print("compress", m["compress"])
if m["nominal"] != "2026-11-01T03:00:00Z": print("nominal", m["nominal"])
if m["sources"]["database"]["kind"] != "sqlite" or not m["sources"]["database"]["version"]: print("db source")
if m["sources"]["kit"]["api"] != "v4": print("kit source")
t = {f["content"]: f for f in m["files"]}["db.sql"]["tables"]
c = sqlite3.connect(db)
want = {n: c.execute('SELECT count(*) FROM "%s"' % n).fetchone()[0] for (n,) in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
if {k: v for k, v in want.items() if v} != t: print("tables", t, want)
PY
}
is "$(check_set)" "" "manifest: size, raw size, sha256 and records of every file match what is stored"
is "$(man "[(f['content'], f['records']) for f in m['files']]")" \
	"[('kit-subscribers.json', 2500), ('kit-tags.json', 3), ('db.sql', 1900)]" \
	"records: 2500 subscribers (every status), 3 tags, 1900 rows"
is "$(man "[f.get('tagged') for f in m['files']]")" "[None, 2709, None]" "kit-tags.json holds every tag's subscribers (1250 + 834 + 625)"
is "$($PY -c "
import gzip, json
s = json.loads(gzip.open('$tmp/store/monthly/$SET/kit-subscribers.json.gz').read())
ids = [x['id'] for x in s]
print(ids == sorted(ids) and len(set(ids)) == 2500, sorted({x['state'] for x in s}), s[0]['fields']['note'])")" \
	"True ['active', 'bounced', 'cancelled', 'complained', 'inactive'] quote \" and \\ and é" \
	"subscribers: ascending, no duplicate, every state, fields intact"
zcat "$tmp/store/monthly/$SET/db.sql.gz" | sqlite3 "$tmp/check.db"
is "$(sqlite3 "$tmp/check.db" "SELECT count(*), sum(length(note)) FROM users; SELECT count(*), sum(total), hex(max(data)) FROM orders" | tr '\n' ' ')" \
	"$(sqlite3 "$DB" "SELECT count(*), sum(length(note)) FROM users; SELECT count(*), sum(total), hex(max(data)) FROM orders" | tr '\n' ' ')" \
	"db.sql.gz restores into sqlite3 with the same rows"
mail=$(newest_mail)
contains "$(cat "$mail")" "Subject: =?UTF-8?" "a recap mail went to the outbox"
body=$(mail_text "$mail")
contains "$body" "✅ monthly: ok" "recap subject: ✅ ok"
contains "$body" "kit-subscribers.json.gz" "recap lists the files"
contains "$body" "2500" "recap gives the counts"
contains "$body" "No set older than 12 months to delete" "recap reports the retention"
lacks "$out$err$rec$body$(cat "$tmp"/outbox/new/*)" "$KEY" "the Kit key appears nowhere (output, records, mail)"
is "$(ls "$tmp" | grep -c chored-backup)" 0 "no scratch directory left behind"

# 3. Re-running a complete month changes nothing; force redoes it.
before=$(tree)
ctl POST /_fake/reset '{}'
rundoc "$(bk_doc 2026-11-01T03:00:00Z)"
is "$(result)/$(summary)" "ok/set 2026-11 already complete: nothing changed" "re-run of a complete month: ok, nothing to do"
is "$(tree)" "$before" "the store is unchanged"
is "$(pyreq "len(req)")" 0 "no request to Kit"
rundoc "$(bk_doc 2026-11-01T03:00:00Z '"force":"yes"')"
is "$(result)" ok "force = yes: redone"
is "$(man "m['created'] != ''")" True "a new manifest"
is "$(pyreq "len([r for r in req if r['path'] == '/v4/subscribers'])")" 3 "force: Kit walked again"

# 4. Retention: older sets (complete and incomplete) around the 12-month line.
for s in 2024-06 2025-01 2025-02 2025-03 2025-04 2025-05 2025-06 2025-07 2025-08 2025-09 \
	2025-10 2025-11 2025-12 2026-01 2026-10; do
	mkdir -p "$tmp/store/monthly/$s"
	cp "$tmp/store/monthly/2026-11/"* "$tmp/store/monthly/$s/"
done
rm "$tmp/store/monthly/2025-10/manifest.json"     # an incomplete expired set
rm "$tmp/store/monthly/2026-01/manifest.json"     # an incomplete recent set
mkdir -p "$tmp/store/other"; echo x >"$tmp/store/other/keep.txt"
# A failed export first: nothing may be deleted.
rundoc "$(printf '%s' "$(bk_doc 2026-12-01T03:00:00Z)" | sed "s/\"kit_api_key\":\"$KEY\"/\"kit_api_key\":\"wrong-key\"/")"
is "$(result)" failed "a refused Kit key: failed"
contains "$(summary)" "set 2026-12 not stored: Kit /v4/subscribers" "the summary names the failing request"
contains "$(summary)" "The access token is invalid" "and Kit's error message"
all="2024-06 2025-01 2025-02 2025-03 2025-04 2025-05 2025-06 2025-07 2025-08 2025-09 2025-10 2025-11 2025-12 2026-01 2026-10 2026-11 "
is "$(sets)" "$all" "after a failed export nothing is deleted and no 2026-12 set exists"
rundoc "$(bk_doc 2026-12-01T03:00:00Z)"
is "$(result)" ok "December: ok"
is "$(sets)" "2025-03 2025-04 2025-05 2025-06 2025-07 2025-08 2025-09 2025-11 2025-12 2026-01 2026-10 2026-11 2026-12 " \
	"retention 12: of the sets older than 12 months, the incomplete 2025-10 and the complete ones beyond the newest 12 go"
is "$(cat "$tmp/store/other/keep.txt")" x "objects outside the prefix are untouched"
body=$(mail_text "$(newest_mail)")
contains "$body" "2025-10 deleted" "the recap lists the deletions"
# Whatever the clock says, the newest `retention` complete sets stay.
rundoc "$(bk_doc 2036-03-01T03:00:00Z '"retention":"3"')"
is "$(result)" ok "ten years later with retention 3: ok"
is "$(sets)" "2026-11 2026-12 2036-03 " \
	"the newest 3 complete sets are kept although expired; the incomplete and older ones go"

# 5. Restore test: on a restore month's 1st, of the newest complete set.
rundoc "$(bk_doc 2036-04-01T03:00:00Z '"retention":"3"')"
is "$(result)" ok "April 1st (a restore month): ok"
contains "$(summary)" "restore test of 2036-04 passed" "the restore test passed"
contains "$rec" "restore test of 2036-04: passed" "the restore test used the new set"
is "$(ls "$tmp" | grep -c 'restore.db')" 0 "the scratch database is removed after the test"
rundoc "$(bk_doc 2036-05-01T03:00:00Z '"retention":"3"')"
lacks "$rec" "restore test" "May (not a restore month): no restore test"

# 6. chorectl backup subcommands on a configuration.
cat >"$tmp/chored.conf" <<CONF
[daemon]
plugin_dir = $PLUGINS
state = sqlite://$tmp/state.db
listen =
[job monthly]
plugin = backup
schedule = 0 3 1 * *
database = sqlite://$DB
kit_api_key = \${secret:kit}
kit_base_url = $kit
store = $STORE
retention = 3
restore_target = sqlite://$tmp/restore.db
[secrets]
kit = $KEY
CONF
chmod 0600 "$tmp/chored.conf"
run "$CHORECTL" -c "$tmp/chored.conf" backup list
is "$rc" 0 "backup list: exit 0"
is "$(printf '%s\n' "$out" | awk 'NR > 1 && NF == 5 {print $1 "/" $2 "/" $3}' | tr '\n' ' ')" \
	"2036-05/complete/4 2036-04/complete/4 2036-03/complete/4 " "backup list: sets, newest first, complete, 4 objects"
run "$CHORECTL" -c "$tmp/chored.conf" backup verify 2036-05
is "$rc/$out" "0/2036-05: 3 files ok (size, sha256, records)" "backup verify: ok"
run "$CHORECTL" -c "$tmp/chored.conf" backup fetch 2036-05 db.sql -o "$tmp/fetched.sql"
is "$rc" 0 "backup fetch db.sql: exit 0"
is "$(sqlite3 "$tmp/f.db" <"$tmp/fetched.sql" && sqlite3 "$tmp/f.db" 'SELECT count(*) FROM users')" 1200 "fetched db.sql is the decompressed dump"
run "$CHORECTL" -c "$tmp/chored.conf" backup fetch 2036-05 kit-tags.json.gz -o "$tmp/tags.gz"
is "$rc/$(sha256sum <"$tmp/tags.gz" | cut -c1-64)" "0/$(sha256sum <"$tmp/store/monthly/2036-05/kit-tags.json.gz" | cut -c1-64)" \
	"fetch by stored name: the object as stored"
run "$CHORECTL" -c "$tmp/chored.conf" backup fetch 2036-05 nothing.json
is "$rc" 65 "fetch of a file not in the manifest: 65"
contains "$err" "set 2036-05 has no file nothing.json in its manifest" "and says so"
run "$CHORECTL" -c "$tmp/chored.conf" backup restore-test
is "$rc" 0 "restore-test (newest set): exit 0"
contains "$out" "2036-05: 3 files ok (size, sha256, records); restored into sqlite://$tmp/restore.db:" "restore-test: restored and counted"

# Tampering: one byte of the stored dump changed.
f=$tmp/store/monthly/2036-05/db.sql.gz
$PY -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" "$f"
run "$CHORECTL" -c "$tmp/chored.conf" backup restore-test 2036-05
is "$rc" 65 "restore-test of a tampered set: exit 65"
contains "$err" "db.sql.gz: sha256" "names the file and the sha256 mismatch"
contains "$err" "FAILED" "fails loudly"
run "$CHORECTL" -c "$tmp/chored.conf" backup verify 2036-05
is "$rc" 65 "verify of a tampered set: 65"
run "$CHORECTL" -c "$tmp/chored.conf" backup fetch 2036-05 db.sql.gz -o "$tmp/bad.gz"
is "$rc/$(ls "$tmp" | grep -c 'bad.gz')" "65/0" "fetch refuses a file whose sha256 does not match, writes nothing"
# A scheduled restore test on the tampered set fails the run and says so in the recap.
rm "$tmp/store/monthly/2036-05/manifest.json"  # make 2036-05 incomplete; tamper 2036-04
f=$tmp/store/monthly/2036-04/kit-subscribers.json.gz
$PY -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[40]^=4; open(p,'wb').write(b)" "$f"
run "$CHORECTL" -c "$tmp/chored.conf" backup restore-test
is "$rc" 65 "restore-test takes the newest complete set (2036-04) and fails on its tampered file"
contains "$err" "2036-04: FAILED: kit-subscribers.json.gz: sha256" "names set and file"
run "$CHORECTL" -c "$tmp/chored.conf" backup list
contains "$out" "2036-05  INCOMPLETE" "list shows the incomplete set"
# A manifest entry whose object is missing, and an object not in the manifest.
rm "$tmp/store/monthly/2036-03/kit-tags.json.gz"
echo junk >"$tmp/store/monthly/2036-03/extra.bin"
run "$CHORECTL" -c "$tmp/chored.conf" backup verify 2036-03
is "$rc" 65 "verify of a set with a missing file: 65"
contains "$err" "kit-tags.json.gz: missing from the store" "names the missing file"
contains "$err" "extra.bin: in the set but not in the manifest" "names the stray object"
lacks "$out$err" "$KEY" "subcommands never print the key"

# A scheduled restore test meeting a tampered set fails the run loudly; a retry of that
# run (the month is complete, nothing is exported again) tests again.
rm -rf "$tmp/store/monthly/2036-05"
rundoc "$(bk_doc 2036-07-01T03:00:00Z '"retention":"3"')"
is "$(result)" ok "July 1st: the new set is good, its restore test passes"
f=$tmp/store/monthly/2036-07/db.sql.gz
$PY -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//3]^=8; open(p,'wb').write(b)" "$f"
rundoc "$(bk_doc 2036-07-01T03:00:00Z '"retention":"3"')"
is "$(result)" failed "the retry on July 1st: the restore test fails the run"
contains "$(summary)" "restore test of 2036-07 FAILED: db.sql.gz: sha256" "the summary says why"
body=$(mail_text "$(newest_mail)")
contains "$body" "❌ monthly: failed" "the recap is marked ❌ failed"
contains "$body" "sha256" "the recap names the mismatch"

# A malformed Kit answer (truncated JSON) fails the run with a clear error; a set without
# its manifest cannot be verified.
ctl POST /_fake/fault '{"malformed":true,"path":"/v4/tags","count":10}'
rundoc "$(bk_doc 2036-08-01T03:00:00Z '"retention":"3"')"
is "$(result)" failed "a malformed Kit page: failed"
contains "$(summary)" "set 2036-08 not stored: Kit /v4/tags?per_page=1000:" "the summary names the request"
is "$(sets | grep -c 2036-08)" 0 "nothing stored for the month"
ctl POST /_fake/reset '{}'
run "$CHORECTL" -c "$tmp/chored.conf" backup verify 2030-01
is "$rc" 65 "verify of a month without a set: 65"
contains "$err" "set 2030-01 has no manifest.json: it is incomplete or absent" "and says why"
run "$CHORECTL" -c "$tmp/chored.conf" backup verify 2030-1
is "$rc" 64 "a month that is not YYYY-MM: usage error"

# A dry run exports and stores nothing.
n0=$(pyreq "len(req)")
rundoc "$(bk_doc 2036-08-01T03:00:00Z '"retention":"3"' '"dry_run":true')"
is "$(result)" ok "dry run: ok"
contains "$(summary)" "dry run: would back up Kit and the database into monthly/2036-08/" "dry run: says what it would do"
is "$(pyreq "len(req) - $n0")/$(sets | grep -c 2036-08)" "0/0" "dry run: no Kit request, no set"

# SIGTERM during the Kit walk: the run stops, stores nothing and leaves no scratch file.
ctl POST /_fake/fault '{"delay_ms":3000,"path":"/v4/subscribers"}'
startdoc "$(bk_doc 2036-09-01T03:00:00Z '"retention":"3"')"
wait_for "$tmp/fd3" '"t":"started"' 10
sleep 0.3
kill -TERM "$pid"
wait "$pid"
rec=$(cat "$tmp/fd3")
is "$(result)" failed "cancelled run: failed"
contains "$(summary)" "set 2036-09 not stored" "cancelled run: nothing stored"
is "$(sets | grep -c 2036-09)/$(ls "$tmp" | grep -c chored-backup)" "0/0" "cancelled run: no set, no scratch directory"

# A D1 database (tests/fakes/d1_fake.py: the polled export and its signed URL), no Kit.
sqlite3 "$tmp/d1.db" "CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)
INSERT INTO events SELECT i, 'k' || i FROM n;"
D1TOKEN=d1-Token-Secret-55
$PY "$top_srcdir/tests/fakes/d1_fake.py" "$tmp/d1.port" --db "$tmp/d1.db" --token "$D1TOKEN" \
	--account acct --database dbid --export-active-polls 1 2>"$tmp/d1.err" &
d1pid=$!
n=600
while [ ! -s "$tmp/d1.port" ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
d1=http://127.0.0.1:$(cat "$tmp/d1.port")
rundoc "$(printf '{"plugin":"%s/backup.so","job":"d1","run_id":"r","nominal":%s,"options":{"database":"d1://acct/dbid","d1_token":"%s","d1_base_url":"%s","store":"%s","compress":"zstd","restore_target":"sqlite://%s/restore.db"},"redact":["%s"],"state_dir":"%s"}' \
	"$PLUGINS" "$(mon 2027-01-01T03:00:00Z)" "$D1TOKEN" "$d1" "$STORE" "$tmp" "$D1TOKEN" "$tmp")"
kill "$d1pid" 2>/dev/null
is "$(result)" ok "a D1 database through its export API: ok"
contains "$(summary)" "db.sql 250 records" "250 rows exported"
contains "$(summary)" "restore test of 2027-01 passed" "restored into SQLite and counted"
is "$(ls "$tmp/store/d1/2027-01" | tr '\n' ' ')" "db.sql.zst manifest.json " "a database-only set: db.sql and the manifest"
lacks "$out$err$rec" "$D1TOKEN" "the D1 token appears nowhere"

# 7. Config errors through chorectl check: FILE:LINE via the schema path.
cat >"$tmp/bad.conf" <<CONF
[daemon]
plugin_dir = $PLUGINS
state = sqlite://$tmp/state.db
listen =
[job nothing]
plugin = backup
schedule = 0 3 1 * *
compress = gzip
CONF
run "$CHORECTL" -c "$tmp/bad.conf" check
is "$rc" 78 "a job with neither source: chorectl check exits 78"
contains "$out$err" "bad.conf:5: [job nothing] database: nothing to back up: set database, kit_api_key or both" \
	"the error names file, line, job and key"
sed -i 's/^compress = gzip/compress = lzma\ndatabase = sqlite:\/\/\/x.db/' "$tmp/bad.conf"
run "$CHORECTL" -c "$tmp/bad.conf" check
contains "$out$err" "[job nothing] compress: 'lzma' is not one of gzip, zstd, none" "a bad compress value is refused"
# 8. Without store and restore_target, both live in the daemon's state directory (the
# runner input's state_dir; chorectl derives it from [daemon] state).
mkdir -p "$tmp/sd"
rundoc "$(printf '{"plugin":"%s/backup.so","job":"plain","run_id":"r","nominal":%s,"options":{"database":"sqlite://%s"},"state_dir":"%s/sd"}' \
	"$PLUGINS" "$(mon 2027-04-01T03:00:00Z)" "$DB" "$tmp")"
is "$(result)" ok "no store option: ok"
[ -f "$tmp/sd/backups/plain/2027-04/manifest.json" ] && ok "the set is under STATE_DIR/backups" ||
	not_ok "the set is under STATE_DIR/backups"
contains "$(summary)" "restore test of 2027-04 passed" "the restore test ran in the default scratch database"
cat >"$tmp/sd.conf" <<CONF
[daemon]
plugin_dir = $PLUGINS
state = sqlite://$tmp/sd/state.db
listen =
[job plain]
plugin = backup
schedule = 0 3 1 * *
database = sqlite://$DB
CONF
run "$CHORECTL" -c "$tmp/sd.conf" backup list -j plain
is "$rc" 0 "chorectl backup list with the default store: exit 0"
contains "$out" "2027-04" "chorectl finds the set in the state directory of [daemon] state"
# 9. The recap through a real SMTP server (Debian's aiosmtpd) as well as the outbox.
/usr/bin/python3 "$top_srcdir/tests/fakes/smtp_server.py" "$tmp/smtp" "$tmp/smtp.port" \
	2>"$tmp/smtp.log" &
smtppid=$!
n=400
while [ ! -s "$tmp/smtp.port" ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
rundoc "$(printf '{"plugin":"%s/backup.so","job":"mailed","run_id":"r","nominal":%s,"options":{"database":"sqlite://%s","store":"%s"},"notify":[{"name":"mail","type":"smtp","policy":"always","keys":{"url":"smtp://127.0.0.1:%s","from":"chored@example.com","to":"ops@example.com"}}],"state_dir":"%s/sd"}' \
	"$PLUGINS" "$(mon 2027-05-01T03:00:00Z)" "$DB" "$STORE" "$(cat "$tmp/smtp.port")" "$tmp")"
kill "$smtppid" 2>/dev/null
wait "$smtppid" 2>/dev/null
is "$(result)" ok "a run with an SMTP sink: ok"
# The message as a mail reader shows it: subject decoded (RFC 2047), text part decoded.
eml=$(/usr/bin/python3 -c "
import email, email.policy, glob, sys
for f in sorted(glob.glob(sys.argv[1] + '/*.eml')):
    m = email.message_from_binary_file(open(f, 'rb'), policy=email.policy.default)
    print(m['subject'])
    print(m.get_body(preferencelist=('plain',)).get_content())
" "$tmp/smtp" 2>&1)
contains "$eml" "[chored] ✅ mailed: ok" "the SMTP server received the recap with the status in its subject"
contains "$eml" "db.sql" "the recap lists the files"
plan_done
