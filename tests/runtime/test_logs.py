"""Structured logs: one JSON object per line, or text with key=value fields."""

from __future__ import annotations

import io
import json
import logging

from orkestra.runtime.logs import configure, fields

log = logging.getLogger("orkestra.runtime.controller")


def lines(fmt: str, level: str = "info") -> tuple[io.StringIO, list[str]]:
    stream = io.StringIO()
    configure(fmt, level, stream)
    return stream, stream.getvalue().splitlines()


def test_json_lines_carry_time_level_logger_message_and_the_fields() -> None:
    stream, _ = lines("json")
    log.info(
        "reconciled",
        extra=fields(crd="webapp", namespace="default", name="web", duration_ms=1.5, writes=3),
    )
    line = json.loads(stream.getvalue().splitlines()[0])
    assert list(line)[:4] == ["time", "level", "logger", "message"]
    assert line["level"] == "info" and line["logger"] == "orkestra.runtime.controller"
    assert line["message"] == "reconciled"
    assert {k: line[k] for k in ("crd", "namespace", "name", "duration_ms", "writes")} == {
        "crd": "webapp",
        "namespace": "default",
        "name": "web",
        "duration_ms": 1.5,
        "writes": 3,
    }
    assert line["time"].endswith("Z") and len(line["time"]) == len("2026-06-01T12:00:00.000Z")


def test_exceptions_are_kept_in_one_json_line() -> None:
    stream, _ = lines("json")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("reconcile crashed", extra=fields(name="web"))
    text = stream.getvalue()
    assert text.count("\n") == 1
    assert "ValueError: boom" in json.loads(text)["exception"]


def test_text_lines_put_fields_after_the_message() -> None:
    stream, _ = lines("text")
    log.warning("reconcile error", extra=fields(crd="webapp", name="web"))
    line = stream.getvalue().strip()
    assert " WARNING orkestra.runtime.controller: reconcile error  crd=webapp name=web" in line


def test_the_level_filters_lines() -> None:
    stream, _ = lines("json", "warning")
    log.info("quiet")
    log.debug("quieter")
    log.error("loud")
    assert [json.loads(x)["message"] for x in stream.getvalue().splitlines()] == ["loud"]
