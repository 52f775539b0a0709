"""One error hierarchy: the domain errors a user can cause are OrkErrors (the CLI prints
them as one message and exits with their code), and none is also a ValueError that a
broad ``except ValueError`` would swallow by accident."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from orkestra.apiserver.protobuf import ProtobufError, UnsupportedKindError
from orkestra.apiserver.tables.jsonpath import JsonPathError
from orkestra.cli.app import main
from orkestra.cron import CronError
from orkestra.engine.conditions import ConditionError
from orkestra.engine.fields import FieldError
from orkestra.engine.profiles import ProfileError
from orkestra.engine.status import StatusError
from orkestra.errors import OrkError
from orkestra.gateway.review import ReviewError
from orkestra.semver import SemverError
from orkestra.units import DurationError

DOMAIN_ERRORS = (
    DurationError,
    SemverError,
    CronError,
    ReviewError,
    JsonPathError,
    ProtobufError,
    UnsupportedKindError,
    ConditionError,
    ProfileError,
    FieldError,
    StatusError,
)


@pytest.mark.parametrize("error", DOMAIN_ERRORS, ids=lambda error: error.__name__)
def test_domain_errors_are_ork_errors_only(error: type[Exception]) -> None:
    assert issubclass(error, OrkError)
    assert not issubclass(error, ValueError)


@pytest.mark.parametrize("error", DOMAIN_ERRORS, ids=lambda error: error.__name__)
def test_the_cli_boundary_reports_them_in_one_line(
    error: type[Exception], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(*_: object, **__: object) -> None:
        raise error("what went wrong")

    monkeypatch.setattr("orkestra.cli.app.cli.main", fail)
    assert main(["version"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("what went wrong") and "bug in ork" not in err


def test_no_two_error_classes_share_a_name() -> None:
    """An ``except NotFoundError`` names one class: no two modules define errors alike."""
    package = Path(__file__).resolve().parent.parent / "orkestra"
    defined: dict[str, list[str]] = {}
    for module in package.rglob("*.py"):
        if "packs" in module.relative_to(package).parts:
            continue  # the example hook code users copy, not the library
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                defined.setdefault(node.name, []).append(str(module.relative_to(package)))
    assert {name: where for name, where in defined.items() if len(where) > 1} == {}
