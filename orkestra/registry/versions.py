"""Choosing a version for a constraint (``@^1.2``, ``@~1.2``, ``@>=1.0 <2``).

The highest tag that parses as a semantic version and satisfies the constraint wins, except
that versions past their end of life and *unverified* versions are skipped unless the
caller allows them; every skip is reported. Verified means what the signed gate report
says, not the annotations: the report verifies (signed, nothing changed since) and a gate
in it passed, which ``ork push --force`` never records. Whose key signed it is for a
komposer's ``policy`` to require (:mod:`orkestra.registry.policy`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from orkestra.registry.client import RegistryClient
from orkestra.registry.errors import ArtifactNotFoundError, IntegrityError
from orkestra.registry.info import PatternInfo
from orkestra.registry.refs import Reference
from orkestra.semver import Constraint, SemverError, Version, is_valid


@dataclass
class Choice:
    info: PatternInfo
    skipped: list[str] = field(default_factory=list)


def verified(client: RegistryClient, info: PatternInfo) -> bool:
    """A gate passed, as a signed report that matches the artifact says."""
    from orkestra.registry.trust.verify import VERIFIED, check  # heavy (cryptography): only here

    passed = any(
        record is not None and record.status == "passed" for record in (info.simulate, info.e2e)
    )
    return passed and check(client, info.ref, info.manifest, trusted=()).state == VERIFIED


def pick(
    client: RegistryClient,
    base: Reference,
    constraint: str,
    *,
    allow_unverified: bool = False,
    today: datetime.date | None = None,
) -> Choice:
    try:
        wanted = Constraint.parse(constraint)
    except SemverError:
        raise ArtifactNotFoundError(
            f'"{constraint}" is not a version constraint',
            hint="use ^1.2, ~1.2, >=1.0 <2 or an exact :v1.2.3",
        ) from None
    tags = [t for t in client.backend(base).tags(base.repository) if is_valid(t)]
    candidates = sorted(
        (t for t in tags if wanted.allows(Version.parse(t))), key=Version.parse, reverse=True
    )
    day = today or datetime.date.today()
    skipped: list[str] = []
    for tag in candidates:
        try:
            info = client.info(base.with_tag(tag))
        except IntegrityError:
            skipped.append(f"{tag}: not an Orkestra pattern")
            continue
        notice = info.metadata.deprecation
        if notice is not None and notice.state(day) == "eol" and not allow_unverified:
            skipped.append(f"{tag}: past its end of life ({notice.end_of_life})")
            continue
        if not allow_unverified and not verified(client, info):
            skipped.append(f"{tag}: unverified (no gate passed in a valid signed report)")
            continue
        return Choice(info, skipped)
    detail = f" (skipped {'; '.join(skipped)})" if skipped else ""
    raise ArtifactNotFoundError(
        f"no version of {base.location}/{base.name} satisfies {constraint}" + detail,
        hint="--allow-unverified accepts versions whose gates were "
        "skipped or that reached end of life"
        if skipped
        else "ork inspect NAME --versions lists what is published",
    )
