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

from orkestra.compose.composed import Composed
from orkestra.engine.api import ClusterAPI
from orkestra.engine.profiles import Profiles
from orkestra.engine.reconcile import Reconciler
from orkestra.hooks.loader import HookLoadError, HooksNotTrustedError, Loader, load_hooks
from orkestra.hooks.runner import LoadedHooks
from orkestra.hooks.spec import code_ref, has_code
from orkestra.model.errors import PatternError, Problem
from orkestra.template import Renderer


class Engines:
    """Builds the reconcilers of one composition; they share its renderer and profiles."""

    def __init__(self, composed: Composed, *, trust_hooks: bool = False) -> None:
        self.composed = composed
        self.renderer = Renderer(composed.notes)
        self.profiles = Profiles(composed.top.get("profiles"))
        spec = composed.source.data.get("spec") or {}
        self.finalizers = [str(f) for f in spec.get("finalizers") or []]
        self.loader = Loader(trusted=trust_hooks)
        self._hooks: dict[str, LoadedHooks | None] = {}

    def hooks(self, crd: str) -> LoadedHooks | None:
        """The CRD's loaded hooks (None without); raises PatternError when they fail."""
        if crd not in self._hooks:
            entry = self.composed.crds[crd]
            try:
                self._hooks[crd] = load_hooks(entry, self.composed.code_root(crd), self.loader)
            except HookLoadError as exc:
                raise PatternError([self._problem(crd, exc)]) from None
        return self._hooks[crd]

    def load_hooks(self) -> None:
        """Import every enabled CRD's code now; PatternError listing every failure (and the
        warnings with them). Warnings alone do not stop the code from running."""
        problems = self.hook_problems()
        if any(p.severity == "error" for p in problems):
            raise PatternError(problems)

    def hook_problems(self, *, untrusted: str = "error") -> list[Problem]:
        """Import every enabled CRD's code; the problems found. ``untrusted``: the severity
        of code a pulled pattern may not run (validate only warns: it checks the rest)."""
        problems: list[Problem] = []
        for crd, entry in self.composed.enabled_crds.items():
            ref = code_ref(entry)
            if ref is not None and ref.go_location:
                problems.append(self.composed.origins.problem(
                    ("spec", "crds", crd, *ref.module_path), f'"location" is the Go-era key: '
                    f'read as the Python module path "{ref.module}"', key=True,
                    hint="write module: instead", severity="warning"))
            if not has_code(entry) or crd in self._hooks:
                continue
            try:
                self._hooks[crd] = load_hooks(entry, self.composed.code_root(crd), self.loader)
            except HooksNotTrustedError as exc:
                problems.append(self._problem(crd, exc, untrusted))
            except HookLoadError as exc:
                problems.append(self._problem(crd, exc))
        return problems

    def _problem(self, crd: str, exc: HookLoadError, severity: str = "error") -> Problem:
        return self.composed.origins.problem(("spec", "crds", crd, *exc.path), exc.message,
                                             expected=exc.expected, hint=exc.hint,
                                             severity=severity)

    def reconciler(self, crd: str, cluster: ClusterAPI,
                   clock: Callable[[], datetime] | None = None) -> Reconciler:
        return Reconciler(crd, self.composed.crds[crd], cluster=cluster,
                          renderer=self.renderer, profiles=self.profiles, clock=clock,
                          finalizers=self.finalizers, hooks=self.hooks(crd))
