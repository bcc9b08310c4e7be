#!/usr/bin/env bash
# Builds the official Databricks CLI from its Go module (the Go proxy serves exact versions, not release binaries)
# into a per-machine cache keyed by version, only when missing, and prints the binary's path on stdout.
# Progress goes to stderr so callers can do: cli="$(bash scripts/setup-databricks-cli.sh)".
set -euo pipefail

version="${ORBITER_DATABRICKS_CLI_VERSION:-1.10.0}"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/orbiter/databricks-cli"
dest_dir="$cache_root/$version"
binary="$dest_dir/databricks"

if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup-databricks-cli: Go is required to build the Databricks CLI $version (https://go.dev/dl/)" >&2
  exit 1
fi

IFS=. read -r major minor patch <<<"$version"
module="github.com/databricks/cli"
pkg="$module/internal/build"

mkdir -p "$dest_dir"
# One builder at a time per version: concurrent test workers or a parallel `npm start` wait for the first one.
exec 9>"$dest_dir/.lock"
flock 9
if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi

started=$(date +%s)
echo "setup-databricks-cli: building Databricks CLI v$version from the Go module proxy (a few minutes, once per machine)" >&2
go mod download "$module@v$version" >&2
src="$(go env GOMODCACHE)/$module@v$version"
tmp="$dest_dir/databricks.tmp.$$"
(
  cd "$src"
  CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -o "$tmp" -ldflags "-s -w \
    -X $pkg.buildProjectName=cli -X $pkg.buildVersion=$version \
    -X $pkg.buildMajor=$major -X $pkg.buildMinor=$minor -X $pkg.buildPatch=$patch -X $pkg.buildTag=v$version" .
) >&2
# Rename last so an interrupted build never leaves a half-written binary at the cached path.
mv "$tmp" "$binary"
echo "setup-databricks-cli: built $("$binary" --version) in $(($(date +%s) - started)) s" >&2
echo "$binary"
