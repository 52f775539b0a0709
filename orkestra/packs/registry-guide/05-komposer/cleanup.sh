#!/bin/sh
# Remove everything 05-komposer deployed, in the order that leaves nothing behind:
# the CRs (while the runtime still runs, so their finalizers are honoured), the runtime and
# the gateway, the webhook configurations, the bundle, the CRDs.
# Deletion protection must be lifted first (see README: "Clean uninstall").
set -eu
cd "$(dirname "$0")"
kubectl delete --ignore-not-found --wait=true \
  -f ../02-katalog-api/cr.yaml -f ../03-katalog-cache/cr.yaml -f ../04-katalog-platform/cr.yaml
pkill -TERM -f "ork run -f komposer.yaml" 2>/dev/null || true
pkill -TERM -f "ork gateway -f komposer.yaml" 2>/dev/null || true
ork gateway -f komposer.yaml --uninstall
kubectl delete --ignore-not-found -f bundle.yaml
kubectl delete --ignore-not-found crd webapps.rkguide.demo caches.rkguide.demo \
  platformapps.rkguide.demo
echo "05-komposer removed"
