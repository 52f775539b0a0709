"""Every command block of the registry-guide pack's READMEs, run as written, in order, on the
embedded registry: the walkthrough from ``ork init --pack registry-guide`` to the official
patterns, and the gate-mechanics "Try it" story on its own.

A README marks what a block needs with HTML comments on the lines before it (the pack's top
README documents them under "How this guide is tested"):

* ``<!-- seed-test: skip (REASON) -->``: not run unattended; each is reported as a skipped
  test with its REASON.
* ``<!-- seed-test: fails "TEXT" -->``: the block must exit non-zero and print TEXT.
* ``<!-- seed-test: shows "TEXT" -->``: the block must print TEXT (one comment per text).
* ``<!-- seed-test: alone -->``: part of a story apart from the walkthrough, run in an
  empty directory with a registry of its own.

Blocks are fenced ``sh`` or ``bash`` and run with ``bash -e -o pipefail``. The top README's
blocks start where ``ork init`` runs; every other README's blocks start in its directory,
and within one README the working directory carries over from block to block, as in one
shell.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import PACK

COMMAND_LANGUAGES = ("sh", "bash")
_FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*seed-test:\s*(.*?)\s*-->\s*$")
_FORMS = (
    ("skip", re.compile(r"skip \((.+)\)")),
    ("fails", re.compile(r'fails "(.+)"')),
    ("shows", re.compile(r'shows "(.+)"')),
    ("alone", re.compile(r"alone")),
)
BLOCK_TIMEOUT = 600.0


class ReadmeError(Exception):
    """A seed-test comment that the extractor does not understand or cannot place."""


@dataclass(frozen=True)
class Block:
    """One command block and what its README says about running it."""

    readme: str
    line: int
    script: str
    skip: str = ""
    fails: str = ""
    shows: tuple[str, ...] = ()
    alone: bool = False

    @property
    def where(self) -> str:
        return f"{self.readme}:{self.line}"


@dataclass
class _Marks:
    skip: str = ""
    fails: str = ""
    shows: list[str] = field(default_factory=list)
    alone: bool = False
    line: int = 0

    def add(self, text: str, where: str, line: int) -> None:
        for name, form in _FORMS:
            match = form.fullmatch(text)
            if match is None:
                continue
            if name == "shows":
                self.shows.append(match[1])
            elif name == "alone":
                self.alone = True
            else:
                setattr(self, name, match[1])
            self.line = self.line or line
            return
        raise ReadmeError(
            f'{where}: unknown seed-test comment "{text}" (expected skip '
            '(REASON), fails "TEXT", shows "TEXT" or alone)'
        )


def parse_readme(text: str, readme: str) -> list[Block]:
    """The command blocks of one README with the marks on the lines before each."""
    blocks: list[Block] = []
    marks = _Marks()
    lines = iter(enumerate(text.splitlines(), 1))
    for number, line in lines:
        directive = _DIRECTIVE.match(line)
        fence = _FENCE.match(line)
        if directive:
            marks.add(directive[1], f"{readme}:{number}", number)
        elif fence:
            body = _fenced(lines, fence[1])
            if fence[2] in COMMAND_LANGUAGES:
                blocks.append(
                    Block(
                        readme,
                        number,
                        body,
                        marks.skip,
                        marks.fails,
                        tuple(marks.shows),
                        marks.alone,
                    )
                )
            elif marks.line:
                raise ReadmeError(
                    f"{readme}:{marks.line}: the seed-test comment is followed "
                    f"by a ```{fence[2]} block, not a command block"
                )
            marks = _Marks()
        elif line.strip() and marks.line:
            raise ReadmeError(
                f"{readme}:{marks.line}: a seed-test comment must be followed by a command block"
            )
    if marks.line:
        raise ReadmeError(f"{readme}:{marks.line}: a seed-test comment ends the file")
    return blocks


def _fenced(lines: Iterator[tuple[int, str]], indent: str) -> str:
    body: list[str] = []
    for _, line in lines:
        if line.strip() == "```":
            return textwrap.dedent("\n".join(body)) + "\n"
        body.append(line.removeprefix(indent))
    raise ReadmeError("a fenced block is not closed")


def readmes(pack: Path) -> list[Path]:
    """The pack's READMEs in walkthrough order: the top README, the steps in number order
    (each step's own README before those of its subdirectories), then ``official/``."""
    found = [p.relative_to(pack) for p in pack.rglob("README.md")]
    return sorted(found, key=lambda p: (len(p.parts) > 1, p.parts[0] == "official", p.parts))


def pack_blocks(pack: Path) -> list[Block]:
    return [
        block
        for readme in readmes(pack)
        for block in parse_readme((pack / readme).read_text(), readme.as_posix())
    ]


class Shell:
    """Runs blocks one after the other as one user at one terminal would: the working
    directory carries over, the environment is this test's (ORK_HOME in a temp dir, no
    registry configured) with this project's ``ork`` first on PATH."""

    def __init__(self, cwd: Path, scratch: Path) -> None:
        self.cwd = cwd
        self._state = scratch / "cwd"
        self.env = {
            **os.environ,
            "NO_COLOR": "1",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            # Nothing here may reach a real cluster.
            "KUBECONFIG": str(scratch / "no-cluster" / "kubeconfig"),
        }

    def run(self, block: Block) -> str:
        """Run ``block`` and check it as its marks say; returns its output."""
        script = f"trap 'pwd > \"{self._state}\"' EXIT\n{block.script}"
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=BLOCK_TIMEOUT,
            check=False,
        )
        self.cwd = Path(self._state.read_text().strip())
        told = (
            f"{block.where}\n{block.script}\n--- exit {done.returncode}, output:\n"
            f"{done.stdout[-6000:]}"
        )
        if bool(block.fails) != (done.returncode != 0):
            pytest.fail(f"expected {'a failure' if block.fails else 'exit 0'}: {told}")
        missing = [text for text in (block.fails, *block.shows) if text not in done.stdout]
        if missing:
            pytest.fail(f"expected {missing} in the output: {told}")
        return done.stdout


