#!/usr/bin/env python3
"""A fake Notion API (api-contracts §3) for the report service's tests, on fakelib.

usage: notion_fake.py PORTFILE [--token T] [--version V] [--page ID]... [--rate R]
                      [--burst B] [--units utf16|codepoints]

  --token T      the only integration secret accepted (default "secret_fake")
  --version V    the Notion-Version the client must send (default 2022-06-28)
  --page ID      a page shared with the integration (repeatable; default
                 1f217cc1-225f-4580-8e22-cd7eb8db3c5e)
  --rate R       a real rate limiter: R requests/s on average (0, the default: off; the
                 contract's figure is 3), bursts of B (default 10); beyond, 429 rate_limited
                 with Retry-After in whole seconds
  --units U      how rich-text length is counted: UTF-16 units (default, the conservative
                 reading of the contract's open point 3) or code points

Routes: POST /v1/pages (a sub-page of a known page, title property only, ≤100 children),
PATCH /v1/blocks/{id}/children (append at the end of a page). Every request is checked as the
real service does: Bearer token, Notion-Version, JSON body, ≤100 blocks per array, ≤2000
characters per rich-text content, ≤100 rich-text items, ≤2 nesting levels, ≤1000 block
elements and ≤500 KB per request, table rows as wide as the table, known block types and
code languages. Errors are Notion's JSON: {"object":"error","status":…,"code":…,
"message":…,"request_id":…}. GET /_fake/state: {"pages":[{"id","parent","title",
"blocks":[{"id","type","text",…request form…}]}]} with blocks in order ("text" is the plain
text of the block's rich text, for tests).
"""
import json
import sys
import threading
import time
import uuid

sys.path.insert(0, __import__("os").path.dirname(__file__))
from fakelib import FakeApp, json_response, serve  # noqa: E402

TEXT_TYPES = {"paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item",
              "numbered_list_item", "quote", "to_do", "toggle", "callout", "code"}
OTHER_TYPES = {"table", "table_row", "divider"}
LANGUAGES = {
    "abap", "arduino", "bash", "basic", "c", "clojure", "coffeescript", "c++", "c#", "css",
    "dart", "diff", "docker", "elixir", "elm", "erlang", "flow", "fortran", "f#", "gherkin",
    "glsl", "go", "graphql", "groovy", "haskell", "html", "java", "javascript", "json",
    "julia", "kotlin", "latex", "less", "lisp", "livescript", "lua", "makefile", "markdown",
    "markup", "matlab", "mermaid", "nix", "objective-c", "ocaml", "pascal", "perl", "php",
    "plain text", "powershell", "prolog", "protobuf", "python", "r", "reason", "ruby", "rust",
    "sass", "scala", "scheme", "scss", "shell", "sql", "swift", "typescript", "vb.net",
    "verilog", "vhdl", "visual basic", "webassembly", "xml", "yaml", "java/c/c++/c#"}
COLORS = {"default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink",
          "red"}
COLORS |= {c + "_background" for c in COLORS if c != "default"}
MAX_BYTES = 500 * 1000


class Invalid(Exception):
    pass


def error(status, code, message):
    return json_response({"object": "error", "status": status, "code": code,
                          "message": message, "request_id": str(uuid.uuid4())}, status)


def norm_id(s):
    h = s.replace("-", "").lower()
    if len(h) != 32 or any(c not in "0123456789abcdef" for c in h):
        return None
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


