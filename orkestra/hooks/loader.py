"""Importing a pattern's code: the hook module and function, the CR model, with checks.

A module path resolves against the directory of the katalog that declares it (its code
travels with the pattern) and otherwise against the installed environment (a custom
runtime image installs the hooks as a package). The pattern directory goes on ``sys.path``
the way ``kopf run`` adds a script's directory: hook modules are ordinary Python. Code in a
pulled pattern (a registry cache entry) is imported only when the caller trusts it
(``--trust-hooks``), from its verified sources only (its ``__pycache__`` is dropped
first). One :class:`Loader` serves one composition: two of its patterns
providing the same top-level package from different directories is an error; a later
composition (a restart, a test) replaces modules an earlier one loaded from elsewhere.

Every failure is a :class:`HookLoadError` naming what was looked for, where, and a
did-you-mean when a close name exists; it carries the YAML path (relative to the CRD
entry) of the key to fix.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import shutil
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from orkestra.engine.hooks import PHASES
from orkestra.errors import OrkError
from orkestra.hooks.api import HookSet
from orkestra.hooks.runner import LoadedHooks
from orkestra.hooks.spec import CodeRef, ModelRef, YamlPath, code_ref, model_ref
from orkestra.model.shapes import CrdEntry
from orkestra.registry.cache import MANIFEST_FILE

_MODULE_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
RUNTIME_IMAGE_ENV = "ORK_RUNTIME_IMAGE"
_ADDED: set[Path] = set()  # the pattern directories this process put on sys.path


class HookLoadError(OrkError):
    """The code a katalog names cannot be used."""

    def __init__(
        self, message: str, hint: str = "", *, path: YamlPath = (), expected: str = ""
    ) -> None:
        super().__init__(message, hint)
        self.path = path
        self.expected = expected


class HooksNotTrustedError(HookLoadError):
    """A pulled pattern's code was not trusted by the caller."""


@dataclass(frozen=True)
class CodeSource:
    """Where a pattern's files are, and whether its code may run."""

    root: Path | None
    trusted: bool = False

    @property
    def pulled(self) -> bool:
        return self.root is not None and (self.root / MANIFEST_FILE).is_file()


