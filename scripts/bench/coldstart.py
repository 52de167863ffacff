#!/usr/bin/env python3
"""Cold start: time from spawning a server to its first 200 on a URL; then its resident memory.

usage: coldstart.py RUNS URL -- COMMAND...
Prints one JSON line: {"runs": N, "median_ms": .., "max_ms": .., "rss_mb": ..}.
"""
import json
import signal
import statistics
import subprocess
import sys
import time
import urllib.request


def first_ok(url, deadline):
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=0.5) as r:
                if r.status == 200:
                    return True
        except Exception:
            pass
        time.sleep(0.002)
    return False


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    runs = int(sys.argv[1])
    url = sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    times, rss = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not first_ok(url, t0 + 30):
                sys.exit(f"{cmd[0]} did not become ready")
            times.append((time.perf_counter() - t0) * 1000)
            # Idle memory: after a handful of requests, once things settle.
            for _ in range(20):
                urllib.request.urlopen(url).read()
            time.sleep(1)
            rss.append(rss_mb(p.pid))
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    print(json.dumps({
        "runs": runs,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "rss_mb": round(statistics.median(rss), 1),
    }))


if __name__ == "__main__":
    main()
