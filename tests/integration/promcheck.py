#!/usr/bin/env python3
"""Strict checker of the Prometheus text exposition format 0.0.4 (chored's GET /metrics).

Reads the exposition on stdin. On success prints one normalised line per sample,
`name{a="x",b="y"} value` with labels sorted by name (values as sent, escapes kept), and
exits 0. On the first violation prints `promcheck: line N: what` on stderr and exits 1.

Rules checked (https://prometheus.io/docs/instrumenting/exposition_formats/):
- UTF-8, '\\n' line ends, the last line ends with '\\n', no blank lines;
- `# HELP name text` (escapes \\\\ and \\n only) and `# TYPE name type`, at most one each
  per family, both before the family's first sample, families not interleaved;
- metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* not starting
  with __, label values quoted with escapes \\\\ \\" \\n only, no duplicate label, no
  duplicate series;
- every sample belongs to a declared family: counters end in _total, histograms have
  _bucket (with le), _sum and _count, cumulative buckets in increasing le order ending
  with le="+Inf" equal to _count;
- values are floats (+Inf, -Inf, NaN allowed); an optional integer timestamp.
"""
import math
import re
import sys

METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class Bad(Exception):
    pass


def parse_value(text):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise Bad("value %r is not a float" % text)
    return float(text)


def parse_labels(s, i):
    """Parses {…} starting at s[i] == '{'; returns (list of (name, raw value), index after)."""
    labels = []
    i += 1
    if i < len(s) and s[i] == "}":
        return labels, i + 1
    while True:
        m = LABEL.match(s, i)
        if not m:
            raise Bad("bad label name at column %d" % (i + 1))
        name = m.group(0)
        if name.startswith("__"):
            raise Bad("label name %s is reserved" % name)
        i = m.end()
        if s[i : i + 2] != '="':
            raise Bad('expected =" after label %s' % name)
        i += 2
        start = i
        while True:
            if i >= len(s):
                raise Bad("unterminated label value")
            c = s[i]
            if c == "\\":
                if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                    raise Bad("bad escape in label value of %s" % name)
                i += 2
                continue
            if c == '"':
                break
            if c == "\n":
                raise Bad("raw newline in label value")
            i += 1
        labels.append((name, s[start:i]))
        i += 1
        if s[i : i + 1] == ",":
            i += 1
            if s[i : i + 1] == "}":
                raise Bad("trailing comma in labels")
            continue
        if s[i : i + 1] == "}":
            return labels, i + 1
        raise Bad("expected , or } in labels")


def family_of(name, families):
    """The declared family a sample name belongs to, and the suffix."""
    if name in families:
        return name, ""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in families:
            return name[: -len(suffix)], suffix
    return None, None