@dataclass
class Tally:
    ran: int = 0
    failing: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return (
            f"{self.ran} blocks run ({self.failing} of them expected to fail), "
            f"{self.skipped} skipped"
        )


def run_story(blocks: list[Block], start: Path, scratch: Path) -> Tally:
    """Run the blocks in order, each README from its own directory (the top README's from
    ``start``, where ``ork init`` runs)."""
    shell = Shell(start, scratch)
    tally = Tally()
    readme = ""
    for block in blocks:
        if block.skip:
            tally.skipped += 1
            continue
        if block.readme != readme:
            readme = block.readme
            shell.cwd = start if readme == "README.md" else start / PACK.name / Path(readme).parent
        shell.run(block)
        tally.ran += 1
        tally.failing += bool(block.fails)
    return tally


BLOCKS = pack_blocks(PACK)
SKIPPED = [b for b in BLOCKS if b.skip]


@pytest.mark.integration
def test_the_walkthrough_runs_as_written(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """From ``ork init --pack registry-guide`` (the top README's first block) through every
    step to the official patterns, on one embedded registry."""
    work = tmp_path / "work"
    work.mkdir()
    tally = run_story([b for b in BLOCKS if not b.alone], work, tmp_path)
    record_property("seed blocks", str(tally))
    print(f"registry-guide READMEs: {tally}")


@pytest.mark.integration
def test_the_gate_mechanics_try_it_runs_with_its_documented_difference(tmp_path: Path) -> None:
    """The top README's "Try it" blocks: the gate-mechanics seed's story in a fresh
    directory, with the one difference that README states."""
    story = [b for b in BLOCKS if b.alone]
    assert [b.readme for b in story] == ["README.md"] * len(story)
    work = tmp_path / "work"
    work.mkdir()
    tally = run_story(story, work, tmp_path)
    assert (tally.ran, tally.failing, tally.skipped) == (5, 1, 0)


@pytest.mark.integration
def test_the_seed_try_it_as_written_stops_at_the_motif_import(tmp_path: Path) -> None:
    """Without that difference the seed's block fails where the README says, and every
    message names the way out: the pack is under registry-guide/, the push prints the two
    commands that publish and import the motif, and inspect names nothing that does not
    exist (before: a bare "ork push <motif-dir>/" and "re-run with --motif")."""
    shell = Shell(tmp_path, tmp_path)
    seed = "seed Try it (gate-mechanics.txt)"
    shell.run(Block(seed, 137, "ork init --pack registry-guide\n"))
    assert not (tmp_path / "03-katalog-cache").exists()
    shell.run(Block(seed, 138, "cd registry-guide/03-katalog-cache\n"))
    shell.run(
        Block(
            seed,
            141,
            "ork simulate\n",
            fails="✗ configmaps/my-cache-config not found (expected cycle 1 create)",
        )
    )
    shell.run(
        Block(
            seed,
            144,
            "ork push --force --no-e2e ./\n",
            fails="✗ Push blocked: local file imports in katalog.yaml",
            shows=(
                "Before publishing (--force skips gates, not this check):",
                "ork push ../01-motifs/data-store/",
                "motif: oci://local/motifs/data-store:v1.0.0",
            ),
        )
    )
    out = shell.run(
        Block(
            seed,
            145,
            "ork inspect cache-operator:v1.0.0\n",
            fails="hint: nothing named cache-operator is published in local/katalogs",
        )
    )
    assert "--motif" not in out


@pytest.mark.parametrize("block", SKIPPED, ids=[b.where for b in SKIPPED])
def test_blocks_not_run_unattended(block: Block) -> None:
    """Reported one by one with the README's reason (pytest -ra lists them)."""
    pytest.skip(f"{block.where}: {block.skip}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<!-- seed-test: sometimes -->\n```sh\nls\n```\n", "unknown seed-test comment"),
        ("<!-- seed-test: skip () -->\n```sh\nls\n```\n", "unknown seed-test comment"),
        ("<!-- seed-test: skip (x) -->\n```text\nls\n```\n", "not a command block"),
        ("<!-- seed-test: alone -->\nprose\n```sh\nls\n```\n", "must be followed by a command"),
        ("```sh\nls\n```\n<!-- seed-test: alone -->\n", "ends the file"),
        ("```sh\nls\n", "not closed"),
    ],
)
def test_misplaced_marks_are_errors(text: str, message: str) -> None:
    with pytest.raises(ReadmeError, match=message):
        parse_readme(text, "README.md")


def test_marks_attach_to_the_next_command_block() -> None:
    text = (
        'intro\n<!-- seed-test: fails "boom" -->\n<!-- seed-test: shows "a" -->\n'
        '<!-- seed-test: shows "b" -->\n\n```bash\n  false\n```\n\n```text\nout\n```\n'
        "1. a list:\n   <!-- seed-test: skip (needs a cluster) -->\n   ```sh\n   kubectl"
        " get pods\n     | wc -l\n   ```\n"
    )
    assert parse_readme(text, "x/README.md") == [
        Block("x/README.md", 6, "false\n", fails="boom", shows=("a", "b")),
        Block("x/README.md", 15, "kubectl get pods\n  | wc -l\n", skip="needs a cluster"),
    ]
