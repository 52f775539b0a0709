"""Choosing a version for a constraint: what is refused before the registry is asked."""

from __future__ import annotations

import pytest

from orkestra.registry.client import RegistryClient
from orkestra.registry.errors import RegistryError
from orkestra.registry.refs import parse
from orkestra.registry.versions import pick


def test_a_constraint_that_does_not_parse_is_a_registry_error_with_a_hint() -> None:
    """The SemverError of the constraint becomes an error the CLI prints with a hint."""
    base = parse("localhost:5000/katalogs/web")
    with pytest.raises(
        RegistryError, match=r'"\^1\.2\.3\.4" is not a version constraint'
    ) as caught:
        pick(RegistryClient(env={}), base, "^1.2.3.4")
    assert "^1.2" in caught.value.hint
