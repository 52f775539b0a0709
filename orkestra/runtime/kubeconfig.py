"""Where the runtime finds its cluster: kubeconfig files and contexts, the in-cluster service
account, the TLS context and the credentials of a request.

Hand-written rather than lightkube's ``KubeConfig``: importing ``lightkube.config`` brings
lightkube and httpx with it, start-up time of every ``ork run`` for a few hundred lines of
YAML walking, while the runtime's requests go through :mod:`orkestra.transport` and
:mod:`orkestra.runtime.asynchttp` anyway. ``import orkestra.runtime.kube`` took 315 ms with
lightkube and 267 ms without (medians of 20 interleaved runs; lightkube's subtree in
``python -X importtime``: 45-56 ms).

:func:`load_config` looks, in this order, at an explicit file; else the in-cluster service
account (``KUBERNETES_SERVICE_HOST``/``_PORT`` set and its token mounted; it has no named
contexts, so naming one skips it); else ``$KUBECONFIG``, files separated by
:data:`os.pathsep` merged as kubectl merges them (the first file that names a cluster, user
or context wins, and the first ``current-context`` set), or ``~/.kube/config``. Relative
paths are relative to the file that holds them; ``*-data`` fields are base64 and win over
their file twins. A cluster's ``server``, ``certificate-authority`` and
``insecure-skip-tls-verify`` are read; of a user, ``token``, ``tokenFile``, ``username`` and
``password``, ``client-certificate`` and ``client-key``, and ``exec`` (``command``,
``args``, ``env``, ``apiVersion``). Other fields are ignored, as lightkube ignored them,
except ``auth-provider`` and ``tls-server-name``, refused (the transports name the server
by its URL's host).
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import msgspec
import yaml

from orkestra.cluster.errors import ServiceUnavailableError
from orkestra.errors import OrkError

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DEFAULT_KUBECONFIG = "~/.kube/config"
DEFAULT_NAMESPACE = "default"
EXEC_API_VERSIONS = frozenset(
    f"client.authentication.k8s.io/{v}" for v in ("v1alpha1", "v1beta1", "v1")
)
HINT = (
    "pass --kubeconfig FILE (and --context NAME), set KUBECONFIG, run inside a "
    "cluster, or add --dev to start an embedded API server"
)
_SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
_NAME_VALUE = ("name", "value")

Source = Path | bytes
"""A PEM file, or the decoded contents of a ``*-data`` field."""

# The types below are msgspec Structs rather than dataclasses only because they are made
# several times faster when the module is imported (0.1 ms each against 0.5 ms).


class ConnectionConfigError(OrkError):
    """No usable Kubernetes configuration."""


def _fail(message: str) -> NoReturn:
    raise ConnectionConfigError(f"no usable Kubernetes configuration: {message}", hint=HINT)


class ExecPlugin(msgspec.Struct, frozen=True, kw_only=True):
    """A credential plugin: a command printing an ExecCredential."""

    command: str
    api_version: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


class User(msgspec.Struct, frozen=True, kw_only=True):
    """How requests authenticate; empty for none."""

    token: str | None = None
    token_file: Path | None = None
    username: str | None = None
    password: str | None = None
    client_certificate: Source | None = None
    client_key: Source | None = None
    exec: ExecPlugin | None = None


class Cluster(msgspec.Struct, frozen=True, kw_only=True):
    """The API server and how to trust it."""

    server: str
    certificate_authority: Source | None = None
    insecure: bool = False


class ClusterConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One context resolved: the cluster to call, as whom, in which namespace."""

    context: str
    cluster: Cluster
    user: User = msgspec.field(default_factory=User)
    namespace: str = DEFAULT_NAMESPACE

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of an https server (CA, insecure, client certificate); None for
        http."""
        if urlsplit(self.cluster.server).scheme != "https":
            return None
        try:
            context = _verifying(self.cluster)
            user = self.user
            if user.client_certificate is not None and user.client_key is not None:
                _load_client_pair(context, user.client_certificate, user.client_key)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise ConnectionConfigError(
                f"cannot set up TLS for {self.cluster.server}: {exc}",
                hint="check the certificate paths and data of the kubeconfig",
            ) from None
        return context


def _read(source: Source) -> bytes:
    return source.read_bytes() if isinstance(source, Path) else source


def _verifying(cluster: Cluster) -> ssl.SSLContext:
    if cluster.certificate_authority is not None:
        pem = _read(cluster.certificate_authority)
        # A PEM bundle goes in as text; anything else is taken for one DER certificate.
        cadata = pem.decode("ascii") if pem.lstrip().startswith(b"-----") else pem
        return ssl.create_default_context(cadata=cadata)
    if cluster.insecure:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context()


def _load_client_pair(context: ssl.SSLContext, certificate: Source, key: Source) -> None:
    """``ssl`` loads a certificate and key from files only: they are written together to a
    file only we can read (in a private directory), removed once loaded."""
    if isinstance(certificate, Path) and isinstance(key, Path):
        context.load_cert_chain(certificate, key)
        return
    with tempfile.TemporaryDirectory(prefix="ork-kube-") as directory:
        path = Path(directory, "client.pem")
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(_read(certificate) + b"\n" + _read(key))
        context.load_cert_chain(path)


# -- loading ----------------------------------------------------------------------------


def load_config(
    kubeconfig: str | Path | None = None,
    context: str | None = None,
    *,
    service_account: Path = SERVICE_ACCOUNT,
) -> ClusterConfig:
    """The configuration to use: ``kubeconfig`` (a file), else the in-cluster service
    account, else ``$KUBECONFIG`` or ``~/.kube/config``; ``context`` picks a context (the
    current one when None)."""
    if kubeconfig:
        explicit = Path(kubeconfig).expanduser().absolute()
        return _Merged.read([explicit], required=True).resolve(context)
    if context is None:
        in_cluster = _in_cluster(service_account)
        if in_cluster is not None:
            return in_cluster
    listed = os.environ.get("KUBECONFIG", "").split(os.pathsep)
    files = [Path(p).expanduser().absolute() for p in listed if p]
    if files:
        return _Merged.read(files, required=False).resolve(context)
    home = Path(DEFAULT_KUBECONFIG).expanduser().absolute()
    if not home.exists():
        _fail(f"not in a cluster, KUBECONFIG is not set and {home} does not exist")
    return _Merged.read([home], required=True).resolve(context)


def _in_cluster(account: Path) -> ClusterConfig | None:
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    port = os.environ.get("KUBERNETES_SERVICE_PORT")
    token = account / "token"
    if not (host and port and token.is_file()):
        return None
    if ":" in host:
        host = f"[{host}]"
    namespace_file = account / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.is_file() else ""
    return ClusterConfig(
        context="in-cluster",
        cluster=Cluster(server=f"https://{host}:{port}", certificate_authority=account / "ca.crt"),
        user=User(token_file=token),
        namespace=namespace or DEFAULT_NAMESPACE,
    )


class _Entry(msgspec.Struct, frozen=True):
    """One named cluster, user or context, with where it was read (for paths and errors)."""

    fields: Mapping[str, object]
    file: Path
    where: str  # e.g. "users[2].user"

    def wrong(self, key: str, expected: str) -> NoReturn:
        _fail(f"{self.file}: {self.where}.{key} must be {expected}")

    def text(self, key: str) -> str | None:
        value = self.fields.get(key)
        if value is not None and not isinstance(value, str):
            self.wrong(key, "a string")
        return value or None

    def items(self, key: str) -> list[object]:
        value = self.fields.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.wrong(key, "a list")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.items(key)
        if not all(isinstance(v, str) for v in values):
            self.wrong(key, "a list of strings")
        return tuple(map(str, values))

    def flag(self, key: str) -> bool:
        value = self.fields.get(key, False)
        if not isinstance(value, bool):
            self.wrong(key, "true or false")
        return value

    def path(self, key: str) -> Path | None:
        name = self.text(key)
        return None if name is None else self.file.parent / name

    def source(self, key: str) -> Source | None:
        """``key-data`` (base64) or else the file ``key``."""
        data = self.text(f"{key}-data")
        if data is None:
            return self.path(key)
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error:
            self.wrong(f"{key}-data", "base64")

    def nested(self, key: str) -> _Entry | None:
        value = self.fields.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.wrong(key, "a mapping")
        return _Entry(value, self.file, f"{self.where}.{key}")


class _Merged:
    """Kubeconfig files merged by name, the first file that defines one winning."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self.entries: dict[str, dict[str, _Entry]] = {section: {} for section, _ in _SECTIONS}
        self.current: str | None = None

    @classmethod
    def read(cls, files: list[Path], *, required: bool) -> _Merged:
        """``files`` merged; a missing one is an error when ``required``, else skipped (as
        kubectl skips them in ``$KUBECONFIG``)."""
        found = [f for f in files if required or f.exists()]
        if not found:
            _fail(f"none of the KUBECONFIG files exists: {', '.join(map(str, files))}")
        merged = cls(found)
        for file in found:
            merged._add(file, _parse(file))
        return merged

    def _add(self, file: Path, document: Mapping[str, object]) -> None:
        for section, kind in _SECTIONS:
            items = document.get(section) or []
            if not isinstance(items, list):
                _fail(f"{file}: {section} must be a list")
            for index, item in enumerate(items):
                where = f"{section}[{index}]"
                if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                    _fail(f"{file}: {where} must be a mapping with a name")
                body = _Entry(item, file, where).nested(kind)
                entry = body or _Entry({}, file, f"{where}.{kind}")
                self.entries[section].setdefault(item["name"], entry)
        current = document.get("current-context")
        if current is not None and not isinstance(current, str):
            _fail(f"{file}: current-context must be a string")
        self.current = self.current or current or None

    def _named(self, section: str, name: str, of: str) -> _Entry:
        found = self.entries[section].get(name)
        if found is None:
            kind = section[:-1]
            _fail(f"{kind} {name!r}{of} not found in {', '.join(map(str, self.files))}")
        return found

    def resolve(self, context: str | None) -> ClusterConfig:
        name = context or self.current
        if not name:
            _fail(f"no current-context in {', '.join(map(str, self.files))}; name a context")
        entry = self._named("contexts", name, "")
        cluster_name = entry.text("cluster")
        if cluster_name is None:
            _fail(f"{entry.file}: {entry.where}.cluster is missing")
        user_name = entry.text("user")
        of = f" (of context {name!r})"
        return ClusterConfig(
            context=name,
            cluster=_cluster(self._named("clusters", cluster_name, of)),
            user=User() if user_name is None else _user(self._named("users", user_name, of)),
            namespace=entry.text("namespace") or DEFAULT_NAMESPACE,
        )