def _where(exc: BaseException) -> str:
    """``file:line`` of the innermost frame of an exception (the user's code)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""


def _suggest(name: str, candidates: list[str]) -> str:
    import difflib  # only on an error

    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f'did you mean "{close[0]}"?' if close else ""


def _modules_in(root: Path | None) -> list[str]:
    """Top-level modules and packages of a directory, and the modules of its packages."""
    if root is None or not root.is_dir():
        return []
    found = []
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if any(p.startswith(".") or not p.isidentifier() for p in parts):
            continue
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(set(found) - {""})


class Loader:
    """Imports the code of one composition."""

    def __init__(self, *, trusted: bool = False) -> None:
        self.trusted = trusted
        self._claims: dict[str, Path] = {}

    def module(self, name: str, root: Path | None, path: YamlPath) -> ModuleType:
        if not _MODULE_PATH.fullmatch(name):
            hint = (
                "a Go import path does not name Python code; give the Python module "
                "path of the package beside the katalog"
                if "/" in name
                else ""
            )
            raise HookLoadError(
                f'"{name}" is not a Python module path',
                hint,
                path=path,
                expected="a dotted module path such as dbhooks.database",
            )
        source = CodeSource(root, self.trusted)
        top = name.split(".")[0]
        if source.root is not None and _provides(source.root, top):
            if source.pulled and not source.trusted:
                raise HooksNotTrustedError(
                    f"this pattern was pulled from a registry and runs Python code "
                    f"({name}); it is not executed unless you trust it",
                    "re-run with "
                    "--trust-hooks once you have read its code (ork pull puts it in "
                    f"{source.root})",
                    path=path,
                )
            if source.pulled:
                _drop_bytecode(source.root, top)
            self._claim(top, source.root, path)
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            raise self._not_found(name, exc, source, path) from None
        except SyntaxError as exc:
            raise HookLoadError(
                f'hook module "{name}" has a syntax error: {exc.msg} ({exc.filename}:{exc.lineno})',
                path=path,
            ) from None
        except Exception as exc:
            raise HookLoadError(
                f'importing "{name}" failed: {type(exc).__name__}: {exc}{_where(exc)}', path=path
            ) from None

    def _claim(self, top: str, root: Path, path: YamlPath) -> None:
        root = root.resolve()
        claimed = self._claims.get(top)
        if claimed is not None and claimed != root:
            raise HookLoadError(
                f'two patterns provide the Python package "{top}" ({claimed} and {root})',
                "give each pattern's code its own top-level package name (e.g. dbhooks)",
                path=path,
            )
        self._claims[top] = root
        loaded = sys.modules.get(top)
        if loaded is not None and _origin(loaded) != root:
            for module in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
                del sys.modules[module]
        # A pattern directory added earlier that provides the same package goes: a regular
        # package there would win over a namespace package here, whatever the order.
        for earlier in [r for r in _ADDED if r != root and _provides(r, top)]:
            _ADDED.discard(earlier)
            if str(earlier) in sys.path:
                sys.path.remove(str(earlier))
        if str(root) in sys.path:
            sys.path.remove(str(root))
        sys.path.insert(0, str(root))
        _ADDED.add(root)
        importlib.invalidate_caches()

    def _not_found(
        self, name: str, exc: ModuleNotFoundError, source: CodeSource, path: YamlPath
    ) -> HookLoadError:
        missing = exc.name or name
        if not (name == missing or name.startswith(missing + ".")):
            return HookLoadError(
                f'hook module "{name}" imports "{missing}", which is not installed',
                f"pip install the package that provides "
                f"{missing} (and add it to the runtime image)",
                path=path,
            )
        where = f"beside the katalog ({source.root})" if source.root else "here"
        image = os.environ.get(RUNTIME_IMAGE_ENV)
        hints = [_suggest(name, _modules_in(source.root))]
        if image:
            hints.append(
                f"this runtime image ({image}) does not contain it: build one "
                "with the hooks (ork build runtime) and set runtime.image"
            )
        else:
            hints.append(
                "the module path is relative to the katalog's directory, or an installed package"
            )
        return HookLoadError(
            f'hook module "{name}" not found {where} nor installed',
            " ".join(h for h in hints if h),
            path=path,
        )

    def attribute(self, module: ModuleType, name: str, path: YamlPath, what: str) -> Any:
        value = getattr(module, name, None)
        if value is None:
            names = [n for n in dir(module) if not n.startswith("_")]
            raise HookLoadError(
                f'{what} "{name}" not found in {module.__name__} '
                f"({getattr(module, '__file__', '?')})",
                _suggest(name, names),
                path=path,
            )
        return value

    def hook_set(self, ref: CodeRef, root: Path | None) -> HookSet[Any]:
        """Import the module, call the function, check the hook set it returns."""
        module = self.module(ref.module, root, ref.module_path)
        where = ref.path + ("function",)
        function = self.attribute(module, ref.function, where, "function")
        if not callable(function):
            raise HookLoadError(
                f"{ref.name} is a {type(function).__name__}, not a function", path=where
            )
        _check_signature(
            function, 0, ref.name, "returns the hook set and takes no arguments", where
        )
        try:
            hooks = function()
        except Exception as exc:
            raise HookLoadError(
                f"{ref.name}() raised {type(exc).__name__}: {exc}{_where(exc)}", path=where
            ) from None
        if not isinstance(hooks, HookSet):
            raise HookLoadError(
                f"{ref.name}() returned {type(hooks).__name__}",
                expected="an orkestra.hooks.HookSet",
                path=where,
            )
        callbacks = {n: getattr(hooks, n) for n in PHASES if getattr(hooks, n) is not None}
        if not callbacks:
            raise HookLoadError(
                f"{ref.name}() returned a HookSet without callbacks",
                expected="at least one of " + ", ".join(PHASES),
                path=where,
            )
        for callback_name, callback in callbacks.items():
            _check_signature(
                callback,
                2,
                f"{callback_name} of {ref.name}",
                "receives the CR and the hook context",
                where,
            )
        return hooks

    def model(self, ref: ModelRef, root: Path | None) -> Callable[[Any], Any]:
        """The CR model's validating constructor (``model_validate`` for pydantic)."""
        module = self.module(ref.module, root, ref.path)
        model = self.attribute(module, ref.name, ("apiTypes", "object"), "CR model")
        build = getattr(model, "model_validate", model)
        if not callable(build):
            raise HookLoadError(
                f"CR model {ref.module}.{ref.name} is not a class", path=("apiTypes", "object")
            )
        return build  # type: ignore[no-any-return]


def _drop_bytecode(root: Path, top: str) -> None:
    """Remove the compiled files of a pulled package or module: the cache verifies the
    sources against the signed manifest, not ``__pycache__``, so only the sources may run."""
    package = root / top
    for cached in package.rglob("__pycache__") if package.is_dir() else ():
        shutil.rmtree(cached, ignore_errors=True)
    for compiled in (root / "__pycache__").glob(f"{top}.*.pyc"):
        compiled.unlink(missing_ok=True)


def _provides(root: Path, top: str) -> bool:
    return (root / top).is_dir() or (root / f"{top}.py").is_file()


def _origin(module: ModuleType) -> Path | None:
    """The directory a top-level module was imported from (the sys.path entry)."""
    file = getattr(module, "__file__", None)
    if file:
        path = Path(file).resolve().parent
        return path.parent if Path(file).name == "__init__.py" else path
    locations = list(getattr(module, "__path__", []))
    return Path(locations[0]).resolve().parent if locations else None


def _check_signature(
    function: Callable[..., Any], count: int, name: str, role: str, path: YamlPath
) -> None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return  # a builtin or C callable: nothing to check
    try:
        signature.bind(*([None] * count))
    except TypeError:
        raise HookLoadError(
            f"{name} has the signature {signature}",
            expected=f"a function that {role} ({count} positional "
            f"argument{'s' if count != 1 else ''})",
            path=path,
        ) from None


def load_hooks(entry: CrdEntry, root: Path | None, loader: Loader) -> LoadedHooks | None:
    """The hooks (or constructor) of a CRD entry with its CR model; None without any."""
    ref = code_ref(entry)
    model_of = model_ref(entry)
    model = loader.model(model_of, root) if model_of is not None else None
    if ref is None:
        return None
    name = f"{model_of.module}.{model_of.name}" if model_of is not None else ""
    return LoadedHooks(ref, loader.hook_set(ref, root), model, name)
