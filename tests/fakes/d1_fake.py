#!/usr/bin/env python3
"""Fake Cloudflare D1 REST API (api-contracts.md section 7) on a real SQLite database.

usage: d1_fake.py PORTFILE --db PATH [--account ID] [--database ID] [--token TOKEN]
                  [--export-active-polls N] [--export-poll-timeout S] [--typed-params]

Routes (base /client/v4 is optional: the client's base URL decides; both are served):
  POST /accounts/{account}/d1/database/{db}/query   {"sql","params"} or {"batch":[...]}
  POST /accounts/{account}/d1/database/{db}/raw     same, results as {"columns","rows"}
  POST /accounts/{account}/d1/database/{db}/export  polling export (section 7.2)
  GET  /_signed/{file}?X-Amz-...&X-Amz-Signature=S  the export file (plain GET, no auth)
plus the fakelib control API under /_fake/ (faults: 429, 5xx, slow, malformed, drop).

Faithful to the contract: Authorization must be exactly "Bearer TOKEN" (missing or
malformed: 400 code 6003; wrong: 403 code 10000); unknown account or database: 404 code
7404; SQL errors: HTTP 400 with {"success":false,"errors":[{"code":7500,"message":"MSG:
SQLITE_ERROR"}]}; BEGIN/COMMIT/SAVEPOINT refused (no transactions over REST); SQL over
100 KB, more than 100 params, or params that are not strings (or null) refused with 400
(--typed-params accepts numbers: open point 4); several ';'-separated statements run as one
batch (a transaction: all or nothing), one result each. Every answer carries the
Ratelimit and Ratelimit-Policy headers. While an export is active, queries fail with 503
(the database is unavailable while exporting). An export answers "active" for
--export-active-polls polls (default 2), then "complete" with a signed URL valid one hour;
an export not polled within --export-poll-timeout seconds (default 10) is cancelled and
then answers "error". /_fake/state: {"tables": {name: rows}, "exports": [...],
"polls": N}; /_fake/reset forgets requests, faults and exports, and keeps the database.
"""
import argparse
import os
import re
import secrets
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib  # noqa: E402
from fakelib import Response, json_response  # noqa: E402

