"""tools/image/oci_run.py unpacks image layers as an overlay shows them (whiteouts, opaque
directories) and refuses members that would reach outside the tree: it runs as root, so a
layer must not delete or write files of the machine. Fast: synthetic layouts, no tools."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("oci_run", ROOT / "tools/image/oci_run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


oci_run = _load()


def _blob(layout: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _layer(entries: list[tuple[str, str | None, str | None]]) -> bytes:
    """(name, file content or None for a directory, symlink target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content, link in entries:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
                archive.addfile(info)
            elif content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                archive.addfile(info)
            else:
                data = content.encode()
                info.size, info.mode = len(data), 0o644
                archive.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue())


def _layout(tmp_path: Path, *layers: bytes) -> Path:
    layout = tmp_path / "oci"
    config = _blob(layout, json.dumps({"config": {"User": "0"}}).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **_blob(layout, layer)}
            for layer in layers
        ],
    }
    entry = _blob(layout, json.dumps(manifest).encode())
    (layout / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": manifest["mediaType"],
                        **entry,
                        "annotations": {oci_run.REF_NAME: "v1"},
                    }
                ],
            }
        )
    )
    return layout


def test_whiteouts_and_opaque_directories(tmp_path: Path) -> None:
    layout = _layout(
        tmp_path,
        _layer(
            [
                ("a", None, None),
                ("a/x", "x", None),
                ("a/y", "y", None),
                ("b", None, None),
                ("b/z", "z", None),
                ("b/.hidden", "h", None),
                ("c", "file", None),
            ]
        ),
        _layer(
            [
                ("a/.wh.x", "", None),
                ("b/.wh..wh..opq", "", None),
                ("b/new", "n", None),
                ("c", None, None),
                ("c/inside", "i", None),
            ]
        ),
    )
    root = tmp_path / "root"
    oci_run.unpack(layout, oci_run.manifest_of(layout, "v1"), root)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == ["a/y", "b/new", "c/inside"]  # a file replaced by a directory, too


@pytest.mark.parametrize("member", ["escape/.wh.victim", "escape/.wh..wh..opq", "escape/planted"])
def test_members_through_a_symlink_out_of_the_tree_are_refused(tmp_path: Path, member: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("keep")
    layout = _layout(
        tmp_path, _layer([("escape", None, str(outside))]), _layer([(member, "x", None)])
    )
    with pytest.raises(oci_run.ImageError, match="outside"):
        oci_run.unpack(layout, oci_run.manifest_of(layout, "v1"), tmp_path / "root")
    assert [p.name for p in outside.iterdir()] == ["victim"]


def test_tags(tmp_path: Path) -> None:
    layout = _layout(tmp_path, _layer([("f", "1", None)]))
    assert oci_run.parse_ref(f"{layout}:v1") == (layout, "v1")
    assert oci_run.parse_ref(str(layout)) == (layout, None)
    with pytest.raises(oci_run.ImageError, match="v2"):
        oci_run.manifest_of(layout, "v2")
