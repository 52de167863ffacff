"""Walks every page of a list, as a harvester does, and samples a process's resident memory.

usage: walk-offsets.py PID URL_TEMPLATE TOTAL STEP
URL_TEMPLATE holds {offset}; TOTAL entries are walked STEP at a time. Prints one JSON object:
the resident memory (MB, the process's own pages + pages of mapped files) before the walk, at
its quarter, half, three quarters and end, and the most of its own pages seen, with the number
of requests and how many entries the answers held.
"""
import json
import sys
import urllib.error
import urllib.request


def rss_mb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def mark(pid):
    """Resident memory: the process's own (anonymous) and its mapped files' pages, in MB."""
    return f"{rss_mb(pid, 'RssAnon'):.0f} + {rss_mb(pid, 'RssFile'):.0f}"


def entries_in(body):
    d = json.loads(body)
    r = d.get("result", d)
    if isinstance(r, list):
        return len(r)
    if isinstance(r, dict) and "results" in r:
        return len(r["results"])
    if "rows" in d:
        return len(d["rows"])
    return 0


def main():
    pid, template, total, step = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    offsets = list(range(0, total, step))
    marks = {0: "start", len(offsets) // 4: "quarter", len(offsets) // 2: "half",
             3 * len(offsets) // 4: "three_quarters"}
    out = {"requests": 0, "entries": 0, "max": 0.0}
    for i, offset in enumerate(offsets):
        if i in marks:
            out[marks[i]] = mark(pid)
        url = template.format(offset=offset)
        try:
            with urllib.request.urlopen(url, timeout=120) as res:
                out["entries"] += entries_in(res.read())
        except urllib.error.HTTPError as e:
            sys.exit(f"{url}: {e.code} {e.read()[:500]!r}")
        out["requests"] += 1
        out["max"] = max(out["max"], rss_mb(pid, "RssAnon"))
    out["end"] = mark(pid)
    out["max"] = round(out["max"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
