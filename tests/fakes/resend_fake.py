"""Resend fake (api-contracts §4): POST /emails with the real service's auth, validation,
idempotency and rate-limit behaviour. Standard library only, on fakelib.

    python3 resend_fake.py PORTFILE [--api-key KEY] [--restricted-key KEY]
                                    [--domain DOMAIN]... [--rate N] [--daily-quota N]

--api-key        the only sending key accepted (default re_test_key)
--restricted-key a key that exists but may not send (401 restricted_api_key)
--domain         verified sender domains (default example.com); another sender's domain is
                 refused with 403 validation_error, as Resend does for unverified domains
--rate           requests per second per team (default 5): beyond it 429 rate_limit_exceeded
--daily-quota    emails per day (default unlimited): beyond it 429 daily_quota_exceeded

Every answer carries ratelimit-limit, ratelimit-remaining and ratelimit-reset; a 429 adds
retry-after. Idempotency-Key (1-256 characters): the same key with the same body answers the
first response again without sending a second email; the same key with another body is 409
invalid_idempotent_request. GET /_fake/state lists {"emails": [...]} sent, in order.
"""
import json
import re
import sys
import threading
import time
import uuid

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from fakelib import FakeApp, Response, json_response, serve  # noqa: E402

ADDR = re.compile(r"^[^\s<>@,;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
NAMED = re.compile(r"^[^<>]*<([^<>]+)>$")


def error(status, name, message, headers=None):
    return json_response({"statusCode": status, "message": message, "name": name}, status,
                         headers)


def address(value):
    """The bare address of "a@b.c" or "Name <a@b.c>", or None when malformed."""
    if not isinstance(value, str):
        return None
    m = NAMED.match(value.strip())
    addr = m.group(1).strip() if m else value.strip()
    return addr if ADDR.match(addr) else None


class ResendApp(FakeApp):
    def __init__(self, opts):
        self.opts = opts
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.emails = []
        self.idem = {}  # key -> (canonical body, status, response body)
        self.in_flight = set()
        self.window = []  # request times of the last second
        self.sent_today = 0

    def dump_state(self):
        return {"emails": list(self.emails)}

    def rate_headers(self, now):
        self.window = [t for t in self.window if now - t < 1.0]
        limit = self.opts["rate"]
        return {"ratelimit-limit": str(limit),
                "ratelimit-remaining": str(max(0, limit - len(self.window))),
                "ratelimit-reset": "1"}

    def route(self, req):
        if req.path.rstrip("/") != "/emails":
            return error(404, "not_found", "The requested endpoint does not exist.")
        if req.method != "POST":
            return error(405, "method_not_allowed", "Method is not allowed for the requested path.")
        # Resend sits behind Cloudflare: no User-Agent is refused before the API sees it.
        if not req.headers.get("user-agent"):
            return Response(403, "error code: 1010", content_type="text/plain")
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return error(401, "missing_api_key",
                         "Missing API key in the authorization header. Include the following "
                         "header Authorization: Bearer YOUR_API_KEY in the request.")
        key = auth[7:].strip()
        if self.opts["restricted"] and key == self.opts["restricted"]:
            return error(401, "restricted_api_key",
                         "This API key is restricted to only send emails")
        if key != self.opts["key"]:
            return error(403, "invalid_api_key", "API key is invalid")
        with self.lock:
            now = time.monotonic()
            hdrs = self.rate_headers(now)
            if len(self.window) >= self.opts["rate"]:
                hdrs["retry-after"] = "1"
                return error(429, "rate_limit_exceeded",
                             "Too many requests. You can only make %d requests per second. See "
                             "rate limit response headers for more information. Or contact "
                             "support to increase rate limit." % self.opts["rate"], hdrs)
            self.window.append(now)
            hdrs["ratelimit-remaining"] = str(max(0, self.opts["rate"] - len(self.window)))
            ikey = req.headers.get("idempotency-key")
            if ikey is not None:
                if not 1 <= len(ikey) <= 256:
                    return error(400, "invalid_idempotency_key",
                                 "The key must be between 1-256 chars.", hdrs)
                body = req.json()
                canon = json.dumps(body, sort_keys=True) if body is not None else req.body
                if ikey in self.in_flight:
                    return error(409, "concurrent_idempotent_requests",
                                 "Same idempotency key used while original request is still "
                                 "in progress.", hdrs)
                if ikey in self.idem:
                    first, status, resp = self.idem[ikey]
                    if first != canon:
                        return error(409, "invalid_idempotent_request",
                                     "Same idempotency key used with a different request "
                                     "payload. Change your idempotency key or payload.", hdrs)
                    return json_response(resp, status, hdrs)
                self.in_flight.add(ikey)
        try:
            status, resp = self.send(req)
        finally:
            if ikey is not None:
                with self.lock:
                    self.in_flight.discard(ikey)
        with self.lock:
            # Like Resend, only a processed request is remembered under its key: a refused
            # one may be corrected and sent again with the same key.
            if ikey is not None and status == 200:
                self.idem[ikey] = (canon, status, resp)
        return json_response(resp, status, hdrs)

    def send(self, req):
        """Validates and records one email; returns (status, body)."""
        body = req.json()
        if not isinstance(body, dict):
            return 422, {"statusCode": 422, "name": "invalid_parameter",
                         "message": "The request body is not valid JSON."}
        for field in ("from", "to", "subject"):
            if body.get(field) in (None, "", []):
                return 422, {"statusCode": 422, "name": "missing_required_field",
                             "message": "Missing `%s` field." % field}
        if not body.get("html") and not body.get("text") and not body.get("react"):
            return 422, {"statusCode": 422, "name": "missing_required_field",
                         "message": "Missing `html` or `text` field."}
        sender = address(body["from"])
        if not sender:
            return 422, {"statusCode": 422, "name": "validation_error",
                         "message": "Invalid `from` field. The email address needs to follow "
                                    "the `email@example.com` or `Name <email@example.com>` "
                                    "format."}
        to = body["to"] if isinstance(body["to"], list) else [body["to"]]
        if len(to) > 50:
            return 422, {"statusCode": 422, "name": "invalid_parameter",
                         "message": "Too many recipients: `to` takes at most 50."}
        if not all(address(a) for a in to):
            return 422, {"statusCode": 422, "name": "validation_error",
                         "message": "Invalid `to` field. The email address needs to follow "
                                    "the `email@example.com` or `Name <email@example.com>` "
                                    "format."}
        for f in ("subject", "html", "text"):
            if f in body and not isinstance(body[f], str):
                return 422, {"statusCode": 422, "name": "invalid_parameter",
                             "message": "Invalid `%s` field: expected a string." % f}
        domain = sender.rsplit("@", 1)[1].lower()
        if domain not in self.opts["domains"]:
            return 403, {"statusCode": 403, "name": "validation_error",
                         "message": "The %s domain is not verified. Please, add and verify your "
                                    "domain on https://resend.com/domains" % domain}
        quota = self.opts["quota"]
        with self.lock:
            if quota is not None and self.sent_today >= quota:
                return 429, {"statusCode": 429, "name": "daily_quota_exceeded",
                             "message": "You have reached your daily email sending quota."}
            self.sent_today += 1
            eid = str(uuid.uuid4())
            self.emails.append({"id": eid, "from": body["from"], "to": to,
                                "subject": body["subject"], "html": body.get("html"),
                                "text": body.get("text"),
                                "idempotency_key": req.headers.get("idempotency-key")})
        return 200, {"id": eid}


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    opts = {"key": "re_test_key", "restricted": None, "domains": [], "rate": 5, "quota": None}
    args = argv[2:]
    while args:
        a = args.pop(0)
        if not args:
            sys.exit("resend_fake: %s needs a value" % a)
        v = args.pop(0)
        if a == "--api-key":
            opts["key"] = v
        elif a == "--restricted-key":
            opts["restricted"] = v
        elif a == "--domain":
            opts["domains"].append(v.lower())
        elif a == "--rate":
            opts["rate"] = int(v)
        elif a == "--daily-quota":
            opts["quota"] = int(v)
        else:
            sys.exit("resend_fake: unknown option %s" % a)
    if not opts["domains"]:
        opts["domains"] = ["example.com"]
    serve(ResendApp(opts), argv[1])


if __name__ == "__main__":
    main(sys.argv)
