"""Layers titled with a relative path (a typed katalog's hook sources, ``dbhooks/x.py``):
pushed, pulled into their packages, and never anything that could leave the cache entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from orkestra.registry.artifact import (
    PYTHON_LAYER_TYPE,
    Metadata,
    PatternArtifact,
    PatternFile,
    check_titles,
    safe_path,
)
from orkestra.registry.cache import MANIFEST_FILE
from orkestra.registry.client import RegistryClient, write_files
from orkestra.registry.errors import IntegrityError
from orkestra.registry.oci import EMPTY_JSON, TITLE, Descriptor, Manifest
from tests.conftest import RegistryTarget

FILES = {
    "katalog.yaml": b"kind: Katalog\n",
    "pyproject.toml": b"[project]\n",
    "dbhooks/__init__.py": b"",
    "dbhooks/database.py": b"def hooks(): ...\n",
    "dbhooks/sql/queries.py": b"SELECT = 1\n",
}


def typed_artifact() -> PatternArtifact:
    return PatternArtifact(
        metadata=Metadata(kind="Katalog", name="db", version="v1.0.0"),
        files=tuple(PatternFile(n, d) for n, d in FILES.items()),
    )


@pytest.mark.parametrize(
    "title", ["katalog.yaml", ".hidden", "dbhooks/database.py", "a/b/c/d.py", "dbhooks/.x/y.py"]
)
def test_relative_paths_pass(title: str) -> None:
    assert safe_path(title, "ref") == title


@pytest.mark.parametrize(
    "title",
    [
        "",
        ".",
        "..",
        "../escape.py",
        "a/../../b.py",
        "a/./b.py",
        "/etc/passwd",
        "a//b.py",
        "dbhooks/",
        "a\\b.py",
        "dbhooks\\..\\x.py",
        "~root/x.py",
        "a/~b",
        "x\0y",
        "a/b\0/c",
    ],
)
def test_paths_that_could_escape_are_refused(title: str) -> None:
    with pytest.raises(IntegrityError) as caught:
        safe_path(title, "oci://h/r:t")
    assert caught.value.message == (
        f"oci://h/r:t: layer title {title!r} is not a plain file "
        "name or a relative path inside the pattern"
    )
    assert "nothing was written" in caught.value.hint


def test_titles_must_not_clash() -> None:
    check_titles(list(FILES), "ref")
    with pytest.raises(IntegrityError, match=r"two layers are titled 'dbhooks/x\.py'"):
        check_titles(["dbhooks/x.py", "katalog.yaml", "dbhooks/x.py"], "ref")
    with pytest.raises(
        IntegrityError,
        match="layer 'dbhooks' is a file, but other layers need it to be a directory",
    ):
        check_titles(["dbhooks/sql/q.py", "dbhooks"], "ref")
    with pytest.raises(IntegrityError, match="layer 'a/b' is a file"):
        check_titles(["a/b", "a/b/c.py"], "ref")


def test_media_types_of_the_code() -> None:
    types = {f.name: f.media_type for f in typed_artifact().files}
    assert types == {
        "katalog.yaml": "application/vnd.orkestra.katalog.v1+yaml",
        "pyproject.toml": "application/toml",
        "dbhooks/__init__.py": PYTHON_LAYER_TYPE,
        "dbhooks/database.py": PYTHON_LAYER_TYPE,
        "dbhooks/sql/queries.py": PYTHON_LAYER_TYPE,
    }


def test_nested_files_round_trip(registry: RegistryTarget, tmp_path: Path) -> None:
    client = RegistryClient()
    ref = client.resolve("db:v1.0.0")
    client.push(typed_artifact(), ref)
    assert [f.title for f in client.info(ref).files] == list(FILES)
    pulled = client.pull(ref)
    written = sorted(
        p.relative_to(pulled.directory).as_posix()
        for p in pulled.directory.rglob("*")
        if p.is_file()
    )
    assert written == sorted([*FILES, MANIFEST_FILE])
    assert all((pulled.directory / n).read_bytes() == d for n, d in FILES.items())
    again = client.pull(ref, refresh=True)
    assert (again.directory / "dbhooks/sql/queries.py").read_bytes() == b"SELECT = 1\n"
    write_files(tmp_path / "out", client.fetch(ref).files)
    assert (tmp_path / "out" / "dbhooks" / "database.py").read_bytes() == FILES[
        "dbhooks/database.py"
    ]


def _push_raw(client: RegistryClient, titles: list[str]) -> None:
    """A hostile artifact: a manifest ork push would never write."""
    ref = client.resolve("evil:v1")
    backend = client.backend(ref)
    config = Descriptor.of(EMPTY_JSON, "application/vnd.orkestra.pattern.v1+tar+gzip")
    backend.push_blob(ref.repository, config, EMPTY_JSON)
    layers = []
    for i, title in enumerate(titles):
        data = f"x{i}\n".encode()
        layers.append(Descriptor.of(data, "text/x-python", {TITLE: title}))
        backend.push_blob(ref.repository, layers[-1], data)
    backend.push_manifest(
        ref.repository,
        Manifest(config=config, layers=tuple(layers)).to_bytes(),
        "application/vnd.oci.image.manifest.v1+json",
        "v1",
    )


@pytest.mark.parametrize(
    ("titles", "message"),
    [
        (["katalog.yaml", "dbhooks/../../../escape.py"], "is not a plain file name"),
        (["katalog.yaml", "dbhooks//x.py"], "is not a plain file name"),
        (["katalog.yaml", "/tmp/escape.py"], "is not a plain file name"),
        (["katalog.yaml", "dbhooks", "dbhooks/x.py"], "'dbhooks' is a file"),
        (["katalog.yaml", "dbhooks/x.py", "dbhooks/x.py"], "two layers are titled"),
    ],
)
def test_hostile_titles_write_nothing(
    registry: RegistryTarget, titles: list[str], message: str
) -> None:
    client = RegistryClient()
    _push_raw(client, titles)
    ref = client.resolve("evil:v1")
    with pytest.raises(IntegrityError, match=message):
        client.pull(ref)
    assert client.cache.lookup(ref) is None
    assert not client.cache.path(ref).exists()
    assert not list(client.cache.root.rglob("escape.py"))
    with pytest.raises(IntegrityError, match=message):
        client.info(ref)


def test_the_cache_refuses_unsafe_names_itself(tmp_path: Path) -> None:
    client = RegistryClient({"ORK_HOME": str(tmp_path / "home")})
    ref = client.resolve("db:v1")
    with pytest.raises(IntegrityError, match="is not a plain file name"):
        client.cache.store(ref, {"katalog.yaml": b"", "../../escape.py": b"x"}, b"{}")
    assert not list(tmp_path.rglob("escape.py"))
    assert client.cache.lookup(ref) is None
