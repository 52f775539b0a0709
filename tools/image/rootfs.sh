#!/usr/bin/env bash
# The base root filesystem of the runtime image, as a tarball: Debian bookworm made by
# `debootstrap --variant=minbase` from Debian's own packages, plus python3 (3.11, the
# Python the project targets) and ca-certificates. No base image is pulled from anywhere.
#
# Prints the tarball's path on stdout (everything else goes to stderr). The tarball is
# cached per machine under $ORK_IMAGE_CACHE (default ~/.cache/orkestra), named after a
# hash of what goes into it (suite, architecture, package list, this script), so only the
# first build runs debootstrap; --refresh makes it again (say, for Debian security updates).
#
# Needs root (debootstrap creates device nodes, chroots and installs packages owned by
# root) and the Debian packages debootstrap and ca-certificates; `make test` and
# `make image` install them. The machines of this project run as root.
#
#   tools/image/rootfs.sh [--refresh]
#   DEBIAN_MIRROR=http://deb.debian.org/debian (default)
set -euo pipefail

SUITE=bookworm
PACKAGES=(python3 ca-certificates)
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${ORK_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orkestra}"

log() { echo "rootfs: $*" >&2; }
fail() { echo "rootfs: error: $*" >&2; exit 1; }

refresh=0
for arg in "$@"; do
  case "$arg" in
    --refresh) refresh=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument: $arg (usage: $0 [--refresh])" ;;
  esac
done

[ "$(id -u)" -eq 0 ] || fail "must run as root: debootstrap creates device nodes and chroots"
command -v debootstrap >/dev/null ||
  fail "debootstrap is missing: apt-get install debootstrap (make test installs it)"
command -v dpkg >/dev/null || fail "dpkg is missing: this script runs on Debian"
arch="$(dpkg --print-architecture)"

key="$(
  { echo "$SUITE minbase $arch ${PACKAGES[*]}"; cat "$0"; } | sha256sum | cut -c1-16
)"
tarball="$CACHE/image-rootfs-$key.tar"
mkdir -p "$CACHE"

# One build at a time per cache (a second caller waits, then finds the tarball).
exec 9>"$CACHE/image-rootfs.lock"
flock 9

if [ "$refresh" -eq 0 ] && [ -s "$tarball" ]; then
  log "cached: $tarball"
  echo "$tarball"
  exit 0
fi

work="$(mktemp -d "$CACHE/image-rootfs-$key.XXXXXX")"
root="$work/root"
cleanup() {
  # debootstrap mounts /proc and /sys inside the target while it works; a failed run can
  # leave them mounted. Unmount whatever is under $work, deepest first, before deleting.
  if [ -d "$work" ]; then
    awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
      while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT

include="$(IFS=,; echo "${PACKAGES[*]}")"
log "debootstrap --variant=minbase --include=$include $SUITE ($arch, $MIRROR); a few minutes"
started=$SECONDS
if ! debootstrap --variant=minbase --include="$include" --arch="$arch" \
    "$SUITE" "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
  tail -n 20 "$work/debootstrap.log" >&2
  [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 20 "$root/debootstrap/debootstrap.log" >&2
  fail "debootstrap failed (mirror $MIRROR; set DEBIAN_MIRROR to use another)"
fi
log "debootstrap took $((SECONDS - started))s"

# Trim what a container does not use: package lists and caches, docs (their copyright files
# stay), man pages, translations (LANG is C.UTF-8), logs; a runtime mounts /dev, /proc,
# /sys and /run itself. dpkg leaves the same out of packages that images built FROM this
# one install (as Debian's slim images do).
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"* "$root/var/cache/debconf/"*-old \
       "$root/var/log/"* "$root/usr/share/man/"* "$root/usr/share/info/"* \
       "$root/usr/share/locale/"*/ \
       "$root/usr/share/lintian" "$root/dev/"* "$root/run/"* "$root/tmp/"* \
       "$root/var/tmp/"* "$root/etc/machine-id" "$root/etc/hostname"
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
cat >"$root/etc/dpkg/dpkg.cfg.d/orkestra-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
# Images built FROM this one can `apt-get update && apt-get install`: updates and security.
cat >"$root/etc/apt/sources.list" <<EOF
deb http://deb.debian.org/debian $SUITE main
deb http://deb.debian.org/debian $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
EOF
: >"$root/etc/resolv.conf"  # debootstrap copied the host's; a runtime mounts its own
chmod 644 "$root/etc/resolv.conf"
chroot "$root" /usr/bin/python3 -c 'import ssl, sqlite3, venv' ||
  fail "python3 does not run in the new root filesystem"

# Deterministic member order; owners as numbers (they are the root filesystem's own).
tar --numeric-owner --sort=name --xattrs -C "$root" -cf "$work/rootfs.tar" .
mv -f "$work/rootfs.tar" "$tarball"
# Older tarballs of this cache (another package list or script) are of no further use.
find "$CACHE" -maxdepth 1 -name 'image-rootfs-*.tar' ! -name "image-rootfs-$key.tar" -delete
log "made $tarball ($(du -h "$tarball" | cut -f1))"
echo "$tarball"
