"""A loaded pattern document: normalized data plus where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from orkestra.model.errors import Problem, YamlPath
from orkestra.model.origins import Origins
from orkestra.model.shapes import SimulateFile
from orkestra.model.source import SourceDoc


class Named:
    """``name`` and ``version`` from a ``metadata`` mapping."""

    metadata: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", ""))


@dataclass
class Document(Named):
    """One checked and normalized document of a pattern file.

    ``data`` is the G2 model; ``origins`` maps its paths back to what the user wrote;
    ``warnings`` are non-fatal problems (deprecated layout, ignored keys ...).
    """

    kind: str
    data: dict[str, Any]
    source: SourceDoc
    file: Path
    origins: Origins
    generation: str = "G2"
    warnings: list[Problem] = field(default_factory=list)

    @property
    def directory(self) -> Path:
        return self.file.parent

    @property
    def display(self) -> str:
        return self.source.path

    def problem(self, path: YamlPath, message: str, **kwargs: Any) -> Problem:
        return self.origins.problem(path, message, **kwargs)

    def resolve_path(self, relative: str) -> Path:
        """A path written in this document, resolved against its directory."""
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.directory / candidate

    def __post_init__(self) -> None:
        meta = self.data.get("metadata")
        self.metadata = meta if isinstance(meta, dict) else {}

    @property
    def simulation(self) -> SimulateFile:
        """The data of a Simulate document (the schema check guarantees its shape)."""
        if self.kind != "Simulate":
            raise TypeError(f"{self.display} holds a {self.kind}, not a Simulate")
        return cast(SimulateFile, self.data)
