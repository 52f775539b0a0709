"""Hostile inputs through the CLI: each must end fast with a clear error, never a hang, a
traceback or gigabytes of memory. One command: ``python -m benchmarks.hostile``.

Every case is a small pattern directory written to a temporary directory and one ``ork``
command run on it in its own process; the run prints its wall time and its peak RSS (the
child's ``ru_maxrss`` from ``os.wait4``, i.e. ``getrusage(RUSAGE_CHILDREN)`` of that one
command) next to the reference measured in the same run: ``ork validate`` of the pack's
02-katalog-api. Target: every case under 2 s. The cases are the ones of issue 14 (alias
bombs, huge indents, long lists and many keys, regular expressions built to backtrack,
``crdFile`` pointing at devices, FIFOs and files outside the pattern, CRDs of the wrong
shape, templates that multiply their output) and are shared with ``tests/cli/
test_hostile.py``, which fails if one takes 30 s or prints a traceback.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "orkestra" / "packs" / "registry-guide"
TARGET_SECONDS = 2.0

FIFO = object()  # a file entry that is made a named pipe
Content = str | Iterable[str] | object  # text, text in chunks (megabytes), or FIFO
Maker = Callable[[], Content]


@dataclass(frozen=True)
class Case:
    """One hostile input: the files to write, the ``ork`` arguments, what the error says."""

    name: str
    files: dict[str, Maker]
    argv: tuple[str, ...]
    expect: str
    code: int = 1


@dataclass
class Outcome:
    seconds: float
    peak_mib: float
    code: int | None
    output: str = field(repr=False)

    @property
    def timed_out(self) -> bool:
        return self.code is None


# -- the inputs ------------------------------------------------------------------------

KATALOG = """apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: shop, version: v1.0.0}
spec:
  crds:
    shop:
      crdFile: CRD_FILE
      operatorBox:
        onReconcile:
          configMaps:
            - name: "{{ .metadata.name }}"
              data: {size: DATA}
"""

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: shops.demo.io}
spec:
  group: demo.io
  names: {kind: Shop, plural: shops}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-preserve-unknown-fields: true
              properties:
                size: {type: string, PATTERN}
"""


def katalog(crd_file: str = "./crd.yaml", data: str = '"{{ .spec.size }}"') -> str:
    return KATALOG.replace("CRD_FILE", crd_file).replace("DATA", data)


def crd(pattern: str = "maxLength: 100000") -> str:
    return CRD.replace("PATTERN", pattern)


def cr(spec: str) -> str:
    return (
        f"apiVersion: demo.io/v1\nkind: Shop\nmetadata: {{name: s1, namespace: default}}\n"
        f"spec: {spec}\n"
    )


