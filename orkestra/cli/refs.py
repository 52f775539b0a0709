"""Reference arguments shared by the registry commands (pull, inspect, patterns)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from orkestra.errors import UsageError
from orkestra.registry.errors import ArtifactNotFoundError, RegistryAuthError, RegistryError
from orkestra.registry.refs import Reference, layout_reference

if TYPE_CHECKING:
    from orkestra.registry.client import RegistryClient

insecure_option = click.option(
    "--insecure", is_flag=True, help="Allow plain HTTP and unverified TLS for this registry."
)
motif_option = click.option(
    "-m", "--motif", is_flag=True, help="Resolve a short name against the motif registry."
)
layout_option = click.option(
    "--oci-layout",
    "oci_layout",
    is_flag=True,
    help="REF is an OCI image layout: DIR[:TAG] or DIR@DIGEST.",
)


def reference(
    client_resolve: Callable[[str, str], Reference], text: str, *, motif: bool, oci_layout: bool
) -> Reference:
    if oci_layout:
        return layout_reference(text)
    return client_resolve(text, "Motif" if motif else "Katalog")


@contextmanager
def registry_hints(client: RegistryClient, ref: Reference, motif: bool) -> Iterator[None]:
    """Add the hints a consumer needs to the registry errors of one command."""
    try:
        yield
    except RegistryAuthError as exc:
        hint = f"authenticate first: ork login {ref.host}"
        if not motif and not ref.layout:
            hint += "; if this is a motif, re-run with --motif"
        raise RegistryAuthError(exc.message, hint=hint) from None
    except ArtifactNotFoundError as exc:
        if ref.layout or exc.hint:
            raise
        raise ArtifactNotFoundError(
            exc.message, hint=_published_instead(client, ref, motif)
        ) from None


def _published_instead(client: RegistryClient, ref: Reference, motif: bool) -> str:
    """What is published instead of ``ref``, so that a hint never names a reference that
    does not exist: the same name as the other kind, other versions, or nothing."""
    from orkestra.semver import latest_key  # only for a reference that is not published

    kind, flag = ("Katalog", "without --motif") if motif else ("Motif", "with --motif")
    if client.resolve(ref.short_name, "Motif" if motif else "Katalog") == ref:
        other = client.resolve(ref.short_name, kind)
        if _exists(client, other):
            return f"{other} is a {kind.lower()}: re-run {flag}"
    try:
        tags = [t for t in client.backend(ref).tags(ref.repository) if not t.startswith("sha256-")]
    except RegistryError:
        tags = []
    if tags:
        return f"published versions of {ref.name}: " + ", ".join(
            sorted(tags, key=latest_key, reverse=True)
        )
    return (
        f"nothing named {ref.name} is published in {ref.location} (ork push DIR "
        "publishes it; ork patterns lists what is published)"
    )


def _exists(client: RegistryClient, ref: Reference) -> bool:
    try:
        client.manifest(ref)
    except RegistryError:
        return False
    return True


def require_out_for_layout(oci_layout: bool, out_dir: str | None) -> None:
    if oci_layout and not out_dir:
        raise UsageError("--oci-layout pulls need -o DIR (they are not cached)")
