#!/usr/bin/env python3
"""Kit (ConvertKit) API v4 fake (api-contracts §2) for the backup plugin's tests.

usage: kit_fake.py PORTFILE --api-key KEY [--rate-limit N] [--subscribers N] [--tags N]

Routes (base URL http://127.0.0.1:PORT, paths as the real API):
  GET /v4/subscribers                 status (active by default, inactive, bounced,
                                      complained, cancelled, all), per_page (default 500,
                                      at most 1000), after/before (cursors), sort_field (id,
                                      updated_at, cancelled_at), sort_order (desc by default,
                                      asc), include_total_count, email_address
  GET /v4/tags                        per_page, after/before, include_total_count
  GET /v4/tags/{id}/subscribers       the same pagination + status (active by default);
                                      items carry tagged_at
Auth: X-Kit-Api-Key must be the key (or Authorization: Bearer KEY, the OAuth form), else
401 {"errors":["The access token is invalid"]}. Cursors are opaque (base64 of a JSON array
holding the last id); a cursor the fake did not issue is 422. More than N requests (default
120) in 60 s answer 429 with the plain-text body "Retry later" and no rate-limit header,
as Kit does. Unknown paths are 404 {"errors":["Not Found"]}.

Fake-only control routes (besides fakelib's /_fake/...):
  POST /_kit/seed {"subscribers": N, "tags": M}   deterministic data: ids 100, 103, 106...;
      states cycle active/inactive/bounced/complained/cancelled; every 7th first_name is null;
      tag k (ids 5, 6, ...) holds the subscribers whose index is a multiple of k + 2
State (/_fake/state): {"subscribers": N, "by_state": {...}, "tags": [{id, name, members}]}.
"""
import argparse
import base64
import binascii
import datetime as dt
import json
import re
import sys
import threading
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
import fakelib  # noqa: E402
from fakelib import Response, json_response  # noqa: E402

STATES = ["active", "inactive", "bounced", "complained", "cancelled"]
STATUSES = set(STATES) | {"all"}


def errors(status, *msgs):
    return json_response({"errors": list(msgs)}, status)


