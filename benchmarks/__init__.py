"""Benchmarks of Orkestra against its references (see RESULTS.md).

Processes under measurement run the package as ``make setup`` installs it, with bytecode
compiled. The package is recompiled here, on import, because an edit since the install
leaves a stale ``.pyc`` that an environment with ``PYTHONDONTWRITEBYTECODE`` never
refreshes: every start would then compile the edited modules again and be timed doing so.
"""

import compileall
from pathlib import Path

compileall.compile_dir(Path(__file__).resolve().parent.parent / "orkestra", quiet=1)
