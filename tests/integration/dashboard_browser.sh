#!/bin/sh
# The dashboard in a real browser: headless chromium driven through chromedriver
# (tests/integration/webdriver.py) against a running daemon. Every card and its next-run
# text; the page goes live (refreshed by its script); "Run now" asks for the admin token in
# the page, a wrong one shows an error and is forgotten, the right one starts the run, which
# appears on the card with its result; no Content-Security-Policy violation or script error;
# no horizontal scroll at 360 px (page and run page). Screenshots go to
# $top_builddir/tests/artifacts/. chromium and chromedriver are required: without them the
# test fails.
. "$(dirname "$0")/daemon_lib.sh"

py=/usr/bin/python3
[ -x "$py" ] || py=python3
artifacts=$top_builddir/tests/artifacts
mkdir -p "$artifacts"
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=dash-Tok-$(date +%s%N | cut -c10-)
write_conf "listen = 127.0.0.1:$port" "display_timezone = Europe/Paris" 'admin_token = ${secret:admin}'
(umask 077 && printf '[secrets]\nadmin = %s\n' "$token" >"$tmp/conf.d/90-secrets.conf")
dropin 10-jobs <<'EOF2'
[job weekly]
plugin = testplug
schedule = 0 8 * * MON
description = Weekly report <b>not bold</b>
mode = ok

[job nightly]
plugin = testplug
schedule = 30 2 * * *
timezone = America/New_York
mode = fail

[job backup]
plugin = testplug
schedule = 0 3 1 * *
description = Monthly backup
mode = sleep
seconds = 1s
EOF2
for bin in /usr/bin/chromium /usr/bin/chromedriver; do
	if [ -x "$bin" ]; then ok "$bin is installed"; else not_ok "$bin is installed (contrib/dev/deps.sh)"; fi
done

BASE=http://127.0.0.1:$port TOKEN=$token TMP=$tmp ARTIFACTS=$artifacts \
	PYTHONPATH=$(dirname "$0")${PYTHONPATH:+:$PYTHONPATH} PYTHONDONTWRITEBYTECODE=1 \
	timeout 150 $py - >"$tmp/browser.out" 2>"$tmp/browser.err" <<'EOF' &
import json, os, re, sys, time, traceback, urllib.request
from webdriver import ELEMENT, Browser, WebDriverError

base, token, tmp, artifacts = (os.environ[k] for k in ("BASE", "TOKEN", "TMP", "ARTIFACTS"))

t0 = time.monotonic()
def out(kind, text):
    if os.environ.get("DASH_TIMING"):
        text += f" [{time.monotonic() - t0:.1f} s]"
    print(f"{kind}|{text}", flush=True)

def check(cond, desc, detail=None):
    out("PASS" if cond else "FAIL", desc)
    if not cond and detail is not None:
        out("DIAG", repr(detail))
    return cond

def wait_go():
    """Chromium starts while the daemon does (it is the slow part on a loaded machine);
    the scenario begins once the shell has the daemon up and a result seeded."""
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(tmp, "go")):
        if not os.path.isdir(tmp) or time.monotonic() > deadline:
            raise WebDriverError("the daemon did not get ready")
        time.sleep(0.1)

def get_json(path):
    with urllib.request.urlopen(base + path, timeout=20) as r:
        return json.load(r)

# One round trip per question (each WebDriver call costs on a loaded machine).
FIND_CARD = ("return [...document.querySelectorAll('#cards > article.card')]"
             ".find((c) => c.dataset.job === arguments[0]) || null;")

def card(b, name):
    el = b.script(FIND_CARD, name)
    return el and el[ELEMENT]

def card_text(b, name, css):
    return b.script(FIND_CARD.replace("return ", "const c = ", 1)
                    + "const e = c && c.querySelector(arguments[1]); return e ? e.innerText : null;",
                    name, css)

