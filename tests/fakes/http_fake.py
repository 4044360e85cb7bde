#!/usr/bin/env python3
"""Fake of the listing APIs the SDK's http service walks (tests/integration/sdk_http.sh).

usage: http_fake.py PORTFILE [--items N] [--kit-key K] [--cal-key K] [--google-token T]

Routes (besides fakelib's /_fake/ control API, see fakelib.py):
  ANY  /echo...                  200 {"method","path","query","headers","body"}
  GET  /v4/subscribers           Kit v4 (api-contracts.md §2): X-Kit-Api-Key must equal the
                                 key (else 401 {"errors":["The access token is invalid"]});
                                 per_page (1-1000, default 500), after/before opaque base64
                                 cursors, sort_order (desc default, asc); a bare text 429
                                 "Retry later" is a fault: {"status":429,"body":"Retry later"}
  GET  /v2/bookings              Cal.com v2 (§1.3): Authorization: Bearer KEY and
                                 cal-api-version: 2024-08-13 (another value: the old shape);
                                 take 1-250 (default 100), skip >= 0; X-RateLimit-* headers
  GET  /calendar/v3/calendars/ID/events
                                 Google (§5.1): Authorization: Bearer TOKEN; maxResults
                                 (1-2500, default 250), pageToken from nextPageToken; the last
                                 page carries nextSyncToken instead
  POST /_fake/config             {"items": N, "throttle": [K, ...], "cal_reset": "S"}:
                                 the size of every listing (also --items); the listing
                                 requests (counted from 1 since the last reset, all three
                                 listings together) that get the vendor's own 429 instead:
                                 Kit a bare text "Retry later" with no header, Cal.com a
                                 ThrottlerException with X-RateLimit-Remaining-Default: 0 and
                                 X-RateLimit-Reset-Default: cal_reset (default "1"), Google
                                 a rateLimitExceeded error with no header
Item ids run 1..N in every listing (Google's are strings "ev0001"...).
"""
import base64
import json
import sys
import threading

sys.path.insert(0, __import__("os").path.dirname(__file__))
from fakelib import FakeApp, FakeHandler, Response, json_response, serve  # noqa: E402

CAL_VERSION = "2024-08-13"


def b64(obj):
    return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


def unb64(s):
    try:
        return json.loads(base64.b64decode(s.encode(), validate=True))
    except (ValueError, TypeError):
        return None


def int_arg(req, name, default, lo, hi):
    """The integer query parameter `name`, or None when it is not one in [lo, hi]."""
    v = req.arg(name)
    if v is None:
        return default
    try:
        n = int(v)
    except ValueError:
        return None
    return n if lo <= n <= hi else None


