"""``ork gateway``: the admission gateway for the katalogs and komposers it is given.

This module reads the flags, composes the patterns, picks where the serving certificate
comes from (files, an existing Secret, or generated and kept in ``<service>-certs``), and
hands over to :class:`orkestra.gateway.Gateway`. ``--uninstall`` deletes the webhook
configurations and the generated Secret instead, and exits.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from orkestra import loops
from orkestra.cli.files import discover
from orkestra.cli.output import effective_log_level, ok, out, warn
from orkestra.cli.params import positive_duration
from orkestra.errors import UsageError
from orkestra.gateway import FileCerts, Gateway, GeneratedCerts, Options, SecretCerts, Targets
from orkestra.gateway.housekeeper import Housekeeper
from orkestra.gateway.kube import KubeAPI, LightKube, load_config
from orkestra.gateway.sources import CertSource
from orkestra.runtime.logs import LEVELS, configure

DEFAULT_NAMESPACE = "orkestra-system"
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@click.command("gateway")
@click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Katalog or komposer whose rules to serve (repeatable). Default: "
    "katalog.yaml or komposer.yaml here.",
)
@click.option(
    "-n",
    "--namespace",
    help="Namespace of the gateway's Service, Deployment and "
    "certificate Secret [default: the pod's, else orkestra-system].",
)
@click.option(
    "--service-name",
    default="orkestra-gateway",
    show_default=True,
    help="The Service the webhooks call (and the Deployment protected).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8443,
    show_default=True,
    help="HTTPS port of /validate, /mutate, /protect (0: any free port).",
)
@click.option(
    "--http-port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="HTTP port of /health, /ready, /metrics (0: any free port).",
)
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    help="Kubeconfig file [default: in-cluster, $KUBECONFIG, ~/.kube/config].",
)
@click.option("--context", help="Kubeconfig context [default: the current one].")
@click.option(
    "--failure-policy",
    type=click.Choice(["Fail", "Ignore"]),
    help="failurePolicy of every webhook [default: the patterns' security settings, else Fail].",
)
@click.option(
    "--no-manage-webhooks", is_flag=True, help="Only serve: leave the webhook configurations alone."
)
@click.option(
    "--url",
    help="Register the webhooks with this base URL (e.g. "
    "https://127.0.0.1:8443 for a local API server) instead of the Service.",
)
@click.option(
    "--tls-cert",
    envvar="TLS_CERT",
    type=click.Path(dir_okay=False, exists=True),
    help="Serve this PEM certificate (with --tls-key) instead of a generated one "
    "[env: TLS_CERT, TLS_KEY].",
)
@click.option("--tls-key", envvar="TLS_KEY", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--tls-ca",
    envvar="TLS_CA",
    type=click.Path(dir_okay=False, exists=True),
    help="CA bundle written into the webhooks [default: the certificate].",
)
@click.option(
    "--tls-secret",
    help="Serve the certificate of this Secret (tls.crt, "
    "tls.key, ca.crt), followed as it is renewed.",
)
@click.option(
    "--cert-validity",
    default="365d",
    show_default=True,
    callback=positive_duration,
    help="Lifetime of generated serving certificates (renewed when a third is left).",
)
@click.option(
    "--uninstall",
    is_flag=True,
    help="Delete the webhook configurations and the generated certificate Secret, then exit.",
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--log-level", type=click.Choice(LEVELS), default="info", show_default=True)
def command(
    files: tuple[str, ...],
    namespace: str | None,
    service_name: str,
    port: int,
    http_port: int,
    host: str,
    kubeconfig: str | None,
    context: str | None,
    failure_policy: str | None,
    no_manage_webhooks: bool,
    url: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    tls_ca: str | None,
    tls_secret: str | None,
    cert_validity: float,
    uninstall: bool,
    log_format: str,
    log_level: str,
) -> int:
    """Serve the patterns' admission rules and deletion protection as webhooks.

    \b
    ork gateway -f komposer.yaml                        in the cluster (the Helm chart)
    ork gateway -f katalog.yaml --url https://127.0.0.1:8443 --kubeconfig dev.yaml
    ork gateway --uninstall                             remove the webhook configurations

    Validation rules deny or warn at `kubectl apply` as they do at reconcile time, mutation
    rules patch the object, and with deletion protection CRs, their CRDs and the gateway's
    Deployment cannot be deleted. The gateway keeps its webhook configurations as the
    patterns' security settings say: restarted with protection disabled it removes the
    protection webhook and keeps validation. Stops on SIGTERM or Ctrl-C.
    """
    configure(log_format, effective_log_level(log_level))
    namespace = namespace or _pod_namespace()
    secret = f"{service_name}-certs"
    if uninstall:
        return _uninstall(kubeconfig, context, namespace, secret)
    if bool(tls_cert) != bool(tls_key):
        raise UsageError("give --tls-cert and --tls-key together")
    if tls_cert and tls_secret:
        raise UsageError("give --tls-cert/--tls-key or --tls-secret, not both")
    if url and not url.startswith("https://"):
        raise UsageError("--url must be an https:// URL (the API server calls webhooks over TLS)")
    targets = Targets.load(_sources(files))
    options = Options(
        namespace=namespace,
        service_name=service_name,
        host=host,
        port=port,
        http_port=http_port,
        service_port=port or 8443,
        failure_policy=failure_policy,
        manage_webhooks=not no_manage_webhooks,
        url=url,
        cert_secret="" if tls_cert or tls_secret else secret,
    )
    needs_cluster = options.manage_webhooks or bool(tls_secret)
    kube: KubeAPI | None = LightKube(load_config(kubeconfig, context)) if needs_cluster else None
    source: CertSource
    if tls_cert and tls_key:
        source = FileCerts(Path(tls_cert), Path(tls_key), Path(tls_ca) if tls_ca else None)
    elif tls_secret:
        assert kube is not None
        source = SecretCerts(kube, tls_secret, namespace)
    else:
        source = GeneratedCerts(
            options.endpoint.names,
            lifetime=timedelta(seconds=cert_validity),
            store=kube,
            secret=secret,
            namespace=namespace,
        )
    _report(targets, options)
    return loops.run(Gateway(targets, source, options, kube=kube).run())


def _pod_namespace() -> str:
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or DEFAULT_NAMESPACE
    except OSError:
        return DEFAULT_NAMESPACE


def _sources(files: tuple[str, ...]) -> list[Path]:
    if files:
        return [Path(f) for f in files]
    found = discover(("katalog.yaml", "komposer.yaml"))
    if not found:
        raise UsageError(f"no katalog.yaml or komposer.yaml in {Path.cwd()}; name one with -f FILE")
    return found[:1]


def _report(targets: Targets, options: Options) -> None:
    for problem in targets.warnings:
        warn(problem)
    settings = targets.settings
    if not settings.admission and not settings.protection:
        warn(
            "no pattern enables security.webhooks.admission or security.deletionProtection"
            + (
                "; the gateway removes its webhook configurations"
                if options.manage_webhooks
                else ""
            )
        )
    for target in targets.all:
        roles = [
            r
            for r, on in (
                ("validation", target.validation),
                ("mutation", target.mutation),
                (
                    "strict deletion protection" if target.strict else "deletion protection",
                    target.protected,
                ),
            )
            if on
        ]
        if roles:
            out(f"  {target.kind} ({target.crd_name}): {', '.join(roles)}")


def _uninstall(kubeconfig: str | None, context: str | None, namespace: str, secret: str) -> int:
    kube = LightKube(load_config(kubeconfig, context))
    housekeeper = Housekeeper(kube, lambda _: {}, secret=secret, namespace=namespace)

    async def remove() -> list[str]:
        try:
            return await housekeeper.uninstall()
        finally:
            await kube.close()

    done = loops.run(remove())
    for action in done:
        ok(action[0].upper() + action[1:])
    if not done:
        ok("No webhook configurations of the gateway left")
    return 0
