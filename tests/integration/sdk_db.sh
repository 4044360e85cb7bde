#!/bin/sh
# The db service (chored-sdk-db(3)) on its three backends through tests/sdk/db_probe:
# SQLite (a file), PostgreSQL (a throwaway cluster, pg_lib.sh) and D1 (tests/fakes/d1_fake.py).
# Each: bound parameters stored verbatim, NULLs, 10 000 rows iterated, transactions, dump
# restored into a new SQLite database with equal row counts. Then backend specifics: D1
# export polling, retries and malformed answers, bad URLs, wrong credentials, and no
# secret in any output.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/pg_lib.sh"
tmp=$(mktemp -d)
fake_pid=
fake2_pid=
trap 'for pid in $fake_pid $fake2_pid; do kill "$pid" 2>/dev/null; done; pg_stop; rm -rf "$tmp"' EXIT
probe=$top_builddir/tests/sdk/db_probe
all=$tmp/all-output
: >"$all"

# p ARGS...: runs the probe; $out, $err, $rc; everything is kept for the secret check.
p() {
	run "$probe" "$@"
	printf '%s\n%s\n' "$out" "$err" >>"$all"
}

# wait_file FILE SECONDS
wait_file() {
	n=0
	while [ ! -s "$1" ] && [ $n -lt $(($2 * 10)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -s "$1" ]
}

inject='x'"'"'); DROP TABLE t;--'
fill="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000)
INSERT INTO big SELECT x, 'row ' || x FROM c"

# common NAME URL [PROBE OPTIONS]: the cases every backend passes.
common() {
	name=$1
	url=$2
	shift 2
	p "$@" "$url" exec "CREATE TABLE t (id integer PRIMARY KEY, name text, note text)" \
		-- exec "INSERT INTO t (id, name, note) VALUES (?, ?, ?)" i:1 "s:$inject" null \
		-- exec "INSERT INTO t (id, name, note) VALUES (?, ?, ?)" i:2 "s:two" "s:" \
		-- query "SELECT id, name, note FROM t ORDER BY id" \
		-- int "SELECT count(*) FROM t WHERE note IS NULL"
	is "$rc" 0 "$name: statements with bound parameters run"
	is "$out" "changes 0
changes 1
changes 1
id	name	note
1	$inject	\\N
2	two	
1" "$name: the injection text stored verbatim, NULL kept apart from the empty string"

	p "$@" "$url" exec "CREATE TABLE big (id integer PRIMARY KEY, v text)" -- exec "$fill" \
		-- count-rows "SELECT id, v FROM big"
	is "$out" "changes 0
changes 10000
rows 10000" "$name: 10 000 rows inserted and iterated"

	if [ "$name" = d1 ]; then
		p "$@" "$url" begin
		is "$rc" 1 "d1: begin fails"
		contains "$out" "transactions are not supported (the D1 REST API has none)" \
			"d1: and says transactions are not supported"
	else
		p "$@" "$url" begin -- exec "DELETE FROM big WHERE id > ?" i:5000 -- rollback \
			-- int "SELECT count(*) FROM big" \
			-- begin -- exec "DELETE FROM big WHERE id > ?" i:9000 -- commit \
			-- int "SELECT count(*) FROM big"
		is "$out" "changes 5000
10000
changes 1000
9000" "$name: a rolled back delete leaves every row, a committed one removes them"
	fi

	p "$@" "$url" tables
	src_tables=$out
	p "$@" "$url" dump "$tmp/$name.sql"
	is "$rc" 0 "$name: dump written"
	[ "$rc" -eq 0 ] || diag "$out"
	p "sqlite://$tmp/$name-restored.db" restore "$tmp/$name.sql" -- tables
	contains "$out" "statements " "$name: dump restored into a new SQLite database"
	is "$(echo "$out" | sed 1d)" "$src_tables" "$name: restored tables have equal row counts"
	p "sqlite://$tmp/$name-restored.db" query "SELECT name, note FROM t ORDER BY id"
	is "$out" "name	note
$inject	\\N
two	" "$name: restored values are verbatim (NULL and empty string too)"
}

# --- SQLite ---------------------------------------------------------------------------
common sqlite "sqlite://$tmp/a.db"
p "sqlite://$tmp/a.db" exec "INSERT INTO t (id) VALUES (10); DROP TABLE t"
contains "$out" "sqlite: one statement per call" "sqlite: a second statement in one call is refused"
p "sqlite://$tmp/a.db" exec "INSERT INTO t (id, name) VALUES (?, ?)" i:11
contains "$out" "has 2 placeholders, 1 parameters given" "sqlite: a missing parameter is an error"
p "sqlite://$tmp/a.db" open-rows "SELECT * FROM big" -- exec "DELETE FROM t"
contains "$out" "a result set is still open" "sqlite: a call while a result set is open is refused"
p "sqlite://$tmp/a.db" exec "INSERT INTO nosuch VALUES (1)"
is "$out" "error: sqlite: $tmp/a.db: no such table: nosuch (in \"INSERT INTO nosuch VALUES (1)\")" \
	"sqlite: an SQL error names the file, the cause and the statement"
p -n "sqlite://$tmp/missing.db" tables
is "$out" "error: sqlite: $tmp/missing.db: No such file or directory" \
	"sqlite: no_create and a missing file: a clear open error"
printf 'not a database, just text, long enough to be read as a header......\n' >"$tmp/text.db"
p "sqlite://$tmp/text.db" tables
contains "$out" "file is not a database" "sqlite: a file that is not a database fails at open"
printf 'CREATE TABLE r (a);\nINSERT INTO r VALUES (1);\nINSERT INTO nosuch VALUES (2);\n' >"$tmp/bad.sql"
p "sqlite://$tmp/r.db" restore "$tmp/bad.sql"
is "$out" "error: restore: statement 3 (\"INSERT INTO nosuch VALUES (2);\"): sqlite: $tmp/r.db: no such table: nosuch (in \"INSERT INTO nosuch VALUES (2);\")" \
	"sqlite: a failing restore names the statement"
p "sqlite://$tmp/r.db" tables
is "$out" "" "sqlite: and leaves the database unchanged (one transaction)"
printf 'CREATE TABLE r (a);\nINSERT INTO r VALUES (1)' >"$tmp/open.sql"
p "sqlite://$tmp/r.db" restore "$tmp/open.sql"
contains "$out" "statement 2 (\"INSERT INTO r VALUES (1)\") is not terminated by ';'" \
	"sqlite: a script cut short is refused"

# --- bad URLs ----------------------------------------------------------------------------
p "sqlite://relative/x.db" tables
is "$out" "error: bad database URL: sqlite URLs name a local file by its absolute path: sqlite:///abs/path (no host part)" \
	"bad URL: sqlite with a host part"
p "mysql://root:hunter2@db/x" tables
is "$out" "error: bad database URL: unknown scheme \"mysql\" (expected sqlite://, postgresql://, postgres:// or d1://)" \
	"bad URL: an unknown scheme is named, the rest (a password) is not shown"
p "d1://acct" tables
contains "$out" "expected d1://ACCOUNT_ID/DATABASE_ID" "bad URL: d1 without a database"
p "postgresql://u:hunter2@127.0.0.1:1/x?sslmode=bogus" tables
is "$out" 'error: postgresql: postgresql://u:***@127.0.0.1:1/x?sslmode=bogus: invalid sslmode value: "bogus"' \
	"bad URL: a libpq option error, the password shown as ***"

# --- PostgreSQL ------------------------------------------------------------------------
pg_started=0
if pg_start; then
	pg_started=1
else
	[ $? -eq 1 ] || not_ok "postgresql: throwaway cluster started"
fi
if [ $pg_started -eq 1 ]; then
	export DB_PROBE_PASSWORD="$PG_PASSWORD"
	common postgresql "$PG_URL"
	# A SQLite dump restores into PostgreSQL too (its PRAGMA skipped).
	PG_DB=postgres pg_psql "CREATE DATABASE restored OWNER chored"
	p "postgresql://chored@127.0.0.1:$PG_PORT/restored" restore "$tmp/sqlite.sql" -- tables
	is "$out" "statements 9004
big 9000
t 2" "postgresql: a SQLite dump restored into PostgreSQL"
	p "$PG_URL" begin -- exec "INSERT INTO nosuch VALUES (1)"
	contains "$out" 'postgresql: ERROR: relation "nosuch" does not exist (in "INSERT INTO nosuch VALUES (1)")' \
		"postgresql: an SQL error names the cause and the statement"
	p "$PG_URL" begin -- exec "DELETE FROM t" -- try exec "SELECT * FROM nosuch" -- commit
	is "$rc" 1 "postgresql: a transaction with a failed statement does not commit"
	contains "$out" "postgresql: COMMIT: the transaction was rolled back (a statement in it failed)" \
		"postgresql: and COMMIT says it was rolled back"
	p "$PG_URL" begin -- exec "DELETE FROM t" -- exec "SELECT * FROM nosuch"
	p "$PG_URL" int "SELECT count(*) FROM t"
	is "$out" 2 "postgresql: deletes of failed or unfinished transactions are rolled back"
	DB_PROBE_PASSWORD=
	p "$PG_URL" tables
	contains "$out" "fe_sendauth: no password supplied" "postgresql: no password: a clear error"
	DB_PROBE_PASSWORD=wrong-pw-$$
	p "$PG_URL" tables
	contains "$out" "password authentication failed for user \"chored\"" \
		"postgresql: a wrong password: a clear error"
	DB_PROBE_PASSWORD=
	p "postgresql://chored:wrong-in-url-$$@127.0.0.1:$PG_PORT/chored" tables
	is "$(echo "$out" | grep -c "wrong-in-url")" 0 "postgresql: a wrong password in the URL is not shown"
	contains "$out" "postgresql://chored:***@127.0.0.1:$PG_PORT/chored" "postgresql: the URL is shown with ***"
	p "postgresql://chored:$PG_PASSWORD@127.0.0.1:$PG_PORT/chored" int "SELECT count(*) FROM big"
	is "$out" 9000 "postgresql: the password may be in the URL"
	p -T 2000 "postgresql://chored@127.0.0.1:1/chored" tables
	contains "$out" "postgresql: postgresql://chored@127.0.0.1:1/chored: connection to server at \"127.0.0.1\", port 1 failed" \
		"postgresql: connection refused names the server"
else
	ok "# SKIP postgresql cases: $pg_skip"
fi

# --- D1 (fake) -------------------------------------------------------------------------
token=d1tok-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
acct=0123456789abcdef0123456789abcdef
dbid=4d3c2b1a-0000-4000-8000-000000000001
python3 "$top_srcdir/tests/fakes/d1_fake.py" "$tmp/d1.port" --db "$tmp/d1.db" --token "$token" \
	--account $acct --database $dbid --export-active-polls 2 2>"$tmp/d1.err" &
fake_pid=$!
if ! wait_file "$tmp/d1.port" 30; then
	not_ok "d1: fake started"
	diag "$(cat "$tmp/d1.err")"
	plan_done
	exit 1
fi
base=http://127.0.0.1:$(cat "$tmp/d1.port")
d1url=d1://$acct/$dbid
reqs() { curl -s "$base/_fake/requests"; }
reset_log() { curl -s -X POST "$base/_fake/reset" >/dev/null; }
export DB_PROBE_TOKEN="$token"

common d1 "$d1url" -b "$base" -i 50

# The export: started, "active" twice, then "complete"; polled with the bookmark; the
# signed URL fetched without the token.
reset_log
p -b "$base" -i 50 "$d1url" dump "$tmp/d1-again.sql"
is "$rc" 0 "d1: export polled to completion"
reqs >"$tmp/reqs.json"
is "$(python3 - "$tmp/reqs.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ex = [json.loads(x["body"]) for x in r if x["path"].endswith("/export")]
bm = [e.get("current_bookmark") for e in ex]
get = [x for x in r if x["path"].startswith("/_signed/")]
print(len(ex), bm[0] is None, len(set(bm[1:])) == 1 and bm[1] is not None,
      all(e["output_format"] == "polling" for e in ex),
      len(get), get[0]["method"], "authorization" in get[0]["headers"])
PY
)" "3 True True True 1 GET False" \
	"d1: start, two polls with the bookmark, one GET of the signed URL without the token"
