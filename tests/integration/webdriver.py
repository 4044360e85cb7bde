"""A small W3C WebDriver client for the browser tests, standard library only (urllib + json).

    with Browser(tmpdir) as b:          # chromedriver on a free port, headless chromium
        b.get("http://127.0.0.1:8470/")
        card = b.wait_for(lambda: b.find("article.card"), "a card")
        b.click(b.find("button", card))

Every wait polls against a deadline (monotonic clock), so a loaded machine only makes the
test slower, never wrong. Chromium runs headless without a sandbox (CI runs as root) with its
profile in the test's temporary directory. A missing chromium or chromedriver is an error
(WebDriverError), never a skip.
"""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C element reference key
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


class WebDriverError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One chromedriver process and one browser session; close() ends both."""

    def __init__(self, tmpdir, width=1280, height=900, timeout=20.0):
        for path in (CHROMIUM, CHROMEDRIVER):
            if not os.access(path, os.X_OK):
                raise WebDriverError(f"{path} is missing (install chromium and chromium-driver)")
        self.timeout = timeout
        self.session = None
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.driver_log = os.path.join(tmpdir, "chromedriver.log")
        self.proc = subprocess.Popen(
            [CHROMEDRIVER, f"--port={port}", f"--log-path={self.driver_log}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.wait_for(self._ready, "chromedriver to listen", timeout=30)
            args = ["--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                    "--disable-background-networking", "--disable-sync",
                    "--disable-component-update", "--no-default-browser-check",
                    "--password-store=basic", "--mute-audio", "--disable-breakpad",
                    "--disable-default-apps", "--disable-hang-monitor",
                    "--disable-client-side-phishing-detection", "--metrics-recording-only",
                    "--disable-renderer-backgrounding",
                    "--disable-features=Translate,OptimizationHints,MediaRouter,"
                    "AutofillServerCommunication,CertificateTransparencyComponentUpdater",
                    f"--user-data-dir={os.path.join(tmpdir, 'chromium-profile')}",
                    f"--window-size={width},{height}"]
            caps = {"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
                "goog:loggingPrefs": {"browser": "ALL"},
            }}}
            value = self._call("POST", "/session", caps, timeout=60)
            self.session = value["sessionId"]
        except Exception:
            self.close()
            raise

    # ---- plumbing ----

    def _ready(self):
        try:
            return self._call("GET", "/status", timeout=2)["ready"]
        except (OSError, WebDriverError):
            return False

    def _call(self, method, path, body=None, timeout=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout + 10) as r:
                answer = json.load(r)
        except urllib.error.HTTPError as e:
            try:
                answer = json.load(e)
            except ValueError:
                raise WebDriverError(f"{method} {path}: HTTP {e.code}") from None
        value = answer.get("value")
        if isinstance(value, dict) and "error" in value:
            raise WebDriverError(f"{method} {path}: {value['error']}: "
                                 f"{value.get('message', '').splitlines()[0:1]}")
        return value

    def cmd(self, method, path, body=None):
        """A command of this session: path relative to /session/ID."""
        if self.session is None:
            raise WebDriverError("no session")
        return self._call(method, f"/session/{self.session}{path}", body)

    def close(self):
        if self.session is not None:
            try:
                self._call("DELETE", f"/session/{self.session}", timeout=20)
            except (OSError, WebDriverError):
                pass
            self.session = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- waiting ----

    def wait_for(self, fn, what, timeout=None):
        """Calls fn until it returns something true (returned); WebDriverError after the
        deadline. A WebDriverError from fn (element gone while the page refreshes) is
        retried, not fatal."""
        deadline = time.monotonic() + (timeout or self.timeout)
        last = None
        while True:
            try:
                v = fn()
                if v:
                    return v
            except WebDriverError as e:
                last = e
            if time.monotonic() >= deadline:
                raise WebDriverError(f"timed out waiting for {what}"
                                     + (f" (last error: {last})" if last else ""))
            time.sleep(0.15)

    # ---- commands ----

    def get(self, url):
        self.cmd("POST", "/url", {"url": url})

    def find_all(self, css, within=None):
        path = f"/element/{within}/elements" if within else "/elements"
        return [e[ELEMENT] for e in self.cmd("POST", path, {"using": "css selector", "value": css})]

    def find(self, css, within=None):
        """The first match or None."""
        found = self.find_all(css, within)
        return found[0] if found else None

    def click(self, el):
        self.cmd("POST", f"/element/{el}/click", {})

    def type(self, el, text):
        self.cmd("POST", f"/element/{el}/value", {"text": text})

    def text(self, el):
        return self.cmd("GET", f"/element/{el}/text")

    def attr(self, el, name):
        return self.cmd("GET", f"/element/{el}/attribute/{name}")

    def prop(self, el, name):
        return self.cmd("GET", f"/element/{el}/property/{name}")

    def displayed(self, el):
        return self.cmd("GET", f"/element/{el}/displayed")

    def script(self, body, *args):
        return self.cmd("POST", "/execute/sync", {"script": body, "args": list(args)})

    def screenshot(self, path):
        import base64
        png = base64.b64decode(self.cmd("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)

    def viewport(self, width, height, mobile=False):
        """Emulates a device viewport (Chrome DevTools through chromedriver): a real
        window cannot be made as narrow as a phone on every platform."""
        self.cmd("POST", "/goog/cdp/execute", {
            "cmd": "Emulation.setDeviceMetricsOverride",
            "params": {"width": width, "height": height, "deviceScaleFactor": 1,
                       "mobile": mobile}})

    def console(self):
        """Browser console entries since the last call (chromedriver's log endpoint)."""
        return self.cmd("POST", "/se/log", {"type": "browser"})
