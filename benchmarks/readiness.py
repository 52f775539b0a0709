"""The operator benchmark's instrument: a watch on the WebApps that tells when each is Ready.

It shares the machine with the server and the operator being measured, so it is kept as
light as a watch can be: one blocking TLS socket (the ``ssl`` module's C code does the
reading), a chunked-body reader of a few lines (the response head and the chunk sizes are
parsed by :mod:`orkestra.transport`'s own helpers), and each event decoded by msgspec into
the handful of fields readiness needs. The first version, aiohttp
on asyncio's default loop with ``json.loads`` of whole objects, used ~0.25 s of CPU while
``ork run`` brought 1,000 WebApps to Ready in ~1.8 s (about 100 µs an event): CPU the
operators' processes could not have. A stream ends when the server ends it
(``timeoutSeconds``) and is opened again from the last resourceVersion; an ``ERROR`` event
(410 Gone) starts again from a fresh LIST.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import msgspec

from orkestra.transport import chunk_size, parse_head

CONNECT_TIMEOUT = 5.0
# The server ends each watch after this long, and the deadline and the operator's exit are
# looked at before it is opened again: reads block meanwhile (a socket with a timeout
# would poll before each read, a system call per event).
WATCH_SECONDS = 5


class _Condition(msgspec.Struct):
    type: str = ""
    status: str = ""


class _Status(msgspec.Struct):
    observedGeneration: int | None = None  # noqa: N815 - the API's field names
    conditions: list[_Condition] = []


class _Meta(msgspec.Struct):
    name: str = ""
    generation: int = 1
    resourceVersion: str = ""  # noqa: N815


class _Object(msgspec.Struct):
    metadata: _Meta = msgspec.field(default_factory=_Meta)
    status: _Status | None = None


class _Event(msgspec.Struct):
    type: str
    object: msgspec.Raw  # decoded unless an ERROR's Status


class _List(msgspec.Struct):
    metadata: _Meta
    items: list[_Object]


_EVENT = msgspec.json.Decoder(_Event)
_OBJECT = msgspec.json.Decoder(_Object)
_LIST = msgspec.json.Decoder(_List)


def ready(obj: _Object) -> bool:
    """observedGeneration is the generation and the Ready condition is True."""
    status = obj.status
    if status is None or status.observedGeneration != obj.metadata.generation:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in status.conditions)


@dataclass
class Progress:
    """Which CRs are Ready, and when each count was reached (seconds after the spawn)."""

    ready: set[str] = field(default_factory=set)
    first: float | None = None
    last: float | None = None

    def update(self, obj: _Object, elapsed: float) -> None:
        name = obj.metadata.name
        if ready(obj):
            if name not in self.ready:
                self.ready.add(name)
                self.first = elapsed if self.first is None else self.first
                self.last = elapsed
        else:
            self.ready.discard(name)


class _Stream:
    """One HTTP/1.1 request on its own TLS connection, its chunked body read line by line."""

    def __init__(self, url: str, token: str, context: ssl.SSLContext, path: str) -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 443
        raw = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
        self.sock = context.wrap_socket(raw, server_hostname=host)
        self.sock.settimeout(None)
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: application/json\r\nConnection: close\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = bytearray()
        self.lines = bytearray()
        while True:  # interim (1xx) responses come before the real one: skipped
            head = self._until(b"\r\n\r\n")
            framing = parse_head(head)
            if framing is not None:
                break
        if framing.status != 200:
            raise RuntimeError(f"GET {path}: {head[:200]!r}")
        self.chunked = framing.chunked
        self.length = framing.length  # None when chunked or framed by the end

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise EOFError("the server closed the connection")
        self.buffer += data

    def _until(self, delimiter: bytes) -> bytes:
        while (end := self.buffer.find(delimiter)) < 0:
            self._fill()
        data = bytes(self.buffer[:end])
        del self.buffer[: end + len(delimiter)]
        return data

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def body(self) -> bytes:
        """The whole body: its chunks, its Content-Length, or all until the server closes."""
        if self.chunked:
            return b"".join(iter(self.chunk, b""))
        if self.length is not None:
            return self._exactly(self.length)
        while True:
            try:
                self._fill()
            except EOFError:
                return bytes(self.buffer)

    def chunk(self) -> bytes:
        """The next chunk's data; b"" at the end of the body."""
        size = chunk_size(self._until(b"\r\n"))
        if size == 0:
            return b""
        data = self._exactly(size)
        self._exactly(2)
        return data

    def next_lines(self) -> list[bytes] | None:
        """The whole lines of the next chunk (maybe none); None at the end of the body."""
        data = self.chunk()
        if not data:
            return None
        self.lines += data
        end = self.lines.rfind(b"\n")
        if end < 0:
            return []
        lines = bytes(self.lines[:end]).split(b"\n")
        del self.lines[: end + 1]
        return lines


@dataclass
class ReadinessWatch:
    """Follows the WebApps at ``path`` until ``size`` of them are Ready."""

    url: str
    token: str
    context: ssl.SSLContext
    path: str
    size: int
    start: float  # perf_counter() of the operator's spawn
    progress: Progress = field(default_factory=Progress)

    def follow(self, version: str, deadline: float, process: subprocess.Popen[bytes]) -> Progress:
        """Watch from ``version`` until all are Ready, the deadline passes or the operator
        exits."""
        while not self._done() and time.perf_counter() < deadline and process.poll() is None:
            version = self._watch(version)
        return self.progress

    def _done(self) -> bool:
        return len(self.progress.ready) >= self.size

    def _watch(self, version: str) -> str:
        query = f"?watch=1&resourceVersion={version}&timeoutSeconds={WATCH_SECONDS}"
        stream = _Stream(self.url, self.token, self.context, self.path + query)
        try:
            while not self._done():
                lines = stream.next_lines()
                if lines is None:
                    return version
                for line in lines:
                    event = _EVENT.decode(line)
                    if event.type == "ERROR":  # e.g. 410 Gone: start again from a fresh list
                        return self._relist()
                    obj = _OBJECT.decode(event.object)
                    version = obj.metadata.resourceVersion or version
                    if event.type in ("ADDED", "MODIFIED"):
                        self.progress.update(obj, time.perf_counter() - self.start)
            return version
        finally:
            stream.close()

    def _relist(self) -> str:
        stream = _Stream(self.url, self.token, self.context, self.path)
        try:
            listed = _LIST.decode(stream.body())
        finally:
            stream.close()
        for obj in listed.items:
            self.progress.update(obj, time.perf_counter() - self.start)
        return listed.metadata.resourceVersion


def first_version(url: str, token: str, context: ssl.SSLContext, path: str) -> str:
    """The resourceVersion of a list of ``path``: where a watch opened now starts."""
    stream = _Stream(url, token, context, path + "?limit=1")
    try:
        return str(json.loads(stream.body())["metadata"]["resourceVersion"])
    finally:
        stream.close()
