#!/usr/bin/env bash
# Runs every check and test. Store and end-to-end tests run on SQLite always,
# and on PostgreSQL as well when ACCOUNTD_TEST_POSTGRES is set or a local
# PostgreSQL answers on 127.0.0.1:5432 (trust auth).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${ACCOUNTD_TEST_POSTGRES:-}" ] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  export ACCOUNTD_TEST_POSTGRES="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
fi
if [ -z "${ACCOUNTD_TEST_POSTGRES:-}" ]; then
  if [ -n "${ACCOUNTD_REQUIRE_POSTGRES:-}" ]; then
    echo "test.sh: PostgreSQL is required but ACCOUNTD_TEST_POSTGRES is unset and nothing answers on 127.0.0.1:5432" >&2
    exit 1
  fi
  echo "test.sh: no PostgreSQL found; PostgreSQL tests will be skipped" >&2
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
# The release targets build without cgo; one that is not this machine's
# catches code that only builds here.
cross=$(mktemp -d)
trap 'rm -rf "$cross"' EXIT
CGO_ENABLED=0 GOOS=windows GOARCH=arm64 go build -o "$cross/accountd.exe" ./cmd/accountd
go test -race -count=1 -timeout 25m "$@" ./...
# The memory budget is measured without the race detector, which changes
# what allocations cost (internal/memtest is skipped under -race above).
go test -count=1 "$@" ./internal/memtest

# A short fuzz run of each target (request bodies, query strings, advanced
# queries, Authorization values through the real handler stack; seeds in
# httpapi/testdata/fuzz). Go fuzzes one target per invocation.
# ACCOUNTD_FUZZTIME sets each run's length; 0 skips them. The default is a
# count of executions (5 to 25 seconds a target here), not a duration: Go 1.26's
# fuzzing coordinator can fail a run bounded by a duration at its deadline,
# with no failing input (golang/go#75804; seen in CI on FuzzAuthorization).
fuzztime="${ACCOUNTD_FUZZTIME:-20000x}"
if [ "$fuzztime" != "0" ]; then
  for target in FuzzJSONBody FuzzQuery FuzzAuthorization FuzzAdvancedQuery; do
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" ./httpapi
  done
fi

# Conformance with the official JavaScript client (conformance/run.sh) when
# the reference and Node are at hand; ACCOUNTD_REQUIRE_CONFORMANCE makes
# their absence an error.
if [ -n "${ACCOUNTD_REFERENCE_DIR:-}" ] && command -v node >/dev/null; then
  bash conformance/run.sh
elif [ -n "${ACCOUNTD_REQUIRE_CONFORMANCE:-}" ]; then
  echo "test.sh: the conformance run is required but ACCOUNTD_REFERENCE_DIR is unset or node is not installed" >&2
  exit 1
else
  echo "test.sh: ACCOUNTD_REFERENCE_DIR unset or node missing; conformance with the JavaScript client skipped" >&2
fi