cmp -s "$tmp/d1.sql" "$tmp/d1-again.sql"
is "$?" 0 "d1: the same export twice gives the same file"

# An export not polled continually is cancelled by D1: a second fake that cancels after
# 0.5 s without a poll, polled every 1.5 s. The dump file is not left behind.
python3 "$top_srcdir/tests/fakes/d1_fake.py" "$tmp/d1b.port" --db "$tmp/d1b.db" --token "$token" \
	--account $acct --database $dbid --export-poll-timeout 0.5 2>"$tmp/d1b.err" &
fake2_pid=$!
if wait_file "$tmp/d1b.port" 30; then
	p -b "http://127.0.0.1:$(cat "$tmp/d1b.port")" -i 1500 "$d1url" dump "$tmp/cancelled.sql"
	is "$out" "error: d1: export failed: Export cancelled: it was not polled continually" \
		"d1: an export D1 cancelled fails with D1's reason"
	is "$(ls "$tmp"/cancelled.sql* 2>/dev/null)" "" "d1: and leaves no dump file"
else
	not_ok "d1: second fake started"
	diag "$(cat "$tmp/d1b.err")"
fi
kill "$fake2_pid" 2>/dev/null

# Restore into D1: statements sent in batches (the SQLite dump, tables renamed, > 200 KB).
sed -e 's/^CREATE TABLE t /CREATE TABLE t2 /' -e 's/^INSERT INTO "t" /INSERT INTO "t2" /' \
	-e 's/^CREATE TABLE big /CREATE TABLE big2 /' -e 's/^INSERT INTO "big" /INSERT INTO "big2" /' \
	"$tmp/sqlite.sql" >"$tmp/renamed.sql"
