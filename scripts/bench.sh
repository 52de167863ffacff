#!/usr/bin/env bash
# Kaifang's benchmarks, with peers measured side by side in the same run. Results go to
# stdout as Markdown; docs/benchmarks.md records them with the date and machine.
#
#   scripts/bench.sh            # everything
#
# Needs: wrk (Debian package), python3 with venv. Peers are installed into a virtual
# environment under the build output folder, never system-wide.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${BENCH_DIR:-build-output/bench}"
mkdir -p "$out"
PORT_K=18181
PORT_D=18182
DURATION="${BENCH_DURATION:-15s}"
CONNS=32
THREADS=2

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get install -y wrk >/dev/null
fi

echo "building the release binary" >&2
cargo build --release -p kaifang >&2
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/kaifang"

data="$out/kaifang-data"
rm -rf "$data"
"$bin" migrate --data-dir "$data" >/dev/null

venv="$out/venv"
if [ ! -x "$venv/bin/datasette" ]; then
  echo "installing Datasette into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet datasette
fi
datasette_version=$("$venv/bin/datasette" --version | awk '{print $NF}')
python3 -c "import sqlite3; sqlite3.connect('$out/peer.db').close()"

wrk_rps() { # url -> requests/s and p99 latency
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$1" 2>&1 |
    awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} END {printf "%s %s\n", rps, p99}'
}

echo "cold start and idle memory" >&2
k_start=$(python3 scripts/bench/coldstart.py 10 "http://127.0.0.1:$PORT_K/readyz" -- \
  "$bin" serve --data-dir "$data" --listen "127.0.0.1:$PORT_K")
d_start=$(python3 scripts/bench/coldstart.py 10 "http://127.0.0.1:$PORT_D/-/actor.json" -- \
  "$venv/bin/datasette" serve "$out/peer.db" --port "$PORT_D")

echo "throughput" >&2
"$bin" serve --data-dir "$data" --listen "127.0.0.1:$PORT_K" >/dev/null 2>&1 &
kpid=$!
"$venv/bin/datasette" serve "$out/peer.db" --port "$PORT_D" >/dev/null 2>&1 &
dpid=$!
trap 'kill $kpid $dpid 2>/dev/null || true' EXIT
sleep 3
read -r k_health k_health_p99 < <(wrk_rps "http://127.0.0.1:$PORT_K/healthz")
read -r k_ready k_ready_p99 < <(wrk_rps "http://127.0.0.1:$PORT_K/readyz")
read -r d_actor d_actor_p99 < <(wrk_rps "http://127.0.0.1:$PORT_D/-/actor.json")
k_rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$kpid/status")

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.1f}')" "$1" "$2"; }

cat <<MD
| measure | Kaifang | Datasette $datasette_version | ratio |
|---|---|---|---|
| cold start to first ready 200, median of 10 (max) | $(field "$k_start" median_ms) ms ($(field "$k_start" max_ms) ms) | $(field "$d_start" median_ms) ms ($(field "$d_start" max_ms) ms) | $(ratio "$(field "$d_start" median_ms)" "$(field "$k_start" median_ms)")× faster |
| idle resident memory after start | $(field "$k_start" rss_mb) MB | $(field "$d_start" rss_mb) MB | $(ratio "$(field "$d_start" rss_mb)" "$(field "$k_start" rss_mb)")× smaller |
| liveness (\`/healthz\`; Datasette \`/-/actor.json\`), wrk $CONNS connections, $DURATION | $k_health req/s (p99 $k_health_p99) | $d_actor req/s (p99 $d_actor_p99) | $(ratio "$k_health" "$d_actor")× |
| readiness with a database query (\`/readyz\`) | $k_ready req/s (p99 $k_ready_p99) | — | — |
| resident memory after the load | $k_rss MB | — | — |
MD