def _parse(file: Path) -> Mapping[str, object]:
    try:
        document = yaml.safe_load(file.read_text())
    except OSError as exc:
        _fail(f"cannot read kubeconfig {file}: {exc.strerror or exc}")
    except yaml.YAMLError as exc:
        _fail(f"{file} is not YAML: {exc}")
    if document is None:
        return {}
    if not isinstance(document, dict):
        _fail(f"{file} is not a kubeconfig (a mapping of clusters, users and contexts)")
    return document


def _cluster(entry: _Entry) -> Cluster:
    server = entry.text("server")
    if server is None:
        _fail(f"{entry.file}: {entry.where}.server is missing")
    if entry.text("tls-server-name") is not None:
        raise ConnectionConfigError(
            f"kubeconfig tls-server-name is not supported ({entry.file}: {entry.where})",
            hint="point server at a host name that the server's certificate holds",
        )
    return Cluster(
        server=server,
        certificate_authority=entry.source("certificate-authority"),
        insecure=entry.flag("insecure-skip-tls-verify"),
    )


def _user(entry: _Entry) -> User:
    if entry.fields.get("auth-provider") is not None:
        raise ConnectionConfigError(
            f"kubeconfig auth-provider entries are not supported ({entry.file}: {entry.where})",
            hint="use a token or an exec credential plugin",
        )
    certificate = entry.source("client-certificate")
    key = entry.source("client-key")
    if (certificate is None) != (key is None):
        _fail(f"{entry.file}: {entry.where} needs both client-certificate and client-key")
    plugin = entry.nested("exec")
    return User(
        token=entry.text("token"),
        token_file=entry.path("tokenFile"),
        username=entry.text("username"),
        password=entry.text("password"),
        client_certificate=certificate,
        client_key=key,
        exec=None if plugin is None else _exec(plugin),
    )


