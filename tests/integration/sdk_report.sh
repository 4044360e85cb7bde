#!/bin/sh
# The report service's Notion sink against the Notion fake (tests/fakes/notion_fake.py),
# driven by tests/sdk/report_probe: a 250-block report in ceil(250/100) requests in order,
# a 429 with Retry-After mid-append waited out, a 500 beyond the retries reported with how
# far it got, append mode, Notion's errors, and the token in no output. Also the renderings
# through the probe.
. "$(dirname "$0")/tap.sh"
tmp=$(mktemp -d)
fake=
trap '[ -n "$fake" ] && kill "$fake" 2>/dev/null; rm -rf "$tmp"' EXIT
# Debian's python3 starts faster than a pyenv shim; either will do.
py3=$(command -v /usr/bin/python3 || command -v python3)
if [ -z "$py3" ] || ! command -v curl >/dev/null; then
	echo "1..0 # SKIP python3 and curl are needed for the Notion fake"
	exit 0
fi
probe=$top_builddir/tests/sdk/report_probe
T=secret_Tok3n-$$-xyz
PARENT=1f217cc1-225f-4580-8e22-cd7eb8db3c5e
"$py3" "$top_srcdir/tests/fakes/notion_fake.py" "$tmp/port" --token "$T" --page "$PARENT" &
fake=$!
n=400
while [ ! -s "$tmp/port" ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
port=$(cat "$tmp/port") || { echo "1..0 # SKIP the Notion fake did not start"; exit 0; }
base=http://127.0.0.1:$port

fake_get() { curl -sf "$base/_fake/$1"; }
fake_post() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$base/_fake/$1" >/dev/null; }
# snap: takes the fake's /_fake/state and /_fake/requests for the next py calls.
snap() {
	fake_get state >"$tmp/state.json"
	fake_get requests >"$tmp/reqs.json"
}
# py EXPR: evaluates EXPR with `state` and `reqs` of the last snap loaded.
py() {
	"$py3" -c '
import json, sys
state = json.load(open(sys.argv[1])); reqs = json.load(open(sys.argv[2]))
def page(pid=None):
    ps = [p for p in state["pages"] if (p["id"] == pid if pid else p["parent"])]
    return ps[-1] if ps else {"blocks": [], "id": None, "title": None}
def children(r): return json.loads(r["body"])["children"]
print(eval(sys.argv[3]))' "$tmp/state.json" "$tmp/reqs.json" "$1"
}
# send MODE N [SUBJECT]: runs the probe with the sink keys in the environment (and the
# http trace when trace=1); $out, $err, $rc; everything it printed goes to $alloutput.
send() {
	alloutput=$tmp/all-output
	run env NOTION_BASE_URL="$base" NOTION_PARENT="${parent:-$PARENT}" \
		NOTION_TOKEN="${token:-$T}" CHORED_HTTP_TRACE="${trace:-0}" "$probe" notion "$@"
	printf '%s\n%s\n' "$out" "$err" >>"$alloutput"
}
# in_order BLOCKS N: a Python test that BLOCKS' texts are "para 1" … "para N".
in_order() { echo "[b['text'] for b in $1] == ['para %d' % i for i in range(1, $2 + 1)]"; }

# --- the renderings through the probe (the unit tests hold the details) ---
run "$probe" render text
contains "$out" "Probe report
============
Status: partial" "text: underlined title and the status"
run "$probe" render html
contains "$out" "<h3 style=\"font-size:17px;margin:20px 0 8px;\">Details &amp; &lt;escapes&gt;</h3>" \
	"html: headings escaped"
run "$probe" render markdown
contains "$out" "- brand B \\| \\\`7\\\`" "markdown: | and backticks escaped"
run "$probe" render notion
contains "$out" '"type":"table_row"' "notion: table rows"

# --- subpage: 250 blocks = one POST with 100, then two appends of 100 and 50 ---
send subpage 248
is "$out" ok "subpage: 250 blocks sent"
snap
is "$(py '[(r["method"], r["path"] if r["method"] == "POST" else r["path"] == "/v1/blocks/%s/children" % page()["id"], len(children(r))) for r in reqs]')" \
	"[('POST', '/v1/pages', 100), ('PATCH', True, 100), ('PATCH', True, 50)]" \
	"subpage: POST /v1/pages with 100 blocks, then PATCH appends of 100 and 50 to the new page"
is "$(py 'page()["parent"], page()["title"]')" "('$PARENT', '[chored] ✅ report-probe: ok')" \
	"subpage: a child of the parent page titled with the subject"
is "$(py "$(in_order 'page()["blocks"][2:]' 248)")" True \
	"subpage: the fake holds every paragraph, in order"
is "$(py 'len(page()["blocks"]), page()["blocks"][0]["type"], page()["blocks"][1]["text"]')" \
	"(250, 'callout', 'Paragraphs')" "subpage: 250 blocks, the status callout first"
is "$(py 'sorted(set((r["headers"].get("notion-version"), r["headers"].get("authorization") == "Bearer '"$T"'") for r in reqs))')" \
	"[('2022-06-28', True)]" "every request has the Notion-Version and the Bearer token"

# --- a 429 with Retry-After mid-append is waited out; the order is kept ---
fake_post reset '{}'
fake_post fault '{"status":429,"method":"PATCH","headers":{"Retry-After":"1"},"body":{"object":"error","status":429,"code":"rate_limited","message":"You have been rate limited. Please try again in a few minutes."}}'
t0=$(date +%s%N)
send subpage 248
t1=$(date +%s%N)
is "$out" ok "429: the report is delivered"
snap
is "$(py '[(r["method"], len(children(r))) for r in reqs]')" \
	"[('POST', 100), ('PATCH', 100), ('PATCH', 100), ('PATCH', 50)]" \
	"429: the refused append is sent again, then the last one"
is "$(py "$(in_order 'page()["blocks"][2:]' 248)")" True "429: the order is kept"
if [ $(((t1 - t0) / 1000000)) -ge 1000 ]; then ok "429: Retry-After (1 s) was waited out"
else not_ok "429: Retry-After (1 s) was waited out"; diag "took $(((t1 - t0) / 1000000)) ms"; fi

# --- a 500 beyond the retries: a clear error saying how far it got ---
fake_post reset '{}'
fake_post fault '{"status":500,"method":"PATCH","count":50,"body":{"object":"error","status":500,"code":"internal_server_error","message":"Unexpected error occurred."}}'
send subpage 248
is "$rc" 1 "500: the sink fails"
snap
pid=$(py 'page()["id"]')
case $out in
"error: notion sink notion: HTTP 500 from PATCH $base/v1/blocks/$pid/children"*"(internal_server_error: Unexpected error occurred.); 100 of 250 blocks written to page $pid")
	ok "500: the error names the request, Notion's code and message, and 100 of 250 blocks written" ;;