def iso(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cursor(i):
    return base64.b64encode(json.dumps([i]).encode()).decode()


def uncursor(c):
    try:
        v = json.loads(base64.b64decode(c, validate=True))
    except (binascii.Error, ValueError):
        return None
    if isinstance(v, list) and len(v) == 1 and isinstance(v[0], int):
        return v[0]
    return None


class Kit(fakelib.FakeApp):
    def __init__(self, key, rate_limit, n_subs, n_tags):
        self.key = key
        self.rate_limit = rate_limit
        self.lock = threading.Lock()
        self.hits = []
        self.seed(n_subs, n_tags)

    def seed(self, n_subs, n_tags):
        base = 1674820000
        self.subs = []
        for i in range(n_subs):
            self.subs.append({
                "id": 100 + 3 * i,
                "first_name": None if i % 7 == 0 else "Name%d" % i,
                "email_address": "user%d@example.com" % i,
                "state": STATES[i % len(STATES)],
                "created_at": iso(base + 3600 * i),
                "fields": {"category": "C%d" % (i % 3), "note": "quote \" and \\ and é"},
            })
        self.tags = []
        for k in range(n_tags):
            members = [(s, iso(base + 7200 * j)) for j, s in enumerate(self.subs)
                       if j % (k + 2) == 0]
            self.tags.append({"id": 5 + k, "name": "Tag %d" % k,
                              "created_at": iso(base + 86400 * k), "members": members})

    def reset(self):
        with self.lock:
            self.hits = []

    def dump_state(self):
        by = {}
        for s in self.subs:
            by[s["state"]] = by.get(s["state"], 0) + 1
        return {"subscribers": len(self.subs), "by_state": by,
                "tags": [{"id": t["id"], "name": t["name"], "members": len(t["members"])}
                         for t in self.tags]}

    def throttled(self):
        now = time.monotonic()
        with self.lock:
            self.hits = [h for h in self.hits if h > now - 60]
            if len(self.hits) >= self.rate_limit:
                return True
            self.hits.append(now)
        return False

    def authorized(self, req):
        if req.headers.get("x-kit-api-key") == self.key:
            return True
        return req.headers.get("authorization") == "Bearer " + self.key

    def paginate(self, req, items, key, item_of):
        """items: (id, object) in listing order; answers one page of them."""
        try:
            per_page = int(req.arg("per_page", "500"))
        except ValueError:
            return errors(422, "per_page must be an integer")
        if per_page < 1:
            return errors(422, "per_page must be at least 1")
        per_page = min(per_page, 1000)
        after, before = req.arg("after"), req.arg("before")
        ids = [i for i, _ in items]
        start, end = 0, len(items)
        if after is not None:
            a = uncursor(after)
            if a is None or a not in ids:
                return errors(422, "Invalid cursor")
            start = ids.index(a) + 1
        if before is not None:
            b = uncursor(before)
            if b is None or b not in ids:
                return errors(422, "Invalid cursor")
            end = ids.index(b)
            start = max(start, end - per_page) if after is None else start
        page = items[start:min(end, start + per_page)]
        pag = {"has_previous_page": start > 0,
               "has_next_page": start + len(page) < len(items),
               "start_cursor": cursor(page[0][0]) if page else None,
               "end_cursor": cursor(page[-1][0]) if page else None,
               "per_page": per_page}
        if req.arg("include_total_count") == "true":
            pag["total_count"] = len(items)
        return json_response({key: [item_of(o) for _, o in page], "pagination": pag})

    def route(self, req):
        if req.method != "GET" or not req.path.startswith("/v4/"):
            return errors(404, "Not Found")
        if not self.authorized(req):
            return errors(401, "The access token is invalid")
        if self.throttled():
            return Response(429, "Retry later", content_type="text/plain")
        status = req.arg("status", "active")
        if status not in STATUSES:
            return errors(422, "status is not included in the list")
        if req.path == "/v4/subscribers":
            field = req.arg("sort_field", "id")
            order = req.arg("sort_order", "desc")
            if field not in ("id", "updated_at", "cancelled_at") or order not in ("asc", "desc"):
                return errors(422, "sort_field or sort_order is not included in the list")
            if field == "cancelled_at" and status != "cancelled":
                return errors(422, "The status param must be `cancelled` if sort_field is "
                              "`cancelled_at`")
            subs = [s for s in self.subs if status == "all" or s["state"] == status]
            if req.arg("email_address"):
                subs = [s for s in subs if s["email_address"] == req.arg("email_address")]
            subs = sorted(subs, key=lambda s: s["id"], reverse=order == "desc")
            return self.paginate(req, [(s["id"], s) for s in subs], "subscribers", dict)
        if req.path == "/v4/tags":
            return self.paginate(req, [(t["id"], t) for t in self.tags], "tags",
                                 lambda t: {k: t[k] for k in ("id", "name", "created_at")})
        m = re.fullmatch(r"/v4/tags/(\d+)/subscribers", req.path)
        if m:
            tag = next((t for t in self.tags if t["id"] == int(m.group(1))), None)
            if tag is None:
                return errors(404, "Not Found")
            mem = [(s["id"], dict(s, tagged_at=at)) for s, at in tag["members"]
                   if status == "all" or s["state"] == status]
            return self.paginate(req, mem, "subscribers", dict)
        return errors(404, "Not Found")


class Handler(fakelib.FakeHandler):
    def handle_any(self):
        if self.path.startswith("/_kit/seed") and self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(n) or b"{}")
            self.server.app.seed(int(body.get("subscribers", 0)), int(body.get("tags", 0)))
            return self._send(json_response({}))
        return super().handle_any()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("portfile")
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--rate-limit", type=int, default=120)
    ap.add_argument("--subscribers", type=int, default=0)
    ap.add_argument("--tags", type=int, default=0)
    a = ap.parse_args()
    fakelib.serve(Kit(a.api_key, a.rate_limit, a.subscribers, a.tags), a.portfile, Handler)


if __name__ == "__main__":
    main()