class ListingApp(FakeApp):
    def __init__(self, items, kit_key, cal_key, google_token):
        self.items = items
        self.kit_key = kit_key
        self.cal_key = cal_key
        self.google_token = google_token
        self.calls = 0
        self.listing_calls = 0
        self.throttle = set()
        self.cal_reset = "1"
        self.lock = threading.Lock()

    def reset(self):
        self.calls = 0
        self.listing_calls = 0
        self.throttle = set()
        self.cal_reset = "1"

    def dump_state(self):
        return {"items": self.items, "calls": self.calls, "listing_calls": self.listing_calls,
                "throttle": sorted(self.throttle)}

    def throttled(self):
        """Counts one listing request; True when it must get the vendor's 429."""
        with self.lock:
            self.listing_calls += 1
            return self.listing_calls in self.throttle

    def route(self, req):
        self.calls += 1
        if req.path.startswith("/echo"):
            return json_response({"method": req.method, "path": req.path,
                                  "query": {k: v[0] for k, v in req.query.items()},
                                  "headers": req.headers,
                                  "body": req.body.decode("utf-8", "replace")})
        if req.path == "/v4/subscribers" and req.method == "GET":
            return self.kit(req)
        if req.path == "/v2/bookings" and req.method == "GET":
            return self.cal(req)
        if (req.path.startswith("/calendar/v3/calendars/") and req.path.endswith("/events")
                and req.method == "GET"):
            return self.google(req)
        return json_response({"error": "not found"}, 404)

    # Kit v4 -----------------------------------------------------------------------------
    def kit(self, req):
        if req.headers.get("x-kit-api-key") != self.kit_key:
            return json_response({"errors": ["The access token is invalid"]}, 401)
        if self.throttled():
            return Response(429, "Retry later", content_type="text/plain")
        per_page = int_arg(req, "per_page", 500, 1, 1000)
        if per_page is None:
            return json_response({"errors": ["per_page must be between 1 and 1000"]}, 422)
        order = req.arg("sort_order", "desc")
        if order not in ("asc", "desc"):
            return json_response({"errors": ["sort_order must be asc or desc"]}, 422)
        ids = list(range(1, self.items + 1))
        if order == "desc":
            ids.reverse()
        start = 0
        for name in ("after", "before"):
            c = req.arg(name)
            if c is None:
                continue
            d = unb64(c)
            if not (isinstance(d, list) and len(d) == 1 and d[0] in ids):
                return json_response({"errors": ["Cursor is invalid"]}, 422)
            pos = ids.index(d[0])
            start = pos + 1 if name == "after" else max(0, pos - per_page)
        page = ids[start:start + per_page]
        subs = [{"id": i, "first_name": None if i % 3 == 0 else "Sub %d" % i,
                 "email_address": "sub%d@example.com" % i, "state": "active",
                 "created_at": "2023-01-27T11:43:55Z", "fields": {}} for i in page]
        return json_response({"subscribers": subs, "pagination": {
            "has_previous_page": start > 0,
            "has_next_page": start + per_page < len(ids),
            "start_cursor": b64([page[0]]) if page else None,
            "end_cursor": b64([page[-1]]) if page else None,
            "per_page": per_page}})

    # Cal.com v2 -------------------------------------------------------------------------
    def cal_error(self, req, status, code, message):
        return json_response({"status": "error", "timestamp": "2025-03-03T08:00:00.000Z",
                              "path": req.raw_path,
                              "error": {"code": code, "message": message}}, status)

    def cal(self, req):
        if req.headers.get("authorization") != "Bearer " + self.cal_key:
            return self.cal_error(req, 401, "UnauthorizedException", "Invalid API Key")
        if self.throttled():
            r = self.cal_error(req, 429, "ThrottlerException",
                               "ThrottlerException: Too Many Requests")
            r.headers.update({"X-RateLimit-Limit-Default": "120",
                              "X-RateLimit-Remaining-Default": "0",
                              "X-RateLimit-Reset-Default": self.cal_reset})
            return r
        take = int_arg(req, "take", 100, 1, 250)
        skip = int_arg(req, "skip", 0, 0, 1 << 31)
        if take is None or skip is None:
            return self.cal_error(req, 400, "BadRequestException",
                                  "take must be 1-250 and skip >= 0")
        rows = [{"id": i, "uid": "uid%d" % i, "title": "Booking %d" % i, "status": "accepted",
                 "start": "2025-03-10T13:30:00.000Z", "end": "2025-03-10T14:00:00.000Z"}
                for i in range(skip + 1, min(self.items, skip + take) + 1)]
        headers = {"X-RateLimit-Limit-Default": "120", "X-RateLimit-Remaining-Default": "119",
                   "X-RateLimit-Reset-Default": "60"}
        if req.headers.get("cal-api-version") != CAL_VERSION:
            # the real API silently answers the older shape: a client must notice
            return json_response({"status": "success", "data": {"bookings": rows}},
                                 headers=headers)
        total = self.items
        return json_response({"status": "success", "data": rows, "pagination": {
            "totalItems": total, "remainingItems": max(0, total - skip - len(rows)),
            "returnedItems": len(rows), "itemsPerPage": take,
            "currentPage": skip // take + 1, "totalPages": (total + take - 1) // take,
            "hasNextPage": skip + len(rows) < total, "hasPreviousPage": skip > 0}},
            headers=headers)

    # Google Calendar --------------------------------------------------------------------
    def google_error(self, status, reason, message):
        return json_response({"error": {"errors": [{"domain": "global", "reason": reason,
                                                    "message": message}],
                                        "code": status, "message": message}}, status)

    def google(self, req):
        if req.headers.get("authorization") != "Bearer " + self.google_token:
            return self.google_error(401, "authError", "Invalid Credentials")
        if self.throttled():
            return self.google_error(429, "rateLimitExceeded", "Rate Limit Exceeded")
        size = int_arg(req, "maxResults", 250, 1, 2500)
        if size is None:
            return self.google_error(400, "invalid", "Invalid value for maxResults")
        start = 0
        tok = req.arg("pageToken")
        if tok is not None:
            d = unb64(tok)
            if not (isinstance(d, dict) and isinstance(d.get("o"), int)):
                return self.google_error(400, "invalid", "Invalid page token value.")
            start = d["o"]
        ids = list(range(start + 1, min(self.items, start + size) + 1))
        body = {"kind": "calendar#events", "summary": "owner@example.com",
                "timeZone": "Europe/Paris",
                "items": [{"kind": "calendar#event", "id": "ev%04d" % i, "status": "confirmed"}
                          for i in ids]}
        if start + size < self.items:
            body["nextPageToken"] = b64({"o": start + size})
        else:
            body["nextSyncToken"] = b64({"sync": self.items})
        return json_response(body)


class Handler(FakeHandler):
    def _control(self, req):
        if req.path == "/_fake/config" and req.method == "POST":
            cfg = req.json()
            app = self.server.app
            if not isinstance(cfg, dict):
                return json_response({"error": "want a JSON object"}, 400)
            with self.server.fake.lock:
                if isinstance(cfg.get("items"), int):
                    app.items = cfg["items"]
                if isinstance(cfg.get("throttle"), list):
                    app.throttle = set(cfg["throttle"])
                if isinstance(cfg.get("cal_reset"), str):
                    app.cal_reset = cfg["cal_reset"]
                return json_response(app.dump_state())
        return super()._control(req)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    opts = {"--items": "25", "--kit-key": "kit_test_key", "--cal-key": "cal_test_key",
            "--google-token": "ya29.test"}
    rest = argv[2:]
    while rest:
        if rest[0] not in opts or len(rest) < 2:
            sys.exit("http_fake.py: unknown option %s" % rest[0])
        opts[rest[0]] = rest[1]
        rest = rest[2:]
    app = ListingApp(int(opts["--items"]), opts["--kit-key"], opts["--cal-key"],
                     opts["--google-token"])
    serve(app, argv[1], Handler)


if __name__ == "__main__":
    main(sys.argv)
