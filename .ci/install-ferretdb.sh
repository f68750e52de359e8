#!/usr/bin/env bash
# Installs FerretDB v1 (MongoDB wire protocol on SQLite) for the MongoDB store tests, when missing.
# `go install ...@v1.24.2` alone builds a binary that panics at start (the module lacks the generated
# build/version/version.txt), so build it from the downloaded module with that file added.
set -euo pipefail
VERSION=v1.24.2
BIN="$(go env GOPATH)/bin/ferretdb"
if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  echo "ferretdb already installed: $BIN"
  exit 0
fi
echo "building ferretdb $VERSION (a few minutes on 2 cores)..."
GOFLAGS=-mod=mod go mod download -x "github.com/FerretDB/FerretDB@$VERSION" >/dev/null 2>&1 || go mod download "github.com/FerretDB/FerretDB@$VERSION"
SRC="$(go env GOMODCACHE)/github.com/!ferret!d!b/!ferret!d!b@$VERSION"
WORK="$(mktemp -d)"
trap 'chmod -R u+w "$WORK"; rm -rf "$WORK"' EXIT
cp -r "$SRC/." "$WORK/"
chmod -R u+w "$WORK"
echo "$VERSION" > "$WORK/build/version/version.txt"
(cd "$WORK" && go build -trimpath -o "$BIN" ./cmd/ferretdb)
"$BIN" --version | head -3
