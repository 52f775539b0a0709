"""``ork run``: the operator runtime, against a cluster or (``--dev``) an embedded one.

This module picks the patterns (a registry reference pulled on first use, ``-f`` files, or
the ``katalog.yaml``/``komposer.yaml`` here), refuses end-of-life ones with validate's
wording, and finds a cluster. With ``--dev`` and no reachable cluster it starts one: kind
when docker and kind are installed, else the embedded API server in this process (this is
the only place the runtime and :mod:`orkestra.apiserver` meet; its objects are kept under
``~/.orkestra/dev`` so a restarted ``ork run --dev`` finds them again). Then it hands over to
:func:`orkestra.runtime.run`.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from orkestra.cli.completion import complete_ref
from orkestra.cli.deprecation import deprecation_block
from orkestra.cli.files import discover
from orkestra.cli.output import effective_log_level, err, ok, out, style, warn
from orkestra.cli.params import duration, timeout_option, trust_hooks_option
from orkestra.errors import OrkError, UsageError
from orkestra.files import shown
from orkestra.runtime import Options, Unit, run
from orkestra.runtime.kube import KubeClient, load_config
from orkestra.runtime.logs import LEVELS, configure

KIND_CLUSTER = "orkestra-dev"


@click.command("run")
@click.argument("ref", required=False, metavar="[NAME:VERSION]", shell_complete=complete_ref)
@click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Katalog or komposer to run (repeatable). Default: katalog.yaml or komposer.yaml here.",
)
@click.option(
    "--use-komposer",
    is_flag=True,
    help="With NAME:VERSION: run the pattern's komposer.yaml instead of its katalog.yaml.",
)
@click.option("--refresh", is_flag=True, help="With NAME:VERSION: download it again.")
@click.option(
    "--apply-cr",
    is_flag=True,
    help="Apply the pattern's crd.yaml, wait until the CRD is established, then apply its cr.yaml.",
)
@click.option(
    "--dev",
    is_flag=True,
    help="No cluster reachable: start one (kind if docker "
    "and kind exist, else the embedded API server) and print its kubeconfig.",
)
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    help="Kubeconfig file [default: in-cluster, $KUBECONFIG, ~/.kube/config].",
)
@click.option("--context", help="Kubeconfig context [default: the current one].")
@click.option("-n", "--namespace", help="Watch only this namespace.")
@click.option("-A", "--all-namespaces", is_flag=True, help="Watch every namespace (the default).")
@click.option(
    "--leader-elect",
    is_flag=True,
    help="Reconcile only while holding a Lease (run several replicas).",
)
@click.option("--lease-name", help="[default: orkestra-NAME]")
@click.option("--lease-namespace", help="[default: the context's or pod's namespace]")
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--log-level", type=click.Choice(LEVELS), default="info", show_default=True)
@click.option(
    "--http-port",
    type=click.IntRange(0, 65535),
    default=8081,
    show_default=True,
    help="/health, /ready, /metrics, /katalog (0: any free port).",
)
@click.option(
    "--metrics-port", type=click.IntRange(0, 65535), help="Also serve /metrics on this port."
)
@click.option(
    "--workers", type=click.IntRange(1, 50), help="Workers per CRD (overrides the katalogs)."
)
@click.option(
    "--resync", callback=duration, help="Resync period, e.g. 30s (0: none; overrides the katalogs)."
)
@click.option(
    "--shutdown-timeout",
    default="30s",
    show_default=True,
    callback=duration,
    help="How long running reconciles may take to finish on SIGTERM.",
)
@trust_hooks_option
@timeout_option
def command(
    ref: str | None,
    files: tuple[str, ...],
    use_komposer: bool,
    refresh: bool,
    apply_cr: bool,
    dev: bool,
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    all_namespaces: bool,
    leader_elect: bool,
    lease_name: str | None,
    lease_namespace: str | None,
    log_format: str,
    log_level: str,
    http_port: int,
    metrics_port: int | None,
    workers: int | None,
    resync: float | None,
    shutdown_timeout: float,
    trust_hooks: bool,
    timeout: float | None,
) -> int:
    """Run operators: watch their CRs and reconcile them with the engine simulate uses.

    \b
    ork run                              katalog.yaml or komposer.yaml here
    ork run -f a/katalog.yaml -f b/katalog.yaml
    ork run webapp-operator:v1.0.0       pulled on first use
    ork run --dev --apply-cr             no cluster? start one, apply crd.yaml + cr.yaml

    Stops on SIGTERM or Ctrl-C after running reconciles finish. Exits 1 for a pattern past
    its end of life (unless accepted) or a cluster it cannot reach.
    """
    if ref and files:
        raise UsageError("give a reference or -f files, not both")
    if namespace and all_namespaces:
        raise UsageError("give --namespace or --all-namespaces, not both")
    if (use_komposer or refresh) and not ref:
        raise UsageError("--use-komposer and --refresh apply to a NAME:VERSION reference")
    paths = _sources(ref, files, use_komposer, refresh, timeout)
    configure(log_format, effective_log_level(log_level))
    units = [Unit.load(p, shown(p), trust_hooks=trust_hooks) for p in paths]
    for unit in units:
        for problem in unit.composed.warnings:
            warn(problem.render())
    _check_lifecycle(units)
    options = Options(
        namespace=namespace,
        leader_elect=leader_elect,
        lease_name=lease_name,
        lease_namespace=lease_namespace,
        http_port=http_port,
        metrics_port=metrics_port,
        workers=workers,
        resync=resync,
        apply_cr=apply_cr,
        shutdown_timeout=shutdown_timeout or 0.0,
    )
    with _cluster(dev, kubeconfig, context) as config_file:
        config = load_config(config_file, None if config_file != kubeconfig else context)
        return run(units, KubeClient(config), options)


def _sources(
    ref: str | None,
    files: tuple[str, ...],
    use_komposer: bool,
    refresh: bool,
    timeout: float | None = None,
) -> list[Path]:
    if files:
        return [Path(f) for f in files]
    if ref:
        return [_pulled(ref, use_komposer, refresh, timeout)]
    found = discover(("katalog.yaml", "komposer.yaml"))
    if not found:
        raise UsageError(
            f"no katalog.yaml or komposer.yaml in {Path.cwd()}; name one with "
            "-f FILE or give NAME:VERSION"
        )
    return found[:1]


def _pulled(text: str, use_komposer: bool, refresh: bool, timeout: float | None = None) -> Path:
    from orkestra.registry.client import RegistryClient

    client = RegistryClient(timeout=timeout)
    ref = client.resolve(text, "Katalog")
    pulled = None if refresh else client.cached(ref)
    if pulled is None:
        err(f"Pulling {ref}")
        pulled = client.pull(ref, refresh=True)
    name = "komposer.yaml" if use_komposer else "katalog.yaml"
    path = pulled.directory / name
    if not path.is_file():
        raise OrkError(
            f"{ref} has no {name}",
            hint="drop --use-komposer"
            if use_komposer
            else "is it a motif? ork run takes katalogs and komposers",
        )
    return path


def _check_lifecycle(units: list[Unit]) -> None:
    """Warn about deprecated patterns; refuse those past end of life (not accepted)."""
    today = datetime.date.today()
    for unit in units:
        for notice in unit.deprecations(today):
            warn(f"{notice.name} {notice.version} is deprecated")
            for line in deprecation_block(notice.notice, today)[1:]:
                err(line)
        ended = unit.end_of_life(today)
        for notice in ended:
            for line in deprecation_block(notice.notice, today):
                err(line)
        if ended:
            names = ", ".join(f"{e.name} {e.version}".strip() for e in ended)
            migrate = next((e.notice.migrated_to for e in ended if e.notice.migrated_to), "")
            raise OrkError(
                f"refusing to run {names}: past end of life",
                hint=(f"migrate to {migrate}, or " if migrate else "")
                + "accept it with deprecation.accept.eol: true (or "
                "lifecycle.accept.patterns in a komposer)",
            )


@contextmanager
def _cluster(dev: bool, kubeconfig: str | None, context: str | None) -> Iterator[str | None]:
    """The kubeconfig to use; with ``--dev`` and nothing reachable, a started cluster's."""
    if not dev or _reachable(kubeconfig, context):
        yield kubeconfig
        return
    if shutil.which("docker") and shutil.which("kind"):
        yield _kind_cluster()
        return
    from orkestra.apiserver import EmbeddedServer
    from orkestra.registry.cache import orkestra_home

    home = orkestra_home() / "dev"
    server = EmbeddedServer(data_dir=home / "cluster", kubeconfig=home / "kubeconfig").start()
    ok(
        f"No cluster reachable: started the embedded API server on {server.url} (objects "
        f"kept in {home / 'cluster'})"
    )
    out("  " + style(f"export KUBECONFIG={server.kubeconfig}", "bold"))
    try:
        yield str(server.kubeconfig)
    finally:
        server.stop()


