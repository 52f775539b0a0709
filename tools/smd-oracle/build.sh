#!/usr/bin/env bash
# Builds the server-side apply oracle against Kubernetes' structured-merge-diff library as
# Debian packages it, offline, in GOPATH mode:
#   apt-get install -y golang-go golang-k8s-sigs-structured-merge-diff-dev
# Debian installs the library without its /v4 path element, so a throwaway GOPATH links it.
set -euo pipefail
cd "$(dirname "$0")"
out="$(realpath -m "${1:-/tmp/smd-oracle}")"
gopath="$(mktemp -d)"
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/sigs.k8s.io/structured-merge-diff" "$gopath/src/smd-oracle"
ln -s /usr/share/gocode/src/sigs.k8s.io/structured-merge-diff \
      "$gopath/src/sigs.k8s.io/structured-merge-diff/v4"
cp main.go "$gopath/src/smd-oracle/"
cd "$gopath/src/smd-oracle"
GOPATH="$gopath:/usr/share/gocode" GO111MODULE=off GOCACHE="${GOCACHE:-$gopath/cache}" \
    go build -o "$out" .
