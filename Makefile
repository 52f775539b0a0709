# Two commands on a fresh Debian machine:
#   make demo   set everything up, then run the registry-guide walkthrough
#   make test   set everything up, then run the whole test suite
# Both are idempotent.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
APT_PACKAGES ?=

.PHONY: demo test setup lint typecheck bench golden clean image

setup: $(STAMP)

$(STAMP): pyproject.toml
	@if [ -n "$(APT_PACKAGES)" ]; then tools/apt-ensure.sh $(APT_PACKAGES); fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# the project's distribution was once called orkestra (another project's name on PyPI)
	@$(BIN)/python -m pip uninstall --quiet --yes orkestra >/dev/null 2>&1 || true
	$(BIN)/python -m pip install --quiet --config-settings editable_mode=compat -e '.[dev]'
	$(BIN)/python -m compileall -q orkestra >/dev/null
	@touch $(STAMP)

demo: setup
	tools/ensure-kubectl.sh
	VENV=$(VENV) tools/ensure-helm.sh
	PATH="$(CURDIR)/$(BIN):$$PATH" tools/demo.sh

# The runtime image (Containerfile): buildah over a debootstrap root filesystem cached in
# ~/.cache/orkestra; no Docker engine, no base image pulled. Needs root. The test suite
# builds it too (tests/image, marked slow). REGISTRY=HOST:PORT also pushes it as
# HOST:PORT/orkestra:<version>.
IMAGE_APT_PACKAGES := buildah debootstrap

# The test suite starts a real OCI registry (docker-registry, htpasswd for Basic auth),
# checks interoperability with skopeo, and checks server-side apply against Kubernetes' own
# structured-merge-diff (Go).
# It also lints, renders and installs the Helm chart with helm, from a PyPI wheel.
TEST_APT_PACKAGES := docker-registry skopeo apache2-utils golang-go \
                     golang-k8s-sigs-structured-merge-diff-dev shellcheck $(IMAGE_APT_PACKAGES)

image: setup
	tools/apt-ensure.sh $(IMAGE_APT_PACKAGES)
	PYTHON=$(CURDIR)/$(BIN)/python tools/image/build.sh

test: lint
	tools/ensure-kubectl.sh
	VENV=$(VENV) tools/ensure-helm.sh
	tools/apt-ensure.sh $(TEST_APT_PACKAGES)
	$(BIN)/python -m pytest -n auto

lint: setup
	$(BIN)/ruff check orkestra tests tools benchmarks
	$(BIN)/ruff format --check orkestra tests tools benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python benchmarks/run.py

golden: setup
	$(BIN)/python tools/regen_template_golden.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info

# Regenerate orkestra/cluster/schemas/kubernetes-v1.32.json.gz (the vendored OpenAPI v3
# schemas of the built-in kinds) from the kubernetes-validate package (pinned: same bytes
# every run), installed into the venv on demand; it is not a project dependency.
.PHONY: kube-schemas
kube-schemas: setup
	@$(BIN)/python -c 'import kubernetes_validate' 2>/dev/null || \
		$(BIN)/python -m pip install --quiet 'kubernetes-validate==1.37.0'
	$(BIN)/python tools/gen_kube_schemas.py
