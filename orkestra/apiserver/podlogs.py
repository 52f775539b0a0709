"""``GET /api/v1/namespaces/NS/pods/NAME/log``: what ``kubectl logs`` reads.

The output of a Pod's container run by the local process runner
(:mod:`orkestra.apiserver.processes`), with the query parameters kubectl sends:
``container`` (checked against the Pod's containers; required when it has several),
``tailLines``, ``limitBytes`` and ``follow`` (the response streams what the process writes
until it stops or the client goes). ``timestamps`` and ``previous`` are accepted and
ignored: the log is one file across restarts. A Pod nothing runs (any other image) has an
empty log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from orkestra.apiserver.specs import pod_spec
from orkestra.cluster import MemoryCluster
from orkestra.cluster.errors import BadRequestError
from orkestra.httpserver import AnyResponse, Request, Response, StreamResponse
from orkestra.kubeobjects import KubeObject

FOLLOW_POLL = 0.2
CHUNK = 64 * 1024


class LogSource(Protocol):
    """Where the logs of locally run Pods are."""

    def log_file(self, namespace: str, name: str) -> Path | None: ...

    def running(self, namespace: str, name: str) -> bool: ...


def _number(request: Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequestError(f'{name}: Invalid value: "{raw}": must be an integer') from None
    if value < 0 or (name == "limitBytes" and value == 0):
        raise BadRequestError(f"{name}: Invalid value: {value}: must be greater than 0")
    return value


def check_container(pod: KubeObject, wanted: str) -> None:
    """kube-apiserver's checks of the ``container`` parameter."""
    name = pod["metadata"]["name"]
    spec = pod_spec(pod)
    names = [str(c.get("name")) for c in spec.get("containers") or []]
    others = [
        str(c.get("name"))
        for c in (spec.get("initContainers") or []) + (spec.get("ephemeralContainers") or [])
    ]
    if not wanted and len(names) > 1:
        raise BadRequestError(
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
        )
    if wanted and wanted not in names + others:
        raise BadRequestError(f"container {wanted} is not valid for pod {name}")


def initial(path: Path, tail: int | None, limit: int | None) -> tuple[bytes, int]:
    """The log so far (its last ``tail`` lines, at most ``limit`` bytes) and the offset
    where following continues."""
    data = path.read_bytes() if path.exists() else b""
    end = len(data)
    if tail is not None:
        lines = data.splitlines(keepends=True)
        data = b"".join(lines[len(lines) - tail :]) if tail else b""
    if limit is not None:
        data = data[:limit]
    return data, end


async def serve(
    request: Request,
    cluster: MemoryCluster,
    source: LogSource | None,
    namespace: str,
    name: str,
) -> AnyResponse:
    pod = cluster.read(cluster.type_for("v1", "Pod"), namespace, name)
    check_container(pod, request.query.get("container", ""))
    tail, limit = _number(request, "tailLines"), _number(request, "limitBytes")
    path = source.log_file(namespace, name) if source is not None else None
    data, offset = initial(path, tail, limit) if path is not None else (b"", 0)
    follow = request.query.get("follow") in ("true", "1")
    if not follow or path is None or source is None:
        return Response(data, content_type="text/plain")
    response = StreamResponse(headers={"Content-Type": "text/plain"})
    await response.prepare(request)
    await response.write(data)
    await _follow(response, path, offset, lambda: source.running(namespace, name))
    return response


async def _follow(
    response: StreamResponse, path: Path, offset: int, running: Callable[[], bool]
) -> None:
    """Write what is appended to ``path`` until the process stops or the client leaves."""
    while True:
        alive = running()
        try:
            with path.open("rb") as file:
                file.seek(offset)
                chunk = file.read(CHUNK)
        except FileNotFoundError:
            return
        if chunk:
            offset += len(chunk)
            try:
                await response.write(chunk)
            except (ConnectionResetError, RuntimeError):
                return
            continue
        if not alive:
            return
        await asyncio.sleep(FOLLOW_POLL)
