"""No tracebacks: ``main`` turns any unexpected exception into one line and a hint to run
again with ``--debug``; a full disk during an atomic write and ``init -d`` into a
read-only location are clean errors that leave nothing half-written."""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import click
import pytest

from orkestra.files import FileWriteError, write_atomic
from tests.conftest import run

ORK = shutil.which("ork", path=str(Path(sys.executable).parent)) or "ork"


@click.command("boom")
@click.option("--kind", default="runtime")
def boom(kind: str) -> int:
    """A command with a bug."""
    if kind == "interrupt":
        raise KeyboardInterrupt
    if kind == "pipe":
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")
    if kind == "oserror":
        raise PermissionError(errno.EACCES, "Permission denied", "/somewhere")
    raise RuntimeError("the spec was a list\nnot a mapping")


@pytest.fixture(autouse=True)
def buggy_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from orkestra.cli import app

    monkeypatch.setitem(app.COMMANDS, "boom", (f"{__name__}:boom", "A command with a bug."))
    monkeypatch.delenv("ORK_DEBUG", raising=False)


def test_an_unexpected_error_is_one_line_and_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "boom")
    assert (code, out) == (1, "")
    assert err == (
        "error: RuntimeError: the spec was a list not a mapping\n"
        "  hint: this is a bug in ork; run `ork --debug boom` (or set ORK_DEBUG=1) "
        "to see the traceback, and report it\n"
    )
    code, _, err = run(capsys, "boom", "--kind", "oserror")
    assert code == 1
    assert err.startswith("error: PermissionError: [Errno 13] Permission denied: '/somewhere'\n")


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(
    how: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "env":
        monkeypatch.setenv("ORK_DEBUG", "1")
    code, _, err = run(capsys, *(["--debug"] if how == "flag" else []), "boom")
    assert code == 1
    assert err.startswith("Traceback (most recent call last):\n")
    assert 'raise RuntimeError("the spec was a list\\nnot a mapping")' in err
    assert err.endswith("error: RuntimeError: the spec was a list not a mapping\n")
    assert "hint" not in err


def test_debug_after_the_command_is_not_global(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "boom", "--debug")
    assert code == 2 and "No such option '--debug'" in err


@pytest.mark.parametrize(("kind", "code"), [("interrupt", 130), ("pipe", 0)])
def test_interrupts_and_closed_pipes(
    kind: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "boom", "--kind", kind)[0] == code


def test_usage_errors_keep_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "boom", "--nope")[0] == 2
    assert run(capsys, "no-such-command")[0] == 2


