#!/usr/bin/env bash
# Checks the API against its own OpenAPI document with Schemathesis: a demo is started on a
# free port, then every /api operation is called with generated valid and invalid input,
# anonymously, with a provider editor's token and with the operator's token. Any server error
# or any answer that contradicts the document (status, media type, body schema) fails the run.
#
# Needs the test virtual environment of scripts/test.sh (Schemathesis is in
# scripts/test-requirements.txt). EXAMPLES sets the cases per operation (default 25).
set -euo pipefail
cd "$(dirname "$0")/.."

repo=$(pwd)
venv=build-output/test-venv
cargo build --quiet -p kaifang
bin="${CARGO_TARGET_DIR:-target}/debug/kaifang"

data=$(mktemp -d)
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$bin" demo --data-dir "$data/demo" --listen "127.0.0.1:$port" >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data"' EXIT

for _ in $(seq 1 120); do
  if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('$base/readyz')" 2>/dev/null; then
    break
  fi
  if ! kill -0 $server 2>/dev/null; then
    cat "$data/server.log" >&2
    exit 1
  fi
  sleep 1
done

password=kaifang-demo-2026
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
run() {
  echo "== Schemathesis: $1"
  shift
  # Schemathesis keeps what it found under .schemathesis in the working directory: run it in
  # the temporary directory, not in the checkout.
  # One worker: the generator's helper library is not safe to share between threads.
  (cd "$data" && "$repo/$venv/bin/schemathesis" --config-file "$repo/scripts/api-contract/schemathesis.toml" run \
    "$base/api/v1/openapi.json" --checks "$checks" --workers 1 \
    --max-examples "${EXAMPLES:-25}" --seed 20261203 --no-color \
    --report junit --report-dir "$data/report" "$@")
}

# Both accounts sign in before the runs: the anonymous run's failed sign-ins slow down this
# address, as they should.
setup() { "$venv/bin/python" scripts/api-contract/setup.py "$base" "$1" "$password" sh-transport; }
setup transport-editor@demo.kaifang.example >"$data/provider.env"
setup operator@demo.kaifang.example >"$data/operator.env"

source "$data/provider.env"
run "anonymous"
run "a provider editor's token" -H "Authorization: Bearer $KF_TOKEN"
source "$data/operator.env"
run "the operator's token" -H "Authorization: Bearer $KF_TOKEN"
