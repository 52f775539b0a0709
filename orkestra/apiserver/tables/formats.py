"""Ages and the small formatters every printer's cells use.

This module owns kubectl's short human ages (``3m2s``, ``4h5m``, ``2y3d``), the ``<none>``
and ``<unknown>`` placeholders, labels and label selectors as selector strings, and the
forgiving readers printers take their values with: a path into a plain dict that yields
None, ``{}``, ``[]`` or a default where a value is missing or of another type.
"""

from __future__ import annotations

from datetime import datetime

from orkestra.kubeobjects import Json, JsonObject, KubeObject, ObjectMeta
from orkestra.units import parse_timestamp

NONE = "<none>"
UNKNOWN = "<unknown>"


def human_age(seconds: float) -> str:
    """kubectl's short duration: ``5s``, ``3m2s``, ``10m``, ``4h5m``, ``9h``, ``3d4h``,
    ``20d``, ``2y3d``, ``9y``; ``0s`` for up to a second of clock skew, ``<invalid>`` beyond."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        return _pair(minutes, "m", whole % 60, "s")
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        return _pair(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return _pair(days, "d", hours % 24, "h")
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        return _pair(days // 365, "y", days % 365, "d")
    return f"{days // 365}y"


def _pair(big: int, big_unit: str, small: int, small_unit: str) -> str:
    return f"{big}{big_unit}{small}{small_unit}" if small else f"{big}{big_unit}"


def age(timestamp: object, now: datetime) -> str:
    """How long ago an RFC 3339 timestamp was, or ``<unknown>`` when there is none."""
    moment = parse_timestamp(timestamp) if isinstance(timestamp, str) and timestamp else None
    if moment is None:
        return UNKNOWN
    return human_age((now - moment).total_seconds())


def age_of(obj: KubeObject, now: datetime) -> str:
    return age(metadata(obj).get("creationTimestamp"), now)


def metadata(obj: KubeObject) -> ObjectMeta:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def value_at(obj: object, key: str, *path: str) -> Json:
    """The value at ``key`` and then ``path`` (None where a step is missing or not an
    object)."""
    found: Json = None
    for step in (key, *path):
        if not isinstance(obj, dict):
            return None
        found = obj = obj.get(step)
    return found


def json_object(value: object) -> JsonObject:
    """``value`` read as a JSON object (``{}`` when it is not one): how a printer reads
    the fields of its kind that :class:`~orkestra.kubeobjects.KubeObject` does not name."""
    return value if isinstance(value, dict) else {}


def dict_at(obj: object, key: str, *path: str) -> JsonObject:
    return json_object(value_at(obj, key, *path))


def list_at(obj: object, key: str, *path: str) -> list[Json]:
    value = value_at(obj, key, *path)
    return value if isinstance(value, list) else []


def dicts_at(obj: object, key: str, *path: str) -> list[JsonObject]:
    """The objects of the list at the path (entries of other types left out)."""
    return [item for item in list_at(obj, key, *path) if isinstance(item, dict)]


def as_int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def or_none(text: object) -> str:
    return str(text) if text not in (None, "") else NONE


def format_labels(labels: object) -> str:
    """``a=1,b=2`` sorted by key, ``<none>`` when empty."""
    if not isinstance(labels, dict) or not labels:
        return NONE
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def format_selector(selector: object) -> str:
    """A ``LabelSelector`` as a selector string (``app=web,tier in (a,b),!gone``)."""
    if not isinstance(selector, dict):
        return NONE
    parts = [(k, f"{k}={v}") for k, v in dict_at(selector, "matchLabels").items()]
    for expr in dicts_at(selector, "matchExpressions"):
        parts.append((str(expr.get("key", "")), _expression(expr)))
    return ",".join(text for _, text in sorted(parts)) or NONE


def _expression(expr: JsonObject) -> str:
    key, op = expr.get("key", ""), expr.get("operator", "")
    values = ",".join(sorted(str(v) for v in list_at(expr, "values")))
    if op == "In":
        return f"{key} in ({values})"
    if op == "NotIn":
        return f"{key} notin ({values})"
    return f"!{key}" if op == "DoesNotExist" else str(key)
