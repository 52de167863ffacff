#!/usr/bin/env bash
# The data plane against its peers, side by side in one run, on a generated table of licensed
# enterprises (scripts/bench/enterprises.py: 1,000,000 rows, ~127 MB, Chinese text):
#
# - upload to a published version (`kaifang publish` to a running server: streamed upload,
#   ingestion with the quality gate and profile, Parquet written, checked and switched) beside
#   DuckDB's `COPY … TO 'x.parquet'` and `sqlite-utils insert --csv` (Datasette's path); the
#   server's peak resident memory at 1 M and at 10 M rows;
# - the records API, equality filter on the district, 100 rows a page, wrk with 32
#   connections, beside Datasette over the same rows in SQLite with an index on the column;
# - a group-by over 10 M rows through the SQL endpoint beside DuckDB over the same Parquet file;
# - a full CSV export of 1 M rows and the server's peak resident memory while it streams.
#
# Prints Markdown for docs/benchmarks.md.
#
#   scripts/bench-data.sh        # BENCH_ROWS=1000000 BENCH_BIG_ROWS=10000000 BENCH_DURATION=15s by default
#   BENCH_ONLY=upload scripts/bench-data.sh   # the upload figures alone
#   BENCH_ONLY=records scripts/bench-data.sh  # the records API beside Datasette alone (1 M rows)
set -euo pipefail
cd "$(dirname "$0")/.."

out="${BENCH_DIR:-build-output/bench}/data"
ROWS="${BENCH_ROWS:-1000000}"
BIG_ROWS="${BENCH_BIG_ROWS:-10000000}"
DURATION="${BENCH_DURATION:-15s}"
PORT_K=18187
PORT_D=18188
mkdir -p "$out"

# KAIFANG_BIN names an already built release binary; otherwise it is built here.
bin="${KAIFANG_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release -p kaifang >&2
  bin="${CARGO_TARGET_DIR:-target}/release/kaifang"
