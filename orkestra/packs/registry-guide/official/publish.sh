#!/bin/sh
# Publish the seven official patterns to the configured registry ($ORK_REGISTRY, or the
# embedded one). Each push runs the simulate gate, then the e2e gate (on the embedded API
# server unless ORK_E2E_CLUSTER names another cluster).
set -e
cd "$(dirname "$0")"
for pattern in postgres mysql mongodb redis kafka rabbitmq deployment-stack; do
  ork push "./$pattern"
done
