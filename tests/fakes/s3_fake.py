#!/usr/bin/env python3
"""A strict fake of Cloudflare R2's S3 API (path-style), for the store service's tests.

usage: s3_fake.py PORTFILE --data DIR --key KEY_ID:SECRET [--key ...] --bucket NAME [...]
                  [--region auto] [--clock-offset SECONDS] [--page-cap N]
                  [--deny-prefix KEY_PREFIX] [--min-part-size BYTES]

Objects live on disk under DIR (bodies are streamed to files, never held whole in memory);
their metadata in memory. Every request is SigV4-verified by recomputing the canonical
request from what arrived (api-contracts.md section 8; AWS's rules):
  - Authorization AWS4-HMAC-SHA256 with Credential KEY/DATE/REGION/s3/aws4_request;
    unknown key -> 403 InvalidAccessKeyId; region other than --region (default "auto",
    "us-east-1" always accepted as R2 does) -> 400 AuthorizationHeaderMalformed
  - x-amz-date required, equal to the scope's date; more than 15 min from the fake's clock
    (shifted by --clock-offset) -> 403 RequestTimeTooSkewed
  - x-amz-content-sha256 required (400 InvalidRequest) and signed; a hash is checked
    against the body (400 XAmzContentSHA256Mismatch); UNSIGNED-PAYLOAD accepted
  - x-amz-* headers present but not signed -> 403 AccessDenied
  - canonical query re-built from the raw query (decoded, RFC 3986 re-encoded, sorted,
    "uploads" -> "uploads="), canonical path = the S3 encoding of the decoded path,
    signed headers taken from the request (a signed header that is absent -> mismatch)
  - any difference -> 403 SignatureDoesNotMatch with the CanonicalRequest and StringToSign
Expect: 100-continue is answered only after the headers passed the checks (a refused
request gets its error without the body being sent); chunked bodies are accepted.

Operations: PutObject, GetObject (Range), HeadObject, DeleteObject, ListObjectsV2 (max-keys,
continuation-token, start-after, prefix, delimiter; --page-cap N caps every page at N keys,
as a server may), DeleteObjects (Content-MD5 required, <=1000 keys, Quiet), multipart:
CreateMultipartUpload, UploadPart, CompleteMultipartUpload (R2: parts >= 5 MiB except the
last -> EntityTooSmall, all but the last the same size and the last not larger ->
InvalidPart, InvalidPartOrder, InvalidPart for an unknown part or ETag, ETag = MD5 of the
part MD5s + "-N"), AbortMultipartUpload (NoSuchUpload). Keys under --deny-prefix cannot be
deleted (AccessDenied), to exercise per-key errors of DeleteObjects.

Control API (fakelib): /_fake/fault also takes "query": {"partNumber": "2"} to match
query parameters; /_fake/requests adds "raw_query" and "status" to each request;
/_fake/state is {"objects": {bucket: {key: {size, etag}}}, "uploads": {id: {key, parts}},
"aborted": [{upload_id, key, parts}], "completed": [{upload_id, key, parts}]}.
"""
import argparse
import base64
import hashlib
import hmac
import os
import re
import secrets
import socket
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib  # noqa: E402

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_SKEW = 15 * 60
MAX_XML_BODY = 2 * 1024 * 1024
BLOCK = 1 << 20
# Request bodies are read in pieces of this size into one reused buffer, whatever their
# framing (Content-Length or chunked), so that every client's bytes take the same path.
PIECE = 64 << 10
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class S3Error(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(code)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def error_response(e):
    extra = "".join("<%s>%s</%s>" % (k, escape(str(v)), k) for k, v in e.extra.items())
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s'
            "</Message>%s<RequestId>%s</RequestId><HostId>fake</HostId></Error>"
            % (e.code, escape(e.message), extra, secrets.token_hex(8).upper()))
    return fakelib.Response(e.status, body, content_type="application/xml")


def xml_response(body, status=200, headers=None):
    return fakelib.Response(status, '<?xml version="1.0" encoding="UTF-8"?>\n' + body,
                            headers, content_type="application/xml")


