"""The gates a pattern passes before it is published: validate, then simulate, then e2e.

This package owns each gate's library entry point and its result, and the publish pipeline
that runs them in order and records their outcome in the artifact
(:func:`orkestra.gates.push.publish`); ``ork validate`` and ``ork push`` are thin shells
over them.
"""
