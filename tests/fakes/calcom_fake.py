#!/usr/bin/env python3
"""Cal.com API v2 fake (api-contracts §1) for the randomizer and slotwatch tests.

usage: calcom_fake.py PORTFILE [--api-key KEY] [--rate-limit N] [--reset-unit seconds|unix]
                               [--now ISO8601]

Routes (base URL http://127.0.0.1:PORT, paths as the real API: /v2/…):
  GET    /v2/slots            cal-api-version 2024-09-04; public (a wrong key is still 401);
                              eventTypeId=ID or eventTypeSlug=S&username=U; start, end (ISO
                              or date only), timeZone, slotFormat=range
  GET    /v2/schedules[/default|/ID], POST /v2/schedules, PATCH/DELETE /v2/schedules/ID
                              cal-api-version 2024-06-11; Bearer KEY required; PATCH replaces
                              `overrides` and `availability` wholesale when present
  GET    /v2/bookings         cal-api-version 2024-08-13; Bearer KEY; take (1-250)/skip with
                              the contract's pagination block
A missing or other cal-api-version on slots or schedules answers 404 as the versioned router
does ("Cannot GET /v2/slots"); on bookings it falls back to an older shape
({"bookings": […]} without pagination), as the contract warns.
Every answer carries X-RateLimit-{Limit,Remaining,Reset}-Default; more than N requests in 60 s
(--rate-limit, default 120) answer 429 ThrottlerException until the window passes.

Fake-only control routes (besides fakelib's /_fake/…):
  POST /_cal/event-types  {"id","slug","username","length","scheduleId"}  add an event type
  POST /_cal/schedules    a Schedule object (with "id")                     add a schedule
  POST /_cal/booked       {"eventTypeId","start"} a booking taking that slot (it disappears
                          from /v2/slots); DELETE /_cal/booked with the same body frees it
  POST /_cal/bookings     a booking object for /v2/bookings
  POST /_cal/now          {"now": ISO8601}: slots before it are not offered
State (/_fake/state): schedules, event types, booked slots.
"""
import argparse
import datetime as dt
import re
import sys
import threading
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

sys.path.insert(0, __import__("os").path.dirname(__file__))
import fakelib  # noqa: E402
from fakelib import json_response  # noqa: E402

VERSIONS = {"slots": "2024-09-04", "schedules": "2024-06-11", "bookings": "2024-08-13"}
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def error(status, code, message, path):
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return json_response({"status": "error", "timestamp": now, "path": path,
                          "error": {"code": code, "message": message}}, status)


def iso_local(t, tz):
    s = t.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S.000%z")
    return s[:-2] + ":" + s[-2:]


