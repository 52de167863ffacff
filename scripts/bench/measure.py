"""Small measuring tools for scripts/bench-data.sh, standard library only (DuckDB where named).

    measure.py run CMD...                 wall seconds and peak resident MB of CMD
    measure.py runs N CMD...              median wall seconds of N runs of CMD, and the peak MB
    measure.py token URL EMAIL PASSWORD   signs in and prints a new API token
    measure.py watch PID                  peak resident MB of PID (VmHWM) now
    measure.py sql URL SQL TIMES          median seconds of TIMES POSTs of SQL to URL/api/v1/sql
    measure.py duckdb-sql PARQUET SQL TIMES   median seconds of SQL over PARQUET (as table t)
    measure.py fetch URL                  downloads URL to nowhere; prints seconds and bytes
"""

import json
import resource
import statistics
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar


def run(cmd):
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"{seconds:.2f} {peak_kb / 1024:.0f}")


def runs(times, cmd):
    """The median of several runs: a single run on a shared machine varies by a fifth. Each run
    starts two seconds after the last ended, so that what a server does after an upload (the
    search index, the sample's redraw) is not counted in the next upload's time."""
    seconds = []
    for i in range(times):
        if i > 0:
            time.sleep(2)
        start = time.monotonic()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        seconds.append(time.monotonic() - start)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"{statistics.median(seconds):.2f} {peak_kb / 1024:.0f}")


def token(url, email, password):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def post(path, body, headers=None):
        req = urllib.request.Request(
            url + path, data=json.dumps(body).encode(), method="POST",
            headers={"content-type": "application/json", **(headers or {})})
        with opener.open(req) as res:
            return json.load(res)

    session = post("/api/v1/auth/login", {"email": email, "password": password})
    made = post("/api/v1/me/tokens", {"name": "benchmark"}, {"x-csrf-token": session["csrf_token"]})
    print(made["token"])


def watch(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                print(f"{int(line.split()[1]) / 1024:.0f}")


def timed(times, once):
    once()  # warm: the first run reads the file into the page cache
    runs = []
    for _ in range(times):
        start = time.monotonic()
        once()
        runs.append(time.monotonic() - start)
    return statistics.median(runs)


def sql(url, text, times):
    def once():
        req = urllib.request.Request(
            url + "/api/v1/sql", data=json.dumps({"sql": text}).encode(), method="POST",
            headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as res:
            rows = json.load(res)["rows"]
            assert rows, "no rows"
    print(f"{timed(times, once):.3f}")


def duckdb_sql(parquet, text, times):
    import duckdb
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{parquet}')")
    print(f"{timed(times, lambda: con.execute(text).fetchall()):.3f}")


def fetch(url):
    start = time.monotonic()
    size = 0
    with urllib.request.urlopen(url, timeout=600) as res:
        while chunk := res.read(1 << 16):
            size += len(chunk)
    print(f"{time.monotonic() - start:.2f} {size}")


if __name__ == "__main__":
    verb, args = sys.argv[1], sys.argv[2:]
    if verb == "run":
        run(args)
    elif verb == "runs":
        runs(int(args[0]), args[1:])
    elif verb == "token":
        token(*args)
    elif verb == "watch":
        watch(args[0])
    elif verb == "sql":
        sql(args[0], args[1], int(args[2]))
    elif verb == "duckdb-sql":
        duckdb_sql(args[0], args[1], int(args[2]))
    elif verb == "fetch":
        fetch(args[0])
    else:
        sys.exit(f"unknown verb {verb}")
