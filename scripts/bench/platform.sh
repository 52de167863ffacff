# Sourced by bench-search.sh and bench-memory.sh: the release binary, the generated platform of
# $ENTRIES entries (kept between runs), and Datasette over the same public entries, in
# $out/peer-search.db. Sets `bin`, `data` and `venv`.

cargo build --release -p kaifang >&2
bin="${CARGO_TARGET_DIR:-target}/release/kaifang"

data="$out/search-data"
if [ ! -f "$data/.generated-$ENTRIES" ]; then
  rm -rf "$data"
  echo "generating $ENTRIES entries" >&2
  "$bin" generate --data-dir "$data" --entries "$ENTRIES" >&2
  touch "$data/.generated-$ENTRIES"
fi

venv="$out/venv"
if [ ! -x "$venv/bin/datasette" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet datasette
fi
# The same public entries for the peer, with a full-text index.
python3 scripts/bench/export-peer-db.py "$data/kaifang.db" "$out/peer-search.db"
