#!/bin/sh
# Cross-check of the SigV4 signatures against botocore (AWS's own signer), both ways:
# - every request the store service sent to the S3 fake (its method, path, query and
#   headers as the fake received them) is signed again by botocore for the same instant:
#   the signatures must be equal;
# - requests signed by botocore are accepted by the fake, and tampered ones refused, so the
#   fake's verifier is AWS's algorithm, not a copy of the client's.
# Skipped (TAP skip with the reason) where botocore is not importable.
. "$(dirname "$0")/tap.sh"
if ! why=$(python3 -c 'import botocore' 2>&1); then
	echo "1..0 # SKIP botocore is not importable by python3: $(echo "$why" | tail -1)"
	exit 0
fi
PROBE=$top_builddir/tests/sdk/store_probe
FAKE=$top_srcdir/tests/fakes/s3_fake.py
tmp=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
SECRET='bOto+Cross/Check=42'
KEYID=AKIDBOTOCHECK
MIB=1048576

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3 # the fake needs no botocore; no pyenv shim
$PY "$FAKE" "$tmp/port" --data "$tmp/data" --key "$KEYID:$SECRET" --bucket bkt \
	--deny-prefix pre/locked/ 2>"$tmp/fake.err" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
P=$(cat "$tmp/port")
U="s3://bkt/pre?endpoint=http://127.0.0.1:$P&region=auto"
probe() { STORE_PROBE_SECRET=$SECRET "$PROBE" --key-id "$KEYID" "$@" >>"$tmp/out" 2>&1; }

# Every kind of request the service sends.
probe "$U" put-gen small.bin 1000 &&
	probe --part-size $((5 * MIB)) "$U" put-gen multi.bin $((11 * MIB)) &&
	probe "$U" put "odd name+x&y=z/é.txt" "$tmp/port" &&
	probe "$U" get "odd name+x&y=z/é.txt" "$tmp/back" &&
	probe "$U" list "od" &&
	probe "$U" delete small.bin &&
	probe "$U" delete-many multi.bin "a key/with space" "pre/locked/x"
is "$?" 0 "the probe's requests succeed against the fake"
curl -s -X POST -d '{"status": 500, "method": "PUT", "query": {"partNumber": "2"}, "count": 5}' \
	"http://127.0.0.1:$P/_fake/fault" >/dev/null
probe --part-size $((5 * MIB)) --attempts 1 "$U" put-gen aborted.bin $((11 * MIB))
is "$?" 1 "a failing part fails the put (AbortMultipartUpload sent)"
curl -s "http://127.0.0.1:$P/_fake/requests" >"$tmp/requests.json"

cat >"$tmp/check.py" <<'PY'
import hashlib, http.client, json, sys
from datetime import datetime, timedelta
import botocore.auth
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

port, keyid, secret, reqs_file = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
n = int(sys.argv[5])  # TAP numbers go on from the shell's
failed = 0

def tap(good, what, *diag):
    global n, failed
    n += 1
    failed += not good
    print("%s %d - %s" % ("ok" if good else "not ok", n, what))
    for d in diag if not good else ():
        for line in str(d).splitlines():
            print("# " + line)

class KeepPayloadHash(S3SigV4Auth):
    """S3SigV4Auth, but signing the x-amz-content-sha256 the request carries (the body of a
    5 MiB part is not in the fake's log; its hash was verified by the fake)."""
    def _modify_request_before_signing(self, request):
        botocore.auth.SigV4Auth._modify_request_before_signing(self, request)

def sign(method, url, headers, amzdate, region, body=b"", auth_cls=KeepPayloadHash,
         key=secret):
    when = datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ")
    botocore.auth.get_current_datetime = lambda *a, **k: when
    r = AWSRequest(method=method, url=url, headers=headers, data=body)
    auth_cls(Credentials(keyid, key), "s3", region).add_auth(r)
    return r

# 1. botocore re-signs what chored sent.
seen = set()
for q in json.load(open(reqs_file)):
    a = q["headers"].get("authorization")
    if not a:
        continue
    fields = dict(f.strip().split("=", 1) for f in a.split(" ", 1)[1].split(","))
    scope = fields["Credential"].split("/")
    names = fields["SignedHeaders"].split(";")
    headers = {h: q["headers"][h] for h in names if h != "x-amz-date"}
    url = "http://127.0.0.1:%s%s%s" % (port, q["path"], "?" + q["raw_query"] if q["raw_query"] else "")
    r = sign(q["method"], url, headers, q["headers"]["x-amz-date"], scope[2])
    got = dict(f.strip().split("=", 1) for f in r.headers["Authorization"].split(" ", 1)[1].split(","))
    what = "%s %s%s" % (q["method"], q["path"], "?" + q["raw_query"].split("&")[0].split("=")[0]
                        if q["raw_query"] else "")
    tap(got["Signature"] == fields["Signature"] and got["SignedHeaders"] == fields["SignedHeaders"],
        "botocore computes chored's signature for %s" % what,
        "chored:   " + a, "botocore: " + r.headers["Authorization"])
    seen.add(q["method"] + (" " + q["raw_query"].split("=")[0] if q["raw_query"] else ""))