def check(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Bad("not UTF-8: %s" % e) from None
    if not text.endswith("\n"):
        raise Bad("the last line does not end with a newline")
    if "\r" in text:
        raise Bad("carriage return in the exposition")
    families = {}  # name -> {"type":…, "help":bool, "samples":n}
    done = set()  # families closed by a later one
    current = None
    series = set()
    hist = {}  # (family, labels without le) -> {"buckets":[(le, v)], "sum":…, "count":…}
    out = []
    for n, line in enumerate(text[:-1].split("\n"), 1):
        try:
            if line == "":
                raise Bad("blank line")
            if line.startswith("#"):
                m = re.fullmatch(r"# (HELP|TYPE) (\S+) ?(.*)", line)
                if not m:
                    if line.startswith("# HELP") or line.startswith("# TYPE"):
                        raise Bad("malformed %s line" % line[2:6])
                    continue  # a comment
                kind, name, rest = m.groups()
                if not METRIC.fullmatch(name):
                    raise Bad("bad metric name %r" % name)
                if name != current:
                    if name in done or (name in families and families[name]["samples"]):
                        raise Bad("family %s is split" % name)
                    if current:
                        done.add(current)
                    current = name
                f = families.setdefault(name, {"type": None, "help": False, "samples": 0})
                if f["samples"]:
                    raise Bad("%s after the samples of %s" % (kind, name))
                if kind == "HELP":
                    if f["help"]:
                        raise Bad("second HELP for %s" % name)
                    if not re.fullmatch(r"([^\\]|\\[\\n])*", rest):
                        raise Bad("bad escape in HELP of %s" % name)
                    f["help"] = True
                else:
                    if f["type"]:
                        raise Bad("second TYPE for %s" % name)
                    if rest not in TYPES:
                        raise Bad("unknown type %r" % rest)
                    f["type"] = rest
                continue
            m = METRIC.match(line)
            if not m:
                raise Bad("bad metric name")
            name = m.group(0)
            i = m.end()
            labels = []
            if line[i : i + 1] == "{":
                labels, i = parse_labels(line, i)
            parts = line[i:].split(" ")
            if len(parts) not in (2, 3) or parts[0] != "":
                raise Bad("expected ' value [timestamp]' after the series")
            value = parse_value(parts[1])
            if len(parts) == 3 and not re.fullmatch(r"-?\d+", parts[2]):
                raise Bad("bad timestamp")
            fam, suffix = family_of(name, families)
            if fam is None or fam != current:
                raise Bad("sample %s outside its family's HELP/TYPE block" % name)
            f = families[fam]
            if not f["type"] or not f["help"]:
                raise Bad("sample of %s before its HELP and TYPE" % fam)
            f["samples"] += 1
            names = [k for k, _ in labels]
            if len(set(names)) != len(names):
                raise Bad("duplicate label")
            key = (name, tuple(sorted(labels)))
            if key in series:
                raise Bad("duplicate series %s" % line)
            series.add(key)
            t = f["type"]
            if t == "counter":
                if not fam.endswith("_total") or suffix:
                    raise Bad("counter %s must be named …_total" % name)
                if value < 0:
                    raise Bad("negative counter")
            elif t == "histogram":
                if not suffix:
                    raise Bad("histogram sample %s needs _bucket, _sum or _count" % name)
                rest = tuple(sorted((k, v) for k, v in labels if k != "le"))
                h = hist.setdefault((fam, rest), {"buckets": [], "sum": None, "count": None})
                if suffix == "_bucket":
                    le = dict(labels).get("le")
                    if le is None:
                        raise Bad("bucket without le")
                    h["buckets"].append((parse_value(le), value))
                elif "le" in names:
                    raise Bad("le on %s" % name)
                else:
                    h[suffix[1:]] = value
            elif suffix:
                raise Bad("%s is not a histogram or summary family" % fam)
            out.append(
                "%s{%s} %s" % (name, ",".join('%s="%s"' % kv for kv in sorted(labels)), parts[1])
                if labels
                else "%s %s" % (name, parts[1])
            )
        except Bad as e:
            raise Bad("line %d: %s" % (n, e)) from None
    for name, f in families.items():
        if not f["type"]:
            raise Bad("family %s has no TYPE" % name)
    for (fam, rest), h in hist.items():
        b = h["buckets"]
        if not b or b[-1][0] != math.inf:
            raise Bad("histogram %s%s: last bucket is not le=\"+Inf\"" % (fam, rest))
        for (l1, v1), (l2, v2) in zip(b, b[1:]):
            if not l1 < l2 or v2 < v1:
                raise Bad("histogram %s%s: buckets not increasing" % (fam, rest))
        if h["sum"] is None or h["count"] is None:
            raise Bad("histogram %s%s: _sum or _count missing" % (fam, rest))
        if h["count"] != b[-1][1]:
            raise Bad("histogram %s%s: _count differs from the +Inf bucket" % (fam, rest))
    return out


def main():
    try:
        lines = check(sys.stdin.buffer.read())
    except Bad as e:
        print("promcheck: %s" % e, file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
