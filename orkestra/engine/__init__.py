"""The reconcile engine: pure decision logic shared by simulate, plan, e2e and the runtime.

It performs no I/O: a :class:`~orkestra.engine.reconcile.Reconciler` is handed one CR, a view of
the cluster (the :class:`~orkestra.engine.api.ClusterAPI` protocol: the in-memory store for
simulate, the runtime's cached API client) and a clock, and decides what to write. Around
it: the builders of each resource kind (``build``), field rendering (``fields``), conditions
and gates (``conditions``), admission rules (``admission``), ``.cross`` reads (``cross``),
the CR's own labels and annotations (``crmeta``), the status it writes (``status``), typed
hooks as the engine sees them (``hooks``) and profiles (``profiles``).
"""
