#!/usr/bin/env bash
# The privacy guard's benchmarks (scan, de-identification, samples, sandbox), on the data
# plane's table of licensed enterprises (scripts/bench/enterprises.py). Prints Markdown for
# docs/benchmarks.md.
#
# - What the scan and the rules add to ingestion: the 1 M-row file published with
#   `kaifang publish` (each on a freshly started server, median of BENCH_RUNS) by the data
#   plane as it was before the privacy guard (KAIFANG_BASE_BIN, a release build of commit
#   66654ad unless named), by this build with no rules (every cell scanned), and by this build
#   with rules on six of its nine items.
# - A 1 % sample of 10 M rows stratified on the district, with its fidelity report, and a
#   group-by asked in the sandbox beside the same query through the SQL endpoint's engine:
#   in process (crates/data/examples/privacy_bench.rs) over the 10 M-row version's Parquet file
#   as Kaifang stored it; DuckDB's own 1 % sample of the same file beside it.
#
#   scripts/bench-privacy.sh      # BENCH_ROWS=1000000 BENCH_BIG_ROWS=10000000 BENCH_RUNS=3
#   KAIFANG_BIN=… KAIFANG_BASE_BIN=… PRIVACY_BENCH_BIN=… scripts/bench-privacy.sh   # built already
set -euo pipefail
cd "$(dirname "$0")/.."

out="${BENCH_DIR:-build-output/bench}/privacy"
ROWS="${BENCH_ROWS:-1000000}"
BIG_ROWS="${BENCH_BIG_ROWS:-10000000}"
RUNS="${BENCH_RUNS:-3}"
PORT=18189
mkdir -p "$out"
target="${CARGO_TARGET_DIR:-target}"

# This build, and the data plane before the privacy guard, each a release binary.
bin="${KAIFANG_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release -p kaifang >&2
  bin="$out/kaifang-head"
  cp "$target/release/kaifang" "$bin"
fi
base="${KAIFANG_BASE_BIN:-}"
if [ -z "$base" ]; then
  tree="$out/base-tree"
  [ -d "$tree" ] || git worktree add --detach "$tree" 66654ad >&2
  (cd "$tree" && cargo build --release -p kaifang >&2)
  base="$out/kaifang-base"
  cp "$target/release/kaifang" "$base"
fi
# PRIVACY_BENCH_BIN names an already built example; otherwise it is built here, with the
# binary in the same build so that the dependencies are built with the same features.
example="${PRIVACY_BENCH_BIN:-}"
if [ -z "$example" ]; then
  cargo build --release -p kaifang -p kaifang-data --example privacy_bench >&2
  example="$target/release/examples/privacy_bench"
fi

venv="${BENCH_DIR:-build-output/bench}/venv"
if ! "$venv/bin/python" -c "import duckdb" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet duckdb
fi
py="$venv/bin/python"
measure() { "$py" scripts/bench/measure.py "$@"; }

data_dir="${BENCH_DIR:-build-output/bench}/data"
mkdir -p "$data_dir"
for n in "$ROWS" "$BIG_ROWS"; do
  [ -f "$data_dir/enterprises-$n.csv" ] || { echo "writing $n rows" >&2; python3 scripts/bench/enterprises.py "$n" "$data_dir/enterprises-$n.csv"; }
done
small="$data_dir/enterprises-$ROWS.csv"
big="$data_dir/enterprises-$BIG_ROWS.csv"
head -1001 "$small" >"$out/sample.csv"

pid=""
trap 'stop' EXIT
# A platform of the demo's accounts with one entry made from the file's first 1,000 rows, run
# by binary $1: prints the entry's id.
platform() {
  rm -rf "$out/platform"
  "$1" generate --data-dir "$out/platform" --entries 0 >/dev/null
  "$1" generate --data-dir "$out/platform" --from-file "$out/sample.csv" --org sh-transport --name "持证企业（基准）"
}
stop() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  pid=""
}
start() {
  stop
  "$1" serve --data-dir "$out/platform" --listen "127.0.0.1:$PORT" >>"$out/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return; sleep 0.2; done
  echo "the server did not start" >&2; exit 1
}
# Publishes file $3 to entry $2 with binary $1, $RUNS times, each on a freshly started server;
# sets `median` to the median seconds. (Not in a subshell: it starts and stops the server.)
median=""
publish() {
  local times=() token secs
  for _ in $(seq 1 "$RUNS"); do
    start "$1"
    token=$(measure token "http://127.0.0.1:$PORT" transport-editor@demo.kaifang.example kaifang-demo-2026)
    read -r secs _ <<<"$(measure run "$1" publish --server "http://127.0.0.1:$PORT" --token "$token" --dataset "$2" "$3")"
    times+=("$secs")
  done
  stop
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
}
rules='{"rules": {
  "credit_code": {"rule": "pseudonym"},
  "name": {"rule": "mask", "keep_start": 2, "keep_end": 2},
  "registered_capital": {"rule": "round", "step": 1000},
  "longitude": {"rule": "round", "step": 0.01},
  "latitude": {"rule": "round", "step": 0.01},
  "licence_date": {"rule": "date_to", "unit": "month"}
}, "quasi_identifiers": [], "sensitive": null, "row_version": 0}'