fi
venv="${BENCH_DIR:-build-output/bench}/venv"
if ! "$venv/bin/python" -c "import duckdb" 2>/dev/null || [ ! -x "$venv/bin/sqlite-utils" ] || [ ! -x "$venv/bin/datasette" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet datasette sqlite-utils duckdb
fi
py="$venv/bin/python"
measure() { "$py" scripts/bench/measure.py "$@"; }

sizes="$ROWS $BIG_ROWS"
[ "${BENCH_ONLY:-}" = records ] && sizes="$ROWS"
for n in $sizes; do
  [ -f "$out/enterprises-$n.csv" ] || { echo "writing $n rows" >&2; python3 scripts/bench/enterprises.py "$n" "$out/enterprises-$n.csv"; }
done
small="$out/enterprises-$ROWS.csv"
big="$out/enterprises-$BIG_ROWS.csv"
mb() { python3 -c "import os,sys; print(f'{os.path.getsize(sys.argv[1])/1e6:.0f}')" "$1"; }

# A platform of the demo's organizations and accounts, and one entry made from a 1,000-row
# sample of the file (its data items inferred), whose data the runs below replace.
data="$out/platform"
rm -rf "$data"
"$bin" generate --data-dir "$data" --entries 0 >/dev/null
head -1001 "$small" >"$out/sample.csv"
id=$("$bin" generate --data-dir "$data" --from-file "$out/sample.csv" --org sh-transport --name "持证企业（基准）")

kpid=""
dpid=""
trap 'kill $kpid $dpid 2>/dev/null || true' EXIT
start_server() {
  [ -n "$kpid" ] && { kill "$kpid"; wait "$kpid" 2>/dev/null || true; }
  "$bin" serve --data-dir "$data" --listen "127.0.0.1:$PORT_K" >>"$out/serve.log" 2>&1 &
  kpid=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT_K/readyz" >/dev/null && return; sleep 0.2; done
  echo "the server did not start" >&2; exit 1
}
publish() {
  measure run "$bin" publish --server "http://127.0.0.1:$PORT_K" --token "$token" --dataset "$id" "$1"
}
# Uploads are timed as the median of UPLOAD_RUNS runs, Kaifang's and DuckDB's alike.
UPLOAD_RUNS="${BENCH_UPLOAD_RUNS:-5}"
publish_timed() {
  measure runs "$UPLOAD_RUNS" "$bin" publish --server "http://127.0.0.1:$PORT_K" --token "$token" --dataset "$id" "$1"
}

# The records API, Kaifang's and Datasette's, on the 1 M-row file (published on the running
# server; Datasette's SQLite file made by sqlite-utils with an index on the district).
records_run() {
  if [ ! -f "$out/peer.db" ]; then
    "$venv/bin/sqlite-utils" insert "$out/peer.db" enterprises "$small" --csv >/dev/null
    "$venv/bin/sqlite-utils" create-index "$out/peer.db" enterprises district >/dev/null
  fi
  # Facet suggestions off: by default Datasette computes them for every table request, which
  # is a page nicety, not part of answering the query.
  "$venv/bin/datasette" serve "$out/peer.db" --port "$PORT_D" --setting suggest_facets off >/dev/null 2>&1 &
  dpid=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT_D/-/versions.json" >/dev/null && break; sleep 0.2; done
  district='%E6%B5%A6%E4%B8%9C%E6%96%B0%E5%8C%BA' # 浦东新区
  ours="http://127.0.0.1:$PORT_K/api/v1/datasets/$id/records?district=$district&limit=100"
  peer="http://127.0.0.1:$PORT_D/peer/enterprises.json?district=$district&_size=100"
  k_count=$(curl -sf "$ours" | python3 -c "import json,sys; print(json.load(sys.stdin)['total'])")
  d_count=$(curl -sf "$peer" | python3 -c "import json,sys; print(json.load(sys.stdin)['filtered_table_rows_count'])")
  IFS='|' read -r k_rps k_p50 k_p99 <<<"$(wrk_row "$ours")"
  IFS='|' read -r d_rps d_p50 d_p99 <<<"$(wrk_row "$peer")"
  r_peak=$(measure watch "$kpid")
}
wrk_row() { wrk -t2 -c32 -d"$DURATION" --timeout 30s --latency "$1" 2>&1 | awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%s|%s|%s", rps, p50, p99}'; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.1f}')" "$1" "$2"; }
print_records() {
  cat <<MD
| records, \`district=浦东新区\`, 100 a page, wrk 32 connections, $DURATION | matches | req/s | p50 | p99 |
|---|---|---|---|---|
| Kaifang \`/api/v1/datasets/{id}/records\` | $k_count | $k_rps | $k_p50 | $k_p99 |
| Datasette, SQLite with an index on \`district\`, facet suggestions off | $d_count | $d_rps | $d_p50 | $d_p99 |

Kaifang against Datasette: $(ratio "$k_rps" "$d_rps")× the requests per second. The server's peak resident memory after the runs, the version held in memory with its index: $r_peak MB.

MD
}

start_server
token=$(measure token "http://127.0.0.1:$PORT_K" transport-editor@demo.kaifang.example kaifang-demo-2026)
# BENCH_ONLY=records: the records API figures alone.
if [ "${BENCH_ONLY:-}" = records ]; then
  publish "$small" >/dev/null
  start_server
  records_run
  print_records
  exit 0
fi

# Upload to a published version, each size on a freshly started server.
read -r k_secs _ <<<"$(publish_timed "$small")"
k_peak=$(measure watch "$kpid")
start_server
read -r kb_secs _ <<<"$(publish_timed "$big")"
kb_peak=$(measure watch "$kpid")

rm -f "$out"/duck-*.parquet "$out/peer.db"
copy() { measure runs "$UPLOAD_RUNS" "$py" -c "import duckdb,sys; duckdb.sql(f\"COPY (SELECT * FROM read_csv('{sys.argv[1]}')) TO '{sys.argv[2]}' (FORMAT parquet)\")" "$1" "$2"; }
read -r d_secs d_peak <<<"$(copy "$small" "$out/duck-small.parquet")"
read -r db_secs db_peak <<<"$(copy "$big" "$out/duck-big.parquet")"
read -r s_secs s_peak <<<"$(measure run "$venv/bin/sqlite-utils" insert "$out/peer.db" enterprises "$small" --csv)"
"$venv/bin/sqlite-utils" create-index "$out/peer.db" enterprises district >/dev/null
print_upload() {
  cat <<MD
Files: $ROWS rows ($(mb "$small") MB) and $BIG_ROWS rows ($(mb "$big") MB) of \`scripts/bench/enterprises.py\`.

| upload to a published version (median of $UPLOAD_RUNS runs; sqlite-utils one) | $ROWS rows: seconds | peak MB | $BIG_ROWS rows: seconds | peak MB |
|---|---|---|---|---|
| Kaifang \`kaifang publish\` → server (streamed upload, quality gate, profile, Parquet, switch; the server's peak) | $k_secs | $k_peak | $kb_secs | $kb_peak |
| DuckDB \`COPY (SELECT * FROM read_csv(…)) TO 'x.parquet'\` | $d_secs | $d_peak | $db_secs | $db_peak |
| sqlite-utils \`insert --csv\` (Datasette's path; it detects the types) | $s_secs | $s_peak | — | — |

Kaifang's upload takes $(ratio "$k_secs" "$d_secs")× DuckDB's time at $ROWS rows and $(ratio "$kb_secs" "$db_secs")× at $BIG_ROWS; sqlite-utils takes $(ratio "$s_secs" "$k_secs")× Kaifang's.

MD
}
# BENCH_ONLY=upload: the upload figures alone.
if [ "${BENCH_ONLY:-}" = upload ]; then
  print_upload
  exit 0
fi

# Group-by over the big version: Kaifang's SQL endpoint against DuckDB over the same Parquet.
curl -sf -o "$out/big.parquet" "http://127.0.0.1:$PORT_K/datasets/$id/download?format=parquet"
group="SELECT district, count(*) AS n, avg(registered_capital) AS capital FROM \"$id\" GROUP BY district ORDER BY district"
k_group=$(measure sql "http://127.0.0.1:$PORT_K" "$group" 5)
d_group=$(measure duckdb-sql "$out/big.parquet" "${group//\"$id\"/t}" 5)

# Back to 1 M rows for the records API and the export.
start_server
publish "$small" >/dev/null
start_server
read -r e_secs e_bytes <<<"$(measure fetch "http://127.0.0.1:$PORT_K/datasets/$id/download?format=csv")"
e_peak=$(measure watch "$kpid")

records_run

print_upload
print_records
cat <<MD
| group-by over $BIG_ROWS rows (district, count, average capital), median of 5 | seconds |
|---|---|
| Kaifang \`POST /api/v1/sql\` | $k_group |
| DuckDB over the same Parquet file | $d_group |

Kaifang takes $(ratio "$k_group" "$d_group")× DuckDB's time.

Full CSV export of $ROWS rows (\`/data?format=csv\`, a freshly started server): $e_bytes bytes in $e_secs s; the server's peak resident memory: $e_peak MB.
MD
