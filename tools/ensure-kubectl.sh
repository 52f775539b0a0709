#!/usr/bin/env bash
# kubectl is needed by the tests (reference manifests from `kubectl create --dry-run`).
# Debian ships it as `kubectl` where Google's repository is configured, else as
# `kubernetes-client`.
set -euo pipefail
command -v kubectl >/dev/null 2>&1 && exit 0
here="$(dirname "$0")"
"$here/apt-ensure.sh" kubectl 2>/dev/null || "$here/apt-ensure.sh" kubernetes-client