reset_log
p -b "$base" "$d1url" restore "$tmp/renamed.sql" -- int "SELECT count(*) FROM t2" -- int "SELECT count(*) FROM big2"
is "$out" "statements 9005
2
9000" "d1: a dump restored into D1"
is "$(reqs | python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin) if x["path"].endswith("/query")]; print(len(r) > 1, all(x["body_len"] <= 100*1024 for x in r))')" \
	"True True" "d1: in several requests of at most 100 KB"

# Retries: a 429 on a write is retried (D1 did not run it), 5xx on a read too. Faults are
# queued after the open (its check query would take them otherwise).
fault_cmd() {
	echo "curl -s -X POST -H 'Content-Type: application/json' -d '$1' '$base/_fake/fault' >/dev/null"
}
reset_log
p -b "$base" "$d1url" \
	sh "$(fault_cmd '{"status": 429, "headers": {"Retry-After": "0"}, "body": {"success": false, "errors": [{"code": 971, "message": "Please wait and consider throttling your request speed"}], "messages": [], "result": null}, "count": 1}')" \
	-- exec "INSERT INTO t (id, name) VALUES (?, ?)" i:3 s:three \
	-- sh "$(fault_cmd '{"status": 503, "body": "upstream unavailable", "count": 2}')" \
	-- int "SELECT count(*) FROM t"