class Limiter:
    """Token bucket: `rate` requests/s on average, bursts of `burst`."""

    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self.tokens, self.at = float(burst), time.monotonic()
        self.lock = threading.Lock()

    def take(self):
        """0 when the request may go, else the seconds to wait (an integer ≥ 1)."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0
            return max(1, int((1 - self.tokens) / self.rate + 0.999))


class NotionFake(FakeApp):
    def __init__(self, token, version, pages, rate, burst, units):
        self.token, self.version, self.shared = token, version, pages
        self.units = units
        self.limiter = Limiter(rate, burst) if rate > 0 else None
        self.reset()

    def reset(self):
        self.lock = threading.Lock()
        # id -> {"id","parent","title","blocks":[…]}; pages in creation order
        self.pages = {}
        for p in self.shared:
            self.pages[p] = {"id": p, "parent": None, "title": "", "blocks": []}

    def dump_state(self):
        return {"pages": list(self.pages.values())}

    # -- validation, Notion's way: the first failure names its path --------------------
    def length(self, s):
        if self.units == "codepoints":
            return len(s)
        return len(s.encode("utf-16-le")) // 2

    def rich_text(self, rt, path):
        if not isinstance(rt, list):
            raise Invalid("%s should be an array, instead was `%s`." % (path, json.dumps(rt)))
        if len(rt) > 100:
            raise Invalid("%s.length should be ≤ `100`, instead was `%d`." % (path, len(rt)))
        out = []
        for i, item in enumerate(rt):
            p = "%s[%d]" % (path, i)
            if not isinstance(item, dict):
                raise Invalid("%s should be an object." % p)
            text = item.get("text")
            if item.get("type", "text") != "text" or not isinstance(text, dict):
                raise Invalid("%s.text should be defined, instead was `undefined`." % p)
            content = text.get("content")
            if not isinstance(content, str):
                raise Invalid("%s.text.content should be a string, instead was `%s`." %
                              (p, json.dumps(content)))
            n = self.length(content)
            if n > 2000:
                raise Invalid("%s.text.content.length should be ≤ `2000`, instead was `%d`."
                              % (p, n))
            link = text.get("link")
            if link is not None:
                if not isinstance(link, dict) or not isinstance(link.get("url"), str):
                    raise Invalid("%s.text.link.url should be a string." % p)
                if len(link["url"]) > 2000:
                    raise Invalid("%s.text.link.url.length should be ≤ `2000`." % p)
            ann = item.get("annotations")
            if ann is not None and not isinstance(ann, dict):
                raise Invalid("%s.annotations should be an object." % p)
            out.append(content)
        return "".join(out)

    def block(self, b, path, depth, count):
        """Validates block `b` (depth 1 = a child of the request); returns its stored form."""
        if not isinstance(b, dict):
            raise Invalid("%s should be an object, instead was `%s`." % (path, json.dumps(b)))
        if b.get("object", "block") != "block":
            raise Invalid("%s.object should be `\"block\"`." % path)
        t = b.get("type")
        if t not in TEXT_TYPES | OTHER_TYPES:
            raise Invalid("%s.type should be a supported block type, instead was `%s`." %
                          (path, json.dumps(t)))
        inner = b.get(t)
        if not isinstance(inner, dict):
            raise Invalid("%s.%s should be defined, instead was `undefined`." % (path, t))
        count[0] += 1
        stored = {"id": str(uuid.uuid4()), "type": t, t: inner, "text": ""}
        p = "%s.%s" % (path, t)
        if t in TEXT_TYPES:
            stored["text"] = self.rich_text(inner.get("rich_text"), p + ".rich_text")
            if "color" in inner and inner["color"] not in COLORS:
                raise Invalid("%s.color should be a color, instead was `%s`." %
                              (p, json.dumps(inner["color"])))
        if t == "code" and inner.get("language") not in LANGUAGES:
            raise Invalid("%s.language should be one of the languages, instead was `%s`." %
                          (p, json.dumps(inner.get("language"))))
        if t.startswith("heading_") and not isinstance(inner.get("is_toggleable", False), bool):
            raise Invalid("%s.is_toggleable should be a boolean." % p)
        if t == "table_row":
            cells = inner.get("cells")
            if not isinstance(cells, list):
                raise Invalid("%s.cells should be an array." % p)
            stored["text"] = " | ".join(self.rich_text(c, "%s.cells[%d]" % (p, i))
                                        for i, c in enumerate(cells))
        children = inner.get("children")
        if t == "table":
            width = inner.get("table_width")
            if not isinstance(width, int) or width < 1:
                raise Invalid("%s.table_width should be a positive integer." % p)
            if not isinstance(children, list) or not children:
                raise Invalid("%s.children should be defined and not empty." % p)
            for i, row in enumerate(children):
                if not isinstance(row, dict) or row.get("type") != "table_row":
                    raise Invalid("%s.children[%d].type should be `\"table_row\"`." % (p, i))
                cells = (row.get("table_row") or {}).get("cells")
                if not isinstance(cells, list) or len(cells) != width:
                    raise Invalid("Number of cells in table row must match the table width "
                                  "of the parent.")
        if children is not None:
            if depth >= 2:
                raise Invalid("%s.children should be not present, instead was `[…]`: at "
                              "most two levels of nesting per request." % p)
            stored_children = self.children(children, p + ".children", depth + 1, count)
            inner = dict(inner)
            inner.pop("children")
            stored[t] = inner
            stored["children"] = stored_children
        return stored

    def children(self, arr, path, depth, count):
        if not isinstance(arr, list):
            raise Invalid("%s should be an array, instead was `%s`." % (path, json.dumps(arr)))
        if len(arr) > 100:
            raise Invalid("%s.length should be ≤ `100`, instead was `%d`." % (path, len(arr)))
        return [self.block(b, "%s[%d]" % (path, i), depth, count) for i, b in enumerate(arr)]

    def request_children(self, body):
        count = [0]
        out = self.children(body.get("children", []), "body.children", 1, count)
        if count[0] > 1000:
            raise Invalid("body.children should have at most 1000 block elements, instead "
                          "has `%d`." % count[0])
        return out

    # -- routes --------------------------------------------------------------------------
    def route(self, req):
        auth = req.headers.get("authorization", "")
        if auth != "Bearer " + self.token:
            return error(401, "unauthorized", "API token is invalid.")
        v = req.headers.get("notion-version")
        if v is None:
            return error(400, "missing_version",
                         "Notion-Version header failed validation: Notion-Version header "
                         "should be defined, instead was `undefined`.")
        if v != self.version:
            return error(400, "validation_error",
                         "Notion-Version header failed validation: this fake accepts only "
                         "`%s`, instead was `%s`." % (self.version, v))
        if self.limiter:
            wait = self.limiter.take()
            if wait:
                r = error(429, "rate_limited", "You have been rate limited. Please try again "
                          "in a few minutes.")
                r.headers["Retry-After"] = str(wait)
                return r
        if len(req.body) > MAX_BYTES:
            return error(400, "validation_error",
                         "Request body too large: %d bytes, the limit is 500KB." % len(req.body))
        parts = req.path.strip("/").split("/")
        if req.method == "POST" and parts == ["v1", "pages"]:
            return self.create_page(req)
        if (req.method == "PATCH" and len(parts) == 4 and parts[:2] == ["v1", "blocks"]
                and parts[3] == "children"):
            return self.append(req, parts[2])
        return error(400, "invalid_request_url", "Invalid request URL.")

    def body(self, req):
        if "application/json" not in req.headers.get("content-type", ""):
            raise Invalid("Content-Type should be application/json.")
        b = req.json()
        if not isinstance(b, dict):
            return None
        return b

    def not_found(self, pid):
        return error(404, "object_not_found",
                     "Could not find block with ID: %s. Make sure the relevant pages and "
                     "databases are shared with your integration." % pid)

    def create_page(self, req):
        try:
            body = self.body(req)
            if body is None:
                return error(400, "invalid_json", "Error parsing JSON body.")
            parent = body.get("parent")
            if not isinstance(parent, dict) or not isinstance(parent.get("page_id"), str):
                raise Invalid("body.parent.page_id should be defined, instead was "
                              "`undefined`.")
            pid = norm_id(parent["page_id"])
            if pid is None:
                raise Invalid("body.parent.page_id should be a valid uuid, instead was `%s`."
                              % json.dumps(parent["page_id"]))
            props = body.get("properties")
            if not isinstance(props, dict):
                raise Invalid("body.properties should be an object.")
            for k in props:
                if k != "title":
                    raise Invalid("%s is not a property that exists." % k)
            title = (props.get("title") or {}).get("title")
            title_text = self.rich_text(title, "body.properties.title.title")
            blocks = self.request_children(body)
        except Invalid as e:
            return error(400, "validation_error", "body failed validation: " + str(e))
        with self.lock:
            if pid not in self.pages:
                return self.not_found(pid)
            page = {"id": str(uuid.uuid4()), "parent": pid, "title": title_text,
                    "blocks": blocks}
            self.pages[page["id"]] = page
        return json_response({"object": "page", "id": page["id"],
                              "url": "https://www.notion.so/" + page["id"].replace("-", ""),
                              "parent": {"type": "page_id", "page_id": pid}})

    def append(self, req, block_id):
        bid = norm_id(block_id)
        if bid is None:
            return error(400, "validation_error",
                         "path failed validation: path.block_id should be a valid uuid, "
                         "instead was `%s`." % json.dumps(block_id))
        try:
            body = self.body(req)
            if body is None:
                return error(400, "invalid_json", "Error parsing JSON body.")
            if not isinstance(body.get("children"), list):
                raise Invalid("body.children should be defined, instead was `undefined`.")
            if "after" in body:
                raise Invalid("body.after is not accepted by this fake (append at the end).")
            blocks = self.request_children(body)
        except Invalid as e:
            return error(400, "validation_error", "body failed validation: " + str(e))
        with self.lock:
            page = self.pages.get(bid)
            if page is None:
                return self.not_found(bid)
            page["blocks"].extend(blocks)
        results = [{"object": "block", "id": b["id"], "type": b["type"]} for b in blocks]
        return json_response({"object": "list", "results": results, "next_cursor": None,
                              "has_more": False, "type": "block", "block": {}})


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    portfile, opts = argv[1], {"--token": "secret_fake", "--version": "2022-06-28",
                               "--rate": "0", "--burst": "10", "--units": "utf16"}
    pages = []
    i = 2
    while i < len(argv):
        k = argv[i]
        if i + 1 >= len(argv) or (k not in opts and k != "--page"):
            sys.exit("notion_fake.py: bad option %s" % k)
        if k == "--page":
            p = norm_id(argv[i + 1])
            if p is None:
                sys.exit("notion_fake.py: --page: not a page id: %s" % argv[i + 1])
            pages.append(p)
        else:
            opts[k] = argv[i + 1]
        i += 2
    if opts["--units"] not in ("utf16", "codepoints"):
        sys.exit("notion_fake.py: --units: utf16 or codepoints")
    app = NotionFake(opts["--token"], opts["--version"],
                     pages or ["1f217cc1-225f-4580-8e22-cd7eb8db3c5e"],
                     float(opts["--rate"]), float(opts["--burst"]), opts["--units"])
    serve(app, portfile)


if __name__ == "__main__":
    main(sys.argv)
