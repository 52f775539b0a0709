"""The CRD entry's ``labels`` and ``annotations``: set on the CR itself each reconcile.

Each value is a template rendered against the CR (notes and ``.cross`` included) and
merged into the CR's own metadata: a listed key takes the rendered value, other keys are
kept (upstream's behaviour). The CR is written only when that changes something.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from orkestra.engine.fields import Fields
from orkestra.kubeobjects import KubeObject
from orkestra.model.shapes import CrdEntry
from orkestra.template import Renderer

MetadataKey = Literal["labels", "annotations"]
KEYS: tuple[MetadataKey, ...] = ("labels", "annotations")


def declared(entry: CrdEntry) -> dict[MetadataKey, dict[str, str]]:
    """The entry's ``labels`` / ``annotations`` that are not empty."""
    return {key: entry[key] for key in KEYS if entry.get(key)}


def labelled(
    cr: KubeObject,
    wanted: dict[MetadataKey, dict[str, str]],
    renderer: Renderer,
    data: Mapping[str, object],
) -> KubeObject | None:
    """The CR with the rendered labels and annotations merged in, or None when it holds
    them already."""
    meta = cr["metadata"]
    changed: dict[MetadataKey, dict[str, str]] = {}
    for key, templates in wanted.items():
        fields = Fields(renderer, data, key)  # keys are static (checked at load)
        rendered = {k: fields.text(v, k) for k, v in templates.items()}
        current = meta.get(key) or {}
        if any(current.get(k) != v for k, v in rendered.items()):
            changed[key] = {**current, **rendered}
    if not changed:
        return None
    merged = meta.copy()
    for key, values in changed.items():
        merged[key] = values
    return {**cr, "metadata": merged}