def _subprocess(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``main`` in its own interpreter, with the buggy command registered."""
    code = textwrap.dedent(f"""
        import sys
        from orkestra.cli import app
        app.COMMANDS["boom"] = ("{__name__}:boom", "bug")
        sys.exit(app.main(sys.argv[1:]))
    """)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).parents[2],
        env={**os.environ, **(env or {})},
    )


def test_in_a_process() -> None:
    plain = _subprocess("boom")
    assert plain.returncode == 1
    assert plain.stderr.splitlines()[0] == (
        "error: RuntimeError: the spec was a list not a mapping"
    )
    assert "Traceback" not in plain.stderr
    debug = _subprocess("boom", env={"ORK_DEBUG": "1"})
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert _subprocess("boom", "--kind", "interrupt").returncode == 130


def test_a_closed_pipe_exits_0() -> None:
    process = subprocess.Popen(
        [ORK, "schema", "katalog"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(10)
    process.stdout.close()
    assert process.wait(timeout=30) == 0
    assert process.stderr.read() == b""


# -- atomic writes on a full disk -------------------------------------------------------------


class _FullDisk(io.BytesIO):
    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def fill_the_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file written through ``write_atomic`` fails as a full disk does."""
    real = os.fdopen

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        real(fd, *args, **kwargs).close()
        return _FullDisk()

    monkeypatch.setattr("orkestra.files.os.fdopen", fdopen)


def test_write_atomic_on_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.yaml"
    target.write_text("old\n")
    fill_the_disk(monkeypatch)
    with pytest.raises(FileWriteError) as caught:
        write_atomic(target, b"new\n")
    assert caught.value.message == f"cannot write {target}: No space left on device"
    assert "the disk is full" in caught.value.hint
    assert caught.value.errno == errno.ENOSPC
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.yaml"]


def test_ork_schema_to_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    fill_the_disk(monkeypatch)
    code, _, err = run(capsys, "schema", "katalog", "--output-file", "katalog.schema.json")
    assert code == 1
    assert err == (
        "cannot write katalog.schema.json: No space left on device\n"
        "  hint: the disk is full; free some space and run the command again "
        "(nothing was changed)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_report_file_that_cannot_be_appended_to(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--report-file`` in a directory that does not exist: the clear error of every other
    write, not an unexpected one."""
    monkeypatch.chdir(pack_copy)
    code, _, err = run(
        capsys,
        "validate",
        "-f",
        "02-katalog-api/katalog.yaml",
        "--report-file",
        "missing/summary.md",
    )
    assert code == 1
    assert err.startswith(
        "cannot write missing/summary.md: No such file or directory\n"
        "  hint: nothing was changed; check the path"
    )
    assert "error:" not in err and "bug" not in err


# -- ork init -d into a place it cannot write ------------------------------------------------


def test_init_into_a_read_only_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tempfile

    def read_only(*args: Any, **kwargs: Any) -> str:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path))

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    code, _, err = run(capsys, "init", "--pack", "registry-guide", "-d", str(tmp_path / "g"))
    assert code == 1
    assert err == (
        f"cannot write the pack to {tmp_path / 'g'}: Read-only file system\n"
        f"  hint: {tmp_path} is not writable; choose another location or fix its "
        "permissions\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_init_on_a_full_disk_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = Path.write_bytes
    written: list[Path] = []

    def full(self: Path, data: Any) -> int:
        written.append(self)
        if len(written) > 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    code, _, err = run(capsys, "init", "--pack", "registry-guide", "-d", str(tmp_path / "g"))
    assert code == 1 and "No space left on device" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_init_force_keeps_the_old_directory_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "g"
    target.mkdir()
    (target / "mine.txt").write_text("keep\n")
    monkeypatch.setattr(
        Path,
        "write_bytes",
        lambda self, data: (_ for _ in ()).throw(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))),
    )
    code, _, _ = run(capsys, "init", "--pack", "registry-guide", "-d", str(target), "--force")
    assert code == 1
    assert [p.name for p in tmp_path.iterdir()] == ["g"]
    assert (target / "mine.txt").read_text() == "keep\n"


def test_init_force_never_replaces_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mine.txt").write_text("keep\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "init", "--pack", "registry-guide", "-d", ".", "--force")
    assert code == 1 and "contains the current directory" in err
    assert (tmp_path / "mine.txt").read_text() == "keep\n"


def _tiny_filesystem(mount: Path, options: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``ork`` run with a small tmpfs mounted at ``mount`` (a private mount namespace);
    skipped where that is not allowed (not root)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare to mount a tmpfs")
    mount.mkdir()
    script = (
        f'mount -t tmpfs -o {options} ork-test "$1" || exit 99; shift; '
        f'"$@"; code=$?; ls -A "{mount}" > "{mount}.listing"; exit $code'
    )
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", str(mount), ORK, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if result.returncode == 99:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    return result


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ("size=64k", "No space left on device"),
        ("ro,size=64k", "Read-only file system"),
    ],
)
def test_init_on_a_real_small_or_read_only_filesystem(
    tmp_path: Path, options: str, reason: str
) -> None:
    mount = tmp_path / "mnt"
    result = _tiny_filesystem(
        mount, options, "init", "--pack", "registry-guide", "-d", str(mount / "guide")
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"cannot write the pack to {mount / 'guide'}: {reason}\n")
    assert "Traceback" not in result.stderr
    assert (tmp_path / "mnt.listing").read_text() == ""  # nothing half-written


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_init_into_a_read_only_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = subprocess.run(
            [ORK, "init", "--pack", "registry-guide", "-d", str(locked / "guide")],
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        locked.chmod(0o755)
    assert result.returncode == 1
    assert "Permission denied" in result.stderr and "Traceback" not in result.stderr
    assert list(locked.iterdir()) == []