tap({"PUT", "GET", "DELETE", "POST uploads", "PUT partNumber", "POST uploadId",
     "DELETE uploadId", "POST delete", "GET list-type"} <= seen,
    "every kind of request was cross-checked", sorted(seen))

# 2. botocore-signed requests against the fake; tampered ones refused.
def send(r, body=None, method=None, path=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    u = r.url.split(port, 1)[1]
    h = dict(r.headers.items())
    h.update(headers or {})
    c.request(method or r.method, path or u, body=r.body if body is None else body, headers=h)
    resp = c.getresponse()
    data = resp.read().decode("utf-8", "replace")
    c.close()
    return resp.status, data

now = datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
base = "http://127.0.0.1:%s" % port
body = b"signed by botocore\n"
put = sign("PUT", base + "/bkt/boto/a%20b.txt", {"Content-Type": "text/plain"}, now, "auto",
           body, S3SigV4Auth)
st, data = send(put)
tap(st == 200, "fake accepts a botocore-signed PutObject (real payload hash)", st, data)
get = sign("GET", base + "/bkt/boto/a%20b.txt", {}, now, "auto", b"", S3SigV4Auth)
st, data = send(get)
tap(st == 200 and data == body.decode(), "fake accepts a botocore-signed GetObject", st, data)
lst = sign("GET", base + "/bkt?list-type=2&prefix=boto%2F", {}, now, "auto", b"", S3SigV4Auth)
st, data = send(lst)
tap(st == 200 and "<Key>boto/a b.txt</Key>" in data,
    "fake accepts a botocore-signed ListObjectsV2 with prefix=boto%2F", st, data)
up = sign("POST", base + "/bkt/boto/m?uploads", {}, now, "auto", b"", S3SigV4Auth)
st, data = send(up)
tap(st == 200 and "<UploadId>" in data,
    "fake accepts botocore's CreateMultipartUpload (?uploads, canonicalized as uploads=)", st, data)
us = sign("PUT", base + "/bkt/boto/us.txt", {}, now, "us-east-1", b"x", S3SigV4Auth)
st, data = send(us)
tap(st == 200, "fake accepts region us-east-1 (an R2 alias of auto)", st, data)

def refused(st, data, code):
    return st in (400, 403) and "<Code>%s</Code>" % code in data

st, data = send(put, body=b"signed by botocorE\n")
tap(refused(st, data, "XAmzContentSHA256Mismatch"), "a changed body is refused", st, data)
st, data = send(lst, path="/bkt?list-type=2&prefix=other%2F")
tap(refused(st, data, "SignatureDoesNotMatch"), "a changed query is refused", st, data)
st, data = send(lst, path="/bkt?prefix=boto%2F&list-type=2")
tap(st == 200, "the same query in another order is the same request", st, data)
st, data = send(get, path="/bkt/boto/a%20c.txt")
tap(refused(st, data, "SignatureDoesNotMatch"), "a changed path is refused", st, data)
st, data = send(put, headers={"Content-Type": "text/html"})
tap(refused(st, data, "SignatureDoesNotMatch"), "a changed signed header is refused", st, data)
st, data = send(get, headers={"x-amz-meta-extra": "1"})
tap(refused(st, data, "AccessDenied") and "x-amz-meta-extra" in data,
    "an unsigned x-amz-* header is refused", st, data)
st, data = send(get, method="DELETE")
tap(refused(st, data, "SignatureDoesNotMatch"), "a changed method is refused", st, data)
bad = sign("GET", base + "/bkt/boto/a%20b.txt", {}, now, "auto", b"", S3SigV4Auth, "not-the-secret")
st, data = send(bad)
tap(refused(st, data, "SignatureDoesNotMatch") and "not-the-secret" not in data,
    "a signature with the wrong secret is refused", st, data)
old = (datetime.utcnow() - timedelta(minutes=16)).strftime("%Y%m%dT%H%M%SZ")
st, data = send(sign("GET", base + "/bkt/boto/a%20b.txt", {}, old, "auto", b"", S3SigV4Auth))
tap(refused(st, data, "RequestTimeTooSkewed"), "a request signed 16 minutes ago is refused", st, data)
st, data = send(sign("GET", base + "/bkt/boto/a%20b.txt", {}, now, "eu-west-1", b"", S3SigV4Auth))
tap(refused(st, data, "AuthorizationHeaderMalformed"), "another region is refused", st, data)
nohash = sign("GET", base + "/bkt/boto/a%20b.txt", {}, now, "auto", b"", S3SigV4Auth)
del nohash.headers["X-Amz-Content-SHA256"]
st, data = send(nohash)
tap(refused(st, data, "InvalidRequest") and "x-amz-content-sha256" in data,
    "a request without x-amz-content-sha256 is refused", st, data)
print("%d %d" % (n, failed), file=sys.stderr)
PY
python3 "$tmp/check.py" "$P" "$KEYID" "$SECRET" "$tmp/requests.json" "$tap_n" 2>"$tmp/counts"
rc=$?
if [ $rc -eq 0 ] && read -r tap_n more_failed <"$tmp/counts"; then
	tap_failed=$((tap_failed + more_failed))
else
	not_ok "the botocore check ran to its end (exit $rc)"
	diag "$(cat "$tmp/counts")"
fi
lacks "$(cat "$tmp/out" "$tmp/fake.err")" "$SECRET" "no secret in any output"
plan_done
