"""Shared base of the vendor fakes in tests/fakes/ (Python standard library only).

Every fake is started by a test as `python3 FAKE.py PORTFILE [options]`. It listens on
127.0.0.1 on a free port and writes that port to PORTFILE (atomically) once it accepts
connections. It serves its vendor's routes (the subclass's `route`) plus a control API under
/_fake/, which is never part of any vendor API:

  POST /_fake/fault   queue a fault (JSON body), applied to the next matching requests:
        {"status": 429,                     answer this status instead of the route's
         "headers": {"Retry-After": "1"},   with these headers
         "body": "Retry later",             and this body (a string sent as is, or JSON)
         "delay_ms": 1500,                  sleep before answering (a slow answer)
         "malformed": true,                 answer 200 with a truncated JSON body
         "drop": true,                      close the connection without an answer
         "method": "PUT", "path": "/v1/x",  match only these (path: a prefix); default all
         "count": 2}                        for this many matching requests (default 1)
  GET  /_fake/requests   every request seen so far, in order, as a JSON array of
        {"method","path","query","headers":{lower-case: value},"body_len","body"}
        (body: text when it decodes as UTF-8 and is below 64 KiB, else null)
  POST /_fake/reset      forget requests, faults and the vendor state
  GET  /_fake/state      the vendor state as JSON (the subclass's `dump_state`)

A fault replaces the vendor's answer entirely; the request is still logged. Faults are
consumed in the order they were queued.
"""
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeState:
    """Requests and queued faults of one fake server; shared by every handler thread."""

    def __init__(self):
        self.lock = threading.RLock()
        self.requests = []
        self.faults = []

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f.get("method") and f["method"] != method:
                    continue
                if f.get("path") and not path.startswith(f["path"]):
                    continue
                f["count"] = f.get("count", 1) - 1
                if f["count"] <= 0:
                    self.faults.remove(f)
                return f
        return None


class Request:
    """One parsed request as a route sees it."""

    def __init__(self, handler, body):
        u = urlsplit(handler.path)
        self.method = handler.command
        self.raw_path = handler.path
        self.path = u.path
        self.query = parse_qs(u.query, keep_blank_values=True)
        self.headers = {k.lower(): v for k, v in handler.headers.items()}
        self.body = body
        self.handler = handler

    def arg(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    def json(self):
        """The body as JSON, or None when it is not valid JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


class Response:
    def __init__(self, status=200, body=b"", headers=None, content_type="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        if content_type and "Content-Type" not in self.headers:
            self.headers["Content-Type"] = content_type


def json_response(obj, status=200, headers=None):
    return Response(status, obj, headers)


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                line = self.rfile.readline().strip()
                n = int(line.split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline().strip():
                        pass
                    return bytes(out)
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, resp):
        try:
            self.send_response(resp.status)
            for k, v in resp.headers.items():
                self.send_header(k, v)
            body = b"" if self.command == "HEAD" else resp.body
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout and cancel tests)

    def _control(self, req):
        st = self.server.fake
        if req.path == "/_fake/fault" and req.method == "POST":
            f = req.json()
            if not isinstance(f, dict):
                return json_response({"error": "fault must be a JSON object"}, 400)
            with st.lock:
                st.faults.append(f)
            return json_response({"queued": len(st.faults)})
        if req.path == "/_fake/requests":
            with st.lock:
                return json_response(list(st.requests))
        if req.path == "/_fake/reset" and req.method == "POST":
            with st.lock:
                st.requests.clear()
                st.faults.clear()
                self.server.app.reset()
            return json_response({})
        if req.path == "/_fake/state":
            with st.lock:
                return json_response(self.server.app.dump_state())
        return json_response({"error": "unknown control route"}, 404)

    def handle_any(self):
        body = self._read_body()
        req = Request(self, body)
        if req.path.startswith("/_fake/"):
            return self._send(self._control(req))
        st = self.server.fake
        text = None
        if len(body) < 65536:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        with st.lock:
            st.requests.append({"method": req.method, "path": req.path,
                                "query": {k: v[0] for k, v in req.query.items()},
                                "headers": req.headers, "body_len": len(body), "body": text,
                                "peer_port": self.client_address[1]})
        f = st.take_fault(req.method, req.path)
        if f:
            if f.get("delay_ms"):
                time.sleep(f["delay_ms"] / 1000)
            if f.get("drop"):
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if f.get("malformed"):
                return self._send(Response(200, b'{"truncated": [1, 2'))
            if "status" in f:
                b = f.get("body", "")
                ctype = "application/json" if isinstance(b, (dict, list)) else "text/plain"
                return self._send(Response(f["status"], b, f.get("headers"), ctype))
        try:
            resp = self.server.app.route(req)
        except Exception as e:  # a bug in the fake must be visible, not a hang
            resp = json_response({"fake_bug": repr(e)}, 599)
        self._send(resp)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


class FakeApp:
    """A vendor's routes and state. Subclasses override route(), reset(), dump_state()."""

    def route(self, req):
        return json_response({"error": "not found"}, 404)

    def reset(self):
        pass

    def dump_state(self):
        return {}


def serve(app, portfile, handler=FakeHandler):
    """Serves `app` on 127.0.0.1:free-port, writes the port to `portfile`, runs forever."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    srv.fake = FakeState()
    srv.app = app
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, portfile)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit("fakelib.py is a module; run one of the fakes")