def _exec(entry: _Entry) -> ExecPlugin:
    command = entry.text("command")
    if command is None:
        _fail(f"{entry.file}: {entry.where}.command is missing")
    api_version = entry.text("apiVersion")
    if api_version not in EXEC_API_VERSIONS:
        entry.wrong("apiVersion", "one of " + ", ".join(sorted(EXEC_API_VERSIONS)))
    if os.sep in command and not Path(command).is_absolute():
        command = str(entry.file.parent / command)  # kubectl's rule: relative to the file
    return ExecPlugin(
        command=command, api_version=api_version, args=entry.strings("args"), env=_env(entry)
    )


def _env(plugin: _Entry) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for item in plugin.items("env"):
        if not (isinstance(item, dict) and all(isinstance(item.get(k), str) for k in _NAME_VALUE)):
            plugin.wrong("env", "a list of {name, value} strings")
        pairs.append((item["name"], item["value"]))
    return tuple(pairs)


# -- credentials ------------------------------------------------------------------------


class Credentials:
    """The ``Authorization`` header of a kubeconfig user: a token, a token file (read again
    when the server answers 401, as kubelet rotates it), basic auth, or an exec plugin (run
    again when its token expires or is refused). Client certificates live in the TLS
    context instead."""

    def __init__(self, user: User) -> None:
        self.user = user
        self._header: str | None = None
        self._refused: str | None = None
        self._expires: datetime | None = None
        self._lock = threading.Lock()  # one plugin run at a time

    def header(self) -> str | None:
        with self._lock:
            if (
                self._header is None
                or self._header is self._refused
                or (self._expires is not None and datetime.now(UTC) >= self._expires)
            ):
                self._refused = None
                self._header = self._make()
            return self._header

    def refresh(self) -> bool:
        """Forget the header after a 401; whether a new one may differ. Never waits: the
        event loop calls it while a plugin may be running for another caller (whose header
        is then new anyway)."""
        renewable = self.user.token_file is not None or self.user.exec is not None
        if renewable:
            self._refused = self._header
        return renewable

    def _make(self) -> str | None:
        user = self.user
        if user.token_file is not None:
            return "Bearer " + user.token_file.read_text().strip()
        if user.token:
            return f"Bearer {user.token}"
        if user.exec is not None:
            return "Bearer " + self._exec(user.exec)
        if user.username and user.password:
            pair = f"{user.username}:{user.password}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        return None

    def _exec(self, plugin: ExecPlugin) -> str:
        token, self._expires = _run_plugin(plugin)
        return token


def _run_plugin(plugin: ExecPlugin) -> tuple[str, datetime | None]:
    """An exec plugin's token and when it expires (never when it does not say)."""
    info = {
        "apiVersion": plugin.api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }
    env = {
        **os.environ,
        "KUBERNETES_EXEC_INFO": msgspec.json.encode(info).decode(),
        **dict(plugin.env),
    }
    command = [plugin.command, *plugin.args]
    try:
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    except OSError as exc:
        _unavailable(plugin, str(exc))
    if done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip()
        _unavailable(plugin, f"exited with {done.returncode}: {stderr}")
    try:
        status = msgspec.json.decode(done.stdout)["status"]
        stamp = status.get("expirationTimestamp")
        expires = datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
        return str(status["token"]), expires
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        _unavailable(plugin, f"no ExecCredential with a status.token in its output ({exc!r})")


def _unavailable(plugin: ExecPlugin, why: str) -> NoReturn:
    raise ServiceUnavailableError(f"exec credential plugin {plugin.command}: {why}")
