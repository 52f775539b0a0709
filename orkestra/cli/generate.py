"""``ork generate bundle``: least-privilege RBAC and the katalog ConfigMap, as one YAML
stream to ``kubectl apply`` before installing the Helm chart."""

from __future__ import annotations

from pathlib import Path

import click

from orkestra.cli.files import discover, emit_text
from orkestra.cli.groups import SuggestingGroup
from orkestra.cli.output import err, out, warn
from orkestra.cli.params import timeout_option
from orkestra.cli.refs import insecure_option
from orkestra.errors import UsageError
from orkestra.files import shown
from orkestra.kubeobjects import KubeObject
from orkestra.plan.bundle import KATALOG_KEY, LOCK_KEY, NAMESPACE, Bundle, build, load
from orkestra.registry.client import RegistryClient
from orkestra.units import format_size

PATTERN_FILES = ("komposer.yaml", "katalog.yaml")  # a komposer here composes the katalog


@click.group("generate", cls=SuggestingGroup)
def command() -> None:
    """Generate what a cluster needs to run patterns."""


@command.command(
    "bundle", short_help="Least-privilege RBAC and the katalog ConfigMap, as one YAML stream."
)
@click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Katalog or komposer file (repeatable; CRDs are merged). Default: "
    "komposer.yaml, else katalog.yaml, here.",
)
@click.option(
    "-o",
    "--output",
    "output_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write the bundle to FILE (atomically) instead of stdout "
    "(here -o is a file: the bundle is always YAML).",
)
@click.option(
    "-n",
    "--namespace",
    default=NAMESPACE,
    show_default=True,
    help="Namespace of the runtime: its ServiceAccount, Role and ConfigMap.",
)
@click.option(
    "--with-crds", is_flag=True, help="Put the CRD manifests (crdFile) first in the bundle."
)
@click.option(
    "--dry-run", is_flag=True, help="List the objects the bundle would hold; write nothing."
)
@insecure_option
@timeout_option
def bundle(
    files: tuple[str, ...],
    output_file: str | None,
    namespace: str,
    with_crds: bool,
    dry_run: bool,
    insecure: bool,
    timeout: float | None,
) -> int:
    """RBAC for the runtime (and the gateway when webhooks or protection are on), exactly
    what the katalogs' templates can create or read, and ConfigMap orkestra-katalog with
    the merged katalog, registry imports pinned by digest.

    \b
    ork generate bundle -o bundle.yaml && kubectl apply -f bundle.yaml
    ork generate bundle -f komposer.yaml -n platform --dry-run
    """
    paths = _pattern_files(files)
    client = RegistryClient(insecure=insecure, timeout=timeout)
    sources = load([(p, shown(p)) for p in paths], client)
    result = build(sources, namespace, with_crds=with_crds)
    for problem in result.composed.warnings:
        err(problem.render())
    for line in result.warnings:
        warn(line)
    if dry_run:
        _summary(result, output_file)
        return 0
    emit_text(result.text(), output_file)
    return 0


def _pattern_files(given: tuple[str, ...]) -> list[Path]:
    if given:
        return [Path(f) for f in given]
    found = discover(PATTERN_FILES)
    if not found:
        raise UsageError(
            f"no komposer.yaml or katalog.yaml in {Path.cwd()}",
            hint="name the pattern with -f FILE",
        )
    return found[:1]


def _summary(result: Bundle, output_file: str | None) -> None:
    target = f"would be written to {output_file}" if output_file else "dry run"
    name = f"{result.composed.name} {result.composed.version}".strip()
    out(f"Bundle for {name} in namespace {result.namespace} ({target}; nothing written)")
    for obj in result.objects:
        meta = obj["metadata"]
        where = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
        out(f"  {obj['kind']:<24} {where:<40} {_detail(obj)}".rstrip())


def _detail(obj: KubeObject) -> str:
    if "rules" in obj:
        count = len(obj["rules"])
        return f"{count} rule{'s' if count != 1 else ''}"
    if "roleRef" in obj:
        subject = obj["subjects"][0]
        return f"→ ServiceAccount {subject['namespace']}/{subject['name']}"
    data = obj.get("data") or {}
    if KATALOG_KEY in data:
        size = format_size(len(data[KATALOG_KEY].encode("utf-8")))
        pinned = data.get(LOCK_KEY, "").count("digest:")
        return f"{KATALOG_KEY} ({size})" + (f", {LOCK_KEY} ({pinned} pinned)" if pinned else "")
    return ""
