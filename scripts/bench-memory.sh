#!/usr/bin/env bash
# Resident memory while a harvester walks every offset of the CKAN API at 100,000 entries:
# `package_list` (names only, 1,000 a page) and `package_search` (whole packages, `rows=1000`,
# every `start`), twice each, sampling the server's resident memory as it goes. Datasette walks
# the same entries (its table, 1,000 rows a page) beside it. Prints Markdown for
# docs/benchmarks.md.
#
#   scripts/bench-memory.sh            # BENCH_ENTRIES=100000 by default
set -euo pipefail
cd "$(dirname "$0")/.."

out="${BENCH_DIR:-build-output/bench}"
ENTRIES="${BENCH_ENTRIES:-100000}"
PORT_K=18185
PORT_D=18186
mkdir -p "$out"

# shellcheck source=bench/platform.sh
source scripts/bench/platform.sh

"$bin" serve --data-dir "$data" --listen "127.0.0.1:$PORT_K" >"$out/serve-memory.log" 2>&1 &
kpid=$!
"$venv/bin/datasette" serve "$out/peer-search.db" --port "$PORT_D" --setting max_returned_rows 1000 >/dev/null 2>&1 &
dpid=$!
trap 'kill $kpid $dpid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT_K/readyz" >/dev/null && curl -sf "http://127.0.0.1:$PORT_D/-/versions.json" >/dev/null && break
  sleep 0.5
done

walk() { python3 scripts/bench/walk-offsets.py "$1" "$2" "$ENTRIES" 1000; }
base="http://127.0.0.1:$PORT_K/api/3/action"
list1=$(walk $kpid "$base/package_list?limit=1000&offset={offset}")
list2=$(walk $kpid "$base/package_list?limit=1000&offset={offset}")
search1=$(walk $kpid "$base/package_search?q=*:*&rows=1000&start={offset}")
search2=$(walk $kpid "$base/package_search?q=*:*&rows=1000&start={offset}")
peer=$(walk $dpid "http://127.0.0.1:$PORT_D/peer-search.json?_shape=objects&sql=select+*+from+datasets+where+rowid+%3E+:o+order+by+rowid+limit+1000&o={offset}")

row() {
  python3 - "$1" "$2" <<'PY'
import json, sys
name, d = sys.argv[1], json.loads(sys.argv[2])
print(f"| {name} | {d['requests']} | {d['entries']} | {d['start']} | {d['quarter']} | {d['half']} | {d['three_quarters']} | {d['end']} | {d['max']} |")
PY
}
cat <<MD
| $ENTRIES entries, walked 1,000 at a time; resident MB: own + mapped files | requests | entries answered | before | ¼ | ½ | ¾ | end | most own |
|---|---|---|---|---|---|---|---|---|
$(row "Kaifang \`package_list\`, first walk" "$list1")
$(row "Kaifang \`package_list\`, second walk" "$list2")
$(row "Kaifang \`package_search\` \`rows=1000\`, every \`start\`, first walk" "$search1")
$(row "Kaifang \`package_search\`, second walk" "$search2")
$(row "Datasette (peer), the same public entries by SQL, 1,000 rows a page" "$peer")
MD
