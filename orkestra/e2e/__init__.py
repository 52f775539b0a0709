"""The e2e gate (``ork e2e``): a pattern's CR on a cluster, checked by its ``e2e.yaml``.

It composes, it does not re-implement: a cluster target (:mod:`~orkestra.e2e.targets`:
the embedded API server in this process, a kind cluster, or an existing context), the
``kubectl``-level steps a user would take (:mod:`~orkestra.e2e.kubectl`), the runtime
``ork run`` uses (:mod:`~orkestra.e2e.host`) and expectation polling
(:mod:`~orkestra.e2e.checks`), put in order by :mod:`~orkestra.e2e.runner`.
:mod:`~orkestra.e2e.spec` reads the file, :mod:`~orkestra.e2e.result` holds what a run
found and :mod:`~orkestra.e2e.report` renders it (terminal, Markdown, JUnit XML, JSON);
:mod:`~orkestra.e2e.scaffold` writes a first ``e2e.yaml``. The push gate reads the same
result. This is the only package besides the CLI that uses both :mod:`orkestra.runtime`
and :mod:`orkestra.apiserver`.
"""
