"""Field management: ``metadata.managedFields`` and server-side apply.

This package owns who owns which field of an object, in the API server's own FieldsV1 format
(``f:metadata`` / ``f:labels`` / ``f:app``, ``k:{"name":"web"}`` for a list-map item,
``v:"x"`` for a set item, ``.`` for a node that is itself owned), one entry per manager,
operation (``Apply``/``Update``), subresource (and API version for ``Update``, as the API
server keys them). :func:`record_update` is what every non-apply write does to the entries;
:func:`apply` is server-side apply (``PATCH`` with ``application/apply-patch+yaml``): a
structured merge of the applied configuration into the live object, removal of what the
manager applied before and no longer applies, and conflict detection with the API server's
messages. The semantics are Kubernetes' structured-merge-diff ones (list-map keys, sets,
atomic lists and maps from the schema, see :mod:`orkestra.cluster.kubeschema`); the code is
hand-written because no Python library implements them (``jsonpatch``/``jsonmerge`` track no
ownership). Field sets are handled directly as FieldsV1 trees (:mod:`.trees`: a node ``{}``
or one with a ``"."`` key is owned), so stored entries (:mod:`.entries`) need no conversion.
What a write owns is what :mod:`.compare` finds it changed; :mod:`.updates` (every other
write) and :mod:`.serverside` (apply) record it.
"""

from __future__ import annotations

from orkestra.cluster.fieldmanager.compare import SERVER_METADATA, Change, diff
from orkestra.cluster.fieldmanager.entries import (
    APPLY,
    UPDATE,
    Entry,
    decode_entries,
    encode_entries,
)
from orkestra.cluster.fieldmanager.serverside import apply
from orkestra.cluster.fieldmanager.trees import FieldTree, intersect, paths, subtract, union
from orkestra.cluster.fieldmanager.updates import (
    ANCIENT_CHANGES,
    MAX_UPDATE_MANAGERS,
    record_update,
)

__all__ = [
    "ANCIENT_CHANGES",
    "APPLY",
    "MAX_UPDATE_MANAGERS",
    "SERVER_METADATA",
    "UPDATE",
    "Change",
    "Entry",
    "FieldTree",
    "apply",
    "decode_entries",
    "diff",
    "encode_entries",
    "intersect",
    "paths",
    "record_update",
    "subtract",
    "union",
]
