#!/usr/bin/env bash
# The portal's pages with the demo data: the dataset page and the search page under load, the
# size of the home page and of all JavaScript, and whether compression is on. Datasette serves
# the same public entries side by side (its row page and its searched table page). Prints
# Markdown for docs/benchmarks.md.
#
#   scripts/bench-pages.sh            # BENCH_DURATION=15s by default
set -euo pipefail
cd "$(dirname "$0")/.."

out="${BENCH_DIR:-build-output/bench}"
DURATION="${BENCH_DURATION:-15s}"
PORT_K=18185
PORT_D=18186
mkdir -p "$out"

cargo build --release -p kaifang >&2
bin="${CARGO_TARGET_DIR:-target}/release/kaifang"

venv="$out/venv"
if [ ! -x "$venv/bin/datasette" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet datasette
fi

data="$out/pages-demo"
rm -rf "$data"
"$bin" demo --data-dir "$data" --listen "127.0.0.1:$PORT_K" >"$out/pages-demo.log" 2>&1 &
kpid=$!
trap 'kill $kpid ${dpid:-} 2>/dev/null || true' EXIT
base="http://127.0.0.1:$PORT_K"
for _ in $(seq 1 200); do
  curl -sf "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
sleep 3 # the search index catches up with the demo's entries

python3 scripts/bench/export-peer-db.py "$data/kaifang.db" "$out/peer-pages.db"
"$venv/bin/datasette" serve "$out/peer-pages.db" --port "$PORT_D" >/dev/null 2>&1 &
dpid=$!
peer="http://127.0.0.1:$PORT_D/peer-pages/datasets"
for _ in $(seq 1 100); do
  curl -sf "$peer.json" >/dev/null 2>&1 && break
  sleep 0.2
done

id=$(curl -s "$base/api/v1/datasets?q=%E5%85%AC%E4%BA%A4&per_page=1" | python3 -c "import json,sys; print(json.load(sys.stdin)['results'][0]['id'])")
dataset="$base/datasets/$id"
search="$base/datasets?q=%E5%85%AC%E4%BA%A4"
peer_row="$peer/$id"
peer_search="$peer?_search=%E5%85%AC%E4%BA%A4%E7%BA%BF%E8%B7%AF"

wrk_row() { wrk -t2 -c32 -d"$DURATION" --timeout 30s --latency -H "Accept-Encoding: gzip" "$1" 2>&1 | awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%s|%s|%s", rps, p50, p99}'; }
IFS='|' read -r kd_rps kd_p50 kd_p99 <<<"$(wrk_row "$dataset")"
IFS='|' read -r ks_rps ks_p50 ks_p99 <<<"$(wrk_row "$search")"
IFS='|' read -r kh_rps kh_p50 kh_p99 <<<"$(wrk_row "$base/")"
IFS='|' read -r dd_rps dd_p50 dd_p99 <<<"$(wrk_row "$peer_row")"
IFS='|' read -r ds_rps ds_p50 ds_p99 <<<"$(wrk_row "$peer_search")"

home_bytes=$(curl -s "$base/" | wc -c)
home_gzip=$(curl -s -H "Accept-Encoding: gzip" "$base/" | wc -c)
home_br=$(curl -s -H "Accept-Encoding: br" "$base/" | wc -c)
js_bytes=$(curl -s "$base/static/site.js" | wc -c)
scripts_on_pages=$(curl -s "$base/" "$dataset" "$search" | grep -o '<script[^>]*src="[^"]*"' | sort -u | wc -l)
gzip_on=$(curl -s -o /dev/null -D - -H "Accept-Encoding: gzip" "$base/" | grep -ci '^content-encoding: gzip' || true)
br_on=$(curl -s -o /dev/null -D - -H "Accept-Encoding: br" "$base/" | grep -ci '^content-encoding: br' || true)
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.1f}')" "$1" "$2"; }

cat <<MD
| demo data, wrk 32 connections, $DURATION, gzip | req/s | p50 | p99 |
|---|---|---|---|
| Kaifang dataset page (\`/datasets/{id}\`) | $kd_rps | $kd_p50 | $kd_p99 |
| Kaifang search page (\`/datasets?q=公交\`, 6 facets, 20 hits) | $ks_rps | $ks_p50 | $ks_p99 |
| Kaifang home page | $kh_rps | $kh_p50 | $kh_p99 |
| Datasette row page of the same entry | $dd_rps | $dd_p50 | $dd_p99 |
| Datasette table page, FTS5 \`_search=公交线路\` | $ds_rps | $ds_p50 | $ds_p99 |

Dataset page against Datasette's row page: $(ratio "$kd_rps" "$dd_rps")×; search page against Datasette's searched table page: $(ratio "$ks_rps" "$ds_rps")×.
Home page HTML: $home_bytes bytes uncompressed ($home_gzip gzip, $home_br brotli). JavaScript: $js_bytes bytes in $scripts_on_pages script file(s) for the whole site. Compression: gzip $( [ "$gzip_on" -ge 1 ] && echo on || echo OFF ), brotli $( [ "$br_on" -ge 1 ] && echo on || echo OFF ).
MD
