"""The gates a pattern passes before it is published: validate, then simulate, then e2e.

This package owns each gate's library entry point and its result; ``ork validate`` and
``ork push`` are thin shells over them.
"""
