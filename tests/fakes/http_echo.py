#!/usr/bin/env python3
"""A fake HTTP server for the http plugin's tests.

usage: http_echo.py PORTFILE LOGFILE
Listens on 127.0.0.1 on a free port, writes the port to PORTFILE once ready, and appends
one JSON line per request to LOGFILE: {"method","path","headers":{lower-case name: value},
"body"}, and rewrites LOGFILE.last with the last request as plain lines a shell test can grep:
"method M", "path P", "body B", then "name: value" per header (names in lower case). Routes:
  /status/NNN          answers NNN
  /flaky/NAME/K[/RA]   answers 503 (with Retry-After: RA when given) to the first K
                       requests for NAME, then 200
  /slow/MS             answers 200 after MS milliseconds
  anything else        answers 200 with the request as JSON
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        rec = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }
        with lock:
            with open(sys.argv[2], "a") as f:
                f.write(json.dumps(rec) + "\n")
            with open(sys.argv[2] + ".last.tmp", "w") as f:
                f.write("method %s\npath %s\nbody %s\n" % (self.command, self.path, body))
                for k, v in rec["headers"].items():
                    f.write("%s: %s\n" % (k, v))
            os.rename(sys.argv[2] + ".last.tmp", sys.argv[2] + ".last")
        parts = self.path.strip("/").split("/")
        status, extra = 200, {}
        if parts[0] == "status" and len(parts) > 1:
            status = int(parts[1])
        elif parts[0] == "flaky" and len(parts) > 2:
            with lock:
                seen = counts.get(parts[1], 0)
                counts[parts[1]] = seen + 1
            if seen < int(parts[2]):
                status = 503
                if len(parts) > 3:
                    extra["Retry-After"] = parts[3]
        elif parts[0] == "slow" and len(parts) > 1:
            time.sleep(int(parts[1]) / 1000)
        out = json.dumps(rec).encode() if self.command != "HEAD" else b""
        try:
            self.send_response(status)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout and cancel tests)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
