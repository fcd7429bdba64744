#!/usr/bin/env bash
# Conformance with the official JavaScript client: builds accountd, installs
# the harness (losant-rest 2.8.1 and the schema validator, from the lock
# file) and runs the scenario against a real server, checking every
# response against the reference in ACCOUNTD_REFERENCE_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${ACCOUNTD_REFERENCE_DIR:-}" ]; then
  echo "conformance: ACCOUNTD_REFERENCE_DIR is not set; the schema checks need the reference folder (api.json, schemas/)" >&2
  exit 1
fi
for tool in go node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "conformance: $tool is not installed" >&2
    exit 1
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/accountd" ./cmd/accountd

if ! (cd conformance && npm ci --no-audit --no-fund --loglevel=error >"$tmp/npm.log" 2>&1); then
  cat "$tmp/npm.log" >&2
  echo "conformance: npm ci failed" >&2
  exit 1
fi

ACCOUNTD_BIN="$tmp/accountd" node conformance/scenario.js
