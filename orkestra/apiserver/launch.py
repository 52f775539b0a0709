"""How one Pod's container becomes a local process: its command line, environment, files
and ports (:mod:`orkestra.apiserver.processes` starts and watches the process).

A container of the runtime image runs ``ork ARGS``; locally that is this interpreter's
``python -m orkestra ARGS`` (never an import of the runtime: the API server only launches
it). Kubernetes gives a container things a local process does not have, so they are made:

- **files**: every ConfigMap, Secret and emptyDir volume the container mounts is written
  to a directory of the Pod's private home, and each ``mountPath`` is replaced by that
  directory wherever it begins an argument, an ``--flag=`` value or an environment value;
  a volume mounted at ``/tmp`` also becomes ``TMPDIR``;
- **credentials**: no in-cluster service account exists here, so ``KUBECONFIG`` names a
  kubeconfig for the embedded server written into the home (the ``KUBERNETES_*``
  variables of the parent are removed so the process does not think it runs in a pod);
- **ports**: replicas would collide on their ``containerPort`` and with anything else on
  127.0.0.1, so every port argument (``--port N``, ``--http-port=N``, any flag ending in
  ``port``) gets a free local port, and so does every declared ``containerPort``; probes
  and Services are translated through the same mapping. A containerPort the arguments do
  not name cannot be moved: the process listens on it itself (one replica only).

``$(VAR)`` references in the command and arguments are expanded from the container's
environment, as the kubelet does (``$$`` escapes).
"""

from __future__ import annotations

import base64
import os
import re
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from orkestra.apiserver.specs import (
    ConfigMapVolumeSource,
    Container,
    EnvVar,
    KeyToPath,
    PodSpec,
    SecretVolumeSource,
    Volume,
    pod_spec,
)
from orkestra.errors import OrkError
from orkestra.kubeobjects import KubeObject

# ("ConfigMap" | "Secret", name) -> its data as bytes, None when it does not exist
Lookup = Callable[[str, str], dict[str, bytes] | None]
PORT_FLAG = re.compile(r"^--?[A-Za-z0-9-]*port$")
VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
DROPPED_ENV = ("KUBECONFIG", "KUBERNETES_", "ORK_", "HELM_")
LOCALHOST = "127.0.0.1"


class NotStartableError(OrkError):
    """The container cannot start (yet): a missing ConfigMap or an unknown command.
    ``reason`` is the container's waiting reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(kw_only=True)
class Launch:
    """A container's process: what to run and where it listens."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    ports: dict[int, int] = field(default_factory=dict)  # containerPort -> local port
    names: dict[str, int] = field(default_factory=dict)  # port name -> containerPort

    def local_port(self, port: int | str) -> int | None:
        """The local port of a container port given by number or name."""
        number = self.names.get(port) if isinstance(port, str) else port
        if number is None:
            return None
        return self.ports.get(number, number)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def image_repository(image: str) -> str:
    """``ghcr.io/orkspace/orkestra`` of ``ghcr.io/orkspace/orkestra:0.4.0@sha256:…``."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def is_local(image: str, local_images: tuple[str, ...]) -> bool:
    return image_repository(image) in local_images


def local_container(spec: PodSpec, local_images: tuple[str, ...]) -> Container | None:
    """The first container of a pod spec that runs a local image, if any."""
    for container in spec.get("containers") or []:
        if isinstance(container, dict) and is_local(str(container.get("image", "")), local_images):
            return container
    return None


# -- files --------------------------------------------------------------------------------


def _decoded(kind: str, obj: KubeObject) -> dict[str, bytes]:
    data: dict[str, bytes] = {}
    if kind == "ConfigMap":
        data.update({k: str(v).encode() for k, v in (obj.get("data") or {}).items()})
        data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
    else:
        data.update({k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()})
        data.update({k: str(v).encode() for k, v in (obj.get("stringData") or {}).items()})
    return data


def source_data(kind: str, obj: KubeObject) -> dict[str, bytes]:
    """The bytes of every key of a ConfigMap or Secret."""
    return _decoded(kind, obj)


def _volume_source(
    volume: Volume,
) -> tuple[str, str, ConfigMapVolumeSource | SecretVolumeSource] | None:
    """("ConfigMap" | "Secret", name, the volume source) of a volume, None for others."""
    config_map, secret = volume.get("configMap"), volume.get("secret")
    if isinstance(config_map, dict):
        return "ConfigMap", str(config_map.get("name", "")), config_map
    if isinstance(secret, dict):
        return "Secret", str(secret.get("secretName", "")), secret
    return None


def _write_volume(target: Path, data: dict[str, bytes], items: list[KeyToPath] | None) -> None:
    target.mkdir(parents=True, exist_ok=True)
    chosen = (
        [(str(i["key"]), str(i.get("path") or i["key"])) for i in items]
        if items
        else [(key, key) for key in data]
    )
    for key, path in chosen:
        if key not in data:
            raise NotStartableError(
                "CreateContainerConfigError", f"couldn't find key {key} in the volume's source"
            )
        relative = PurePosixPath(path)
        if relative.is_absolute() or ".." in relative.parts:
            raise NotStartableError("CreateContainerConfigError", f"invalid volume path {path}")
        file = target.joinpath(*relative.parts)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data[key])


def volumes(spec: PodSpec, container: Container, home: Path, lookup: Lookup) -> dict[str, Path]:
    """Write the volumes the container mounts under ``home/volumes``; returns each
    mountPath's local directory (or file, with ``subPath``)."""
    by_name = {str(v.get("name")): v for v in spec.get("volumes") or [] if isinstance(v, dict)}
    mounts: dict[str, Path] = {}
    for mount in container.get("volumeMounts") or []:
        name = str(mount.get("name", ""))
        volume = by_name.get(name)
        if volume is None:
            raise NotStartableError("CreateContainerConfigError", f'volume "{name}" not found')
        local = home / "volumes" / name
        if not local.exists():
            _fill(volume, local, lookup)
        sub = str(mount.get("subPath") or "")
        mounts[str(mount.get("mountPath", ""))] = local / sub if sub else local
    return mounts


