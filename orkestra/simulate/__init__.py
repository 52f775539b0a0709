"""The simulate gate: reconcile a CR for a number of cycles against an in-memory cluster
and check the author's assertions.

This package owns ``simulate.yaml`` (read into simulation specs by
:mod:`~orkestra.simulate.spec`: aggregators, includes), the cycle runner (the same
:mod:`orkestra.engine` reconcile the runtime uses, on a
:class:`~orkestra.cluster.MemoryCluster`, with workloads marked ready after each cycle),
assertion checking, the report in the seeds' format and ``ork simulate init``. A simulation
makes no network call and writes nothing to disk.
"""