*) not_ok "500: the error names the request, Notion's code and message, and 100 of 250 blocks written"; diag "$out" ;;
esac
is "$(py '[r["method"] for r in reqs].count("PATCH") > 1, len(page()["blocks"])')" "(True, 100)" \
	"500: retried, and the page keeps the first 100 blocks"

# --- append mode: a heading with the subject, then the blocks, on the parent page ---
fake_post reset '{}'
trace=1; send append 10 "Append subject"; trace=
is "$out" ok "append: sent"
contains "$err" "http > Authorization: ***" "append: the http trace shows the Authorization header redacted"
snap
is "$(py '[(r["method"], r["path"], len(children(r))) for r in reqs]')" \
	"[('PATCH', '/v1/blocks/$PARENT/children', 13)]" "append: one PATCH to the parent page"
is "$(py '[(b["type"], b["text"]) for b in page("'$PARENT'")["blocks"][:3]]')" \
	"[('heading_1', 'Append subject'), ('callout', 'OK — Probe report'), ('heading_1', 'Paragraphs')]" \
	"append: the subject heading, then the report's blocks"
is "$(py "$(in_order 'page("'$PARENT'")["blocks"][3:]' 10)")" True \
	"append: the paragraphs in order"
fake_post reset '{}'
send append 230
snap
is "$(py '[len(children(r)) for r in reqs], len(page("'$PARENT'")["blocks"])')" \
	"([100, 100, 33], 233)" "append: 233 blocks (the heading included) in 3 requests"

# --- Notion's errors, named ---
fake_post reset '{}'
token=wrong-token; send subpage 3; token=
case $out in *"HTTP 401"*"(unauthorized: API token is invalid.); 0 of 5 blocks written"*) ok "a bad token: 401 unauthorized" ;;
*) not_ok "a bad token: 401 unauthorized"; diag "$out" ;; esac
parent=https://www.notion.so/Not-shared-0123456789abcdef0123456789abcdef?pvs=4; send subpage 3
case $out in *"HTTP 404"*"(object_not_found: Could not find block with ID: 01234567-89ab-cdef-0123-456789abcdef."*) ok "a page not shared: 404 object_not_found, the URL's id used" ;;
*) not_ok "a page not shared: 404 object_not_found, the URL's id used"; diag "$out" ;; esac
parent=not-a-page; send subpage 3; parent=
is "$out" "error: notion sink notion: parent_page: expected a page id (32 hex digits) or a Notion page URL ending in one" \
	"a bad parent_page is refused before any request"
run env NOTION_BASE_URL="$base" NOTION_PARENT="$PARENT" "$probe" notion subpage 1
is "$out" "error: notion sink notion: token is not set" "a missing token is named"
run env NOTION_BASE_URL="$base" NOTION_PARENT="$PARENT" NOTION_TOKEN="$T" "$probe" notion sideways 1
contains "$out" "mode: expected subpage or append" "a bad mode is named"
printf '%s\n%s\n' "$out" "$err" >>"$alloutput"

# --- the token never shows ---
if grep -q "$T" "$alloutput"; then not_ok "the token appears in no output"; diag "$(grep -n "$T" "$alloutput" | head -3)"
else ok "the token appears in no output"; fi
plan_done
