"""Reference arguments shared by the registry commands (pull, inspect, patterns)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from orkestra.errors import UsageError
from orkestra.registry.errors import NotFoundError, UnauthorizedError
from orkestra.registry.refs import Reference, layout_reference

insecure_option = click.option("--insecure", is_flag=True,
                               help="Allow plain HTTP and unverified TLS for this registry.")
motif_option = click.option("-m", "--motif", is_flag=True,
                            help="Resolve a short name against the motif registry.")
layout_option = click.option("--oci-layout", "oci_layout", is_flag=True,
                             help="REF is an OCI image layout: DIR[:TAG] or DIR@DIGEST.")


def reference(client_resolve: Callable[[str, str], Reference], text: str, *, motif: bool,
              oci_layout: bool) -> Reference:
    if oci_layout:
        return layout_reference(text)
    return client_resolve(text, "Motif" if motif else "Katalog")


@contextmanager
def registry_hints(ref: Reference, motif: bool) -> Iterator[None]:
    """Add the hints a consumer needs to the registry errors of one command."""
    try:
        yield
    except UnauthorizedError as exc:
        hint = f"authenticate first: ork login {ref.host}"
        if not motif and not ref.layout:
            hint += "; if this is a motif, re-run with --motif"
        raise UnauthorizedError(exc.message, hint=hint) from None
    except NotFoundError as exc:
        if motif or ref.layout or exc.hint:
            raise
        raise NotFoundError(exc.message, hint="if this is a motif, re-run with --motif; "
                                              "ork patterns lists what is published") from None


def require_out_for_layout(oci_layout: bool, out_dir: str | None) -> None:
    if oci_layout and not out_dir:
        raise UsageError("--oci-layout pulls need -o DIR (they are not cached)")
