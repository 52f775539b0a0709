"""Structured logs of the runtime, as text for people or one JSON object per line.

Callers log with the standard library and pass context with ``extra=fields(crd=...,
namespace=..., name=..., duration_ms=...)`` (wrapped, since ``name`` is taken on a log
record); the formatters put every field into the line. JSON lines carry ``time`` (RFC
3339, UTC, milliseconds), ``level``, ``logger`` and ``message`` first. Per-reconcile lines
are only built when their level is enabled, so quiet levels cost nothing on the hot path.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO, TypedDict

ROOT = "orkestra"
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
LEVELS = ("debug", "info", "warning", "error")


class Extra(TypedDict):
    """The ``extra`` of a log call: the fields, under one key of the log record."""

    fields: dict[str, object]


def fields(**values: object) -> Extra:
    """The ``extra`` of a log call carrying these fields."""
    return {"fields": values}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    found = {k: v for k, v in record.__dict__.items() if k not in _STANDARD and k != "fields"}
    found.update(getattr(record, "fields", None) or {})
    return found


def _time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_extras(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = f"{_time(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if fields:
            line += f"  {fields}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(fmt: str = "text", level: str = "info", stream: TextIO | None = None) -> None:
    """Send the ``orkestra`` loggers to ``stream`` (stderr) in format ``fmt``."""
    logger = logging.getLogger(ROOT)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
