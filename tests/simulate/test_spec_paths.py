"""The data files a simulate or e2e file names stay inside its directory or its katalog's;
the katalog itself, another pattern, may live elsewhere."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from orkestra.e2e.spec import load_suite
from orkestra.model.errors import PatternError
from orkestra.simulate.spec import load_specs
from tests.conftest import PACK


@pytest.fixture
def api(tmp_path: Path) -> Path:
    target = tmp_path / "rg" / "02-katalog-api"
    shutil.copytree(PACK / "02-katalog-api", target)
    shutil.copytree(PACK / "01-motifs", tmp_path / "rg" / "01-motifs")
    (tmp_path / "secret.yaml").write_text("token: x\n")
    return target


def edit(file: Path, old: str, new: str) -> Path:
    file.write_text(file.read_text().replace(old, new))
    return file


def test_the_pack_plans_load(api: Path) -> None:
    plan = load_specs(api / "simulate.yaml")[0]
    assert plan.crs == [api / "cr.yaml"] and plan.katalog == api / "katalog.yaml"
    assert load_suite(api / "e2e.yaml").cr == api / "cr.yaml"


@pytest.mark.parametrize("ref", ["../../secret.yaml", "/dev/zero", "/etc/passwd"])
def test_a_cr_file_outside_is_refused(api: Path, ref: str) -> None:
    simulate = edit(api / "simulate.yaml", "cr: ./cr.yaml", f"cr: {ref}")
    with pytest.raises(PatternError) as info:
        load_specs(simulate)
    problem = info.value.problems[0]
    assert problem.path == ("spec", "cr")
    assert f'cannot read "{ref}"' in problem.message and "outside" in problem.message
    e2e = edit(api / "e2e.yaml", "cr: ./cr.yaml", f"cr: {ref}")
    with pytest.raises(PatternError) as info:
        load_suite(e2e)
    assert info.value.problems[0].path == ("spec", "cr")
    assert f'cannot use "{ref}"' in info.value.problems[0].message


def test_fifos_and_symlinks_out_are_refused(api: Path) -> None:
    os.mkfifo(api / "pipe.yaml")
    (api / "link.yaml").symlink_to(api.parent.parent / "secret.yaml")
    simulate = edit(api / "simulate.yaml", "cr: ./cr.yaml", "crFiles: [./cr.yaml, pipe.yaml]")
    with pytest.raises(PatternError, match="is a FIFO"):
        load_specs(simulate)
    edit(simulate, "pipe.yaml", "link.yaml")
    with pytest.raises(PatternError, match="outside the pattern's directory") as info:
        load_specs(simulate)
    assert info.value.problems[0].path == ("spec", "crFiles", 1)
    e2e = edit(api / "e2e.yaml", "crd: ./crd.yaml", "crd: ./pipe.yaml")
    with pytest.raises(PatternError, match="is a FIFO"):
        load_suite(e2e)


def test_files_of_the_katalog_elsewhere_are_allowed(api: Path) -> None:
    ci = api.parent / "ci"
    ci.mkdir()
    (ci / "simulate.yaml").write_text(
        (api / "simulate.yaml")
        .read_text()
        .replace("./katalog.yaml", "../02-katalog-api/katalog.yaml")
        .replace("./cr.yaml", "../02-katalog-api/cr.yaml")
    )
    assert load_specs(ci / "simulate.yaml")[0].crs == [ci / "../02-katalog-api/cr.yaml"]
    edit(ci / "simulate.yaml", "../02-katalog-api/cr.yaml", "../../secret.yaml")
    with pytest.raises(PatternError, match="outside the pattern's directory"):
        load_specs(ci / "simulate.yaml")