def _reachable(kubeconfig: str | None, context: str | None) -> bool:
    try:
        client = KubeClient(load_config(kubeconfig, context), timeout=3.0)
        try:
            client.request("GET", "/version")
        finally:
            client.close()
    except OrkError:
        return False
    return True


def _kind_cluster() -> str:
    from orkestra.registry.cache import orkestra_home

    config = orkestra_home() / "dev" / "kind-kubeconfig"
    names = subprocess.run(
        ["kind", "get", "clusters"], capture_output=True, text=True, check=False
    ).stdout.split()
    if KIND_CLUSTER not in names:
        err(f"No cluster reachable: creating kind cluster {KIND_CLUSTER}")
        created = subprocess.run(
            ["kind", "create", "cluster", "--name", KIND_CLUSTER, "--kubeconfig", str(config)],
            check=False,
        )
        if created.returncode != 0:
            raise OrkError(
                "kind could not create a cluster",
                hint="check docker, or run without kind on the PATH to use the embedded API server",
            )
    else:
        exported = subprocess.run(
            ["kind", "export", "kubeconfig", "--name", KIND_CLUSTER, "--kubeconfig", str(config)],
            check=False,
            capture_output=True,
        )
        if exported.returncode != 0:
            raise OrkError(f"kind could not export the kubeconfig of {KIND_CLUSTER}")
    out("  " + style(f"export KUBECONFIG={config}", "bold"))
    return str(config)
