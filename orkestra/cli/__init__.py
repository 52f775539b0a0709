"""The ``ork`` command line: a thin shell over the library.

Each command module parses options, calls into the library and prints; no pattern logic
lives here. Commands are imported only when invoked, so ``ork --help`` stays fast.
"""

from orkestra.cli.app import console, main

__all__ = ["console", "main"]