stop
id=$(platform "$base")
publish "$base" "$id" "$small"
t_base=$median
id=$(platform "$bin")
publish "$bin" "$id" "$small"
t_scan=$median
start "$bin"
token=$(measure token "http://127.0.0.1:$PORT" transport-editor@demo.kaifang.example kaifang-demo-2026)
curl -sf -X PUT -H "authorization: Bearer $token" -H "content-type: application/json" \
  -d "$rules" "http://127.0.0.1:$PORT/api/v1/datasets/$id/privacy" >/dev/null
publish "$bin" "$id" "$small"
t_rules=$median
# The rules were applied: the opened file holds no credit code as it was uploaded.
start "$bin"
first_code=$(sed -n 2p "$small" | cut -d, -f1)
if curl -sf "http://127.0.0.1:$PORT/datasets/$id/download?format=csv" | grep -q "$first_code"; then
  echo "the rules were not applied" >&2; exit 1
fi
stop

# The 10 M-row version as Kaifang stores it, for the in-process runs.
id=$(platform "$bin")
RUNS=1 publish "$bin" "$id" "$big"
start "$bin"
curl -sf -o "$out/big.parquet" "http://127.0.0.1:$PORT/datasets/$id/download?format=parquet"
stop
declare -A r
while read -r name secs rest; do r[$name]=$secs; r[${name}_detail]=$rest; done < <("$example" "$out/big.parquet" 5)
d_sample=$(measure run "$py" -c "import duckdb,sys; duckdb.sql(f\"COPY (SELECT * FROM read_parquet('{sys.argv[1]}') USING SAMPLE 1 PERCENT (bernoulli, 2026)) TO '{sys.argv[2]}' (FORMAT parquet)\")" "$out/big.parquet" "$out/duck-sample.parquet" | cut -d' ' -f1)

pct() { python3 -c "import sys; print(f'{(float(sys.argv[1])/float(sys.argv[2])-1)*100:+.0f} %')" "$1" "$2"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$1" "$2"; }
cat <<MD
| publishing $ROWS rows (\`kaifang publish\`, median of $RUNS, each on a fresh server) | seconds | against the data plane before the privacy guard |
|---|---|---|
| the data plane before the privacy guard (commit 66654ad) | $t_base | — |
| this build, no rules (every cell scanned for personal information) | $t_scan | $(pct "$t_scan" "$t_base") |
| this build, rules on six items (pseudonym, mask, rounding ×3, date to month) | $t_rules | $(pct "$t_rules" "$t_base") |

| over the $BIG_ROWS-row version's Parquet file, in process, median of 5 | seconds |
|---|---|
| 1 % sample stratified on the district, two passes, with its fidelity report (${r[sample_detail]}) | ${r[sample]} |
| DuckDB \`USING SAMPLE 1 PERCENT (bernoulli)\` written to Parquet, no strata, no report (one run) | $d_sample |
| group-by (district, count, average capital): the SQL endpoint's engine | ${r[sql_groupby]} |
| the same in the sandbox (shape check, group sizes, suppression) | ${r[sandbox_groupby]} |
| group-by with two conditions: the SQL endpoint's engine | ${r[sql_groupby_where]} |
| the same in the sandbox (and each condition tried as true and as false) | ${r[sandbox_groupby_where]} |

The sandbox takes $(ratio "${r[sandbox_groupby]}" "${r[sql_groupby]}")× the SQL endpoint's time for the plain group-by and $(ratio "${r[sandbox_groupby_where]}" "${r[sql_groupby_where]}")× with conditions.
MD