def parse_instant(s, end=False):
    """ISO 8601 instant, or a date (00:00:00Z, or 23:59:59Z for an end)."""
    if DATE.match(s):
        d = dt.datetime.strptime(s, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
        return d + dt.timedelta(hours=23, minutes=59, seconds=59) if end else d
    t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError("no offset")
    return t


class CalApp(fakelib.FakeApp):
    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        self.schedules = {}
        self.event_types = {}
        self.booked = set()  # (eventTypeId, UTC ISO start)
        self.bookings = []
        self.hits = []
        self.now = parse_instant(self.args.now) if self.args.now else None
        self.next_id = 1000

    def dump_state(self):
        return {"schedules": list(self.schedules.values()),
                "event_types": list(self.event_types.values()),
                "booked": sorted("%s %s" % b for b in self.booked)}

    # ---- plumbing ----
    def rate_headers(self):
        now = time.monotonic()
        self.hits = [h for h in self.hits if now - h < 60]
        self.hits.append(now)
        oldest = self.hits[0]
        reset_s = max(1, int(60 - (now - oldest)))
        remaining = max(0, self.args.rate_limit - len(self.hits))
        reset = reset_s if self.args.reset_unit == "seconds" else int(time.time()) + reset_s
        hdrs = {"X-RateLimit-Limit-Default": str(self.args.rate_limit),
                "X-RateLimit-Remaining-Default": str(remaining),
                "X-RateLimit-Reset-Default": str(reset)}
        return hdrs, len(self.hits) > self.args.rate_limit

    def route(self, req):
        with self.lock:
            if req.path.startswith("/_cal/"):
                return self.control(req)
            hdrs, limited = self.rate_headers()
            resp = self.api(req) if not limited else error(
                429, "ThrottlerException", "ThrottlerException: Too Many Requests", req.raw_path)
            resp.headers.update(hdrs)
            return resp

    def auth(self, req, required):
        a = req.headers.get("authorization")
        if a is None:
            if required:
                return error(401, "UnauthorizedException", "No Authorization header", req.raw_path)
            return None
        if a != "Bearer " + self.args.api_key:
            return error(401, "UnauthorizedException", "Invalid API Key", req.raw_path)
        return None

    def api(self, req):
        p = req.path
        fam = ("slots" if p == "/v2/slots" else "schedules" if p.startswith("/v2/schedules")
               else "bookings" if p == "/v2/bookings" else None)
        if fam is None:
            return error(404, "NotFoundException", "Cannot %s %s" % (req.method, p), req.raw_path)
        version = req.headers.get("cal-api-version")
        if fam != "bookings" and version != VERSIONS[fam]:
            return error(404, "NotFoundException", "Cannot %s %s" % (req.method, p), req.raw_path)
        bad = self.auth(req, required=fam != "slots")
        if bad:
            return bad
        if fam == "slots":
            return self.slots(req) if req.method == "GET" else error(
                404, "NotFoundException", "Cannot %s %s" % (req.method, p), req.raw_path)
        if fam == "schedules":
            return self.schedules_api(req)
        return self.bookings_api(req, version == VERSIONS["bookings"])

    # ---- slots ----
    def ranges_for(self, sched, day):
        """Wall-clock [start, end) ranges of `sched` on `day` (a date)."""
        iso = day.isoformat()
        ov = [o for o in sched.get("overrides", []) if o["date"] == iso]
        if ov:
            return [(o["startTime"], o["endTime"]) for o in ov]
        name = DAYS[day.weekday()]
        return [(a["startTime"], a["endTime"]) for a in sched.get("availability", [])
                if name in a["days"]]

    def slots(self, req):
        et = None
        if req.arg("eventTypeId"):
            et = self.event_types.get(int(req.arg("eventTypeId"))) if req.arg(
                "eventTypeId").isdigit() else None
            if et is None:
                return error(404, "NotFoundException", "Event Type not found", req.raw_path)
        elif req.arg("eventTypeSlug"):
            user = req.arg("username")
            if not user:
                return error(400, "BadRequestException",
                             "username is required with eventTypeSlug", req.raw_path)
            if not any(e["username"] == user for e in self.event_types.values()):
                return error(404, "NotFoundException", "User with username %s not found" % user,
                             req.raw_path)
            et = next((e for e in self.event_types.values()
                       if e["username"] == user and e["slug"] == req.arg("eventTypeSlug")), None)
            if et is None:
                return error(404, "NotFoundException", "Event Type not found", req.raw_path)
        else:
            return error(400, "BadRequestException",
                         "eventTypeId or eventTypeSlug and username are required", req.raw_path)
        if not req.arg("start") or not req.arg("end"):
            return error(400, "BadRequestException", "start and end are required", req.raw_path)
        try:
            start = parse_instant(req.arg("start"))
            end = parse_instant(req.arg("end"), end=True)
        except ValueError:
            return error(400, "BadRequestException", "start and end must be ISO 8601 dates",
                         req.raw_path)
        try:
            out_tz = ZoneInfo(req.arg("timeZone", "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            return error(400, "BadRequestException", "Invalid timeZone", req.raw_path)
        sched = self.schedules.get(et["scheduleId"])
        data = {}
        if sched:
            tz = ZoneInfo(sched["timeZone"])
            length = dt.timedelta(minutes=et["length"])
            now = self.now or dt.datetime.now(dt.timezone.utc)
            day = start.astimezone(tz).date() - dt.timedelta(days=1)
            while day <= end.astimezone(tz).date() + dt.timedelta(days=1):
                for a, b in self.ranges_for(sched, day):
                    t = dt.datetime.combine(day, dt.time.fromisoformat(a), tz)
                    stop = dt.datetime.combine(day, dt.time.fromisoformat(b), tz)
                    while t + length <= stop:
                        key = (et["id"], t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
                        if start <= t <= end and t >= now and key not in self.booked:
                            item = {"start": iso_local(t, out_tz)}
                            if req.arg("slotFormat") == "range":
                                item["end"] = iso_local(t + length, out_tz)
                            data.setdefault(t.astimezone(out_tz).date().isoformat(), []).append(item)
                        t += length
                day += dt.timedelta(days=1)
        return json_response({"status": "success", "data": dict(sorted(data.items()))})

    # ---- schedules ----
    def validate_schedule(self, body, partial, path):
        if not isinstance(body, dict):
            return error(400, "BadRequestException", "body must be a JSON object", path)
        allowed = {"name", "timeZone", "isDefault", "availability", "overrides"}
        extra = set(body) - allowed
        if extra:
            return error(400, "BadRequestException",
                         "property %s should not exist" % sorted(extra)[0], path)
        if not partial:
            for k in ("name", "timeZone", "isDefault"):
                if k not in body:
                    return error(400, "BadRequestException", "%s must be provided" % k, path)
        if "timeZone" in body:
            try:
                ZoneInfo(body["timeZone"])
            except (ZoneInfoNotFoundError, ValueError, TypeError):
                return error(400, "BadRequestException", "Invalid timeZone", path)
        for a in body.get("availability", []) or []:
            if (not isinstance(a, dict) or not isinstance(a.get("days"), list)
                    or any(d not in DAYS for d in a["days"])
                    or not HHMM.match(str(a.get("startTime"))) or not HHMM.match(str(a.get("endTime")))):
                return error(400, "BadRequestException",
                             "availability: days must be Monday…Sunday and times HH:MM", path)
        for o in body.get("overrides", []) or []:
            if (not isinstance(o, dict) or not DATE.match(str(o.get("date")))
                    or not HHMM.match(str(o.get("startTime"))) or not HHMM.match(str(o.get("endTime")))):
                return error(400, "BadRequestException",
                             "overrides: date must be YYYY-MM-DD and times HH:MM", path)
            try:
                dt.date.fromisoformat(o["date"])
            except ValueError:
                return error(400, "BadRequestException", "overrides: invalid date", path)
        return None

    def schedules_api(self, req):
        parts = req.path.strip("/").split("/")  # v2 schedules [ID|default]
        if len(parts) == 2:
            if req.method == "GET":
                return json_response({"status": "success", "data": list(self.schedules.values())})
            if req.method == "POST":
                body = req.json()
                bad = self.validate_schedule(body, False, req.raw_path)
                if bad:
                    return bad
                self.next_id += 1
                s = dict(body, id=self.next_id, ownerId=1)
                s.setdefault("availability", [])
                s.setdefault("overrides", [])
                self.schedules[s["id"]] = s
                return json_response({"status": "success", "data": s}, 201)
        elif len(parts) == 3 and parts[2] == "default" and req.method == "GET":
            d = next((s for s in self.schedules.values() if s.get("isDefault")), None)
            return json_response({"status": "success", "data": d})
        elif len(parts) == 3:
            sid = int(parts[2]) if parts[2].isdigit() else None
            s = self.schedules.get(sid)
            if s is None:
                return error(404, "NotFoundException", "Schedule with id=%s not found" % parts[2],
                             req.raw_path)
            if req.method == "GET":
                return json_response({"status": "success", "data": s})
            if req.method == "PATCH":
                body = req.json()
                bad = self.validate_schedule(body, True, req.raw_path)
                if bad:
                    return bad
                for k, v in body.items():  # present keys replace, never merge
                    s[k] = v
                return json_response({"status": "success", "data": s})
            if req.method == "DELETE":
                del self.schedules[sid]
                return json_response({"status": "success"})
        return error(404, "NotFoundException", "Cannot %s %s" % (req.method, req.path), req.raw_path)

    # ---- bookings ----
    def bookings_api(self, req, current):
        if req.method != "GET":
            return error(404, "NotFoundException", "Cannot %s %s" % (req.method, req.path),
                         req.raw_path)
        items = sorted(self.bookings, key=lambda b: b["start"])
        if not current:
            return json_response({"status": "success", "data": {"bookings": items}})
        try:
            take = int(req.arg("take", "100"))
            skip = int(req.arg("skip", "0"))
        except ValueError:
            return error(400, "BadRequestException", "take and skip must be integers", req.raw_path)
        if not 1 <= take <= 250 or skip < 0:
            return error(400, "BadRequestException", "take must be 1-250 and skip >= 0", req.raw_path)
        page = items[skip:skip + take]
        total = len(items)
        return json_response({"status": "success", "data": page, "pagination": {
            "totalItems": total, "remainingItems": max(0, total - skip - len(page)),
            "returnedItems": len(page), "itemsPerPage": take, "currentPage": skip // take + 1,
            "totalPages": (total + take - 1) // take, "hasNextPage": skip + len(page) < total,
            "hasPreviousPage": skip > 0}})

    # ---- control ----
    def control(self, req):
        body = req.json() or {}
        if req.path == "/_cal/event-types" and req.method == "POST":
            self.event_types[int(body["id"])] = {
                "id": int(body["id"]), "slug": body["slug"], "username": body["username"],
                "length": int(body.get("length", 30)), "scheduleId": body.get("scheduleId")}
            return json_response({})
        if req.path == "/_cal/schedules" and req.method == "POST":
            s = dict(body)
            s.setdefault("availability", [])
            s.setdefault("overrides", [])
            self.schedules[int(s["id"])] = s
            return json_response({})
        if req.path == "/_cal/booked":
            t = parse_instant(body["start"]).astimezone(dt.timezone.utc)
            key = (int(body["eventTypeId"]), t.strftime("%Y-%m-%dT%H:%M:%SZ"))
            if req.method == "POST":
                self.booked.add(key)
            else:
                self.booked.discard(key)
            return json_response({})
        if req.path == "/_cal/bookings" and req.method == "POST":
            self.bookings.append(body)
            return json_response({})
        if req.path == "/_cal/now" and req.method == "POST":
            self.now = parse_instant(body["now"])
            return json_response({})
        return json_response({"error": "unknown control route"}, 404)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("portfile")
    ap.add_argument("--api-key", default="cal_live_test")
    ap.add_argument("--rate-limit", type=int, default=120)
    ap.add_argument("--reset-unit", choices=["seconds", "unix"], default="seconds")
    ap.add_argument("--now")
    fakelib.serve(CalApp(ap.parse_args()), ap.parse_args().portfile)


if __name__ == "__main__":
    main()
