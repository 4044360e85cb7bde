#!/bin/sh
# The store service (chored-sdk-store(3)) through tests/sdk/store_probe: file:// and s3://
# against the strict S3 fake (tests/fakes/s3_fake.py): round trips, multipart with equal
# parts, listings over several pages, delete many with per-key errors, aborted uploads on a
# failing part, a failing reader and a cancel, signature and clock errors; no secret in
# any output.
. "$(dirname "$0")/tap.sh"
PROBE=$top_builddir/tests/sdk/store_probe
FAKE=$top_srcdir/tests/fakes/s3_fake.py
tmp=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Debian's python3 when present: the pyenv shim first on PATH costs a second per start.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
SECRET='tEst+Secret/Key=9xQz'
KEYID=AKIDCHOREDTEST
MIB=1048576

# start_fake NAME ARGS...: starts a fake, sets $port and remembers its pid.
start_fake() {
	name=$1
	shift
	mkdir -p "$tmp/$name"
	$PY "$FAKE" "$tmp/$name/port" --data "$tmp/$name/data" --key "$KEYID:$SECRET" \
		--bucket bkt "$@" 2>"$tmp/$name/stderr" &
	pids="$pids $!"
	i=0
	while [ ! -s "$tmp/$name/port" ] && [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	port=$(cat "$tmp/$name/port")
}
# ctl PORT PATH [JSON]: the fake's control API.
ctl() {
	if [ $# -gt 2 ]; then
		curl -s -X POST -d "$3" "http://127.0.0.1:$1/_fake/$2"
	else
		curl -s "http://127.0.0.1:$1/_fake/$2"
	fi
}
# js PY-EXPR: evaluates PY-EXPR with d = the JSON document on stdin.
js() { $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# probe ARGS...: runs the probe with the secret in its environment; every output is kept
# in $tmp/all-output for the final secret check.
probe() {
	STORE_PROBE_SECRET=$SECRET run "$PROBE" --key-id "$KEYID" "$@"
	printf '%s\n%s\n' "$out" "$err" >>"$tmp/all-output"
}

# ---------------------------------------------------------------- file://
d=$tmp/files
mkdir -p "$d"
head -c 300000 /dev/urandom >"$tmp/blob"
probe "file://$d" put a/b/blob.bin "$tmp/blob"
is "$rc $out" "0 size 300000 parts 0 etag -" "file: put_file stores every byte"
probe "file://$d" get a/b/blob.bin "$tmp/blob.back"
if [ "$rc" = 0 ] && cmp -s "$tmp/blob" "$tmp/blob.back"; then ok "file: get_file round trip"; else not_ok "file: get_file round trip"; diag "$err"; fi
probe "file://$d" put-gen a/c.gen 3000000
probe "file://$d" get-check a/c.gen 3000000
is "$rc $out" "0 ok 3000000" "file: streamed put and get of 3 MB"
probe "file://$d" put-gen top.txt 10
probe "file://$d" put-gen ab/x 10
probe "file://$d" list a/
is "$(echo "$out" | cut -d' ' -f1,2)" "a/b/blob.bin 300000
a/c.gen 3000000
count 2" "file: list walks subdirectories, by prefix, in key order"
probe "file://$d" list a
is "$(echo "$out" | cut -d' ' -f1 | tr '\n' ' ')" "a/b/blob.bin a/c.gen ab/x count " "file: a prefix need not end at a '/'"
probe "file://$d" put-fail a/c.gen 3000000 100000
is "$rc" 1 "file: a failing reader fails the put"
contains "$err" "read callback failed" "file: the error says the reader failed"
probe "file://$d" get-check a/c.gen 3000000
is "$rc $out" "0 ok 3000000" "file: the old object is untouched by the failed put"
is "$(find "$d" -name '.chored-tmp*' | wc -l)" 0 "file: no temp file left behind"
probe "file://$d" delete-many a/c.gen top.txt never/there
is "$rc $out" "0 failed 0" "file: delete many"
probe "file://$d" list
is "$(echo "$out" | cut -d' ' -f1 | tr '\n' ' ')" "a/b/blob.bin ab/x count " "file: deleted keys are gone"
probe "file://$d" get-check top.txt 10
is "$rc" 3 "file: get of a missing key is CHORED_STORE_NOT_FOUND"
for k in ../etc/passwd /abs a//b a/./b a/ ""; do
	probe "file://$d" put-gen "$k" 1
	if [ "$rc" = 1 ] && case "$err" in *"key \"$k\""*) true ;; *) false ;; esac; then
		ok "file: key '$k' refused"
	else
		not_ok "file: key '$k' refused"
		diag "rc=$rc" "$err"
	fi
done
is "$(find "$tmp" -path "$d" -prune -o -name passwd -print | wc -l)" 0 "file: nothing written outside the store"

# ---------------------------------------------------------------- bad URLs
for case in \
	"file://relative/dir|absolute path" \
	"file://$tmp/missing|$tmp/missing: No such file or directory" \
	"ftp://host/x|scheme \"ftp\" is not supported" \
	"s3://bkt/p|needs endpoint=https://HOST" \
	"s3://Bad_Bucket?endpoint=https://h|not a valid bucket name" \
	"s3://bkt?endpoint=https://h&colour=red|unknown or repeated parameter \"colour\"" \
	"s3://bkt?endpoint=ftp://h|must be https://HOST[:PORT] with no path" \
	"s3://bkt?endpoint=https://h/path|must be https://HOST[:PORT] with no path" \
	"s3://bkt/../x?endpoint=https://h|prefix \"../x\"" \
	"s3://bkt?endpoint=https://h&region=EU_1|region \"EU_1\""; do
	url=${case%%|*}
	probe "$url" list
	contains "$rc $err" "1 store_probe: open: " "bad URL $url: refused at open"
	contains "$err" "${case#*|}" "bad URL $url: the error says why"
done
run "$PROBE" "s3://bkt?endpoint=https://h" list
contains "$rc $err" "access key id and secret access key are required" "s3 without credentials: refused at open"

# ---------------------------------------------------------------- s3:// against the fake
start_fake main --deny-prefix pre/locked/
P=$port
U="s3://bkt/pre?endpoint=http://127.0.0.1:$P&region=auto"
probe "$U" put-gen small.bin 1000
is "$rc $out" "0 size 1000 parts 0 etag $($PY -c '
import hashlib; print(hashlib.md5(bytes((i*7+i//65536)%251 for i in range(1000))).hexdigest())')" \
	"s3: small put is one PUT whose ETag is the body's MD5"
probe "$U" get-check small.bin 1000
is "$rc $out" "0 ok 1000" "s3: small get round trip"
reqs=$(ctl $P requests)
is "$(echo "$reqs" | js '[(r["method"], r["path"], r["headers"]["x-amz-content-sha256"], r["headers"].get("content-md5")) for r in d][0]')" \
	"('PUT', '/bkt/pre/small.bin', 'UNSIGNED-PAYLOAD', '$($PY -c '
import base64, hashlib; print(base64.b64encode(hashlib.md5(bytes((i*7+i//65536)%251 for i in range(1000))).digest()).decode())')')" \
	"s3: object data goes as UNSIGNED-PAYLOAD with the body's Content-MD5"
is "$(echo "$reqs" | js '[r["headers"]["authorization"].split("SignedHeaders=")[1].split(",")[0] for r in d][0]')" \
	"content-md5;content-type;host;x-amz-content-sha256;x-amz-date" \
	"s3: signed headers include Content-MD5; no valueless or duplicate ones"

ctl $P reset '{}' >/dev/null
probe --part-size $((5 * MIB)) "$U" put-gen dir/multi.bin $((12 * MIB))
etag=$(echo "$out" | sed -n 's/.*etag //p')
is "$rc $(echo "$out" | cut -d' ' -f1-4)" "0 size 12582912 parts 3" "s3: 12 MiB in parts of 5 MiB: 3 parts"
reqs=$(ctl $P requests)
is "$(echo "$reqs" | js '" ".join("%s:%s:%s" % (r["method"], r["raw_query"].split("&")[0].split("=")[0] if r["raw_query"].startswith("uploadId") else r["raw_query"].split("&")[0], r["body_len"]) for r in d)')" \
	"POST:uploads=:0 PUT:partNumber=1:5242880 PUT:partNumber=2:5242880 PUT:partNumber=3:2097152 POST:uploadId:$(echo "$reqs" | js 'd[4]["body_len"]')" \
	"s3: CreateMultipartUpload (uploads=), equal parts, the last smaller, Complete"
is "$(echo "$reqs" | js 'sorted(set((r["method"], r["headers"]["x-amz-content-sha256"] if r["method"] == "PUT" else len(r["headers"]["x-amz-content-sha256"]), "content-md5" in r["headers"]) for r in d))')" \
	"[('POST', 64, False), ('PUT', 'UNSIGNED-PAYLOAD', True)]" \
	"s3: parts are UNSIGNED-PAYLOAD with a Content-MD5; the other requests carry their SHA-256"
is "$(ctl $P state | js 'd["objects"]["bkt"]["pre/dir/multi.bin"]["etag"]')" "$etag" \
	"s3: the fake holds the object with the multipart ETag the put reported"
case $etag in *-3) ok "s3: multipart ETag ends in -3" ;; *) not_ok "s3: multipart ETag ends in -3"; diag "$etag" ;; esac
probe "$U" get-check dir/multi.bin $((12 * MIB))
is "$rc $out" "0 ok 12582912" "s3: multipart object reads back byte for byte"
probe --part-size $((5 * MIB)) "$U" put-gen exact.bin $((5 * MIB))
is "$rc $out" "0 size 5242880 parts 0 etag $(ctl $P state | js 'd["objects"]["bkt"]["pre/exact.bin"]["etag"]')" \
	"s3: an object of exactly the threshold is one PUT"
probe --part-size $((5 * MIB)) "$U" put-gen ten.bin $((10 * MIB))
is "$rc $(echo "$out" | cut -d' ' -f1-4)" "0 size 10485760 parts 2" "s3: ending on a part boundary: no empty part"
probe --part-size $((5 * MIB)) --threshold 1000 "$U" put-gen thr.bin 2000
is "$rc $(echo "$out" | cut -d' ' -f1-4)" "0 size 2000 parts 1" "s3: above a lower threshold: multipart"
printf 'key with space+plus&amp=eq' >"$tmp/odd"
probe "$U" put "odd name+x&y=z/é.txt" "$tmp/odd"
probe "$U" get "odd name+x&y=z/é.txt" "$tmp/odd.back"
if [ "$rc" = 0 ] && cmp -s "$tmp/odd" "$tmp/odd.back"; then ok "s3: keys with spaces, +, &, = and UTF-8 are encoded and signed"; else not_ok "s3: odd key round trip"; diag "$err"; fi
probe "$U" get-check no/such.bin 1
is "$rc" 3 "s3: GetObject of a missing key is CHORED_STORE_NOT_FOUND"
contains "$err" "HTTP 404 NoSuchKey" "s3: the error names NoSuchKey"

# A failing part: 500 on UploadPart 2 beyond the retries -> aborted, no object.
ctl $P reset '{}' >/dev/null
ctl $P fault '{"status": 500, "method": "PUT", "path": "/bkt/pre/fail.bin", "query": {"partNumber": "2"}, "count": 10, "body": "<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>"}' >/dev/null
probe --part-size $((5 * MIB)) --attempts 2 --backoff 10 "$U" put-gen fail.bin $((12 * MIB))
is "$rc" 1 "s3: a part failing beyond the retries fails the put"
contains "$err" "UploadPart 2 s3://bkt/pre/fail.bin: HTTP 500 InternalError" "s3: the error names the part, the status and S3's code"
state=$(ctl $P state)
is "$(echo "$state" | js '[a["key"] for a in d["aborted"]], d["uploads"], "pre/fail.bin" in d["objects"]["bkt"]')" \
	"['pre/fail.bin'] {} False" "s3: the fake shows the upload aborted and no object"
is "$(ctl $P requests | js '[r["method"] + " " + r["raw_query"].split("&")[0] for r in d if r["method"] != "POST"][-1]')" \
	"DELETE uploadId=$(echo "$state" | js 'd["aborted"][0]["upload_id"]')" "s3: AbortMultipartUpload sent last"

ctl $P reset '{}' >/dev/null
probe --part-size $((5 * MIB)) "$U" put-fail rfail.bin $((12 * MIB)) $((7 * MIB))
is "$rc $(ctl $P state | js 'len(d["aborted"]), d["uploads"], d["objects"]["bkt"]')" "1 1 {} {}" \
	"s3: a failing reader in part 2 aborts the upload"
ctl $P reset '{}' >/dev/null
probe --part-size $((5 * MIB)) "$U" put-cancel cancel.bin $((12 * MIB)) $((7 * MIB))
is "$rc $(ctl $P state | js 'len(d["aborted"]), d["uploads"], d["objects"]["bkt"]')" "1 1 {} {}" \
	"s3: a cancelled job's upload is aborted all the same"
contains "$err" "cancelled" "s3: the error says cancelled"

# Delete one, delete many (1000 keys per request, Content-MD5), per-key errors.
ctl $P reset '{}' >/dev/null
probe "$U" put-gen gone.bin 5
probe "$U" delete gone.bin
is "$rc $(ctl $P state | js 'd["objects"]["bkt"]')" "0 {}" "s3: DeleteObject"
probe "$U" delete gone.bin
is "$rc" 0 "s3: deleting a missing key succeeds"
probe "$U" put-many keep/k 3
probe "$U" put-gen locked/a 5
keys=$($PY -c 'print(" ".join("bulk/%05d" % i for i in range(1003)))')
# shellcheck disable=SC2086
probe "$U" delete-many keep/k00000 keep/k00002 locked/a $keys
is "$rc $out" "0 failed locked/a AccessDenied Access Denied
failed 1" "s3: delete many reports the key it could not delete"
is "$(ctl $P state | js 'sorted(d["objects"]["bkt"])')" "['pre/keep/k00001', 'pre/locked/a']" \
	"s3: the other keys are deleted"
is "$(ctl $P requests | js '" ".join("%d:%s" % (r["body"].count("<Key>"), bool(r["headers"].get("content-md5"))) for r in d if r["raw_query"] == "delete=")')" \
	"1000:True 6:True" "s3: DeleteObjects in batches of 1000 keys with Content-MD5"

# Listing over pages: a fake answering at most 7 keys per page.
start_fake paged --page-cap 7
U2="s3://bkt?endpoint=http://127.0.0.1:$port"
probe "$U2" put-many logs/x 30
probe "$U2" put-gen other 3
probe "$U2" list logs/
is "$rc $(echo "$out" | tail -1) $(echo "$out" | head -1 | cut -d' ' -f1,2)" "0 count 30 logs/x00000 3" \
	"s3: list gathers every page"
is "$(ctl $port requests | js '" ".join(str("continuation-token" in r["query"]) for r in d if r["method"] == "GET")')" \
	"False True True True True" "s3: pages 2-5 pass the continuation token"
is "$(ctl $port requests | js '[r["raw_query"] for r in d if r["method"] == "GET"][0]')" \
	"list-type=2&max-keys=1000&prefix=logs%2F" "s3: the list query is canonical (sorted, %2F)"
probe "$U2" delete-prefix logs/
is "$rc $out" "0 deleted 30 failed 0" "s3: delete everything under a prefix"
is "$(ctl $port state | js 'sorted(d["objects"]["bkt"])')" "['other']" "s3: only the other key is left"

# Authentication failures: clear errors, never the secret.
STORE_PROBE_SECRET='wrong-Secret-42' run "$PROBE" --key-id "$KEYID" "$U" list
printf '%s\n%s\n' "$out" "$err" >>"$tmp/all-output"
is "$rc" 1 "s3: a wrong secret fails"
contains "$err" "HTTP 403 SignatureDoesNotMatch" "s3: the error names SignatureDoesNotMatch"
lacks "$err" "wrong-Secret-42" "s3: the wrong secret is not in the output"
STORE_PROBE_SECRET=$SECRET run "$PROBE" --key-id AKIDUNKNOWN "$U" list
is "$rc" 1 "s3: an unknown access key fails"
contains "$err" "HTTP 403 InvalidAccessKeyId" "s3: the error names InvalidAccessKeyId"
printf '%s\n%s\n' "$out" "$err" >>"$tmp/all-output"
start_fake skewed --clock-offset 3600
probe "s3://bkt?endpoint=http://127.0.0.1:$port" list
is "$rc" 1 "s3: a clock 1 h off fails"
contains "$err" "HTTP 403 RequestTimeTooSkewed" "s3: the error names RequestTimeTooSkewed"
start_fake us --region us-east-1
probe "s3://bkt?endpoint=http://127.0.0.1:$port&region=us-east-1" put-gen r.bin 5
is "$rc" 0 "s3: region us-east-1 is signed as given"
probe "s3://bkt?endpoint=http://127.0.0.1:$P&region=" put-gen r.bin 5
is "$(ctl $P requests | js 'd[-1]["headers"]["authorization"].split("/")[2]')" "auto" \
	"s3: an empty region is signed as auto"

lacks "$(cat "$tmp/all-output")" "$SECRET" "no secret in any output of the probe"
lacks "$(for f in "$tmp"/*/stderr; do cat "$f"; done; ctl $P requests; ctl $port requests)" "$SECRET" \
	"no secret in the requests the fakes saw"
plan_done
