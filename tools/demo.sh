#!/usr/bin/env bash
# The registry-guide walkthrough, as far as this version of ork goes.
# Runs in ./.demo (recreated each time), with the `ork` on PATH. Patterns are published to
# the embedded registry under ./.demo/.orkestra (ORK_HOME), so nothing outside is touched.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/.demo"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
export ORK_HOME="$work/.orkestra"
unset ORK_REGISTRY ORK_MOTIFS_REGISTRY

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
expect_failure() {  # expect_failure NAME GREP CMD...: the command must fail and print GREP
  local name="$1" pattern="$2"; shift 2
  step "$name (expected to fail)" "$*"
  if "$@" >"$work/out.txt" 2>&1; then cat "$work/out.txt"; summary+=("✗ $name passed"); exit 1; fi
  cat "$work/out.txt"
  grep -qF -- "$pattern" "$work/out.txt" || { summary+=("✗ $name: no '$pattern'"); exit 1; }
  summary+=("✓ $name: refused as expected")
}
expect_failure "01 tag and version must agree" \
  'does not match provided tag "2.0.0"' ork push web-service:2.0.0 ./web-service/
run "01 push web-service" ork push ./web-service/
run "01 push data-store" ork push ./data-store/
run "01 push platform-admission" ork push ./platform-admission/
run "01 list the published motifs" ork patterns --motifs
cd ../02-katalog-api
run "02 validate katalog + simulate file" ork validate
run "02 RBAC preview" ork validate --full -f katalog.yaml
run "02 expanded katalog (template)" ork template
run "02 template of one CRD as JSON" ork template -j -c webapp -o expanded.json
run "02 simulate: the behavioural contract" ork simulate
run "02 simulate with a host: the Ingress appears" ork simulate -f simulate-ingress.yaml

expect_failure "02 local motif imports block the push" \
  "✗ Push blocked: local file imports in katalog.yaml" ork push .
run "02 switch to the published motif" \
  sed -i 's#../01-motifs/web-service/motif.yaml#oci://local/motifs/web-service:v1.0.0#' katalog.yaml
run "02 push: the simulate gate passes" ork push .

cd ../03-katalog-cache
step "03 simulate gate catches a broken assertion (expected to fail)" "ork simulate"
if ork simulate | tee simulate.out; then summary+=("✗ 03 simulate passed"); exit 1; fi
grep -q "✗ configmaps/my-cache-config not found (expected cycle 1 create)" simulate.out
grep -q "3/4 assertions passed, 1 failed" simulate.out
rm simulate.out
summary+=("✓ 03 simulate failed as the seed shows: 3/4 assertions passed, 1 failed")
run "03 switch to the published motif" \
  sed -i 's#../01-motifs/data-store/motif.yaml#oci://local/motifs/data-store:v1.0.0#' katalog.yaml
expect_failure "03 the simulate gate blocks the push" \
  "✗ Simulate gate failed — push blocked" ork push .
run "03 push the draft: gates skipped, and recorded" ork push --force --no-e2e .

step "inspect both: the proof travelled with the artifact" \
  "ork inspect webapp-operator:v1.0.0; ork inspect cache-operator:v1.0.0"
ork inspect webapp-operator:v1.0.0 | tee "$work/out.txt"
grep -q "Simulate:    ✓ Verified · 2 assertions" "$work/out.txt"
ork inspect cache-operator:v1.0.0 | tee "$work/out.txt"
grep -q "Simulate:    ⊘ Skipped" "$work/out.txt"
grep -q "E2E:         ⊘ Skipped" "$work/out.txt"
summary+=("✓ inspect: webapp-operator ✓ Verified · 2 assertions, cache-operator ⊘ Skipped")
run "the registry index" ork patterns
run "pull 02 as a consumer" ork pull webapp-operator:v1.0.0 -o "$work/consumer"
run "re-run the author's assertions from the pulled copy" \
  ork simulate -f "$work/consumer/simulate.yaml"

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

rm -f "$work/out.txt"
printf '\n%sSummary%s\n' "$bold" "$plain"
printf '  %s\n' "${summary[@]}"
