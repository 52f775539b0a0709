#!/usr/bin/env bash
# Build the runtime image (Containerfile at the repository root) without a Docker engine
# and without pulling a base image; `make image` runs this.
#
#   1. tools/image/rootfs.sh: the Debian root filesystem tarball (cached per machine)
#   2. the orkestra wheel from this checkout, and the PyPI wheels of its dependencies for
#      the image's Python and architecture, pinned to the versions in $PYTHON's environment
#      (the ones the tests ran with) when orkestra is installed there
#   3. buildah bud --storage-driver vfs --isolation chroot, into a buildah store of its own
#      under the cache, tagged localhost/orkestra:<package version>
#   4. the image as an OCI image layout: $OUT/oci, tag <package version>
#   5. `ork version` in it: its layers unpacked, chroot as the image's user (65532), its
#      entrypoint, env and working dir (tools/image/oci_run.py); must print the version
#   6. with REGISTRY=HOST:PORT: pushed as $REGISTRY/$IMAGE_NAME:<version> (plain HTTP and no
#      TLS check for 127.0.0.1 and localhost; TLS_VERIFY=false for others)
#
# Needs root (debootstrap, chroot, buildah's chroot isolation run as root here) and the
# Debian packages buildah and debootstrap; `make image` and `make test` install them.
# Idempotent: a second run reuses the root filesystem and buildah's layer cache. The buildah
# store under the cache is this script's own and keeps only its latest build (vfs copies
# every layer in full); copy the image elsewhere from the OCI layout, e.g.
#   skopeo copy oci:dist/image/oci:VERSION docker-archive:orkestra.tar:orkestra:VERSION
#
# Environment: PYTHON (default .venv/bin/python, else python3), ORK_IMAGE_CACHE (default
# ~/.cache/orkestra), OUT (default dist/image), WORK (default build/image), REGISTRY,
# IMAGE_NAME (default orkestra), TLS_VERIFY, DEBIAN_MIRROR (see rootfs.sh).
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
here="$repo/tools/image"
CACHE="${ORK_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orkestra}"
export ORK_IMAGE_CACHE="$CACHE"
OUT="${OUT:-$repo/dist/image}"
WORK="${WORK:-$repo/build/image}"
IMAGE_NAME="${IMAGE_NAME:-orkestra}"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$repo/.venv/bin/python" ]; then PYTHON="$repo/.venv/bin/python"; else PYTHON=python3; fi
fi
# The image's Python and C library: Debian bookworm's (rootfs.sh).
IMAGE_PYTHON=3.11
IMAGE_GLIBC_MINOR=36

log() { echo "image: $*" >&2; }
fail() { echo "image: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] ||
  fail "must run as root (debootstrap, chroot and buildah's chroot isolation need it)"
for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null ||
    fail "$tool is missing: apt-get install buildah debootstrap (make image installs them)"
done
"$PYTHON" -m pip --version >/dev/null 2>&1 || fail "no pip for $PYTHON (set PYTHON)"

version="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$repo/orkestra/__init__.py")"
[ -n "$version" ] || fail "no __version__ in orkestra/__init__.py"
case "$(uname -m)" in
  x86_64|aarch64) machine="$(uname -m)" ;;
  *) fail "unsupported architecture $(uname -m) (x86_64 and aarch64 have manylinux wheels)" ;;
esac
started=$SECONDS
B=(buildah --root "$CACHE/buildah/storage" --runroot "$CACHE/buildah/run" --storage-driver vfs)
tag="localhost/$IMAGE_NAME:$version"

# 1. the root filesystem
rootfs="$("$here/rootfs.sh")"

# 2. the build context
context="$WORK/context"
rm -rf "$context"
mkdir -p "$context/wheels" "$context/pip"
ln -f "$rootfs" "$context/rootfs.tar" 2>/dev/null || cp "$rootfs" "$context/rootfs.tar"

# The wheel is built from a clean copy of what it contains: setuptools' build/ directory in
# the checkout can hold modules that no longer exist.
rm -rf "$WORK/src"
mkdir -p "$WORK/src"
(cd "$repo" && tar --exclude=__pycache__ --exclude='*.pyc' -cf - pyproject.toml README.md \
  orkestra $(ls setup.py setup.cfg MANIFEST.in LICENSE* 2>/dev/null)) | tar -xf - -C "$WORK/src"
# pip's output goes to $WORK/pip.log, shown when it fails.
run_pip() {
  "$PYTHON" -m pip "$@" --disable-pip-version-check >>"$WORK/pip.log" 2>&1 || {
    tail -n 20 "$WORK/pip.log" >&2
    return 1
  }
}
: >"$WORK/pip.log"
log "building the orkestra $version wheel"
# A fixed SOURCE_DATE_EPOCH: the same sources make the same wheel bytes, so buildah's layer
# cache (keyed on WHEELS below) is reused when nothing changed.
SOURCE_DATE_EPOCH=315532800 run_pip wheel --no-deps -w "$context/wheels" "$WORK/src" ||
  fail "could not build the orkestra wheel"
