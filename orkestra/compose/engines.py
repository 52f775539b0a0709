"""The engine of a composition: one :class:`Reconciler` per CRD, built the same way for
simulate and the runtime (the composition's notes in the renderer, its profiles, the
finalizers of ``spec.finalizers``, the typed hooks each CRD names), so both reconcile
identically by construction.

Hooks are imported once per composition, from the directory of the katalog that declares
them (:mod:`orkestra.hooks.loader`); a pulled pattern's code only with ``trust_hooks``.
:meth:`Engines.load_hooks` imports and checks all of them up front and reports every
problem with its file and line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from orkestra.compose.composed import Composed
from orkestra.engine.api import ClusterAPI
from orkestra.engine.profiles import Profiles
from orkestra.engine.reconcile import Reconciler
from orkestra.hooks.spec import code_ref, has_code
from orkestra.model.errors import PatternError, Problem
from orkestra.template import Renderer

if TYPE_CHECKING:
    from orkestra.hooks.loader import HookLoadError, Loader
    from orkestra.hooks.runner import LoadedHooks


class Engines:
    """Builds the reconcilers of one composition; they share its renderer and profiles."""

    def __init__(self, composed: Composed, *, trust_hooks: bool = False) -> None:
        self.composed = composed
        self.renderer = Renderer(composed.notes)
        self.profiles = Profiles(composed.top.get("profiles"))
        data = composed.source.data
        spec = data.get("spec") if data["kind"] == "Katalog" else None  # a komposer has none
        self.finalizers = [str(f) for f in (spec or {}).get("finalizers") or []]
        self.trust_hooks = trust_hooks
        self._loader: Loader | None = None
        self._hooks: dict[str, LoadedHooks | None] = {}

    def hooks(self, crd: str) -> LoadedHooks | None:
        """The CRD's loaded hooks (None without); raises PatternError when they fail."""
        if crd not in self._hooks:
            problem = self._load(crd)
            if problem is not None:
                raise PatternError([problem])
        return self._hooks[crd]

    def load_hooks(self) -> list[Problem]:
        """Import every enabled CRD's code now; PatternError listing every failure (and the
        warnings with them). Warnings alone do not stop the code from running: they are
        returned, for the caller to show."""
        problems = self.hook_problems()
        if any(p.severity == "error" for p in problems):
            raise PatternError(problems)
        return problems

    def hook_problems(self, *, untrusted: str = "error") -> list[Problem]:
        """Import every enabled CRD's code; the problems found. ``untrusted``: the severity
        of code a pulled pattern may not run (validate only warns: it checks the rest)."""
        problems: list[Problem] = []
        for crd, entry in self.composed.enabled_crds.items():
            ref = code_ref(entry)
            if ref is not None and ref.go_location:
                problems.append(
                    self.composed.origins.problem(
                        ("spec", "crds", crd, *ref.module_path),
                        f'"location" is the Go-era key: '
                        f'read as the Python module path "{ref.module}"',
                        key=True,
                        hint="write module: instead",
                        severity="warning",
                    )
                )
            if crd not in self._hooks:
                problem = self._load(crd, untrusted)
                if problem is not None:
                    problems.append(problem)
        return problems

    def _load(self, crd: str, untrusted: str = "error") -> Problem | None:
        """Import a CRD's code into ``_hooks``; the problem when it fails. The loader (and
        the runner, asyncio with it) is imported only for a pattern that has code."""
        entry = self.composed.crds[crd]
        if not has_code(entry):
            self._hooks[crd] = None
            return None
        from orkestra.hooks.loader import HookLoadError, HooksNotTrustedError, Loader, load_hooks

        if self._loader is None:
            self._loader = Loader(trusted=self.trust_hooks)
        try:
            self._hooks[crd] = load_hooks(entry, self.composed.code_root(crd), self._loader)
        except HooksNotTrustedError as exc:
            return self._problem(crd, exc, untrusted)
        except HookLoadError as exc:
            return self._problem(crd, exc)
        return None

    def _problem(self, crd: str, exc: HookLoadError, severity: str = "error") -> Problem:
        return self.composed.origins.problem(
            ("spec", "crds", crd, *exc.path),
            exc.message,
            expected=exc.expected,
            hint=exc.hint,
            severity=severity,
        )

    def reconciler(
        self, crd: str, cluster: ClusterAPI, clock: Callable[[], datetime] | None = None
    ) -> Reconciler:
        return Reconciler(
            crd,
            self.composed.crds[crd],
            cluster=cluster,
            renderer=self.renderer,
            profiles=self.profiles,
            clock=clock,
            finalizers=self.finalizers,
            hooks=self.hooks(crd),
        )
