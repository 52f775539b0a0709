#!/usr/bin/env python3
"""Run a command in an image of an OCI image layout the way a container runtime starts it,
less the isolation: unpack its layers (whiteouts applied) into a directory, chroot into it,
switch to the image's USER, set its Env and WorkingDir, and exec Entrypoint + arguments
(the image's Cmd when none are given). No namespaces, no /proc; /dev holds null, zero, full,
random and urandom. Root only (chroot, mknod). Standard library only.

    oci_run.py LAYOUT[:TAG] [--rootfs DIR] [--entrypoint PATH] [-- ARG...]
    oci_run.py --config LAYOUT[:TAG]     the image's config, as JSON
    oci_run.py --size LAYOUT[:TAG]       compressed size and layer count

tools/image/build.sh checks `ork version` with it; tests/image uses it on the image pulled
back from the registry.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

REF_NAME = "org.opencontainers.image.ref.name"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


class ImageError(Exception):
    pass


def parse_ref(text: str) -> tuple[Path, str | None]:
    """``dir:tag`` or ``dir``; a ``:`` inside the directory's own name needs the tag too."""
    head, sep, tail = text.rpartition(":")
    if sep and "/" not in tail and head:
        return Path(head), tail
    return Path(text), None


def blob(layout: Path, digest: str) -> Path:
    algorithm, _, hex_digest = digest.partition(":")
    return layout / "blobs" / algorithm / hex_digest


def read_json(layout: Path, digest: str) -> Any:
    return json.loads(blob(layout, digest).read_bytes())


def manifest_of(layout: Path, tag: str | None) -> dict[str, Any]:
    index_path = layout / "index.json"
    if not index_path.is_file():
        raise ImageError(f"{layout} is not an OCI image layout (no index.json)")
    entries = json.loads(index_path.read_text()).get("manifests", [])
    if tag is not None:
        entries = [m for m in entries if m.get("annotations", {}).get(REF_NAME) == tag]
    if len(entries) != 1:
        names = [m.get("annotations", {}).get(REF_NAME) for m in entries]
        raise ImageError(f"{layout}: want one image tagged {tag!r}, found {names or 'none'}")
    manifest: dict[str, Any] = read_json(layout, entries[0]["digest"])
    if "manifests" in manifest:  # an index: the entry for this machine
        raise ImageError(f"{layout}: {tag} is an image index; give a single-platform image")
    return manifest


def config_of(layout: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = read_json(layout, manifest["config"]["digest"])
    return config


def _safe(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
    """tarfile's "tar" filter refuses members that would land outside ``dest`` (also through
    a symlink); its mode changes are undone: /tmp keeps 1777, setuid programs their bit."""
    checked = tarfile.tar_filter(member, dest)
    return checked.replace(mode=member.mode, deep=False) if checked is not None else None


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path)


def _inside(dest: Path, path: Path) -> Path:
    """``dest / path``, refused if a symlink in the tree would take it outside ``dest``."""
    target = dest / path
    real = os.path.realpath(target.parent)
    if os.path.commonpath([real, os.path.realpath(dest)]) != os.path.realpath(dest):
        raise ImageError(f"{path}: leads outside the unpacked tree")
    return target


def unpack(layout: Path, manifest: dict[str, Any], dest: Path) -> None:
    """The layers in order into ``dest``, as an overlay of them would show them."""
    if not hasattr(tarfile, "tar_filter"):
        raise ImageError("this Python has no tarfile extraction filters (3.11.4 or newer)")
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o755)  # "/" of a container; mkdtemp makes 0700, which locks out non-root
    for layer in manifest["layers"]:
        media_type = layer.get("mediaType", "")
        if "zstd" in media_type:
            raise ImageError(f"{media_type}: zstd layers are not supported here")
        with tarfile.open(blob(layout, layer["digest"]), mode="r:*") as archive:
            for member in archive:
                path = Path(os.path.normpath("/" + member.name).lstrip("/") or ".")
                name = path.name
                target = _inside(dest, path)
                if name == OPAQUE:
                    for child in target.parent.iterdir() if target.parent.is_dir() else ():
                        _remove(child)
                    continue
                if name.startswith(WHITEOUT):
                    target = target.parent / name[len(WHITEOUT) :]
                    if target.exists() or target.is_symlink():
                        _remove(target)
                    continue
                if (target.exists() or target.is_symlink()) and not (
                    member.isdir() and target.is_dir() and not target.is_symlink()
                ):
                    _remove(target)
                archive.extract(member, dest, numeric_owner=True, filter=_safe)


