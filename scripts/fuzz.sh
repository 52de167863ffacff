#!/usr/bin/env bash
# Fuzzes the data plane (crates/data) for a bounded time with cargo-fuzz (libFuzzer): the CSV
# reader and ingestion (csv_reader), the records query parser and runner (filter_parser) and
# the SQL gate (sql_gate), FUZZ_SECONDS each (60 by default), one after the other. Exits
# non-zero if any target panicked, crashed, hung or ran out of memory.
#
#   scripts/fuzz.sh                        # every target, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh       # longer
#   scripts/fuzz.sh sql_gate csv_reader    # some targets only
#
# Needs a C++ compiler (libfuzzer-sys builds libFuzzer from source); installs cargo-fuzz if it
# is missing. The targets are in fuzz/, a cargo workspace of its own that builds into
# fuzz/target, not the main target folder. The seeds in fuzz/corpus/<target> are copied into a
# scratch corpus, build-output/fuzz/<target>, which the fuzzer grows and keeps from run to run
# (delete it to start over); the seed folders stay as committed. An input that fails is kept
# in fuzz/artifacts/<target>/; the full log of each run is build-output/fuzz/<target>.log. Run
# an input again with
#   env -u CARGO_TARGET_DIR cargo fuzz run --sanitizer none <target> fuzz/artifacts/<target>/<file>
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds="${FUZZ_SECONDS:-60}"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=(csv_reader filter_parser sql_gate)
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "Rust is needed: install it from https://rustup.rs and run this script again." >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# On a stable toolchain. cargo-fuzz's default, AddressSanitizer, needs the nightly-only
# -Zsanitizer flag (cargo-fuzz passes it, and would only switch to a stable flag on a release
# that has stabilised sanitizers, which none has yet). With `--sanitizer none` cargo-fuzz passes
# no -Z flag at all: libFuzzer's coverage instrumentation (-Cpasses=sancov-module and
# -Cllvm-args) and -Cdebug-assertions are stable, so neither nightly nor RUSTC_BOOTSTRAP is
# needed. What is lost is ASan's check of out-of-bounds and use-after-free in unsafe code;
# the code fuzzed here is safe Rust, whose failures are panics (including arithmetic overflow,
# with debug assertions on), and libFuzzer catches those, as it catches hangs and runaway
# memory.
#
# CARGO_TARGET_DIR is left unset for cargo fuzz so that its instrumented release builds go to
# fuzz/target and never mix with the main build's. nice keeps the builds and the runs behind
# other work on the machine.
cargo_fuzz=(env -u CARGO_TARGET_DIR nice -n 10 cargo fuzz)
options=(--sanitizer none)

echo "== building the fuzz targets: ${targets[*]}"
started=$SECONDS
for target in "${targets[@]}"; do
  "${cargo_fuzz[@]}" build "${options[@]}" "$target"
done
echo "   built in $((SECONDS - started)) s"

failed=()
for target in "${targets[@]}"; do
  scratch="build-output/fuzz/$target"
  log="build-output/fuzz/$target.log"
  mkdir -p "$scratch"
  cp fuzz/corpus/"$target"/* "$scratch"/
  echo "== fuzzing $target for $fuzz_seconds s (corpus: $scratch)"
  started=$SECONDS
  # -timeout: an input that takes this long is a failure (a hang), as is passing libFuzzer's
  # default memory limit of 2 GB.
  if RUST_BACKTRACE=1 "${cargo_fuzz[@]}" run "${options[@]}" "$target" "$scratch" -- \
    -max_total_time="$fuzz_seconds" -timeout=30 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -m1 -oE '^Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || true)
    cov=$(grep -m1 -oE 'DONE +cov: [0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    echo "   ok in $((SECONDS - started)) s: ${runs:-?} inputs run, ${cov:-?} coverage points"
  else
    echo "   FAILED after $((SECONDS - started)) s; the end of $log:"
    tail -n 60 "$log"
    failed+=("$target")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "== failing targets: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "== no target failed"