def _fill(volume: Volume, local: Path, lookup: Lookup) -> None:
    source = _volume_source(volume)
    if source is None:  # emptyDir and anything else: an empty directory
        local.mkdir(parents=True, exist_ok=True)
        return
    kind, name, spec = source
    data = lookup(kind, name)
    if data is None:
        if spec.get("optional"):
            local.mkdir(parents=True, exist_ok=True)
            return
        raise NotStartableError("ContainerCreating", f'{kind.lower()} "{name}" not found')
    _write_volume(local, data, spec.get("items"))


def rewrite_paths(value: str, mounts: Mapping[str, Path]) -> str:
    """``value`` with a leading mountPath (or one after ``=``) replaced by its local
    directory: the longest mountPath wins."""
    for mount in sorted(mounts, key=len, reverse=True):
        if not mount:
            continue
        for prefix in ("", *(value[: i + 1] for i, c in enumerate(value) if c == "=")):
            rest = value[len(prefix) :]
            if rest == mount or rest.startswith(mount.rstrip("/") + "/"):
                return prefix + str(mounts[mount]) + rest[len(mount.rstrip("/")) :]
    return value


# -- environment --------------------------------------------------------------------------


def _field(pod: KubeObject, path: str) -> str:
    meta = pod.get("metadata") or {}
    spec = pod_spec(pod)
    fields = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.podIP": LOCALHOST,
        "status.hostIP": LOCALHOST,
    }
    match = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if match:
        found = meta.get("labels") if match.group(1) == "labels" else meta.get("annotations")
        return str((found or {}).get(match.group(2), ""))
    return str(fields.get(path) or "")


# the fields of env[].valueFrom and envFrom[] that name a ConfigMap or a Secret
_KEY_REFS: tuple[tuple[Literal["configMapKeyRef", "secretKeyRef"], str], ...] = (
    ("configMapKeyRef", "ConfigMap"),
    ("secretKeyRef", "Secret"),
)
_SOURCE_REFS: tuple[tuple[Literal["configMapRef", "secretRef"], str], ...] = (
    ("configMapRef", "ConfigMap"),
    ("secretRef", "Secret"),
)


def _env_value(entry: EnvVar, pod: KubeObject, lookup: Lookup) -> str | None:
    if "value" in entry or "valueFrom" not in entry:
        return str(entry.get("value") or "")
    source = entry.get("valueFrom") or {}
    if "fieldRef" in source:
        return _field(pod, str(source["fieldRef"].get("fieldPath", "")))
    for key, kind in _KEY_REFS:
        ref = source.get(key)
        if isinstance(ref, dict):
            data = lookup(kind, str(ref.get("name", ""))) or {}
            if ref.get("key") in data:
                return data[str(ref["key"])].decode("utf-8", "replace")
            if ref.get("optional"):
                return None
            raise NotStartableError(
                "CreateContainerConfigError",
                f"couldn't find key {ref.get('key')} in {kind} "
                f"{pod['metadata'].get('namespace')}/{ref.get('name')}",
            )
    return ""  # resourceFieldRef: nothing sensible locally


