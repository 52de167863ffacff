#!/usr/bin/env bash
# Runs Kaifang's whole test suite. This is the test command the README gives a new user.
#
# - Always on SQLite (nothing to install).
# - Again on PostgreSQL when KAIFANG_TEST_POSTGRES_URL names a server, e.g.
#   KAIFANG_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres scripts/test.sh
#   (each test creates and drops a database of its own there).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "Rust is needed: install it from https://rustup.rs and run this script again." >&2
  exit 1
fi

# cargo-nextest runs the suite faster and reports better; plain cargo test works too.
if cargo nextest --version >/dev/null 2>&1; then
  run_tests() { cargo nextest run --workspace --no-fail-fast; }
else
  echo "cargo-nextest not found; using cargo test (install it with: cargo install cargo-nextest --locked)"
  run_tests() { cargo test --workspace --no-fail-fast; }
fi

# rustfmt and clippy come with rustup's default profile; add them if this toolchain lacks them.
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done

# The official CKAN client, for the test that drives the CKAN-compatible API with it, and
# Schemathesis, which checks the API against its OpenAPI document.
venv=build-output/test-venv
if ! "$venv/bin/python" -c "import ckanapi, schemathesis, chinese_calendar" >/dev/null 2>&1; then
  echo "== installing the test's Python tools (ckanapi, Schemathesis) into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r scripts/test-requirements.txt
fi

# A real S3-compatible server (the s3s-fs crate's), for the tests of the S3 file store.
s3s=build-output/tools/bin/s3s-fs
if [ -z "${KAIFANG_TEST_S3S_FS:-}" ] && [ ! -x "$s3s" ]; then
  echo "== installing the S3-compatible test server (s3s-fs) into build-output/tools"
  cargo install --quiet s3s-fs --version 0.14.1 --features binary --root build-output/tools
fi

# Headless Chromium and its WebDriver, for the browser tests (Debian's packages; a CJK font so
# that screenshots of the Chinese pages are readable).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "== installing Chromium and ChromeDriver for the browser tests"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q chromium chromium-driver fonts-noto-cjk >/dev/null
fi

# axe-core (from the npm registry) checks the pages against WCAG 2.1 A and AA in the browser
# tests; it is downloaded into build-output, not kept in the repository.
axe=build-output/axe/axe.min.js
if [ ! -f "$axe" ]; then
  echo "== fetching axe-core for the accessibility checks"
  mkdir -p build-output/axe
  (cd build-output/axe && npm pack --silent axe-core@4.14.1 >/dev/null && tar xzf axe-core-4.14.1.tgz --strip-components=1 package/axe.min.js)
fi

echo "== formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== tests on SQLite"
KAIFANG_TEST_POSTGRES_URL= run_tests

if [ -n "${KAIFANG_TEST_POSTGRES_URL:-}" ]; then
  echo "== tests on PostgreSQL"
  run_tests
else
  echo "== PostgreSQL suite not run: set KAIFANG_TEST_POSTGRES_URL to run it as well"
fi

echo "== the API against its OpenAPI document (Schemathesis)"
scripts/api-contract.sh
