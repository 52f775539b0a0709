"""Warnings for the client: what a request was told besides its answer.

An API server answers some requests with ``Warning`` headers, which kubectl prints as
``Warning: <text>``: unknown fields under ``fieldValidation=Warn``, a failed validation of a
ValidatingAdmissionPolicy bound with ``Warn``. Like kube-apiserver's request-scoped warning
recorder, whoever serves a request opens a :func:`recording` scope and the code below it
calls :func:`add`; outside such a scope (the engine's own writes) warnings are dropped. A
context variable keeps concurrent requests apart: every aiohttp request runs in a task of
its own and every thread has its own context.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_recorded: ContextVar[list[str] | None] = ContextVar("orkestra_warnings", default=None)


@contextmanager
def recording() -> Iterator[list[str]]:
    """Collect the warnings added in this scope, in order and without repeats."""
    collected: list[str] = []
    token = _recorded.set(collected)
    try:
        yield collected
    finally:
        _recorded.reset(token)


def add(text: str) -> None:
    collected = _recorded.get()
    if collected is not None and text not in collected:
        collected.append(text)