def no_hscroll(b):
    return b.script("const d = document.documentElement;"
                    "return [d.scrollWidth, d.clientWidth, document.body.scrollWidth];")

b = None
try:
    b = Browser(tmp)
    b.get("about:blank")  # the first page costs seconds too: while the daemon starts
    wait_go()
    b.get(base + "/")
    model = get_json("/dashboard.json")
    names = [j["name"] for j in model["jobs"]]
    got = b.wait_for(lambda: b.script("return [...document.querySelectorAll('#cards > article.card')]"
                                      ".map((c) => c.dataset.job);"), "the cards")
    check(got == names == ["weekly", "nightly", "backup"], "a card per job, in order", got)
    for j in model["jobs"]:
        want = j["view"]["next_utc"] + (" " + j["view"]["next_display"] if j["view"]["next_display"] else "")
        text = card_text(b, j["name"], ".f-next")
        check(text == want and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \u2248 .*\d\d:\d\d Europe/Paris", text or ""),
              f"{j['name']}: next run in UTC and in the display zone", text)
    check(card_text(b, "weekly", ".desc") == "Weekly report <b>not bold</b>",
          "a description with markup reads as text")
    live = b.wait_for(lambda: (lambda t: t if t.startswith("Live") else None)(b.text(b.find("#live"))),
                      "the page to go live")
    check(live.startswith("Live \u00b7 updated "), "the script refreshes the page", live)
    check("failed on purpose" in (card_text(b, "nightly", ".f-last") or ""),
          "the last result after a refresh")

    # Run now with a wrong token: an error in the page, the token forgotten, no run.
    runs_before = len(get_json("/v1/jobs/backup/runs")["runs"])
    button = b.wait_for(lambda: (lambda e: e if e and b.prop(e, "disabled") is False else None)(
        b.find("button.run-now", card(b, "backup"))), "an enabled Run now button")
    b.click(button)
    form = b.find("#token-form")
    b.wait_for(lambda: b.displayed(form), "the token form")
    check(b.find("#token-form", card(b, "backup")) is not None, "the token form opens on the card")
    b.type(b.find("#token"), "not-the-token")
    b.click(b.find("#token-form button[type=submit]"))
    err = b.wait_for(lambda: b.text(b.find("#token-error")), "the wrong token's error")
    check("refused" in err and "401" in err, "a wrong token shows an error", err)
    check(b.displayed(form), "the token is asked again")
    check(b.script("return sessionStorage.getItem('chored.admin_token');") is None,
          "a refused token is not kept")
    check("refused" in (card_text(b, "backup", ".msg") or ""), "the card says why", card_text(b, "backup", ".msg"))
    check(len(get_json("/v1/jobs/backup/runs")["runs"]) == runs_before, "a wrong token starts no run")

    # The right token: the run starts, appears on the card, and its result comes in.
    b.type(b.find("#token"), token)
    b.click(b.find("#token-form button[type=submit]"))
    msg = b.wait_for(lambda: re.search(r"Run #(\d+)", card_text(b, "backup", ".msg") or ""), "the run to start")
    run_id = msg.group(1)
    check(not b.displayed(form), "the form closes")
    check(b.script("return sessionStorage.getItem('chored.admin_token');") == token,
          "the token is kept in sessionStorage")
    final = b.wait_for(lambda: (lambda t: t if "slept 1 s" in t else None)(card_text(b, "backup", ".msg") or ""),
                       "the run's result on the card", timeout=40)
    check(final.endswith(f"Run #{run_id}: ok \u00b7 slept 1 s"), "the new run's result is shown", final)
    mark = b.wait_for(lambda: b.find(f'.strip a.mark.st-ok[href="/runs/{run_id}"]', card(b, "backup")),
                      "the new run in the card's strip, ok")
    check(b.text(mark) == "\u2713", "the new run's mark is ok")
    last = b.wait_for(lambda: (lambda t: t if t and "slept 1 s" in t else None)(card_text(b, "backup", ".f-last")),
                      "the last result to follow")
    check(last.startswith("\u2713 ok \u00b7 "), "the card's last result is the new run", last)
    b.screenshot(os.path.join(artifacts, "dashboard.png"))
    out("DIAG", "screenshot: " + os.path.join(artifacts, "dashboard.png"))

    # The token is not asked again in this session.
    b.click(b.find("button.run-now", card(b, "weekly")))
    m2 = b.wait_for(lambda: re.search(r"Run #(\d+)", card_text(b, "weekly", ".msg") or ""), "a second run")
    check(not b.displayed(form) and m2.group(1) != run_id, "a second run needs no new token")

    # A job added by a reload appears on the open page, which is never reloaded.
    b.script("window.chored_marker = 1;")
    with open(os.path.join(tmp, "conf.d", "20-extra.conf"), "w") as f:
        f.write("[job extra]\nplugin = testplug\nschedule = 15 4 * * *\nmode = ok\n")
    req = urllib.request.Request(base + "/v1/reload", data=b"{}", method="POST",
                                 headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=30) as r:
        check(json.load(r)["result"] == "ok", "reload with a new job")
    extra = b.wait_for(lambda: card_text(b, "extra", ".f-next"), "the new job's card")
    check(extra.endswith(" 04:15 UTC \u2248 05:15 Europe/Paris") and
          b.script("return window.chored_marker;") == 1,
          "the new job's card appears without a page load", extra)

    # A phone: 360 px wide, no horizontal scroll, on the dashboard and a run's page.
    b.viewport(360, 740, mobile=True)
    b.get(base + "/")
    b.wait_for(lambda: b.text(b.find("#live")).startswith("Live"), "the page at 360 px")
    w = no_hscroll(b)
    check(w[1] == 360 and w[0] <= w[1] and w[2] <= w[1], "360 px: no horizontal scroll", w)
    b.screenshot(os.path.join(artifacts, "dashboard-360.png"))
    b.click(b.wait_for(lambda: b.find(f'a.mark[href="/runs/{run_id}"]'), "the run's mark"))
    h1 = b.wait_for(lambda: b.text(b.find("h1")) if b.find("main.run") else None, "the run's page")
    check(h1 == f"Run #{run_id} \u00b7 backup", "a mark opens the run's page", h1)
    w = no_hscroll(b)
    check(w[0] <= w[1] and w[2] <= w[1], "run page at 360 px: no horizontal scroll", w)

    errors = [e["message"] for e in b.console()
              if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
    check(not errors, "no CSP violation or script error in the console", errors)
    out("DONE", "")
except Exception as e:
    out("FAIL", f"browser scenario: {e}")
    for line in traceback.format_exc().splitlines():
        out("DIAG", line)
finally:
    if b:
        b.close()
EOF
pypid=$!
start_daemon || exit 1
if ! wait_until 20 curl -sf "http://127.0.0.1:$port/healthz"; then
	diag "the admin listener did not answer" "$(cat "$log")"
fi
# One result on a card before the browser comes.
seed=$(api -X POST http://chored/v1/jobs/nightly/run)
wait_until 30 at_least 1 "job='nightly' AND status <> 'running'" || diag "nightly: $seed did not end"

: >"$tmp/go"
wait "$pypid"
rc=$?
while IFS='|' read -r kind text; do
	case $kind in
	PASS) ok "$text" ;;
	FAIL) not_ok "$text" ;;
	DIAG) diag "$text" ;;
	esac
done <"$tmp/browser.out"
if grep -q '^DONE|' "$tmp/browser.out"; then ok "the browser scenario ran to its end"; else
	not_ok "the browser scenario ran to its end (exit $rc)"
	diag "$(tail -n 20 "$tmp/browser.err")"
	[ -f "$tmp/chromedriver.log" ] && diag "$(tail -n 20 "$tmp/chromedriver.log")"
fi
stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
plan_done