RATE_HEADERS = {"Ratelimit": '"default";r=50;t=30', "Ratelimit-Policy": '"burst";q=100;w=60'}
TXN_RE = re.compile(r"^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


def envelope(result, status=200):
    return json_response({"success": True, "errors": [], "messages": [], "result": result},
                         status, RATE_HEADERS)


def failure(status, code, message, chain=None):
    err = {"code": code, "message": message}
    if chain:
        err["error_chain"] = chain
    return json_response({"success": False, "errors": [err], "messages": [], "result": None},
                         status, RATE_HEADERS)


def split_statements(sql):
    """The statements of `sql`, split where SQLite would end them."""
    out, cur = [], ""
    for piece in re.split(r"(;)", sql):
        cur += piece
        if piece == ";" and sqlite3.complete_statement(cur):
            if cur.strip().strip(";").strip():
                out.append(cur.strip())
            cur = ""
    if cur.strip():
        out.append(cur.strip())  # D1 runs a last statement without ';' too
    return out


class D1App(fakelib.FakeApp):
    def __init__(self, opts):
        self.opts = opts
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.exports = {}  # bookmark -> export record
            self.files = {}    # file name -> (signature, bytes)
            self.polls = 0
            self.counter = 0

    def dump_state(self):
        con = sqlite3.connect(self.opts.db)
        try:
            names = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name")]
            tables = {n: con.execute('SELECT count(*) FROM "%s"' % n.replace('"', '""'))
                      .fetchone()[0] for n in names}
        finally:
            con.close()
        return {"tables": tables, "polls": self.polls,
                "exports": [{"bookmark": b, "status": e["status"], "polls": e["polls"]}
                            for b, e in self.exports.items()]}

    # -- routing ------------------------------------------------------------------------
    def route(self, req):
        if req.path.startswith("/_signed/"):
            return self.download(req)
        m = re.match(r"^(?:/client/v4)?/accounts/([^/]+)/d1/database/([^/]+)/(query|raw|export)$",
                     req.path)
        if not m:
            return failure(404, 7000, "No route for that URI")
        auth = req.headers.get("authorization")
        if not auth or not auth.startswith("Bearer ") or not auth[7:].strip():
            return failure(400, 6003, "Invalid request headers",
                           [{"code": 6111, "message": "Invalid format for Authorization header"}])
        if auth != "Bearer " + self.opts.token:
            return failure(403, 10000, "Authentication error")
        account, database, action = m.groups()
        if account != self.opts.account:
            return failure(403, 10000, "Authentication error")
        if database != self.opts.database:
            return failure(404, 7404, "The database %s could not be found" % database)
        if req.method != "POST":
            return failure(405, 10405, "Method not allowed")
        body = req.json()
        if not isinstance(body, dict):
            return failure(400, 7400, "The request is malformed: the body is not a JSON object")
        if action == "export":
            return self.export(req, body)
        return self.query(body, raw=action == "raw")

    # -- query / raw --------------------------------------------------------------------
    def exporting(self):
        self.expire_exports()
        return any(e["status"] == "active" for e in self.exports.values())

    def query(self, body, raw):
        if "batch" in body:
            items = body["batch"]
            if not isinstance(items, list) or not items:
                return failure(400, 7400, "The request is malformed: batch must be a non-empty array")
        else:
            items = [body]
        work = []
        for it in items:
            if not isinstance(it, dict) or not isinstance(it.get("sql"), str):
                return failure(400, 7400, "The request is malformed: sql must be a string")
            sql, params = it["sql"], it.get("params", [])
            if len(sql.encode()) > 100 * 1024:
                return failure(400, 7500, "Statement too long: SQLITE_TOOBIG")
            if not isinstance(params, list):
                return failure(400, 7400, "The request is malformed: params must be an array")
            if len(params) > 100:
                return failure(400, 7500, "too many SQL variables: SQLITE_ERROR")
            for p in params:
                ok = p is None or isinstance(p, str) or (
                    self.opts.typed_params and isinstance(p, (int, float)) and not isinstance(p, bool))
                if not ok:
                    return failure(400, 7400, "The request is malformed: params must be strings")
            stmts = split_statements(sql)
            if not stmts:
                return failure(400, 7500, "No SQL statements detected.")
            if params and len(stmts) > 1:
                return failure(400, 7500, "params given for several statements: SQLITE_ERROR")
            for s in stmts:
                if TXN_RE.match(s):
                    return failure(400, 7500, "To execute a transaction, please use the "
                                   "state.storage.transaction() or state.storage.transactionSync() "
                                   "APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
                                   "statements: SQLITE_AUTH")
                work.append((s, params))
        with self.lock:
            if self.exporting():
                return failure(503, 7500, "D1_ERROR: the database is being exported and is "
                               "unavailable to queries")
            return self.run(work, raw)

    def run(self, work, raw):
        con = sqlite3.connect(self.opts.db, isolation_level=None)
        results = []
        try:
            con.execute("BEGIN")
            for sql, params in work:
                t0 = time.monotonic()
                before = con.total_changes
                try:
                    cur = con.execute(sql, params)
                except sqlite3.Error as e:
                    con.execute("ROLLBACK")
                    code = getattr(e, "sqlite_errorname", "SQLITE_ERROR")
                    return failure(400, 7500, "%s: %s" % (e, code))
                cols = [d[0] for d in cur.description] if cur.description else []
                rows = cur.fetchall()
                changes = con.total_changes - before
                meta = {"changed_db": changes > 0, "changes": changes,
                        "duration": round((time.monotonic() - t0) * 1000, 3),
                        "last_row_id": cur.lastrowid or 0, "rows_read": len(rows),
                        "rows_written": changes, "size_after": os.path.getsize(self.opts.db),
                        "served_by_region": "WEUR", "served_by_primary": True,
                        "timings": {"sql_duration_ms": 0.27}}
                if raw:
                    res = {"columns": cols, "rows": [list(map(jsonable, r)) for r in rows]}
                else:
                    res = [dict(zip(cols, map(jsonable, r))) for r in rows]
                results.append({"success": True, "results": res, "meta": meta})
            con.execute("COMMIT")
        finally:
            con.close()
        return envelope(results)

    # -- export ---------------------------------------------------------------------------
    def expire_exports(self):
        now = time.monotonic()
        for e in self.exports.values():
            if e["status"] == "active" and now - e["last_poll"] > self.opts.export_poll_timeout:
                e["status"] = "error"
                e["error"] = "Export cancelled: it was not polled continually"

    def export(self, req, body):
        if body.get("output_format") != "polling":
            return failure(400, 7400, "The request is malformed: output_format must be \"polling\"")
        with self.lock:
            self.polls += 1
            self.expire_exports()
            bm = body.get("current_bookmark")
            if bm is None:
                if any(e["status"] == "active" for e in self.exports.values()):
                    return failure(409, 7500, "An export is already in progress")
                self.counter += 1
                bm = "%08x-%08x-%08x-%s" % (1, self.counter, 0x4F7C, secrets.token_hex(16))
                self.exports[bm] = {"status": "active", "polls": 0, "last_poll": time.monotonic(),
                                    "left": self.opts.export_active_polls, "error": None,
                                    "dump_options": body.get("dump_options")}
            e = self.exports.get(bm)
            if e is None:
                return failure(400, 7500, "Unknown bookmark %s" % bm)
            e["polls"] += 1
            e["last_poll"] = time.monotonic()
            base = {"success": True, "type": "export", "at_bookmark": bm}
            if e["status"] == "error":
                return envelope(dict(base, status="error", error=e["error"], messages=[]))
            if e["left"] > 0:
                e["left"] -= 1
                return envelope(dict(base, status="active", error=None,
                                     messages=["Uploaded part %d" % e["polls"]]))
            if e["status"] == "active":
                e["status"] = "complete"
                name = "%s-%s.sql" % (self.opts.database, bm[:26])
                sig = secrets.token_hex(32)
                self.files[name] = (sig, self.dump_sql())
                e["file"] = name
            name = e["file"]
            sig = self.files[name][0]
            host = req.headers.get("host", "127.0.0.1")
            url = ("http://%s/_signed/%s?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600"
                   "&X-Amz-SignedHeaders=host&X-Amz-Signature=%s" % (host, name, sig))
            return envelope(dict(base, status="complete", error=None, messages=[],
                                 result={"filename": name, "signed_url": url}))

    def dump_sql(self):
        """The export file: D1's form, statements without a transaction around them."""
        con = sqlite3.connect(self.opts.db)
        try:
            lines = ["PRAGMA defer_foreign_keys=TRUE;"]
            for line in con.iterdump():
                if line in ("BEGIN TRANSACTION;", "COMMIT;"):
                    continue
                lines.append(line)
        finally:
            con.close()
        return ("\n".join(lines) + "\n").encode()

    def download(self, req):
        name = req.path[len("/_signed/"):]
        if req.method != "GET":
            return Response(405, "<Error><Code>MethodNotAllowed</Code></Error>",
                            content_type="application/xml")
        if "authorization" in req.headers:
            # S3 refuses a presigned URL sent with an Authorization header as well.
            return Response(400, "<Error><Code>InvalidArgument</Code><Message>Only one auth "
                            "mechanism allowed</Message></Error>", content_type="application/xml")
        f = self.files.get(name)
        if not f or req.arg("X-Amz-Signature") != f[0]:
            return Response(403, "<Error><Code>SignatureDoesNotMatch</Code></Error>",
                            content_type="application/xml")
        return Response(200, f[1], content_type="application/sql")


def jsonable(v):
    if isinstance(v, bytes):
        return list(v)  # D1 returns BLOBs as arrays of bytes
    return v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("portfile")
    ap.add_argument("--db", required=True)
    ap.add_argument("--account", default="0123456789abcdef0123456789abcdef")
    ap.add_argument("--database", default="4d3c2b1a-0000-4000-8000-000000000001")
    ap.add_argument("--token", default="d1-test-token")
    ap.add_argument("--export-active-polls", type=int, default=2)
    ap.add_argument("--export-poll-timeout", type=float, default=10.0)
    ap.add_argument("--typed-params", action="store_true")
    opts = ap.parse_args()
    sqlite3.connect(opts.db).close()
    fakelib.serve(D1App(opts), opts.portfile)


if __name__ == "__main__":
    main()