def laughs(levels: int = 10, width: int = 10) -> str:
    """The "billion laughs": each anchor lists ``width`` aliases of the one before."""
    lines = [f"x-a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"x-a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return katalog() + "\n".join(lines) + "\n"


def merge_bomb() -> str:
    """Merge keys (``<<: *b``) repeating mappings that repeat mappings."""
    lines = ["x-b0: &b0 {x: 1, y: 2}"]
    lines += [
        f"x-b{i}: &b{i} {{k{i}: *b{i - 1}, j{i}: *b{i - 1}, <<: *b{i - 1}}}" for i in range(1, 20)
    ]
    return katalog() + "\n".join(lines) + "\n"


def with_keys(count: int) -> Iterator[str]:
    """A katalog followed by ``count`` top-level keys, in chunks."""
    yield katalog()
    for start in range(0, count, 10_000):
        yield "".join(f"k{i}: {i}\n" for i in range(start, min(start + 10_000, count)))


def cr_with_items(count: int) -> Iterator[str]:
    """A CR whose ``spec.items`` lists ``count`` numbers, in chunks."""
    yield cr("{size: a, items: [1").rstrip("\n")
    for start in range(1, count, 10_000):
        yield ",1" * (min(start + 10_000, count) - start)
    yield "]}\n"


BACKTRACK = "a" * 40 + "!"
VALIDATE = ("validate", "-f", "katalog.yaml")
SIMULATE = ("simulate", "-f", "katalog.yaml", "--cr", "cr.yaml", "--cycles", "2")
CASES: tuple[Case, ...] = (
    Case(
        "yaml alias bomb (validate)",
        {"katalog.yaml": laughs},
        VALIDATE,
        "aliases expand to more than",
    ),
    Case(
        "yaml alias bomb (template)",
        {"katalog.yaml": laughs},
        ("template", "-f", "katalog.yaml"),
        "aliases expand to more than",
    ),
    Case(
        "yaml merge-key bomb", {"katalog.yaml": merge_bomb}, VALIDATE, "aliases expand to more than"
    ),
    Case(
        "yaml huge indent (3 MB)",
        {"katalog.yaml": lambda: (katalog(), "x-deep:\n", " " * 3_000_000, "k: v\n")},
        VALIDATE,
        "unknown key",
    ),
    Case(
        "yaml deep block nesting",
        {"katalog.yaml": lambda: (katalog(), *(" " * i + f"k{i}:\n" for i in range(1500)))},
        VALIDATE,
        "nested more than 200 levels",
    ),
    Case(
        "yaml deep flow nesting",
        {"katalog.yaml": lambda: (katalog(), "x: ", "[" * 100_000, "]" * 100_000, "\n")},
        VALIDATE,
        "nest",
    ),
    Case(
        "yaml 500k keys (8 MB)",
        {"katalog.yaml": lambda: with_keys(500_000)},
        VALIDATE,
        "larger than the limit",
    ),
    Case(
        "yaml 200k keys (3 MB)",
        {"katalog.yaml": lambda: with_keys(200_000)},
        VALIDATE,
        "a mapping with more than 10000 keys",
    ),
    Case(
        "yaml 1M-item list in a CR (2 MB)",
        {"katalog.yaml": katalog, "crd.yaml": crd, "cr.yaml": lambda: cr_with_items(1_000_000)},
        SIMULATE,
        "more than 100000 values",
    ),
    Case(
        "forEach over 90k items",
        {
            "katalog.yaml": lambda: katalog().replace(
                '      data: {size: "{{ .spec.size }}"}', "      forEach: {field: spec.items}"
            ),
            "crd.yaml": crd,
            "cr.yaml": lambda: cr_with_items(90_000),
        },
        SIMULATE,
        "ORK_MAX_FOREACH_ITEMS",
    ),
    Case(
        "regex in a template",
        {
            "katalog.yaml": lambda: katalog(data='"{{ regexMatch \\"^(a+)+$\\" .spec.size }}"'),
            "crd.yaml": crd,
            "cr.yaml": lambda: cr(f"{{size: '{BACKTRACK}'}}"),
        },
        SIMULATE,
        "Simulating",
        code=0,
    ),
    Case(
        "regex in a CRD pattern",
        {
            "katalog.yaml": katalog,
            "crd.yaml": lambda: crd("pattern: '^(a+)+$'"),
            "cr.yaml": lambda: cr(f"{{size: '{BACKTRACK}'}}"),
        },
        SIMULATE,
        "should match",
    ),
    Case(
        "regex RE2 lacks (backreference)",
        {"katalog.yaml": katalog, "crd.yaml": lambda: crd("pattern: '(a)\\1'")},
        VALIDATE,
        "has no backreferences",
    ),
    Case(
        "crdFile: /dev/zero",
        {"katalog.yaml": lambda: katalog("/dev/zero")},
        VALIDATE,
        "outside the pattern's directory",
    ),
    Case(
        "crdFile: a FIFO",
        {"katalog.yaml": lambda: katalog("./pipe.yaml"), "pipe.yaml": lambda: FIFO},
        VALIDATE,
        "is a FIFO",
    ),
    Case(
        "crdFile: ../ escape",
        {"katalog.yaml": lambda: katalog("../../../../../../../etc/passwd")},
        VALIDATE,
        "outside the pattern's directory",
    ),
    Case(
        "CRD spec is a list",
        {"katalog.yaml": katalog, "crd.yaml": lambda: crd().split("spec:\n")[0] + "spec: [1, 2]\n"},
        VALIDATE,
        "must be a mapping (CustomResourceDefinitionSpec), not a list",
    ),
    Case(
        "CRD property a bare boolean",
        {
            "katalog.yaml": katalog,
            "cr.yaml": lambda: cr("{size: a}"),
            "crd.yaml": lambda: crd() + "                flag: true\n",
        },
        SIMULATE,
        "must be a schema (a mapping), not a boolean",
    ),
    Case(
        "template: 500k actions (4 MB)",
        {"katalog.yaml": lambda: (katalog(), 'x-big: "', "{{ .a }}" * 500_000, '"\n')},
        VALIDATE,
        "template actions",
    ),
    Case(
        "template repeat 10^9",
        {
            "katalog.yaml": lambda: katalog(data='"{{ repeat 1000000000 .spec.size }}"'),
            "crd.yaml": crd,
            "cr.yaml": lambda: cr("{size: ab}"),
        },
        SIMULATE,
        "ORK_MAX_RENDER_CHARS",
    ),
    Case(
        "template doubling a list",
        {
            "katalog.yaml": lambda: katalog(
                data='"{{ $l := list 1 }}{{ range .spec.items }}{{ $l = list $l $l }}{{ end }}'
                '{{ toJson $l }}"'
            ),
            "crd.yaml": crd,
            "cr.yaml": lambda: cr("{size: a, items: [" + ",".join(["1"] * 200) + "]}"),
        },
        SIMULATE,
        "ORK_MAX_RENDER_CHARS",
    ),
    Case(
        "template nested ranges",
        {
            "katalog.yaml": lambda: katalog(
                data='"{{ range .spec.items }}{{ range $.spec.items }}{{ range $.spec.items }}'
                '{{ end }}{{ end }}{{ end }}"'
            ),
            "crd.yaml": crd,
            "cr.yaml": lambda: cr("{size: a, items: [" + ",".join(["1"] * 1000) + "]}"),
        },
        SIMULATE,
        "ORK_MAX_TEMPLATE_STEPS",
    ),
)


# -- running ---------------------------------------------------------------------------


def ork() -> str:
    return str(Path(sys.executable).parent / "ork")


def environment(home: Path) -> dict[str, str]:
    env = {**os.environ, "ORK_HOME": str(home), "NO_COLOR": "1"}
    for key in ("ORK_REGISTRY", "ORK_MOTIFS_REGISTRY", "ORK_ALLOWED_ROOTS"):
        env.pop(key, None)
    return {k: v for k, v in env.items() if not k.startswith("ORK_MAX_")}


def write(case: Case, directory: Path) -> Path:
    """The case's files in ``directory/pattern`` (FIFOs made), which is returned. Large
    files are written chunk by chunk, so this process stays small (a child's peak RSS
    starts from its parent's)."""
    target = directory / "pattern"
    target.mkdir(parents=True)
    for name, make in case.files.items():
        content = make()
        if content is FIFO:
            os.mkfifo(target / name)
            continue
        with (target / name).open("w", encoding="utf-8") as handle:
            chunks = [content] if isinstance(content, str) else content
            for chunk in chunks:  # type: ignore[attr-defined]
                handle.write(chunk)
    return target


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> Outcome:
    """Run one command; its wall time, its own peak RSS and output (killed at timeout)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    code = None if killed.is_set() else process.returncode
    return Outcome(seconds, usage.ru_maxrss / 1024, code, output)


def run_case(case: Case, work: Path, timeout: float = 30.0) -> Outcome:
    directory = write(case, work)
    return run([ork(), *case.argv], directory, environment(work / "home"), timeout)


def reference(work: Path) -> Outcome:
    """``ork validate`` of the pack's 02-katalog-api (with its motifs)."""
    shutil.copytree(PACK / "02-katalog-api", work / "rg" / "02-katalog-api")
    shutil.copytree(PACK / "01-motifs", work / "rg" / "01-motifs")
    return run(
        [ork(), "validate"], work / "rg" / "02-katalog-api", environment(work / "home"), 30.0
    )


def main() -> int:
    print("Hostile inputs, one `ork` process each (wall time, peak RSS of that process)")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        base = reference(Path(tmp) / "reference")
        print(
            f"  {'reference: ork validate 02-katalog-api':44} {base.seconds:6.2f} s "
            f"{base.peak_mib:6.1f} MiB  (exit {base.code})"
        )
        for index, case in enumerate(CASES):
            outcome = run_case(case, Path(tmp) / f"case{index}")
            ok = (
                not outcome.timed_out
                and outcome.code == case.code
                and case.expect in outcome.output
                and "Traceback" not in outcome.output
                and outcome.seconds < TARGET_SECONDS
            )
            failures += not ok
            verdict = "ok" if ok else "TIMEOUT" if outcome.timed_out else "FAILED"
            print(
                f"  {case.name:44} {outcome.seconds:6.2f} s {outcome.peak_mib:6.1f} MiB  "
                f"{outcome.seconds / base.seconds:4.1f}x ref, "
                f"{outcome.peak_mib / base.peak_mib:4.1f}x ref RSS  {verdict}"
            )
            if not ok:
                print("    " + outcome.output.strip().replace("\n", "\n    ")[:1500])
    print(
        f"  target: each under {TARGET_SECONDS:.0f} s with a clear error; "
        f"{len(CASES) - failures}/{len(CASES)} met"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
