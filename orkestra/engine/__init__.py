"""The reconcile engine: pure decision logic shared by simulate, plan and the runtime.

It performs no I/O: it is handed the CR, a view of the cluster and a clock, and returns what
should happen. This version holds the condition evaluator (``when``/``or`` gates, status
field conditions, validation and mutation rules); the reconcile loop builds on it.
"""