is "$out" "changes 1
3" "d1: a write answered 429 is retried and runs once; a read answered 503 twice is retried"
is "$(reqs | python3 -c 'import json,sys; print(sum(1 for x in json.load(sys.stdin) if x["path"].endswith("/raw")))')" 6 \
	"d1: 1 request for the open check, 2 for the write, 3 for the read"
p -b "$base" "$d1url" sh "$(fault_cmd '{"status": 502, "body": "bad gateway", "count": 1}')" \
	-- exec "INSERT INTO t (id, name) VALUES (?, ?)" i:4 s:four
contains "$out" "error: d1: raw: HTTP 502" "d1: a write answered 5xx is not retried (it may have run)"
p -b "$base" "$d1url" sh "$(fault_cmd '{"malformed": true, "count": 1}')" \
	-- query "SELECT * FROM t"
is "$rc" 1 "d1: a malformed answer fails the call"
contains "$out" "error: d1: raw: " "d1: and the error names the request"
p -b "$base" "$d1url" exec "INSERT INTO t (id) VALUES (10); DROP TABLE t"
contains "$out" "d1: one statement per call" "d1: a second statement in one call is refused"
p -b "$base" "$d1url" exec "SELECT * FROM nosuch"
is "$out" "error: d1: raw: HTTP 400: no such table: nosuch: SQLITE_ERROR (code 7500)" \
	"d1: an SQL error comes from D1's error envelope"
p -b "$base" "$d1url" exec "SELECT ?" "s:a" "s:b"
contains "$out" "d1: raw: HTTP 400" "d1: too many parameters are refused by the API"
DB_PROBE_TOKEN=wrong-token-$$
p -b "$base" "$d1url" tables
is "$out" "error: d1: $d1url: raw: HTTP 403: Authentication error (code 10000)" \
	"d1: a wrong token: authentication error at open"
DB_PROBE_TOKEN=
p -b "$base" "$d1url" tables
is "$out" "error: d1: $d1url: no API token given (a secret option)" "d1: no token: a clear error"

# --- no secret anywhere ------------------------------------------------------------------
is "$(grep -c -e "$token" "$all")" 0 "the D1 token appears in no output"
if [ $pg_started -eq 1 ]; then
	is "$(grep -c -e "$PG_PASSWORD" "$all")" 0 "the PostgreSQL password appears in no output"
else
	ok "# SKIP postgresql: $pg_skip"
fi
is "$(grep -c -e hunter2 "$all")" 0 "a password in a bad URL appears in no output"
plan_done