def _env_from(container: Container, lookup: Lookup) -> dict[str, str]:
    env: dict[str, str] = {}
    for entry in container.get("envFrom") or []:
        for key, kind in _SOURCE_REFS:
            ref = entry.get(key)
            if not isinstance(ref, dict):
                continue
            data = lookup(kind, str(ref.get("name", "")))
            if data is None and not ref.get("optional"):
                raise NotStartableError(
                    "CreateContainerConfigError", f'{kind.lower()} "{ref.get("name")}" not found'
                )
            prefix = str(entry.get("prefix") or "")
            env.update({prefix + k: v.decode("utf-8", "replace") for k, v in (data or {}).items()})
    return env


def container_env(pod: KubeObject, container: Container, lookup: Lookup) -> dict[str, str]:
    """The container's own environment (envFrom, then env with ``$(VAR)`` expanded)."""
    env = _env_from(container, lookup)
    for entry in container.get("env") or []:
        value = _env_value(entry, pod, lookup)
        if value is not None:
            env[str(entry["name"])] = expand(value, env)
    return env


def expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion: unknown references stay, ``$$`` is ``$``."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return VAR_REF.sub(one, value)


def base_env() -> dict[str, str]:
    """This process's environment without what would point a child at another cluster."""
    return {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_ENV)}


# -- command line and ports ---------------------------------------------------------------


def command_line(container: Container) -> list[str]:
    """``ork ARGS`` as this interpreter's ``python -m orkestra ARGS``."""
    command = [str(c) for c in container.get("command") or []]
    args = [str(a) for a in container.get("args") or []]
    if command and PurePosixPath(command[0]).name != "ork":
        raise NotStartableError(
            "RunContainerError", f"only the ork command runs locally, not {command[0]}"
        )
    return [sys.executable, "-m", "orkestra", *command[1:], *args]


def _port_value(arg: str) -> int | None:
    return int(arg) if arg.isdigit() and 0 < int(arg) < 65536 else None


def remap_ports(argv: list[str], ports: dict[int, int]) -> list[str]:
    """``argv`` with every port flag's value moved to a free local port (recorded in
    ``ports``, which may already map declared containerPorts)."""

    def moved(number: int) -> int:
        if number not in ports:
            ports[number] = free_port()
        return ports[number]

    out: list[str] = []
    for i, arg in enumerate(argv):
        flag, eq, value = arg.partition("=")
        number = _port_value(value)
        if eq and PORT_FLAG.match(flag) and number is not None:
            out.append(f"{flag}={moved(number)}")
            continue
        number = _port_value(arg)
        if i > 0 and number is not None and PORT_FLAG.match(argv[i - 1]):
            out.append(str(moved(number)))
            continue
        out.append(arg)
    return out


def declared_ports(container: Container) -> dict[str, int]:
    return {
        str(p["name"]): int(p["containerPort"])
        for p in container.get("ports") or []
        if isinstance(p, dict) and p.get("name") and isinstance(p.get("containerPort"), int)
    }


def plan(
    pod: KubeObject, container: Container, *, home: Path, kubeconfig: Path, lookup: Lookup
) -> Launch:
    """The process of ``container`` in ``pod``, its volumes written under ``home``."""
    spec = pod_spec(pod)
    mounts = volumes(spec, container, home, lookup)
    own = container_env(pod, container, lookup)
    interpreter, *rest = command_line(container)
    # Only the container's own words are rewritten: this interpreter's path may well lie
    # under a mounted directory such as /tmp.
    argv = [interpreter, *(rewrite_paths(expand(a, own), mounts) for a in rest)]
    ports: dict[int, int] = {}
    argv = argv[:3] + remap_ports(argv[3:], ports)
    env = {
        **base_env(),
        **{k: rewrite_paths(v, mounts) for k, v in own.items()},
        "KUBECONFIG": str(kubeconfig),
        "HOSTNAME": str(pod["metadata"]["name"]),
        "HOME": str(home),
    }
    if "/tmp" in mounts:
        env["TMPDIR"] = str(mounts["/tmp"])
    names = declared_ports(container)
    workdir = str(container.get("workingDir") or "")
    cwd = Path(rewrite_paths(workdir, mounts)) if workdir and workdir in mounts else home
    return Launch(argv=argv, env=env, cwd=cwd, ports=ports, names=names)
