#!/usr/bin/env bash
# The registry-guide walkthrough, as far as this version of ork goes.
# Runs in ./.demo (recreated each time), with the `ork` on PATH.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/.demo"
rm -rf "$work" && mkdir -p "$work" && cd "$work"

bold=""; plain=""
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m'; plain=$'\033[0m'; fi
step() { printf '\n%s== %s%s\n$ %s\n' "$bold" "$1" "$plain" "$2"; }
summary=()
run() {  # run NAME CMD...: show the command, run it, record the outcome
  local name="$1"; shift
  step "$name" "$*"
  if "$@"; then summary+=("✓ $name"); else summary+=("✗ $name"); return 1; fi
}

run "init the pack" ork init --pack registry-guide
cd registry-guide/01-motifs
run "01 validate the three motifs" ork validate -f web-service/motif.yaml \
  -f data-store/motif.yaml -f platform-admission/motif.yaml
cd ../02-katalog-api
run "02 validate katalog + simulate file" ork validate
run "02 RBAC preview" ork validate --full -f katalog.yaml
run "02 expanded katalog (template)" ork template
run "02 template of one CRD as JSON" ork template -j -c webapp -o expanded.json
run "02 simulate: the behavioural contract" ork simulate
run "02 simulate with a host: the Ingress appears" ork simulate -f simulate-ingress.yaml

cd ../03-katalog-cache
step "03 simulate gate catches a broken assertion (expected to fail)" "ork simulate"
if ork simulate | tee simulate.out; then summary+=("✗ 03 simulate passed"); exit 1; fi
grep -q "✗ configmaps/my-cache-config not found (expected cycle 1 create)" simulate.out
grep -q "3/4 assertions passed, 1 failed" simulate.out
rm simulate.out
summary+=("✓ 03 simulate failed as the seed shows: 3/4 assertions passed, 1 failed")

cd ../04-katalog-platform
run "04 validate katalog, simulate and e2e files" ork validate
run "04 simulate the compliant app" ork simulate
run "04 simulate the denied app: nothing is created" ork simulate -f simulate-denied.yaml

cd ../02-katalog-api
step "02 a broken katalog is rejected with file, line and hint" \
  "ork validate -f broken.yaml"
sed 's/workers: 2/wrokers: 2/' katalog.yaml > broken.yaml
if ork validate -f broken.yaml; then summary+=("✗ broken katalog accepted"); exit 1; fi
summary+=("✓ 02 broken katalog rejected (exit 1)")
rm broken.yaml

printf '\n%sSummary%s\n' "$bold" "$plain"
printf '  %s\n' "${summary[@]}"
