#!/usr/bin/env bash
# Builds static accountd binaries (no cgo) for linux, darwin and windows on
# amd64 and arm64 into dist/, with the version, commit and build time
# stamped in (accountd version prints them), and a SHA256SUMS file.
#
#   scripts/release.sh [VERSION]     VERSION defaults to `git describe`
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:-$(git describe --tags --always --dirty 2>/dev/null || echo devel)}
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
pkg=github.com/accountd/accountd/internal/cli
out=dist
rm -rf "$out"
mkdir -p "$out"

for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
  goos=${target%/*}
  goarch=${target#*/}
  name="accountd-$version-$goos-$goarch"
  [ "$goos" = windows ] && name="$name.exe"
  echo "building $name" >&2
  CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath \
    -ldflags "-s -w -X $pkg.version=$version -X $pkg.commit=$commit -X $pkg.buildTime=$built" \
    -o "$out/$name" ./cmd/accountd
done
(cd "$out" && sha256sum accountd-* > SHA256SUMS)
echo "binaries and SHA256SUMS in $out/" >&2