def iso_ms(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def s3_quote(s):
    """RFC 3986 encoding, uppercase hex, unreserved characters kept."""
    return quote(s, safe="-_.~")


def canonical_query(raw):
    pairs = []
    for item in raw.split("&") if raw else []:
        k, _, v = item.partition("=")
        pairs.append((s3_quote(unquote(k)), s3_quote(unquote(v))))
    pairs.sort()
    return "&".join("%s=%s" % p for p in pairs)


def canonical_path(raw_path):
    return quote(unquote(raw_path), safe="/-_.~")


def signing_key(secret, date, region):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


class Upload:
    def __init__(self, bucket, key):
        self.bucket, self.key = bucket, key
        self.parts = {}  # number -> (size, md5 hex, path)


class S3App(fakelib.FakeApp):
    def __init__(self, opts):
        self.opts = opts
        self.keys = dict(k.split(":", 1) for k in opts.key)
        self.regions = {opts.region, "us-east-1"}
        self.lock = threading.RLock()
        os.makedirs(opts.data, exist_ok=True)
        self.reset()

    # ---- state ----
    def reset(self):
        with self.lock:
            for b in getattr(self, "buckets", {}).values():
                for obj in b.values():
                    self._unlink(obj["files"])
            for up in getattr(self, "uploads", {}).values():
                self._unlink(p for _, _, p in up.parts.values())
            self.buckets = {b: {} for b in self.opts.bucket}
            self.uploads = {}
            self.aborted = []
            self.completed = []

    def dump_state(self):
        with self.lock:
            return {
                "objects": {b: {k: {"size": o["size"], "etag": o["etag"]} for k, o in objs.items()}
                            for b, objs in self.buckets.items()},
                "uploads": {i: {"key": u.key, "parts": sorted(u.parts)}
                            for i, u in self.uploads.items()},
                "aborted": list(self.aborted),
                "completed": list(self.completed),
            }

    @staticmethod
    def _unlink(paths):
        for p in paths:
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    def now(self):
        return time.time() + self.opts.clock_offset

    # ---- authentication (headers only; the body hash is checked once it is read) ----
    def authenticate(self, method, raw_path, raw_query, handler):
        h = handler.headers
        auth = h.get("Authorization")
        if not auth:
            raise S3Error(403, "AccessDenied", "Access Denied")
        m = re.fullmatch(r"AWS4-HMAC-SHA256 (.*)", auth.strip())
        if not m:
            raise S3Error(400, "InvalidArgument", "Unsupported Authorization Type")
        fields = {}
        for item in m.group(1).split(","):
            k, _, v = item.strip().partition("=")
            fields[k] = v
        cred, signed, sig = (fields.get("Credential"), fields.get("SignedHeaders"),
                             fields.get("Signature"))
        if not cred or not signed or not sig:
            raise S3Error(400, "AuthorizationHeaderMalformed",
                          "The authorization header is malformed; the authorization header "
                          "requires three components: Credential, SignedHeaders, and Signature.")
        parts = cred.split("/")
        if len(parts) != 5 or parts[3] != "s3" or parts[4] != "aws4_request":
            raise S3Error(400, "AuthorizationHeaderMalformed",
                          "The authorization header is malformed; the Credential is mal-formed; "
                          "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
        akid, date, region = parts[0], parts[1], parts[2]
        if akid not in self.keys:
            raise S3Error(403, "InvalidAccessKeyId",
                          "The AWS Access Key Id you provided does not exist in our records.",
                          AWSAccessKeyId=akid)
        if region not in self.regions:
            raise S3Error(400, "AuthorizationHeaderMalformed",
                          "The authorization header is malformed; the region '%s' is wrong; "
                          "expecting '%s'" % (region, self.opts.region), Region=self.opts.region)
        amzdate = h.get("x-amz-date")
        if not amzdate or not re.fullmatch(r"\d{8}T\d{6}Z", amzdate):
            raise S3Error(403, "AccessDenied",
                          "AWS authentication requires a valid Date or x-amz-date header")
        if amzdate[:8] != date:
            raise S3Error(400, "AuthorizationHeaderMalformed",
                          "The authorization header is malformed; Invalid credential date. "
                          "Date is not the same as X-Amz-Date.")
        t = datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()
        now = self.now()
        if abs(now - t) > MAX_SKEW:
            raise S3Error(403, "RequestTimeTooSkewed",
                          "The difference between the request time and the current time is "
                          "too large.", RequestTime=amzdate,
                          ServerTime=iso_ms(now), MaxAllowedSkewMilliseconds=MAX_SKEW * 1000)
        payload = h.get("x-amz-content-sha256")
        if payload is None:
            raise S3Error(400, "InvalidRequest",
                          "Missing required header for this request: x-amz-content-sha256")
        if payload != "UNSIGNED-PAYLOAD" and not re.fullmatch(r"[0-9a-f]{64}", payload):
            raise S3Error(400, "InvalidArgument",
                          "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, or a valid sha256 value.",
                          ArgumentName="x-amz-content-sha256", ArgumentValue=payload)
        names = signed.split(";")
        present = {k.lower() for k in h.keys()}
        if "host" not in names or "x-amz-content-sha256" not in names:
            raise S3Error(403, "AccessDenied",
                          "There were headers present in the request which were not signed",
                          HeadersNotSigned=",".join(n for n in ("host", "x-amz-content-sha256")
                                                    if n not in names))
        unsigned = sorted(n for n in present if n.startswith("x-amz-") and n not in names)
        if unsigned:
            raise S3Error(403, "AccessDenied",
                          "There were headers present in the request which were not signed",
                          HeadersNotSigned=",".join(unsigned))
        canon_headers = ""
        for n in sorted(names):
            vals = h.get_all(n) or []
            v = ",".join(" ".join(x.split()) for x in vals)
            canon_headers += "%s:%s\n" % (n, v)
        creq = "\n".join([method, canonical_path(raw_path), canonical_query(raw_query),
                          canon_headers, ";".join(sorted(names)), payload])
        scope = "%s/%s/s3/aws4_request" % (date, region)
        sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        want = hmac.new(signing_key(self.keys[akid], date, region), sts.encode(),
                        hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig) or names != sorted(names):
            raise S3Error(403, "SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature "
                          "you provided. Check your key and signing method.",
                          AWSAccessKeyId=akid, StringToSign=sts, SignatureProvided=sig,
                          CanonicalRequest=creq)
        return payload

    # ---- routing (after the body was read) ----
    def s3_route(self, req, body):
        """req: fakelib.Request (body empty); body: Body (file-backed or bytes)."""
        path = req.path
        segs = path[1:].split("/", 1)
        bucket = unquote(segs[0])
        key = unquote(segs[1]) if len(segs) > 1 else ""
        if not bucket:
            raise S3Error(501, "NotImplemented", "ListBuckets is not implemented by the fake")
        if bucket not in self.buckets:
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist",
                          BucketName=bucket)
        q = req.query
        m = req.method
        if not key:
            if m == "GET" and req.arg("list-type") == "2":
                return self.list_v2(bucket, req)
            if m == "POST" and "delete" in q:
                return self.delete_objects(bucket, req, body)
            raise S3Error(501, "NotImplemented",
                          "A header or query you provided implies functionality that is not "
                          "implemented")
        if len(key.encode()) > 1024:
            raise S3Error(400, "KeyTooLongError", "Your key is too long")
        if m == "PUT" and "uploadId" in q:
            return self.upload_part(bucket, key, req, body)
        if m == "PUT":
            if "x-amz-copy-source" in req.headers:
                raise S3Error(501, "NotImplemented", "CopyObject is not implemented by the fake")
            return self.put_object(bucket, key, body)
        if m == "POST" and "uploads" in q:
            return self.create_upload(bucket, key)
        if m == "POST" and "uploadId" in q:
            return self.complete_upload(bucket, key, req, body)
        if m in ("GET", "HEAD"):
            return self.get_object(bucket, key, req)
        if m == "DELETE" and "uploadId" in q:
            return self.abort_upload(bucket, key, req.arg("uploadId"))
        if m == "DELETE":
            return self.delete_object(bucket, key)
        raise S3Error(405, "MethodNotAllowed",
                      "The specified method is not allowed against this resource.")

    def put_object(self, bucket, key, body):
        path = body.keep()
        with self.lock:
            old = self.buckets[bucket].get(key)
            self.buckets[bucket][key] = {"size": body.size, "etag": body.md5.hexdigest(),
                                         "mtime": self.now(), "files": [path]}
        if old:
            self._unlink(old["files"])
        return fakelib.Response(200, b"", {"ETag": '"%s"' % body.md5.hexdigest()}, None)

    def get_object(self, bucket, key, req):
        with self.lock:
            obj = self.buckets[bucket].get(key)
            if obj is None:
                raise S3Error(404, "NoSuchKey", "The specified key does not exist.", Key=key)
            obj = dict(obj)
        size, start, end, status = obj["size"], 0, obj["size"] - 1, 200
        headers = {"ETag": '"%s"' % obj["etag"], "Last-Modified":
                   time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(obj["mtime"])),
                   "Accept-Ranges": "bytes"}
        rng = req.headers.get("range")
        if rng:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if m and m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            elif m and m.group(2):
                start, end = max(size - int(m.group(2)), 0), size - 1
            if not m or start >= size or start > end:
                raise S3Error(416, "InvalidRange", "The requested range is not satisfiable",
                              RangeRequested=rng, ActualObjectSize=size)
            status = 206
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, size)
        return StreamResponse(status, headers, obj["files"], start, end + 1 - start)

    def delete_object(self, bucket, key):
        if self.opts.deny_prefix and key.startswith(self.opts.deny_prefix):
            raise S3Error(403, "AccessDenied", "Access Denied")
        with self.lock:
            old = self.buckets[bucket].pop(key, None)
        if old:
            self._unlink(old["files"])
        return fakelib.Response(204, b"", None, None)

    def list_v2(self, bucket, req):
        prefix = req.arg("prefix", "")
        delim = req.arg("delimiter", "")
        try:
            max_keys = int(req.arg("max-keys", "1000"))
            if max_keys < 0:
                raise ValueError
        except ValueError:
            raise S3Error(400, "InvalidArgument", "Provided max-keys not an integer or within "
                          "integer range", ArgumentName="max-keys")
        page = min(max_keys, 1000, self.opts.page_cap or 1000)
        token = req.arg("continuation-token")
        after = req.arg("start-after", "")
        if token is not None:
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode()
            except (ValueError, UnicodeDecodeError):
                raise S3Error(400, "InvalidArgument", "The continuation token provided is "
                              "incorrect", ArgumentName="continuation-token")
        with self.lock:
            keys = sorted(k for k in self.buckets[bucket] if k.startswith(prefix) and k > after)
            objs = {k: dict(self.buckets[bucket][k]) for k in keys}
        contents, common, last, truncated = [], [], None, False
        for k in keys:
            if delim:
                i = k.find(delim, len(prefix))
                if i >= 0:
                    cp = k[:i + len(delim)]
                    if common and common[-1] == cp:
                        continue
                    if len(contents) + len(common) >= page:
                        truncated = True
                        break
                    common.append(cp)
                    last = cp + "\U0010ffff"
                    continue
            if len(contents) + len(common) >= page:
                truncated = True
                break
            contents.append(k)
            last = k
        out = ["<ListBucketResult xmlns=\"%s\"><Name>%s</Name><Prefix>%s</Prefix>"
               % (S3_NS, escape(bucket), escape(prefix))]
        if token is not None:
            out.append("<ContinuationToken>%s</ContinuationToken>" % escape(token))
        if after and token is None:
            out.append("<StartAfter>%s</StartAfter>" % escape(after))
        out.append("<KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys>"
                   % (len(contents) + len(common), max_keys))
        if delim:
            out.append("<Delimiter>%s</Delimiter>" % escape(delim))
        out.append("<IsTruncated>%s</IsTruncated>" % ("true" if truncated else "false"))
        if truncated:
            nt = base64.urlsafe_b64encode(last.encode()).decode()
            out.append("<NextContinuationToken>%s</NextContinuationToken>" % nt)
        for k in contents:
            o = objs[k]
            out.append("<Contents><Key>%s</Key><LastModified>%s</LastModified><ETag>&quot;%s"
                       "&quot;</ETag><Size>%d</Size><StorageClass>STANDARD</StorageClass>"
                       "</Contents>" % (escape(k), iso_ms(o["mtime"]), o["etag"], o["size"]))
        for cp in common:
            out.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % escape(cp))
        out.append("</ListBucketResult>")
        return xml_response("".join(out))

    def delete_objects(self, bucket, req, body):
        data = body.bytes()
        md5 = req.headers.get("content-md5")
        if not md5:
            raise S3Error(400, "InvalidRequest",
                          "Missing required header for this request: Content-Md5.")
        try:
            want = base64.b64decode(md5.encode(), validate=True)
        except ValueError:
            want = b""
        if len(want) != 16:
            raise S3Error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.",
                          Content_MD5=md5)
        if want != hashlib.md5(data).digest():
            raise S3Error(400, "BadDigest", "The Content-MD5 you specified did not match "
                          "what we received.")
        root = parse_xml(data, "Delete")
        quiet = (child_text(root, "Quiet") or "false").strip() == "true"
        objs = [o for o in root if local(o.tag) == "Object"]
        if not objs or len(objs) > 1000:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed or "
                          "did not validate against our published schema")
        out = ["<DeleteResult xmlns=\"%s\">" % S3_NS]
        for o in objs:
            key = child_text(o, "Key")
            if key is None:
                raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed "
                              "or did not validate against our published schema")
            if self.opts.deny_prefix and key.startswith(self.opts.deny_prefix):
                out.append("<Error><Key>%s</Key><Code>AccessDenied</Code><Message>Access "
                           "Denied</Message></Error>" % escape(key))
                continue
            with self.lock:
                old = self.buckets[bucket].pop(key, None)
            if old:
                self._unlink(old["files"])
            if not quiet:
                out.append("<Deleted><Key>%s</Key></Deleted>" % escape(key))
        out.append("</DeleteResult>")
        return xml_response("".join(out))

    # ---- multipart ----
    def create_upload(self, bucket, key):
        uid = secrets.token_urlsafe(48)
        with self.lock:
            self.uploads[uid] = Upload(bucket, key)
        return xml_response(
            "<InitiateMultipartUploadResult xmlns=\"%s\"><Bucket>%s</Bucket><Key>%s</Key>"
            "<UploadId>%s</UploadId></InitiateMultipartUploadResult>"
            % (S3_NS, escape(bucket), escape(key), uid))

    def _upload(self, bucket, key, uid):
        up = self.uploads.get(uid)
        if up is None or up.bucket != bucket or up.key != key:
            raise S3Error(404, "NoSuchUpload", "The specified multipart upload does not exist. "
                          "The upload ID may be invalid, or the upload may have been aborted "
                          "or completed.", UploadId=uid)
        return up

    def upload_part(self, bucket, key, req, body):
        try:
            n = int(req.arg("partNumber", ""))
            if not 1 <= n <= 10000:
                raise ValueError
        except ValueError:
            raise S3Error(400, "InvalidArgument", "Part number must be an integer between 1 "
                          "and 10000, inclusive", ArgumentName="partNumber",
                          ArgumentValue=req.arg("partNumber", ""))
        with self.lock:
            up = self._upload(bucket, key, req.arg("uploadId"))
            path = body.keep()
            old = up.parts.get(n)
            up.parts[n] = (body.size, body.md5.hexdigest(), path)
        if old:
            self._unlink([old[2]])
        return fakelib.Response(200, b"", {"ETag": '"%s"' % body.md5.hexdigest()}, None)

    def complete_upload(self, bucket, key, req, body):
        root = parse_xml(body.bytes(), "CompleteMultipartUpload")
        listed = []
        for p in root:
            if local(p.tag) != "Part":
                continue
            try:
                listed.append((int(child_text(p, "PartNumber")),
                               (child_text(p, "ETag") or "").strip().strip('"')))
            except (TypeError, ValueError):
                raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed "
                              "or did not validate against our published schema")
        if not listed:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed or "
                          "did not validate against our published schema")
        uid = req.arg("uploadId")
        with self.lock:
            up = self._upload(bucket, key, uid)
            nums = [n for n, _ in listed]
            if nums != sorted(set(nums)):
                raise S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending "
                              "order. The parts list must be specified in order by part number.",
                              UploadId=uid)
            for n, etag in listed:
                if n not in up.parts or up.parts[n][1] != etag:
                    raise S3Error(400, "InvalidPart", "One or more of the specified parts could "
                                  "not be found. The part might not have been uploaded, or the "
                                  "specified entity tag might not have matched the part's entity "
                                  "tag.", UploadId=uid, PartNumber=n, ETag=etag)
            sizes = [up.parts[n][0] for n in nums]
            for i, s in enumerate(sizes[:-1]):
                if s < self.opts.min_part_size:
                    raise S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than "
                                  "the minimum allowed object size.", ProposedSize=s,
                                  MinSizeAllowed=self.opts.min_part_size, PartNumber=nums[i])
            if len(set(sizes[:-1])) > 1 or (len(sizes) > 1 and sizes[-1] > sizes[0]):
                raise S3Error(400, "InvalidPart", "All non-trailing parts must have the same "
                              "length.", UploadId=uid)
            digest = hashlib.md5(b"".join(bytes.fromhex(up.parts[n][1]) for n in nums))
            etag = "%s-%d" % (digest.hexdigest(), len(nums))
            files = [up.parts[n][2] for n in nums]
            unused = [p for n, (_, _, p) in up.parts.items() if n not in nums]
            del self.uploads[uid]
            old = self.buckets[bucket].get(key)
            self.buckets[bucket][key] = {"size": sum(sizes), "etag": etag, "mtime": self.now(),
                                         "files": files}
            self.completed.append({"upload_id": uid, "key": key, "parts": len(nums)})
        self._unlink(unused)
        if old:
            self._unlink(old["files"])
        return xml_response(
            "<CompleteMultipartUploadResult xmlns=\"%s\"><Location>/%s/%s</Location>"
            "<Bucket>%s</Bucket><Key>%s</Key><ETag>&quot;%s&quot;</ETag>"
            "</CompleteMultipartUploadResult>"
            % (S3_NS, escape(bucket), escape(quote(key)), escape(bucket), escape(key), etag))

    def abort_upload(self, bucket, key, uid):
        with self.lock:
            up = self._upload(bucket, key, uid)
            del self.uploads[uid]
            self.aborted.append({"upload_id": uid, "key": key, "parts": sorted(up.parts)})
        self._unlink(p for _, _, p in up.parts.values())
        return fakelib.Response(204, b"", None, None)


