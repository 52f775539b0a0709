"""Content negotiation: whether a request asks for a Table, and which one.

This module owns reading a request's ``Accept`` header (the first media range the server can
serve wins, as in what kubectl sends) and its ``includeObject`` query parameter into a
:class:`TableRequest`: the ``meta.k8s.io`` version of the Table and what each row carries;
None when a plain object or list was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

INCLUDE_OBJECT = ("Object", "Metadata", "None")
TABLE_VERSIONS = ("v1", "v1beta1")


@dataclass(frozen=True)
class TableRequest:
    """A request for a Table: the ``meta.k8s.io`` version and what each row carries."""

    version: str = "v1"
    include_object: str = "Metadata"


def _media_ranges(accept: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        params = {}
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        out.append((pieces[0].lower(), params))
    return out


def _plain(media: str, params: dict[str, str]) -> bool:
    return "as" not in params and media in (
        "application/json",
        "application/*",
        "*/*",
        "application/yaml",
    )


def table_request(accept: str | None, include_object: str | None = None) -> TableRequest | None:
    """The Table a request asks for, or None for a plain object or list.

    ``accept`` is the ``Accept`` header; the first media range the server can serve wins,
    as in ``application/json;as=Table;v=v1;g=meta.k8s.io,application/json`` (what kubectl
    sends). ``include_object`` is the ``includeObject`` query parameter (Object, Metadata or
    None; default Metadata); any other value raises ValueError.
    """
    include = include_object or "Metadata"
    if include not in INCLUDE_OBJECT:
        raise ValueError(
            f'includeObject: Unsupported value: "{include}": supported values: '
            + ", ".join(f'"{v}"' for v in INCLUDE_OBJECT)
        )
    for media, params in _media_ranges(accept or ""):
        if params.get("as") == "Table":
            if (
                media == "application/json"
                and params.get("g") == "meta.k8s.io"
                and params.get("v") in TABLE_VERSIONS
            ):
                return TableRequest(params["v"], include)
            continue
        if _plain(media, params):
            return None
    return None
