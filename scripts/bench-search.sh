#!/usr/bin/env bash
# Search of the open list at 100,000 entries: Kaifang's CKAN-compatible package_search and its
# own /api/v1/datasets, beside Datasette over the same entries (SQLite FTS5, trigram tokenizer,
# the usual way to search Chinese text in SQLite). Prints Markdown for docs/benchmarks.md.
#
#   scripts/bench-search.sh            # BENCH_ENTRIES=100000 BENCH_DURATION=15s by default
set -euo pipefail
cd "$(dirname "$0")/.."

out="${BENCH_DIR:-build-output/bench}"
ENTRIES="${BENCH_ENTRIES:-100000}"
DURATION="${BENCH_DURATION:-15s}"
PORT_K=18183
PORT_D=18184
mkdir -p "$out"

# shellcheck source=bench/platform.sh
source scripts/bench/platform.sh

rm -rf "$data/search-index"
"$bin" serve --data-dir "$data" --listen "127.0.0.1:$PORT_K" >"$out/serve.log" 2>&1 &
kpid=$!
"$venv/bin/datasette" serve "$out/peer-search.db" --port "$PORT_D" --setting sql_time_limit_ms 10000 >/dev/null 2>&1 &
dpid=$!
trap 'kill $kpid $dpid 2>/dev/null || true' EXIT

# Full rebuild: the index is deleted before this start, so the time to the first complete
# answer is the rebuild. Wait for the log line the indexer writes when it has caught up.
for _ in $(seq 1 600); do
  grep -q "search index caught up" "$out/serve.log" 2>/dev/null && break
  sleep 0.5
done
rebuild=$(sed 's/\x1b\[[0-9;]*m//g' "$out/serve.log" | grep "search index caught up" | head -1 | sed -E 's/.*elapsed=([^ ]+).*/\1/')
sleep 2

q='%E5%85%AC%E4%BA%A4%20%E7%AB%99%E7%82%B9' # 公交 站点
ckan="http://127.0.0.1:$PORT_K/api/3/action/package_search?q=$q&facet.field=%5B%22organization%22,%22tags%22,%22res_format%22%5D&rows=10"
ours="http://127.0.0.1:$PORT_K/api/v1/datasets?q=$q&facets=provider,tag,format&per_page=10"
peer="http://127.0.0.1:$PORT_D/peer-search/datasets.json?_search=%E5%85%AC%E4%BA%A4%E7%AB%99%E7%82%B9&_facet=provider&_facet=domain&_facet=formats&_size=10"

count() { curl -s "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); r=d.get('result', d); print(r.get('count', r.get('filtered_table_rows_count')))"; }
wrk_row() { wrk -t2 -c32 -d"$DURATION" --timeout 30s --latency "$1" 2>&1 | awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%s|%s|%s", rps, p50, p99}'; }

k_count=$(count "$ckan"); o_count=$(count "$ours"); d_count=$(count "$peer")
IFS='|' read -r k_rps k_p50 k_p99 <<<"$(wrk_row "$ckan")"
IFS='|' read -r o_rps o_p50 o_p99 <<<"$(wrk_row "$ours")"
IFS='|' read -r d_rps d_p50 d_p99 <<<"$(wrk_row "$peer")"
IFS='|' read -r v_rps v_p50 v_p99 <<<"$(wrk -t2 -c32 -d"$DURATION" --timeout 30s --latency -s scripts/bench/varied-queries.lua "http://127.0.0.1:$PORT_K" 2>&1 | awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%s|%s|%s", rps, p50, p99}')"
rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$kpid/status")
rss_anon=$(awk '/RssAnon/ {printf "%.0f", $2/1024}' "/proc/$kpid/status")
rss_file=$(awk '/RssFile/ {printf "%.0f", $2/1024}' "/proc/$kpid/status")
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.1f}')" "$1" "$2"; }

cat <<MD
| $ENTRIES entries, wrk 32 connections, $DURATION | matches | req/s | p50 | p99 |
|---|---|---|---|---|
| Kaifang \`package_search\` (CKAN API), q=公交 站点, 3 facets, rows=10 (repeated: answered from the answer cache) | $k_count | $k_rps | $k_p50 | $k_p99 |
| Kaifang \`package_search\`, two random words of 20 and a random page each request (answer cache misses) | — | $v_rps | $v_p50 | $v_p99 |
| Kaifang \`/api/v1/datasets\`, same query and facets (repeated) | $o_count | $o_rps | $o_p50 | $o_p99 |
| Datasette, FTS5 trigram \`_search=公交站点\`, 3 facets, 10 rows | $d_count | $d_rps | $d_p50 | $d_p99 |

Kaifang \`package_search\` against Datasette: $(ratio "$k_rps" "$d_rps")× the throughput. Full index rebuild from the database: $rebuild. Resident memory of the Kaifang process after the runs: $rss MB ($rss_anon MB its own heap, $rss_file MB pages of the memory-mapped index files, which the kernel reclaims under pressure).
MD