wheel="$(ls "$context/wheels"/orkestra_patterns-"$version"-*.whl 2>/dev/null | head -n1)"
[ -n "$wheel" ] || fail "pip wheel made no orkestra_patterns-$version wheel"

# The versions tested in $PYTHON's environment, as constraints (when orkestra is there).
constraints="$WORK/constraints.txt"
: >"$constraints"
if "$PYTHON" -m pip show --quiet orkestra-patterns >/dev/null 2>&1; then
  "$PYTHON" -m pip freeze --disable-pip-version-check 2>/dev/null |
    grep -E '^[A-Za-z0-9_.-]+==' | grep -viE '^orkestra[-_]patterns==' >"$constraints" || true
fi
platforms=()
for ((minor = IMAGE_GLIBC_MINOR; minor >= 17; minor--)); do
  platforms+=(--platform "manylinux_2_${minor}_$machine")
done
platforms+=(--platform "manylinux2014_$machine")
[ "$machine" = x86_64 ] && platforms+=(--platform manylinux2010_x86_64 --platform manylinux1_x86_64)
log "downloading the dependencies' wheels (python $IMAGE_PYTHON, glibc 2.$IMAGE_GLIBC_MINOR, $machine)"
run_pip download --only-binary=:all: \
  --python-version "$IMAGE_PYTHON" --implementation cp --abi "cp${IMAGE_PYTHON/./}" \
  "${platforms[@]}" -c "$constraints" -d "$context/wheels" "$wheel" ||
  fail "could not download the dependencies as wheels for python $IMAGE_PYTHON on" \
       "$machine (a dependency without a wheel would need a compiler in the image)"
run_pip download --only-binary=:all: --no-deps -d "$WORK/pip" pip || fail "could not download pip's wheel"
cp "$(ls -t "$WORK"/pip/pip-*.whl | head -n1)" "$context/pip/pip.whl"
wheels_digest="$(cd "$context/wheels" && sha256sum -- * | sha256sum | cut -c1-16)"

# 3. buildah bud, one build at a time per store (the clean-up below removes what other
# builds made); a working container that a failed build left in the store goes first.
mkdir -p "$CACHE/buildah"
exec 8>"$CACHE/buildah/build.lock"
flock 8
"${B[@]}" rm --all >/dev/null 2>&1 || true
revision="$(git -C "$repo" rev-parse HEAD 2>/dev/null || true)"
[ -n "$revision" ] && [ -n "$(git -C "$repo" status --porcelain 2>/dev/null)" ] &&
  revision="$revision-dirty"
log "buildah bud $tag"
bud_started=$SECONDS
"${B[@]}" bud --isolation chroot --layers --pull=false --format oci \
  --build-arg VERSION="$version" --build-arg WHEELS="$wheels_digest" \
  --build-arg REVISION="$revision" \
  -f "$repo/Containerfile" -t "$tag" "$context" 2>&1 |
  while IFS= read -r line; do echo "$((SECONDS - bud_started))s $line"; done >"$WORK/bud.log" || {
    tail -n 30 "$WORK/bud.log" >&2
    fail "buildah bud failed (whole log: $WORK/bud.log)"
  }
log "buildah bud took $((SECONDS - bud_started))s"
# The store keeps this build's images (its tag and the cache of each step, which the bud
# log names) and drops those of earlier builds: with vfs, every layer is a full copy.
keep=" $(grep -oE -- '--> (Using cache )?[0-9a-f]{11,64}$' "$WORK/bud.log" |
  awk '{print substr($NF, 1, 11)}' | tr '\n' ' ') "
for id in $("${B[@]}" images --all --quiet --no-trunc 2>/dev/null | sed 's/^sha256://'); do
  case "$keep" in *" ${id:0:11} "*) continue ;; esac
  "${B[@]}" rmi "$id" >/dev/null 2>&1 || true
done

# 4. the OCI image layout
rm -rf "$OUT/oci"
mkdir -p "$OUT"
"${B[@]}" push --quiet "$tag" "oci:$OUT/oci:$version" >&2 ||
  fail "could not write the OCI image layout $OUT/oci"

# 5. ork version inside, as the image's user
log "ork version in the image (chroot, uid of the image's USER)"
said="$("$PYTHON" "$here/oci_run.py" "$OUT/oci:$version" -- version)" ||
  fail "ork version failed in the image"
echo "$said" >&2
case "$said" in
  "ork v$version "*) ;;
  *) fail "the image says '$said', expected ork v$version" ;;
esac

# 6. the registry
if [ -n "${REGISTRY:-}" ]; then
  remote="$REGISTRY/$IMAGE_NAME:$version"
  tls="${TLS_VERIFY:-}"
  if [ -z "$tls" ]; then
    case "$REGISTRY" in 127.0.0.1:*|127.0.0.1|localhost:*|localhost) tls=false ;; *) tls=true ;; esac
  fi
  log "pushing $remote"
  "${B[@]}" push --quiet --tls-verify="$tls" "$tag" "docker://$remote" >&2 ||
    fail "could not push to $remote"
fi

size="$("$PYTHON" "$here/oci_run.py" --size "$OUT/oci:$version")"
log "done in $((SECONDS - started))s: $tag, OCI layout $OUT/oci ($size)"
echo "$tag"
