"""A loaded pattern document: normalized data plus where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orkestra.model.errors import Problem, YamlPath
from orkestra.model.origins import Origins
from orkestra.model.shapes import (
    E2EFile,
    Katalog,
    Komposer,
    Metadata,
    Motif,
    PatternData,
    SimulateFile,
)
from orkestra.model.source import SourceDoc


class Named:
    """``name`` and ``version`` from a ``metadata`` mapping."""

    metadata: Metadata

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", ""))


@dataclass(kw_only=True)
class Document(Named):
    """One checked and normalized document of a pattern file.

    ``data`` is the G2 model (its ``kind`` tells which shape; the properties named after
    the kinds give it typed); ``origins`` maps its paths back to what the user wrote;
    ``warnings`` are non-fatal problems (deprecated layout, ignored keys ...).
    """

    kind: str
    data: PatternData
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

    def problem(
        self,
        path: YamlPath,
        message: str,
        *,
        expected: str = "",
        hint: str = "",
        key: bool = False,
        severity: str = "error",
    ) -> Problem:
        return self.origins.problem(
            path, message, expected=expected, hint=hint, key=key, severity=severity
        )

    def resolve_path(self, relative: str) -> Path:
        """A path written in this document, resolved against its directory."""
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.directory / candidate

    def __post_init__(self) -> None:
        meta = self.data.get("metadata")
        self.metadata = meta if isinstance(meta, dict) else {}

    def _not_a(self, kind: str) -> TypeError:
        return TypeError(f"{self.display} holds a {self.kind}, not a {kind}")

    @property
    def katalog(self) -> Katalog:
        """The data of a Katalog document."""
        data = self.data
        if data["kind"] != "Katalog":
            raise self._not_a("Katalog")
        return data

    @property
    def komposer(self) -> Komposer:
        """The data of a Komposer document."""
        data = self.data
        if data["kind"] != "Komposer":
            raise self._not_a("Komposer")
        return data

    @property
    def motif(self) -> Motif:
        """The data of a Motif document."""
        data = self.data
        if data["kind"] != "Motif":
            raise self._not_a("Motif")
        return data

    @property
    def simulation(self) -> SimulateFile:
        """The data of a Simulate document."""
        data = self.data
        if data["kind"] != "Simulate":
            raise self._not_a("Simulate")
        return data

    @property
    def e2e(self) -> E2EFile:
        """The data of an E2E document."""
        data = self.data
        if data["kind"] != "E2E":
            raise self._not_a("E2E")
        return data