def local(tag):
    return tag.rsplit("}", 1)[-1]


def child_text(el, name):
    for c in el:
        if local(c.tag) == name:
            return c.text or ""
    return None


def parse_xml(data, root_name):
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        root = None
    if root is None or local(root.tag) != root_name:
        raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did "
                      "not validate against our published schema")
    return root


class Body:
    """A request body read from the socket: small ones in memory, object data streamed to a
    file in the data directory. Tracks size, MD5 and (when asked) SHA-256."""

    def __init__(self, data_dir, to_file, want_sha):
        self.size = 0
        self.md5 = hashlib.md5()
        self.sha = hashlib.sha256() if want_sha else None
        self.buf = None if to_file else bytearray()
        self.file = tempfile.NamedTemporaryFile(dir=data_dir, prefix="obj-", delete=False) \
            if to_file else None

    def add(self, chunk):
        self.size += len(chunk)
        self.md5.update(chunk)
        if self.sha:
            self.sha.update(chunk)
        if self.file:
            self.file.write(chunk)
        else:
            if self.size > MAX_XML_BODY:
                raise S3Error(400, "MaxMessageLengthExceeded",
                              "Your request was too big.")
            self.buf += chunk

    def finish(self):
        if self.file:
            self.file.close()

    def keep(self):
        """The file now belongs to the caller (the object or part)."""
        path, self.file = self.file.name, None
        return path

    def discard(self):
        if self.file:
            self.file.close()
            try:
                os.unlink(self.file.name)
            except FileNotFoundError:
                pass
            self.file = None

    def bytes(self):
        return bytes(self.buf or b"")