def _user(root: Path, spec: str) -> tuple[int, int]:
    """USER as a runtime reads it: uid[:gid] or names, looked up in the image's files."""
    user, _, group = (spec or "0").partition(":")

    def lookup(file: str, name: str) -> list[str]:
        for line in (root / "etc" / file).read_text().splitlines():
            fields = line.split(":")
            if fields[0] == name:
                return fields
        raise ImageError(f"USER {spec}: no {name} in /etc/{file} of the image")

    if user.isdigit():  # the group of its /etc/passwd entry, else 0, as runc does
        uid = int(user)
        gid = 0
        for line in (root / "etc/passwd").read_text().splitlines():
            fields = line.split(":")
            if len(fields) > 3 and fields[2] == user:
                gid = int(fields[3])
    else:
        fields = lookup("passwd", user)
        uid, gid = int(fields[2]), int(fields[3])
    if group:
        gid = int(group) if group.isdigit() else int(lookup("group", group)[2])
    return uid, gid


def _which(root: Path, program: str, env: dict[str, str]) -> str:
    if "/" in program:
        return program
    for directory in env.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(":"):
        candidate = root / directory.lstrip("/") / program
        # resolve symlinks inside the image, not on this machine
        if os.path.lexists(candidate):
            return f"{directory.rstrip('/')}/{program}"
    raise ImageError(f"{program}: not found on the image's PATH {env.get('PATH')}")


# The character devices a runtime puts in /dev (major 1): null, zero, full, random, urandom.
DEVICES = {"null": 3, "zero": 5, "full": 7, "random": 8, "urandom": 9}


def add_devices(root: Path) -> None:
    """The usual /dev nodes, made in the unpacked tree (the image has none of its own)."""
    dev = root / "dev"
    dev.mkdir(mode=0o755, exist_ok=True)
    for name, minor in DEVICES.items():
        if not os.path.lexists(dev / name):
            os.mknod(dev / name, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
            os.chmod(dev / name, 0o666)


def run(
    root: Path,
    config: dict[str, Any],
    args: list[str],
    *,
    entrypoint: list[str] | None = None,
    capture: bool = False,
) -> subprocess.CompletedProcess[str]:
    image = config.get("config", {})
    env = dict(item.split("=", 1) for item in image.get("Env") or [])
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    argv = list(entrypoint if entrypoint is not None else image.get("Entrypoint") or [])
    if args:
        argv += args
    elif entrypoint is None:  # a new entrypoint drops the image's Cmd, as with docker run
        argv += image.get("Cmd") or []
    if not argv:
        raise ImageError("nothing to run: the image has no Entrypoint or Cmd")
    uid, gid = _user(root, image.get("User", ""))
    workdir = image.get("WorkingDir") or "/"
    executable = _which(root, argv[0], env)
    add_devices(root)

    def enter() -> None:
        os.chroot(root)
        os.chdir(workdir)
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)

    return subprocess.run(
        [executable, *argv[1:]],
        env=env,
        preexec_fn=enter,
        capture_output=capture,
        text=True,
        check=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("image", help="LAYOUT[:TAG], an OCI image layout directory")
    parser.add_argument("args", nargs="*", help="arguments (default: the image's Cmd)")
    parser.add_argument("--rootfs", type=Path, help="unpack here and keep it")
    parser.add_argument("--entrypoint", help="run this instead of the image's Entrypoint")
    parser.add_argument("--config", action="store_true", help="print the image's config")
    parser.add_argument("--size", action="store_true", help="print the image's size")
    argv = sys.argv[1:] if argv is None else argv
    rest: list[str] = []
    if "--" in argv:  # everything after "--" is the command's, options included
        rest = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    options = parser.parse_args(argv)
    options.args += rest
    try:
        layout, tag = parse_ref(options.image)
        manifest = manifest_of(layout, tag)
        config = config_of(layout, manifest)
        if options.config:
            json.dump(config, sys.stdout, indent=2)
            print()
            return 0
        if options.size:
            compressed = sum(layer["size"] for layer in manifest["layers"])
            unpacked = 0
            for layer in manifest["layers"]:
                with gzip.open(blob(layout, layer["digest"])) as stream:
                    while chunk := stream.read(1 << 20):
                        unpacked += len(chunk)
            print(
                f"{len(manifest['layers'])} layers, {compressed / 1e6:.1f} MB compressed, "
                f"{unpacked / 1e6:.1f} MB as tar"
            )
            return 0
        if os.geteuid() != 0:
            raise ImageError("must run as root (chroot)")
        scratch = None
        root = options.rootfs
        if root is None:
            scratch = tempfile.mkdtemp(prefix="oci-run-")
            root = Path(scratch)
        try:
            unpack(layout, manifest, root)
            entrypoint = [options.entrypoint] if options.entrypoint else None
            return run(root, config, options.args, entrypoint=entrypoint).returncode
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
    except (ImageError, OSError, KeyError, tarfile.TarError) as exc:
        print(f"oci_run: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
