#!/usr/bin/env bash
# What conditional delivery costs (issue: conditional opening), on the demo's platform:
#
# - the records API read under an agreement's credential (the scope check: the agreement
#   read, its period, the day's quota counted, the granted columns and row filters applied)
#   beside the same rows, the same columns, published as an unconditional entry and read
#   without one — 100 rows a page, wrk with 32 connections;
# - the provider's work-order inbox, as a page and through the API, with 10,000 open work
#   orders, read by the transport commission's reviewer.
#
# Prints Markdown for docs/benchmarks.md.
#
#   scripts/bench-access.sh        # BENCH_DURATION=15s BENCH_ORDERS=10000 by default
set -euo pipefail
cd "$(dirname "$0")/.."

out="${BENCH_DIR:-build-output/bench}/access"
DURATION="${BENCH_DURATION:-15s}"
ORDERS="${BENCH_ORDERS:-10000}"
PORT=18191
base="http://127.0.0.1:$PORT"
rm -rf "$out"
mkdir -p "$out"

# KAIFANG_BIN names an already built release binary; otherwise it is built here.
bin="${KAIFANG_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release -p kaifang >&2
  bin="${CARGO_TARGET_DIR:-target}/release/kaifang"
fi
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }

data="$out/platform"
pid=""
trap 'kill $pid 2>/dev/null || true' EXIT
wait_ready() {
  for _ in $(seq 1 600); do curl -sf "$base/readyz" >/dev/null && return; sleep 0.2; done
  echo "the server did not start" >&2; exit 1
}

# The demo seeds an active agreement and prints its credential once.
"$bin" demo --data-dir "$data" --listen "127.0.0.1:$PORT" >"$out/demo.log" 2>&1 &
pid=$!
wait_ready
line=$(grep -o 'kf_[A-Za-z0-9_-]*  ->  /api/v1/datasets/[^ ]*/records' "$out/demo.log")
token=${line%%  ->*}
conditional=$(echo "$line" | sed -E 's#.*/api/v1/datasets/([^/]+)/records#\1#')
# The rows and columns the credential reads, to publish as open data for the comparison.
curl -sf -H "Authorization: Bearer $token" "$base/datasets/$conditional/download?format=csv" >"$out/granted.csv"
kill "$pid"; wait "$pid" 2>/dev/null || true

open=$("$bin" generate --data-dir "$data" --from-file "$out/granted.csv" --org sh-transport --name "授权数据对照（基准）")
"$bin" generate --data-dir "$data" --work-orders "$ORDERS" >/dev/null
"$bin" serve --data-dir "$data" --listen "127.0.0.1:$PORT" >"$out/serve.log" 2>&1 &
pid=$!
wait_ready
rows=$(($(wc -l <"$out/granted.csv") - 1))

# wrk's summary as "requests/s p50 p99" (latencies in ms), at 32 connections (bench) or one
# (bench1).
bench() { CONNECTIONS=32 THREADS=2 run_wrk "$@"; }
bench1() { CONNECTIONS=1 THREADS=1 run_wrk "$@"; }
run_wrk() {
  local url=$1; shift
  wrk -t"$THREADS" -c"$CONNECTIONS" -d3s "$@" "$url" >/dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" | python3 -c '
import re, sys
t = sys.stdin.read()
def ms(label):
    m = re.search(r"\s" + label + r"\s+([\d.]+)(us|ms|s)\b", t)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if errors:
    sys.exit(f"{errors.group(1)} requests failed:\n{t}")
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50, p99 = ms("50%"), ms("99%")
print(f"{rps:.0f} {p50:.2f} {p99:.2f}")'
}
read -r c_rps c_p50 c_p99 <<<"$(bench "$base/api/v1/datasets/$conditional/records?limit=100" -H "Authorization: Bearer $token")"
read -r o_rps o_p50 o_p99 <<<"$(bench "$base/api/v1/datasets/$open/records?limit=100")"
# The same open rows read with an ordinary API token: the caller is resolved as for a
# credential, so what remains between the two is the scope check itself.
plain=$(python3 scripts/bench/measure.py token "$base" resident@demo.kaifang.example kaifang-demo-2026)
read -r t_rps t_p50 t_p99 <<<"$(bench "$base/api/v1/datasets/$open/records?limit=100" -H "Authorization: Bearer $plain")"

# A session, for the pages.
session() {
  curl -si -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"kaifang-demo-2026\"}" \
    "$base/api/v1/auth/login" | sed -nE 's/^[Ss]et-[Cc]ookie: ([^;]+).*/\1/p' | head -1
}
cookie=$(session transport-reviewer@demo.kaifang.example)
# One reviewer opening the inbox (one connection), and 32 at once.
read -r p_rps p_p50 p_p99 <<<"$(bench1 "$base/console/orgs/sh-transport/work-orders" -H "Cookie: $cookie")"
read -r a_rps a_p50 a_p99 <<<"$(bench1 "$base/api/v1/orgs/sh-transport/work-orders?limit=100" -H "Cookie: $cookie")"
read -r pc_rps pc_p50 pc_p99 <<<"$(bench "$base/console/orgs/sh-transport/work-orders" -H "Cookie: $cookie")"
open_orders=$(curl -sf -H "Cookie: $(session operator@demo.kaifang.example)" "$base/api/v1/oversight" | python3 -c 'import json,sys; print(sum(p["open"] for p in json.load(sys.stdin)["providers"]))')

pct() { python3 -c "import sys; print(f'{(float(sys.argv[1])/float(sys.argv[2])-1)*100:+.1f}')" "$1" "$2"; }
cat <<MD
The granted rows: $rows rows of the demo's conditional entry, the columns the credential grants.

| records API, 100 rows a page, 32 connections | requests/s | p50 ms | p99 ms |
|---|---|---|---|
| under an agreement's credential (scope checked on every call) | $c_rps | $c_p50 | $c_p99 |
| the same rows and columns as open data, with an ordinary API token | $t_rps | $t_p50 | $t_p99 |
| the same rows and columns as open data, anonymous | $o_rps | $o_p50 | $o_p99 |

Against the token-authenticated read, the scope check changes the median latency by $(pct "$c_p50" "$t_p50") % and the requests a second by $(pct "$c_rps" "$t_rps") %; against the anonymous read, by $(pct "$c_p50" "$o_p50") % and $(pct "$c_rps" "$o_rps") %.

| the provider's inbox, $open_orders open work orders | requests/s | p50 ms | p99 ms |
|---|---|---|---|
| page \`/console/orgs/sh-transport/work-orders\` (by deadline, 500 shown), one reviewer | $p_rps | $p_p50 | $p_p99 |
| the same page, 32 connections | $pc_rps | $pc_p50 | $pc_p99 |
| API \`/api/v1/orgs/sh-transport/work-orders?limit=100\`, one client | $a_rps | $a_p50 | $a_p99 |
MD