class StreamResponse:
    """A GetObject answer streamed from the object's files."""

    def __init__(self, status, headers, files, offset, length):
        self.status, self.headers = status, headers
        self.files, self.offset, self.length = files, offset, length


class S3Handler(fakelib.FakeHandler):
    server_version = "fake-r2"

    def parse_request(self):
        self._expect = False
        return super().parse_request()

    def handle_expect_100(self):
        self._expect = True  # answered once the headers passed the checks
        return True

    def _continue(self):
        if getattr(self, "_expect", False):
            self._expect = False
            self.send_response_only(100)
            self.end_headers()

    def _body_chunks(self):
        """The request body in pieces of at most PIECE bytes, whatever the framing:
        memoryviews of one buffer reused for every piece (each valid until the next one is
        read), so that the fake costs the same per byte for every client."""
        buf = memoryview(bytearray(PIECE))

        def pieces(n):
            while n:
                k = self.rfile.readinto(buf[:min(n, PIECE)])
                if not k:
                    raise ConnectionError("body ended early")
                n -= k
                yield buf[:k]

        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                line = self.rfile.readline().strip()
                n = int(line.split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline().strip():
                        pass
                    return
                yield from pieces(n)
                self.rfile.readline()
        yield from pieces(int(self.headers.get("Content-Length") or 0))

    def _linger_close(self):
        """Closes after an early answer without reading a body the client may still send
        (so the client reads the answer rather than a connection reset)."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.5)
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline and self.connection.recv(BLOCK):
                pass
        except OSError:
            pass

    def _answer(self, resp, rec):
        rec["status"] = resp.status
        if isinstance(resp, StreamResponse):
            return self._stream(resp)
        resp.headers.setdefault("x-amz-request-id", secrets.token_hex(8).upper())
        self._send(resp)

    def _stream(self, r):
        try:
            self.send_response(r.status)
            for k, v in r.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(r.length))
            self.end_headers()
            if self.command == "HEAD":
                return
            skip, left = r.offset, r.length
            for path in r.files:
                with open(path, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    if skip >= size:
                        skip -= size
                        continue
                    f.seek(skip)
                    skip = 0
                    while left:
                        c = f.read(min(left, BLOCK))
                        if not c:
                            break
                        self.wfile.write(c)
                        left -= len(c)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _take_fault(self, method, path, query):
        st = self.server.fake
        with st.lock:
            for f in st.faults:
                if f.get("method") and f["method"] != method:
                    continue
                if f.get("path") and not path.startswith(f["path"]):
                    continue
                if any(query.get(k, [None])[0] != v for k, v in (f.get("query") or {}).items()):
                    continue
                f["count"] = f.get("count", 1) - 1
                if f["count"] <= 0:
                    st.faults.remove(f)
                return f
        return None

    def handle_any(self):
        u = urlsplit(self.path)
        if u.path.startswith("/_fake/"):
            self._continue()
            body = b"".join(bytes(c) for c in self._body_chunks())  # copies: one buffer
            return self._send(self._control(fakelib.Request(self, body)))
        app, st = self.server.app, self.server.fake
        req = fakelib.Request(self, b"")
        rec = {"method": req.method, "path": req.path, "raw_query": u.query,
               "query": {k: v[0] for k, v in req.query.items()}, "headers": req.headers,
               "body_len": 0, "body": None, "status": None}
        with st.lock:
            st.requests.append(rec)
        fault = self._take_fault(req.method, req.path, req.query)
        body = None
        try:
            if fault:
                return self._fault(fault, rec)
            payload = app.authenticate(req.method, u.path, u.query, self)
            is_data = req.method == "PUT"
            if is_data and "Content-Length" not in self.headers and \
                    self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                raise S3Error(411, "MissingContentLength",
                              "You must provide the Content-Length HTTP header.")
            self._continue()
            body = Body(app.opts.data, is_data, payload != "UNSIGNED-PAYLOAD")
            for c in self._body_chunks():
                body.add(c)
            body.finish()
            rec["body_len"] = body.size
            if not is_data and body.size < 65536:
                try:
                    rec["body"] = body.bytes().decode("utf-8")
                except UnicodeDecodeError:
                    pass
            md5 = req.headers.get("content-md5")
            if md5 is not None:  # S3 checks it on every request that carries one
                try:
                    want = base64.b64decode(md5.encode(), validate=True)
                except ValueError:
                    want = b""
                if len(want) != 16:
                    raise S3Error(400, "InvalidDigest", "The Content-MD5 you specified was "
                                  "invalid.", Content_MD5=md5)
                if want != body.md5.digest():
                    raise S3Error(400, "BadDigest", "The Content-MD5 you specified did not "
                                  "match what we received.")
            if body.sha and body.sha.hexdigest() != payload:
                raise S3Error(400, "XAmzContentSHA256Mismatch", "The provided "
                              "'x-amz-content-sha256' header does not match what was computed.",
                              ClientComputedContentSHA256=payload,
                              S3ComputedContentSHA256=body.sha.hexdigest())
            resp = app.s3_route(req, body)
        except S3Error as e:
            resp = error_response(e)
            if body is None and not self._expect:
                try:  # refused on its headers: read and drop the body the client sent
                    for _ in self._body_chunks():
                        pass
                except (ConnectionError, ValueError):
                    self.close_connection = True
            elif e.code == "MaxMessageLengthExceeded":
                self.close_connection = True
        except (ConnectionError, ValueError) as e:  # a broken body: nothing to answer
            if body:
                body.discard()
            self.close_connection = True
            rec["status"] = "broken body: %s" % e
            return
        except Exception as e:  # a bug in the fake must be visible, not a hang
            resp = fakelib.json_response({"fake_bug": repr(e)}, 599)
        if body:
            body.discard()  # unless the route kept its file
        early = self._expect
        if early:  # refused before the body: do not read it
            resp.headers["Connection"] = "close"
        self._answer(resp, rec)
        if early:
            self._linger_close()

    def _fault(self, f, rec):
        if not self._expect:
            for _ in self._body_chunks():
                pass
        early = self._expect
        if f.get("delay_ms"):
            time.sleep(f["delay_ms"] / 1000)
        if f.get("drop"):
            self.close_connection = True
            rec["status"] = "dropped"
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if f.get("malformed"):
            resp = fakelib.Response(200, b"<ListBucketResult><Contents><Key>trunc",
                                    content_type="application/xml")
        else:
            b = f.get("body", "")
            resp = fakelib.Response(f.get("status", 500), b, f.get("headers"),
                                    "application/xml" if str(b).startswith("<") else "text/plain")
        if early:
            resp.headers["Connection"] = "close"
        self._answer(resp, rec)
        if early:
            self._linger_close()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


def main():
    ap = argparse.ArgumentParser(description="strict fake of R2's S3 API")
    ap.add_argument("portfile")
    ap.add_argument("--data", required=True, help="directory for object data")
    ap.add_argument("--key", action="append", required=True, help="KEY_ID:SECRET")
    ap.add_argument("--bucket", action="append", required=True)
    ap.add_argument("--region", default="auto")
    ap.add_argument("--clock-offset", type=float, default=0.0,
                    help="seconds added to the fake's clock (skew tests)")
    ap.add_argument("--page-cap", type=int, default=0, help="at most N keys per list page")
    ap.add_argument("--deny-prefix", default="", help="keys that cannot be deleted")
    ap.add_argument("--min-part-size", type=int, default=5 * 1024 * 1024)
    opts = ap.parse_args()
    fakelib.serve(S3App(opts), opts.portfile, S3Handler)


if __name__ == "__main__":
    main()
