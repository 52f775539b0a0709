"""``ork cluster up``: the embedded Kubernetes API server in the foreground."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from orkestra.cli.groups import SuggestingGroup
from orkestra.cli.output import err, ok, out, style
from orkestra.cluster.kubeschema import KUBERNETES_VERSION

if TYPE_CHECKING:
    from orkestra.apiserver import EmbeddedServer

DEFAULT_HOME = Path("~/.orkestra/cluster")


@click.group("cluster", cls=SuggestingGroup)
def command() -> None:
    """The embedded Kubernetes API server (no Docker, no kubelet).

    \b
    ork cluster up                 serve on 127.0.0.1:6443 until Ctrl-C
    ork cluster up --data DIR      keep objects and credentials across restarts

    Real kubectl and client libraries work against it. Pods of the runtime image (and of
    --local-images) run as local ork processes, so helm install of the chart really runs;
    other workloads are reported ready and Jobs complete, as in ork simulate.
    """


@command.command("up")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=6443,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@click.option(
    "--data",
    "data",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory that keeps objects and credentials across restarts.",
)
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the kubeconfig [default: DATA/kubeconfig, else "
    "~/.orkestra/cluster/kubeconfig].",
)
@click.option(
    "--insecure-http",
    is_flag=True,
    help="Serve plain HTTP without a token (loopback only; for debugging).",
)
@click.option(
    "--local-images",
    "local_images",
    multiple=True,
    metavar="REPOSITORY",
    help="Image repository whose Pods run as local ork processes (repeatable; "
    'default: ghcr.io/orkspace/orkestra; "none": run nothing).',
)
def up(
    port: int,
    data: Path | None,
    kubeconfig: Path | None,
    insecure_http: bool,
    local_images: tuple[str, ...],
) -> int:
    """Start the embedded API server and serve until interrupted."""
    from orkestra.apiserver import EmbeddedServer
    from orkestra.loops import run

    home = data.expanduser() if data is not None else DEFAULT_HOME.expanduser()
    server = EmbeddedServer(
        port=port,
        tls=not insecure_http,
        auth=not insecure_http,
        data_dir=data.expanduser() if data is not None else None,
        kubeconfig=(kubeconfig or home / "kubeconfig").expanduser(),
        local_images=_local_images(local_images),
    )
    return run(_serve(server, data))


def _local_images(given: tuple[str, ...]) -> list[str]:
    """The runtime image without the flag; no image at all with ``none``."""
    from orkestra.apiserver.processes import DEFAULT_LOCAL_IMAGES

    if not given:
        return list(DEFAULT_LOCAL_IMAGES)
    return [image for image in given if image != "none"]


async def _serve(server: EmbeddedServer, data: Path | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start_async()
    ok(f"Embedded Kubernetes API server ({KUBERNETES_VERSION}) listening on {server.url}")
    out(f"  data:  {data if data is not None else 'in memory (--data DIR keeps it)'}")
    out(f"  local images: {', '.join(server.local_images) or 'none'}")
    out("  " + style(f"export KUBECONFIG={server.kubeconfig}", "bold"))
    out(style("  Ctrl-C stops it.", "dim"))
    await stop.wait()
    await server.stop_async()
    err("stopped")
    return 0
