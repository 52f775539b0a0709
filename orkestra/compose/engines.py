"""The engine of a composition: one :class:`Reconciler` per CRD, built the same way for
simulate and the runtime (the composition's notes in the renderer, its profiles, the
finalizers of ``spec.finalizers``), so both reconcile identically by construction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from orkestra.compose.composed import Composed
from orkestra.engine.api import ClusterAPI
from orkestra.engine.profiles import Profiles
from orkestra.engine.reconcile import Reconciler
from orkestra.template import Renderer


class Engines:
    """Builds the reconcilers of one composition; they share its renderer and profiles."""

    def __init__(self, composed: Composed) -> None:
        self.composed = composed
        self.renderer = Renderer(composed.notes)
        self.profiles = Profiles(composed.top.get("profiles"))
        spec = composed.source.data.get("spec") or {}
        self.finalizers = [str(f) for f in spec.get("finalizers") or []]

    def reconciler(self, crd: str, cluster: ClusterAPI,
                   clock: Callable[[], datetime] | None = None) -> Reconciler:
        return Reconciler(crd, self.composed.crds[crd], cluster=cluster,
                          renderer=self.renderer, profiles=self.profiles, clock=clock,
                          finalizers=self.finalizers)
