"""Cluster targets and the program runner under them.

The kind path needs docker and kind, absent here; run it for real where they exist. Here
:class:`KindTarget`, :class:`ContextGuard` and :class:`CurrentTarget` are tested for the
commands they issue, against :class:`Recording`, a stand-in for
:class:`~orkestra.e2e.commands.Commands` that records every argv and answers from a
script. :class:`Commands` itself (timeouts killing a whole process group, Ctrl-C) and the
kubectl-only parts (``kubectl config`` needs no cluster) are tested for real.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType

import pytest

from orkestra.e2e.commands import Commands, Completed
from orkestra.e2e.kubectl import KubectlError
from orkestra.e2e.runner import Options, choose_target
from orkestra.e2e.spec import ClusterSpec, Suite
from orkestra.e2e.targets import (
    ContextGuard,
    CurrentTarget,
    EmbeddedTarget,
    KindTarget,
)
from orkestra.errors import OrkError

Answer = tuple[int, str, str]
Reply = Answer | Callable[[tuple[str, ...]], Answer]


class Recording(Commands):
    """Runs nothing: records each argv (and its timeout) and answers from ``script``, a
    list of (argv prefix, reply) where the longest matching prefix wins; unscripted
    commands succeed with no output."""

    def __init__(self, script: Sequence[tuple[tuple[str, ...], Reply]] = ()) -> None:
        super().__init__()
        self.script = list(script)
        self.calls: list[tuple[str, ...]] = []
        self.timeouts: list[float | None] = []

    def run(
        self, argv: Sequence[str], *, input: str | None = None, timeout: float | None = 120.0
    ) -> Completed:
        called = tuple(argv)
        self.calls.append(called)
        self.timeouts.append(timeout)
        matching = [(p, r) for p, r in self.script if called[: len(p)] == p]
        if not matching:
            return Completed(argv=called, returncode=0, stdout="", stderr="")
        _, reply = max(matching, key=lambda item: len(item[0]))
        code, stdout, stderr = reply(called) if callable(reply) else reply
        return Completed(argv=called, returncode=code, stdout=stdout, stderr=stderr)


def kind_calls(recording: Recording) -> list[tuple[str, ...]]:
    return [c for c in recording.calls if c[0] == "kind"]


# -- KindTarget ---------------------------------------------------------------------------


def test_kind_creates_a_fresh_cluster_with_its_own_kubeconfig() -> None:
    commands = Recording([(("kind", "get", "clusters"), (0, "other\n", ""))])
    target = KindTarget(commands, "ork-e2e-web")
    cluster = target.up()
    assert cluster.kind == "kind" and cluster.name == "ork-e2e-web"
    assert cluster.kubeconfig.parent.is_dir()  # kind writes it into the target's scratch dir
    assert commands.calls == [
        ("kind", "get", "clusters"),
        (
            "kind",
            "create",
            "cluster",
            "--name",
            "ork-e2e-web",
            "--kubeconfig",
            str(cluster.kubeconfig),
            "--wait",
            "120s",
        ),
    ]
    assert commands.timeouts[1] == 600
    target.down()
    assert commands.calls[2:] == [("kind", "delete", "cluster", "--name", "ork-e2e-web")]
    assert not cluster.kubeconfig.parent.exists()
    target.down()  # a second down() deletes nothing more
    assert len(commands.calls) == 3


def test_kind_deletes_an_existing_cluster_first_unless_reused() -> None:
    commands = Recording([(("kind", "get", "clusters"), (0, "other\nork-e2e\n", ""))])
    target = KindTarget(commands, "ork-e2e")
    cluster = target.up()
    assert [c[:3] for c in commands.calls] == [
        ("kind", "get", "clusters"),
        ("kind", "delete", "cluster"),
        ("kind", "create", "cluster"),
    ]
    assert commands.calls[1] == ("kind", "delete", "cluster", "--name", "ork-e2e")
    target.down()  # it created this one: deleted
    assert commands.calls[-1] == ("kind", "delete", "cluster", "--name", "ork-e2e")
    assert not cluster.kubeconfig.parent.exists()


def test_kind_reuses_an_existing_cluster_and_never_deletes_it() -> None:
    commands = Recording([(("kind", "get", "clusters"), (0, "ork-e2e\n", ""))])
    target = KindTarget(commands, "ork-e2e", reuse=True)
    cluster = target.up()
    assert commands.calls == [
        ("kind", "get", "clusters"),
        (
            "kind",
            "export",
            "kubeconfig",
            "--name",
            "ork-e2e",
            "--kubeconfig",
            str(cluster.kubeconfig),
        ),
    ]
    target.down()
    assert len(commands.calls) == 2  # not created by this run: left alone
    assert not cluster.kubeconfig.parent.exists()


def test_kind_reuse_creates_when_there_is_none() -> None:
    # `kind get clusters` with none prints its notice on stderr, nothing on stdout.
    commands = Recording([(("kind", "get", "clusters"), (0, "", "No kind clusters found.\n"))])
    target = KindTarget(commands, "ork-e2e", reuse=True)
    target.up()
    assert commands.calls[1][:3] == ("kind", "create", "cluster")
    target.down()
    assert commands.calls[-1] == ("kind", "delete", "cluster", "--name", "ork-e2e")


def test_kind_keep_leaves_the_created_cluster() -> None:
    commands = Recording()
    target = KindTarget(commands, "ork-e2e", keep=True)
    cluster = target.up()
    target.down()
    assert [c[1] for c in commands.calls] == ["get", "create"]
    assert not cluster.kubeconfig.parent.exists()  # only the scratch copy goes


def test_a_failing_kind_command_raises_with_kind_s_stderr() -> None:
    failure = "ERROR: failed to create cluster: Cannot connect to the Docker daemon"
    commands = Recording([(("kind", "create"), (1, "Creating cluster ...\n", failure + "\n"))])
    target = KindTarget(commands, "ork-e2e")
    with pytest.raises(KubectlError) as caught:
        target.up()
    message = str(caught.value)
    assert message.startswith("kind create cluster --name ork-e2e --kubeconfig ")
    assert message.endswith(": " + failure)
    target.down()  # a create that failed half-way may have left a cluster: delete it
    assert [c[1:3] for c in commands.calls] == [
        ("get", "clusters"),
        ("create", "cluster"),
        ("delete", "cluster"),
    ]


def test_a_failing_kind_get_clusters_stops_before_anything_is_deleted() -> None:
    commands = Recording([(("kind", "get"), (1, "", "permission denied\n"))])
    target = KindTarget(commands, "ork-e2e")
    with pytest.raises(KubectlError, match=r"^kind get clusters: permission denied$"):
        target.up()
    target.down()
    assert commands.calls == [("kind", "get", "clusters")]


# -- ContextGuard -------------------------------------------------------------------------


class Contexts(Recording):
    """Recording with a current context that ``use-context`` switches."""

    def __init__(self, current: str | None) -> None:
        super().__init__(
            [
                (("kubectl", "config", "current-context"), self._current),
                (("kubectl", "config", "use-context"), self._use),
            ]
        )
        self.current = current

    def _current(self, _: tuple[str, ...]) -> Answer:
        if self.current is None:
            return 1, "", "error: current-context is not set\n"
        return 0, self.current + "\n", ""

    def _use(self, argv: tuple[str, ...]) -> Answer:
        self.current = argv[3]
        return 0, f'Switched to context "{argv[3]}".\n', ""


def test_the_guard_switches_back_when_the_context_changed() -> None:
    commands = Contexts("mine")
    with ContextGuard(commands) as guard:
        assert guard.saved == "mine"
        commands.current = "kind-ork-e2e"  # kind create cluster switches it
    assert commands.current == "mine"
    assert commands.calls == [("kubectl", "config", "current-context")] * 2 + [
        ("kubectl", "config", "use-context", "mine")
    ]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_the_guard_switches_back_when_the_block_raises(error: type[BaseException]) -> None:
    commands = Contexts("mine")
    with pytest.raises(error), ContextGuard(commands):
        commands.current = "other"
        raise error()
    assert commands.current == "mine"
    assert commands.calls[-1] == ("kubectl", "config", "use-context", "mine")


def test_the_guard_names_the_kubeconfig_it_was_given(tmp_path: Path) -> None:
    config = tmp_path / "config"
    commands = Contexts("mine")
    with ContextGuard(commands, config):
        commands.current = "other"
    extra = ("--kubeconfig", str(config))
    assert commands.calls == [("kubectl", "config", "current-context", *extra)] * 2 + [
        ("kubectl", "config", "use-context", "mine", *extra)
    ]


def test_the_guard_does_nothing_when_the_context_did_not_change() -> None:
    commands = Contexts("mine")
    with ContextGuard(commands):
        pass
    assert commands.calls == [("kubectl", "config", "current-context")] * 2


def test_the_guard_does_nothing_without_a_current_context() -> None:
    commands = Contexts(None)
    with ContextGuard(commands) as guard:
        commands.current = "kind-ork-e2e"
    assert guard.saved is None
    assert commands.calls == [("kubectl", "config", "current-context")]
    assert commands.current == "kind-ork-e2e"


# -- CurrentTarget ------------------------------------------------------------------------

FLAT = textwrap.dedent("""\
    apiVersion: v1
    clusters:
    - cluster: {server: https://10.0.0.1:6443}
      name: prod
    contexts:
    - context: {cluster: prod, user: me}
      name: prod
    current-context: prod
    kind: Config
    users:
    - name: me
      user: {token: secret}
    """)
VIEW = ("kubectl", "config", "view", "--minify", "--flatten", "--raw")


def test_current_target_copies_the_flattened_context_to_a_private_file() -> None:
    commands = Recording([(VIEW, (0, FLAT, ""))])
    target = CurrentTarget(commands)
    cluster = target.up()
    assert commands.calls == [VIEW]
    assert (cluster.kind, cluster.name) == ("existing", "prod")
    assert cluster.kubeconfig.read_text() == FLAT
    assert stat.S_IMODE(cluster.kubeconfig.stat().st_mode) == 0o600
    target.down()
    assert not cluster.kubeconfig.exists() and not cluster.kubeconfig.parent.exists()
    assert commands.calls == [VIEW]  # nothing deleted, nothing switched


def test_current_target_names_the_kubeconfig_and_context(tmp_path: Path) -> None:
    commands = Recording(
        [(VIEW, (0, FLAT.replace("current-context: prod", "current-context: staging"), ""))]
    )
    target = CurrentTarget(commands, kubeconfig=tmp_path / "kc", context="staging")
    cluster = target.up()
    assert commands.calls == [(*VIEW, "--kubeconfig", str(tmp_path / "kc"), "--context", "staging")]
    assert cluster.name == "staging"
    target.down()


def test_current_target_fails_clearly_on_an_unknown_context() -> None:
    commands = Recording([(VIEW, (1, "", "error: cannot locate context nope\n"))])
    with pytest.raises(OrkError) as caught:
        CurrentTarget(commands, context="nope").up()
    assert (
        caught.value.message
        == "no usable kubectl context 'nope': error: cannot locate context nope"
    )
    assert "kubectl config get-contexts" in caught.value.hint


def test_current_target_refuses_a_config_without_a_server() -> None:
    empty = "apiVersion: v1\nclusters: null\ncontexts: null\nkind: Config\n"
    with pytest.raises(OrkError, match=r"^no usable kubectl context: "):
        CurrentTarget(Recording([(VIEW, (0, empty, ""))])).up()


# -- choose_target ------------------------------------------------------------------------


def suite_on(provider: str = "kind", name: str = "ork-e2e-web", reuse: bool = False) -> Suite:
    return Suite(
        name="web",
        file=Path("e2e.yaml"),
        display="e2e.yaml",
        cluster=ClusterSpec(provider, name, reuse),
    )


@pytest.mark.parametrize("missing", ["docker", "kind"])
def test_the_file_s_kind_falls_back_to_embedded_without_docker_or_kind(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda p: None if p == missing else real("sh"))
    assert not KindTarget.available()
    target = choose_target(suite_on("kind"), Options(), Recording())
    assert isinstance(target, EmbeddedTarget)


def test_the_file_s_kind_is_used_where_docker_and_kind_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(KindTarget, "available", staticmethod(lambda: True))
    commands = Recording()
    target = choose_target(
        suite_on("kind", "ork-e2e-web", reuse=True), Options(keep_cluster=True), commands
    )
    assert isinstance(target, KindTarget)
    assert (target.name, target.reuse, target.keep, target.commands) == (
        "ork-e2e-web",
        True,
        True,
        commands,
    )


def test_existing_uses_the_context_and_kubeconfig(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(KindTarget, "available", staticmethod(lambda: True))
    options = Options(cluster_kind="existing", context="staging", kubeconfig=tmp_path / "kc")
    target = choose_target(suite_on("kind"), options, Recording())
    assert isinstance(target, CurrentTarget)
    assert (target.context, target.kubeconfig) == ("staging", tmp_path / "kc")
    assert isinstance(choose_target(suite_on("existing"), Options(), Recording()), CurrentTarget)


def test_embedded_is_chosen_by_flag_or_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(KindTarget, "available", staticmethod(lambda: True))
    assert isinstance(
        choose_target(suite_on("kind"), Options(cluster_kind="embedded"), Recording()),
        EmbeddedTarget,
    )
    assert isinstance(choose_target(suite_on("embedded"), Options(), Recording()), EmbeddedTarget)


def test_asking_for_kind_without_docker_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(KindTarget, "available", staticmethod(lambda: False))
    with pytest.raises(OrkError) as caught:
        choose_target(suite_on("embedded"), Options(cluster_kind="kind"), Recording())
    assert caught.value.message == "--cluster-kind kind needs docker and kind on PATH"
    assert "--cluster-kind embedded" in caught.value.hint


# -- Commands, for real -------------------------------------------------------------------


def test_completed_message() -> None:
    argv = ("kubectl", "get", "pods")
    assert (
        Completed(argv=argv, returncode=1, stdout="ignored\n", stderr="  error: boom \n").message()
        == "error: boom"
    )
    assert (
        Completed(argv=argv, returncode=1, stdout="only stdout\n", stderr="").message()
        == "only stdout"
    )
    assert (
        Completed(argv=argv, returncode=3, stdout="", stderr=" \n").message()
        == "kubectl get pods exited with 3"
    )
    assert (
        Completed(argv=argv, returncode=-9, stdout="", stderr="half\n", timed_out=True).message()
        == "kubectl timed out: half"
    )
    assert (
        Completed(argv=argv, returncode=-9, stdout="", stderr="", timed_out=True).message()
        == "kubectl timed out"
    )
    assert not Completed(argv=argv, returncode=0, stdout="", stderr="", timed_out=True).ok
    assert Completed(argv=argv, returncode=0, stdout="a", stderr="b").output == "ab"


@pytest.mark.integration
def test_commands_runs_with_input_env_and_exit_code() -> None:
    commands = Commands({"ORK_E2E_TEST": "from-env"})
    done = commands.run(["cat"], input="piped", timeout=10)
    assert (done.ok, done.stdout) == (True, "piped")
    done = commands.shell('echo "$ORK_E2E_TEST"; echo err >&2; exit 3', timeout=10)
    assert (done.returncode, done.ok, done.timed_out) == (3, False, False)
    assert (done.stdout, done.stderr, done.message()) == ("from-env\n", "err\n", "err")


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie awaiting its reaper counts as dead)."""
    status = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            return status.read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except (FileNotFoundError, ProcessLookupError):
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def dies(pid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def background(pidfile: Path) -> str:
    """A script that leaves a sleep in the background (holding stdout open) and waits."""
    return f"sleep 30 & echo $! > {pidfile}; echo started; wait"


@pytest.mark.integration
def test_a_timed_out_command_is_killed_with_its_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    started = time.monotonic()
    done = Commands().shell(background(pidfile), timeout=0.5)
    # Killing sh alone would leave the sleep holding stdout: communicate() would wait 30 s.
    assert time.monotonic() - started < 10
    assert done.timed_out and not done.ok and done.returncode == -9
    assert done.stdout == "started\n"
    assert done.message() == "sh timed out: started"
    assert dies(int(pidfile.read_text()))


@pytest.fixture
def interrupt_after() -> Iterator[Callable[[float], None]]:
    """Raise KeyboardInterrupt in this (the main) thread after some seconds, as Ctrl-C."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    def arm(seconds: float) -> None:
        signal.setitimer(signal.ITIMER_REAL, seconds)

    previous = signal.signal(signal.SIGALRM, handler)
    yield arm
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.integration
def test_ctrl_c_kills_the_command_s_process_group(
    tmp_path: Path, interrupt_after: Callable[[float], None]
) -> None:
    pidfile = tmp_path / "pid"
    interrupt_after(1.0)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        Commands().shell(background(pidfile), timeout=60)
    assert time.monotonic() - started < 10
    assert dies(int(pidfile.read_text()))


# -- kubectl config, for real (no cluster needed) ------------------------------------------

KUBECONFIG = textwrap.dedent("""\
    apiVersion: v1
    kind: Config
    clusters:
    - name: ca
      cluster: {server: "https://127.0.0.1:6443"}
    - name: cb
      cluster: {server: "https://127.0.0.2:6443"}
    users:
    - name: u
      user: {token: abc}
    contexts:
    - name: a
      context: {cluster: ca, user: u}
    - name: b
      context: {cluster: cb, user: u, namespace: team}
    current-context: a
    """)

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl")


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.write_text(KUBECONFIG)
    return path


def current_context(kubeconfig: Path) -> str:
    done = Commands().run(
        ["kubectl", "config", "current-context", "--kubeconfig", str(kubeconfig)], timeout=30
    )
    assert done.ok, done.message()
    return done.stdout.strip()


@pytest.mark.integration
@needs_kubectl
def test_current_target_with_kubectl_copies_one_context(kubeconfig: Path) -> None:
    target = CurrentTarget(Commands(), kubeconfig=kubeconfig, context="b")
    cluster = target.up()
    try:
        text = cluster.kubeconfig.read_text()
        assert "https://127.0.0.2:6443" in text and "127.0.0.1" not in text
        assert current_context(cluster.kubeconfig) == "b"
        assert current_context(kubeconfig) == "a"  # the user's file is untouched
    finally:
        target.down()
    assert not cluster.kubeconfig.exists()
    with pytest.raises(OrkError, match=r"^no usable kubectl context 'nope': .*nope"):
        CurrentTarget(Commands(), kubeconfig=kubeconfig, context="nope").up()


@pytest.mark.integration
@needs_kubectl
def test_context_guard_with_kubectl_switches_back(kubeconfig: Path) -> None:
    commands = Commands()
    with pytest.raises(KeyboardInterrupt), ContextGuard(commands, kubeconfig):
        done = commands.run(
            ["kubectl", "config", "use-context", "b", "--kubeconfig", str(kubeconfig)], timeout=30
        )
        assert done.ok and current_context(kubeconfig) == "b"
        raise KeyboardInterrupt
    assert current_context(kubeconfig) == "a"
