"""Custom runtime images (``ork build runtime``): the project's runtime image with a
pattern's hook code installed, built without a Docker engine.

1. the base: by default the OCI image layout ``tools/image/build.sh`` writes
   (``dist/image/oci:<version>`` of the orkestra checkout), built with it when missing;
   else any OCI layout or registry reference
2. the build context: the pattern's top-level packages (:mod:`orkestra.runtime.hookcode`),
   its requirements, their wheels for the image's Python (3.11) and architecture (nothing
   is compiled) and pip's own wheel, as ``build.sh`` downloads them
3. buildah over its own vfs store under the cache (chroot isolation): a working container
   of the base; as root inside it, pip installs the requirements from the wheels (mounted,
   not copied) and the packages go to ``/opt/orkestra/hooks``, put on ``sys.path`` by a
   ``.pth`` file in the virtualenv's site-packages and compiled to bytecode (the chart runs
   a read-only root filesystem); labels; committed as one layer over the base's, its
   user, entrypoint and environment unchanged
4. the image as an OCI layout, then checked with ``tools/image/oci_run.py``: inside it, as
   its user, orkestra's hook loader imports every CRD's hooks and CR model as ``ork run``
   will (from installed packages, not from beside a katalog); a failure fails the build
5. with ``push``: to the registry the tag names (plain HTTP for 127.0.0.1 and localhost)

Needs root (buildah's chroot isolation, the chroot of the check) and buildah; building the
default base needs debootstrap too. One build at a time per store; the store keeps only
the base between builds (vfs copies every layer in full).
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from orkestra import __version__
from orkestra.errors import OrkError, UsageError
from orkestra.runtime.hookcode import HookCode, filtered_requirements, skipped

Log = Callable[[str], None]

IMAGE_PYTHON = "3.11"  # Debian bookworm's, the base image's (tools/image/rootfs.sh)
IMAGE_GLIBC_MINOR = 36
HOOKS_DIR = "/opt/orkestra/hooks"
PTH_FILE = "orkestra-hooks.pth"
STORE = "buildah-runtime"  # beside build.sh's "buildah" store in the cache
APT_HINT = "apt-get install buildah debootstrap"
LABEL_RUNTIME = "io.orkestra.runtime-image"
LABEL_HOOKS = "io.orkestra.hooks"
LABEL_NAME = "io.orkestra.katalog.name"
LABEL_VERSION = "io.orkestra.katalog.version"
LABEL_BASE = "org.opencontainers.image.base.name"
REF_NAME = "org.opencontainers.image.ref.name"
PLAIN_HTTP_HOSTS = ("127.0.0.1", "localhost")
TRANSPORTS = ("oci:", "docker://", "oci-archive:", "docker-archive:", "containers-storage:")

_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*(?::\d+)?")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"\w[\w.-]{0,127}")

# Run as root in the working container, the context mounted at /mnt.
_INSTALL = r"""set -eu
hooks=@HOOKS@
if [ -d /mnt/wheels ]; then
  set --
  for file in /mnt/requirements/*.txt; do set -- "$@" -r "$file"; done
  python3 /mnt/pip/pip.whl/pip install --quiet --no-index --no-cache-dir \
    --disable-pip-version-check --root-user-action=ignore --find-links /mnt/wheels "$@"
fi
mkdir -p "$hooks"
for package in /mnt/hooks/*; do rm -rf "$hooks/${package##*/}"; done
cp -R /mnt/hooks/. "$hooks/"
chmod -R u=rwX,go=rX "$hooks"
site="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$hooks" >"$site/@PTH@"
python3 -m compileall -q "$hooks" >/dev/null
""".replace("@HOOKS@", HOOKS_DIR).replace("@PTH@", PTH_FILE)

# Run as the image's user by tools/image/oci_run.py: argv[1] the CRDs' code keys (JSON),
# argv[2] the image; what `ork run` does with them, from the installed packages.
_CHECK = """import json, os, sys
os.environ["ORK_RUNTIME_IMAGE"] = sys.argv[2]
from orkestra.hooks.loader import HookLoadError, Loader, load_hooks
loader, failed = Loader(), []
for crd, entry in json.loads(sys.argv[1]).items():
    try:
        load_hooks(entry, None, loader)
        print(f"{crd}: hooks loaded")
    except HookLoadError as exc:
        failed.append(f"{crd}: {exc.render()}")
