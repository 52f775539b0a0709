"""Orkestra for Python: declarative Kubernetes operators distributed as OCI artifacts.

Packages, one per concern: ``model`` (pattern formats and loading), ``template`` (Go
templates and the notes library), ``compose`` (motif expansion, komposer imports),
``engine`` (reconcile logic, no I/O), ``plan`` (what a pattern creates and needs), ``packs``
(example packs) and ``cli`` (the ``ork`` command).
"""

__version__ = "0.1.0"

DISTRIBUTION = "orkestra-patterns"
"""This project's name on package indexes (``pip install orkestra-patterns``); the import
package is ``orkestra`` and the command ``ork``. ``orkestra`` on PyPI is another project."""