print("\\n".join(failed), file=sys.stderr)
sys.exit(1 if failed else 0)
"""


class RuntimeImageError(OrkError):
    """A custom runtime image could not be built."""


@dataclass(frozen=True)
class ImageTag:
    """``[HOST[:PORT]/]PATH:TAG``, the name the image is built and pushed as."""

    repository: str
    tag: str

    @classmethod
    def parse(cls, text: str) -> ImageTag:
        hint = "e.g. --tag ghcr.io/myorg/database-operator:v1.0.0"
        if "@" in text:
            raise UsageError(f"{text}: give a tag, not a digest", hint=hint)
        repository, sep, tag = text.rpartition(":")
        if not sep or "/" in tag or not repository:
            raise UsageError(f"{text}: the image needs a tag (REPO:TAG)", hint=hint)
        parts = repository.split("/")
        host = _host_of(parts)
        path = parts[1:] if host else parts
        if (
            not _TAG.fullmatch(tag)
            or not path
            or not all(_COMPONENT.fullmatch(p) for p in path)
            or (host is not None and not _HOST.fullmatch(host))
        ):
            raise UsageError(
                f"{text}: not an image reference (lowercase repository path, "
                "tag of letters, digits, '_', '.' and '-')",
                hint=hint,
            )
        return cls(repository, tag)

    @property
    def host(self) -> str | None:
        return _host_of(self.repository.split("/"))

    @property
    def plain_http(self) -> bool:
        return plain_http(self.host)

    @property
    def slug(self) -> str:
        """A directory name for the repository."""
        return re.sub(r"[^A-Za-z0-9._-]+", "_", self.repository)

    def __str__(self) -> str:
        return f"{self.repository}:{self.tag}"


def _host_of(parts: list[str]) -> str | None:
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def plain_http(host: str | None) -> bool:
    """A registry on this machine is spoken to over plain HTTP, without TLS checks."""
    return host is not None and host.rsplit(":", 1)[0] in PLAIN_HTTP_HOSTS


@dataclass(frozen=True)
class Tools:
    """The image tools of the orkestra checkout this package runs from."""

    root: Path

    @classmethod
    def find(cls, root: Path | None = None) -> Tools:
        tools = cls(root or Path(__file__).resolve().parents[2])
        if not tools.oci_run.is_file() or not tools.build_script.is_file():
            raise RuntimeImageError(
                f"no tools/image in {tools.root}: ork build runtime uses the image tools "
                "of an orkestra source checkout (build.sh, oci_run.py)",
                hint="run it from a checkout installed with pip install -e .",
            )
        return tools

    @property
    def build_script(self) -> Path:
        return self.root / "tools" / "image" / "build.sh"

    @property
    def oci_run(self) -> Path:
        return self.root / "tools" / "image" / "oci_run.py"

    @property
    def default_layout(self) -> Path:
        return self.root / "dist" / "image" / "oci"  # build.sh's $OUT/oci


@dataclass(frozen=True, kw_only=True)
class BuildOptions:
    tag: ImageTag
    base: str | None = None  # None: the checkout's image, built when missing
    rebuild_base: bool = False
    layout: Path | None = None  # None: under the cache
    push: bool = False
    tls_verify: bool | None = None  # None: off for 127.0.0.1 and localhost


@dataclass(frozen=True, kw_only=True)
class Built:
    image: str
    base: str
    layout: str  # DIR:TAG
    digest: str  # of the pushed manifest, else of the layout's
    labels: dict[str, str]
    pushed: bool
    seconds: float


def cache_dir() -> Path:
    """build.sh's cache: $ORK_IMAGE_CACHE, else $XDG_CACHE_HOME/orkestra."""
    if os.environ.get("ORK_IMAGE_CACHE"):
        return Path(os.environ["ORK_IMAGE_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "orkestra"


def check_host(*programs: str) -> None:
    """Root and the programs the build runs; the error says what to install."""
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        raise RuntimeImageError(
            f"{' and '.join(missing)} not installed: ork build runtime "
            "builds with buildah (no Docker engine)",
            hint=APT_HINT,
        )
    if os.geteuid() != 0:
        raise RuntimeImageError(
            "ork build runtime must run as root (buildah's chroot "
            "isolation, and the check that chroots into the image)",
            hint="run it as root, e.g. with sudo",
        )


def base_reference(text: str | None, tools: Tools) -> str:
    """What buildah builds FROM: ``oci:DIR[:TAG]`` for a layout, else a registry image."""
    if text is None:
        return f"oci:{tools.default_layout}:{__version__}"
    if text.startswith(TRANSPORTS):
        return text
    head, sep, tail = text.rpartition(":")
    path, tag = (Path(head), tail) if sep and head and "/" not in tail else (Path(text), "")
    if (path / "index.json").is_file():
        return f"oci:{path.resolve()}" + (f":{tag}" if tag else "")
    return f"docker://{text}"


def labels(code: HookCode, base: str) -> dict[str, str]:
    return {
        LABEL_RUNTIME: "true",
        LABEL_HOOKS: ",".join(code.modules),
        LABEL_NAME: code.name,
        LABEL_VERSION: code.version,
        LABEL_BASE: base,
    }


def build_runtime_image(
    code: HookCode, options: BuildOptions, log: Log, tools: Tools | None = None
) -> Built:
    """Build (check, and push) the runtime image of one pattern's code."""
    started = time.monotonic()
    tools = tools or Tools.find()
    check_host("buildah")
    base = _ensure_base(options, tools, log)
    layout = (options.layout or cache_dir() / "runtime-images" / options.tag.slug).resolve()
    with tempfile.TemporaryDirectory(prefix="ork-build-runtime-") as work:
        context = _context(code, Path(work), log)
        image_labels = labels(code, base)
        with _store(cache_dir() / STORE) as buildah:
            base_id = buildah.build(base, context, image_labels, options, log)
            try:
                digest = buildah.to_layout(options.tag, layout, fresh=options.layout is None)
                _check(tools, f"{layout}:{options.tag.tag}", code, options.tag, log)
                if options.push:
                    digest = buildah.push(options.tag, options.tls_verify, log)
            finally:
                buildah.keep_only(base_id)
    return Built(
        image=str(options.tag),
        base=base,
        layout=f"{layout}:{options.tag.tag}",
        digest=digest,
        labels=image_labels,
        pushed=options.push,
        seconds=time.monotonic() - started,
    )


# -- the base -------------------------------------------------------------------------------


def _ensure_base(options: BuildOptions, tools: Tools, log: Log) -> str:
    base = base_reference(options.base, tools)
    if options.base is None and (
        options.rebuild_base or not _has_tag(tools.default_layout, __version__)
    ):
        check_host("buildah", "debootstrap")
        log(f"building the base image with {tools.build_script} (its caches make later runs quick)")
        _build_base(tools, log)
    return base


def _has_tag(layout: Path, tag: str) -> bool:
    try:
        index = json.loads((layout / "index.json").read_text())
    except (OSError, ValueError):
        return False
    return any(
        (m.get("annotations") or {}).get(REF_NAME) == tag for m in index.get("manifests", [])
    )


def _build_base(tools: Tools, log: Log) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(tools.default_layout.parent)}
    with subprocess.Popen(
        ["bash", str(tools.build_script)],
        env=env,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            log(line.rstrip("\n"))
    if process.returncode != 0:
        raise RuntimeImageError(
            f"{tools.build_script} failed (exit {process.returncode}): "
            "the base image could not be built",
            hint=APT_HINT,
        )


# -- the build context ----------------------------------------------------------------------


def _context(code: HookCode, work: Path, log: Log) -> Path:
    """hooks/ (the packages), requirements/, wheels/ and pip/ (only with requirements)."""
    context = work / "context"
    (context / "hooks").mkdir(parents=True)
    for package in code.packages:
        target = context / "hooks" / package.source.name
        if package.source.is_dir():
            shutil.copytree(package.source, target, ignore=skipped)
        else:
            shutil.copy2(package.source, target)
    if code.requirements.empty:
        return context
    requirements = context / "requirements"
    requirements.mkdir()
    for number, path in enumerate(code.requirements.files):
        (requirements / f"{number}-{path.name}").write_text(filtered_requirements(path))
    if code.requirements.dependencies:
        (requirements / "pyproject.txt").write_text(
            "".join(f"{d}\n" for d in code.requirements.dependencies)
        )
    _download(context, work, log)
    return context


def _download(context: Path, work: Path, log: Log) -> None:
    machine = platform.machine()
    if machine not in ("x86_64", "aarch64"):
        raise RuntimeImageError(
            f"unsupported architecture {machine}", hint="x86_64 and aarch64 have manylinux wheels"
        )
    log(
        f"downloading the requirements' wheels (python {IMAGE_PYTHON}, "
        f"glibc 2.{IMAGE_GLIBC_MINOR}, {machine})"
    )
    files = sorted((context / "requirements").glob("*.txt"))
    _pip(
        [
            "download",
            "--only-binary=:all:",
            "--python-version",
            IMAGE_PYTHON,
            "--implementation",
            "cp",
            "--abi",
            "cp" + IMAGE_PYTHON.replace(".", ""),
            *_platforms(machine),
            "-d",
            str(context / "wheels"),
            *[arg for f in files for arg in ("-r", str(f))],
        ],
        "could not download the requirements as wheels for python "
        f"{IMAGE_PYTHON} on {machine} (a requirement without a wheel would need a "
        "compiler in the image)",
    )
    _pip(
        ["download", "--only-binary=:all:", "--no-deps", "-d", str(work / "pip"), "pip"],
        "could not download pip's wheel",
    )
    (context / "pip").mkdir()
    newest = max((work / "pip").glob("pip-*.whl"), key=lambda p: p.stat().st_mtime)
    shutil.copy2(newest, context / "pip" / "pip.whl")


def _platforms(machine: str) -> list[str]:
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(IMAGE_GLIBC_MINOR, 16, -1)]
    tags.append(f"manylinux2014_{machine}")
    if machine == "x86_64":
        tags += ["manylinux2010_x86_64", "manylinux1_x86_64"]
    return [arg for tag in tags for arg in ("--platform", tag)]


def _pip(args: list[str], failure: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeImageError(
            f"{failure}:\n{_tail(done.stderr or done.stdout)}",
            hint="pip must reach the package index; every requirement needs a wheel for the image",
        )


# -- buildah --------------------------------------------------------------------------------


@dataclass
class _Buildah:
    """buildah over one vfs store of its own."""

    store: Path

    def argv(self, *args: str) -> list[str]:
        return [
            "buildah",
            "--root",
            str(self.store / "storage"),
            "--runroot",
            str(self.store / "run"),
            "--storage-driver",
            "vfs",
            *args,
        ]

    def env(self) -> dict[str, str]:
        """buildah refuses to run when $DOCKER_CONFIG has no config.json; that means no
        credentials, which an empty auth file says too."""
        env = dict(os.environ)
        docker = env.get("DOCKER_CONFIG")
        if (
            docker
            and not env.get("REGISTRY_AUTH_FILE")
            and not (Path(docker) / "config.json").is_file()
        ):
            empty = self.store / "no-credentials.json"
            empty.write_text("{}\n")
            env["REGISTRY_AUTH_FILE"] = str(empty)
        return env

    def __call__(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            self.argv(*args), capture_output=True, text=True, env=self.env(), check=False
        )
        if check and done.returncode != 0:
            raise RuntimeImageError(
                f"buildah {args[0]} failed (exit {done.returncode}):\n"
                f"{_tail(done.stderr or done.stdout)}"
            )
        return done.stdout.strip()

    def build(
        self,
        base: str,
        context: Path,
        image_labels: dict[str, str],
        options: BuildOptions,
        log: Log,
    ) -> str:
        """Commit the image as the options' tag; the base image's id."""
        tag = options.tag
        log(f"buildah from {base}")
        container = self("from", "--quiet", *self.source(base, options.tls_verify))
        try:
            base_id = self(
                "inspect", "--type", "container", "--format", "{{.FromImageID}}", container
            )
            log(f"installing the code into {HOOKS_DIR} and the requirements into the virtualenv")
            self(
                "run",
                "--isolation",
                "chroot",
                "--user",
                "0:0",
                "--volume",
                f"{context}:/mnt:ro",
                container,
                "--",
                "/bin/sh",
                "-c",
                _INSTALL,
            )
            self(
                "config",
                *[a for k, v in image_labels.items() for a in ("--label", f"{k}={v}")],
                container,
            )
            log(f"committing {tag}")
            self("commit", "--quiet", "--format", "oci", "--rm", container, str(tag))
        except BaseException:
            self("rm", container, check=False)
            raise
        return base_id

    def source(self, base: str, tls_verify: bool | None = None) -> list[str]:
        """``buildah from``'s arguments: an OCI layout's image by id when the store has it
        (a layout is named after its directory, not its content), else the reference."""
        if not base.startswith("oci:"):
            verify = not plain_http(_registry_of(base)) if tls_verify is None else tls_verify
            return [f"--tls-verify={str(verify).lower()}", base]
        image_id = _layout_image_id(base)
        if image_id and self(
            "inspect", "--type", "image", "--format", "{{.FromImageID}}", image_id, check=False
        ):
            return [image_id]
        return ["--pull=always", base]

    def keep_only(self, base_id: str) -> None:
        """Drop every image but the base (reused by the next build): vfs stores each
        layer in full, and the image is in its OCI layout (and registry) now."""
        for image in self("images", "--all", "--quiet", "--no-trunc", check=False).split():
            if image.removeprefix("sha256:") != base_id.removeprefix("sha256:"):
                self("rmi", "--force", image, check=False)

    def to_layout(self, tag: ImageTag, layout: Path, *, fresh: bool) -> str:
        if fresh:
            shutil.rmtree(layout, ignore_errors=True)
        layout.parent.mkdir(parents=True, exist_ok=True)
        self("push", "--quiet", str(tag), f"oci:{layout}:{tag.tag}")
        index = json.loads((layout / "index.json").read_text())
        return next(
            str(m["digest"])
            for m in index["manifests"]
            if (m.get("annotations") or {}).get(REF_NAME) == tag.tag
        )

    def push(self, tag: ImageTag, tls_verify: bool | None, log: Log) -> str:
        verify = not tag.plain_http if tls_verify is None else tls_verify
        log(f"pushing {tag}" + ("" if verify else " (TLS not verified)"))
        with tempfile.NamedTemporaryFile("r", prefix="ork-digest-") as digest:
            self(
                "push",
                "--quiet",
                f"--tls-verify={str(verify).lower()}",
                "--digestfile",
                digest.name,
                str(tag),
                f"docker://{tag}",
            )
            return digest.read().strip()


def _layout_image_id(base: str) -> str | None:
    """The image id (its config's digest) of ``oci:DIR[:TAG]``; None when unreadable."""
    head, sep, tail = base.removeprefix("oci:").rpartition(":")
    layout, tag = (
        (Path(head), tail) if sep and "/" not in tail else (Path(base.removeprefix("oci:")), None)
    )
    try:
        entries = json.loads((layout / "index.json").read_text())["manifests"]
        if tag is not None:
            entries = [m for m in entries if (m.get("annotations") or {}).get(REF_NAME) == tag]
        if len(entries) != 1:
            return None
        manifest = json.loads(_blob(layout, entries[0]["digest"]).read_text())
        return str(manifest["config"]["digest"]).removeprefix("sha256:")
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _blob(layout: Path, digest: str) -> Path:
    algorithm, _, value = digest.partition(":")
    return layout / "blobs" / algorithm / value


def _registry_of(base: str) -> str | None:
    name = base.removeprefix("docker://")
    return _host_of(name.split("/"))


@contextmanager
def _store(store: Path) -> Iterator[_Buildah]:
    """The store, locked for this build; a working container a failed build left goes."""
    store.mkdir(parents=True, exist_ok=True)
    with open(store / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        buildah = _Buildah(store)
        buildah("rm", "--all", check=False)
        yield buildah


# -- the check ------------------------------------------------------------------------------


def _check(tools: Tools, layout: str, code: HookCode, tag: ImageTag, log: Log) -> None:
    """orkestra's hook loader inside the image, as its user: every CRD's code loads."""
    log("loading the hooks inside the image as its user (tools/image/oci_run.py)")
    done = subprocess.run(
        [
            sys.executable,
            str(tools.oci_run),
            layout,
            "--entrypoint",
            "python3",
            "--",
            "-c",
            _CHECK,
            json.dumps(code.entries, default=str),
            str(tag),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        log(line)
    if done.returncode != 0:
        raise RuntimeImageError(
            f"the image does not load the pattern's code:\n{_tail(done.stderr or done.stdout)}",
            hint="the modules must import with only the image's "
            "packages: list what they import in "
            "requirements.txt",
        )


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join("  " + line for line in text.strip().splitlines()[-lines:])
