"""Running one CR's callbacks for a cycle: args, the typed CR, a deadline, the outcome.

:class:`LoadedHooks` is what the reconciler holds (:class:`orkestra.engine.hooks.Hooks`).
For each cycle it renders the string args against the CR, builds the CR model, and runs the
cycle's callbacks in order in a thread of their own with one deadline
(``HookSet.timeout``). Their cluster calls are relayed to the reconcile, which serves them
until the callbacks finish or the deadline passes (:class:`_Relay`; a runtime worker waits
for the next call without holding up the event loop,
:func:`~orkestra.greenbridge.call_blocking`): the calls use the worker's own cache and
client, and a callback that hangs fails the cycle at the deadline, after which its calls
are refused, so the worker moves on (Python cannot stop the thread; an async callback is
cancelled). An exception, a malformed object or a malformed status becomes the cycle's
error, naming the callback and where in the user's code it happened; a callback's return
value (an object or a list of them) is applied like ``ctx.client.apply``. Exceptions the
cluster raises that are not API errors (the runtime's request to retry with fresh data) are
re-raised to the reconciler's caller once the callbacks are done, whatever the callback did
with them.
"""

from __future__ import annotations

import inspect
import logging
import queue
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from orkestra.cluster.data import clone
from orkestra.cluster.errors import ApiError
from orkestra.engine.hooks import EventNote, HookCall, HookOutcome
from orkestra.greenbridge import call_blocking
from orkestra.hooks.api import Args, HookContext, HookError, HookSet
from orkestra.hooks.client import HookClient, MalformedObjectError
from orkestra.hooks.spec import CodeRef
from orkestra.kubeobjects import Json, KubeObject
from orkestra.template import TemplateError

RESERVED_STATUS = ("observedGeneration", "conditions")
_Call = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, object]]
_LATE = "the cycle of this hook is over (it passed its deadline): no more cluster calls"
log = logging.getLogger("orkestra.hooks")
_NOT_USER_CODE = tuple(
    dict.fromkeys(
        [
            str(Path(__file__).resolve().parents[1]) + "/",
            *(
                str(Path(sysconfig.get_paths()[k]).resolve()) + "/"
                for k in ("stdlib", "platstdlib")
            ),
        ]
    )
)


class _Relay:
    """Cluster calls of the callbacks' thread, made on the reconciling thread."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self.abort: BaseException | None = None

    def __call__(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """In the callbacks' thread: the call's result once the reconciling thread made it."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise HookError(_LATE)
            self._queue.put((future, function, args, kwargs))
        return future.result()

    def finished(self) -> None:
        self._queue.put(None)

    def serve(self, deadline: float) -> bool:
        """In the reconciling thread: make the calls until the callbacks finished (True) or
        the deadline passed (False; later calls are refused)."""
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                try:  # on the event loop's thread (a runtime worker), the loop goes on
                    call = call_blocking(self._queue.get, True, remaining)
                except queue.Empty:
                    break
                if call is None:
                    return True
                self._make(*call)
        except BaseException:  # cancelled (the runtime stopping): refuse later calls
            self._close()
            self._queue.put(None)  # and end the wait still blocking a thread
            raise
        self._close()
        return False

    def _make(
        self,
        future: Future[Any],
        function: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, object],
    ) -> None:
        try:
            future.set_result(function(*args, **kwargs))
        except (ApiError, HookError) as exc:
            future.set_exception(exc)
        except Exception as exc:
            self.abort = self.abort or exc
            future.set_exception(exc)
        except BaseException:  # cancelled: the callback's thread must not wait forever
            future.set_exception(HookError(_LATE))
            raise

    def _close(self) -> None:
        with self._lock:
            self._closed = True
            while True:
                try:
                    call = self._queue.get_nowait()
                except queue.Empty:
                    return
                if call is not None:
                    call[0].set_exception(HookError(_LATE))


class LoadedHooks:
    """The hook set of one CRD entry, ready to run."""

    def __init__(
        self,
        ref: CodeRef,
        hooks: HookSet[Any],
        model: Callable[[Any], Any] | None = None,
        model_name: str = "",
    ) -> None:
        self.ref = ref
        self.hooks = hooks
        self.model = model
        self.model_name = model_name

    @property
    def run_first(self) -> bool:
        return self.ref.run_first

    @property
    def replaces_templates(self) -> bool:
        return self.ref.replaces_templates

    @property
    def needs_finalizer(self) -> bool:
        return self.hooks.on_delete is not None

    def kinds(self) -> list[tuple[str, str]]:
        return list(self.ref.resources)

    def run(self, call: HookCall) -> HookOutcome:
        callbacks = [
            (p, getattr(self.hooks, p)) for p in call.phases if getattr(self.hooks, p) is not None
        ]
        if not callbacks:
            return HookOutcome()
        try:
            args = Args(self._args(call))
            cr = self._typed(call.cr)
        except (TemplateError, HookError) as exc:
            return HookOutcome(error=f"hook {self.ref.name}: {exc}")
        relay = _Relay()
        client = HookClient(call, f"{self.ref.block}/{self.ref.function}", relay)
        meta = call.cr["metadata"]
        logger = logging.LoggerAdapter(
            log,
            {"hook": self.ref.name, "name": meta["name"], "namespace": meta.get("namespace", "")},
        )
        contexts = [
            HookContext(
                phase=phase,
                name=meta["name"],
                namespace=meta.get("namespace", ""),
                cr=clone(call.cr),
                client=client,
                args=args,
                log=logger,
            )
            for phase, _ in callbacks
        ]
        failure = _with_deadline(
            lambda deadline: self._call_all(callbacks, cr, contexts, deadline),
            relay,
            self.hooks.timeout,
        )
        if relay.abort is not None:
            raise relay.abort
        return self._outcome(contexts, failure)

    def _args(self, call: HookCall) -> dict[str, Json]:
        if self.ref.replaces_templates:
            return dict(self.ref.args)
        return {
            k: call.renderer.render(v, call.data) if isinstance(v, str) and "{{" in v else v
            for k, v in self.ref.args.items()
        }

    def _typed(self, cr: KubeObject) -> Any:
        if self.model is None:
            return clone(cr)
        try:
            return self.model(clone(cr))
        except Exception as exc:  # pydantic's ValidationError, or the model's own check
            raise HookError(
                f"the CR does not fit the model {self.model_name}: {_one_line(exc)}"
            ) from None

    def _call_all(
        self,
        callbacks: list[tuple[str, Any]],
        cr: Any,
        contexts: list[HookContext],
        deadline: float,
    ) -> None:
        for (phase, callback), ctx in zip(callbacks, contexts, strict=True):
            try:
                returned = callback(cr, ctx)
                if inspect.isawaitable(returned):
                    returned = _run_async(returned, deadline - time.monotonic())
                for obj in _returned_objects(returned, phase):
                    ctx.client.apply(obj)
            except (_Failed, _DeadlinePassed):
                raise
            except Exception as exc:
                raise _Failed(phase, exc) from exc

    def _outcome(self, contexts: list[HookContext], failure: BaseException | None) -> HookOutcome:
        outcome = HookOutcome()
        for ctx in contexts:
            outcome.events.extend(EventNote(*e) for e in ctx.events.recorded)
            outcome.status.update(ctx.status)
        reserved = [k for k in RESERVED_STATUS if k in outcome.status]
        if failure is None and reserved:
            outcome.error = (
                f"hook {self.ref.name} set status.{reserved[0]}, which the runtime writes itself"
            )
        elif isinstance(failure, _Failed):
            outcome.error = f"hook {self.ref.name} {failure.phase} failed: {failure.describe()}"
        elif isinstance(failure, TimeoutError | _DeadlinePassed):
            outcome.error = (
                f"hook {self.ref.name} did not finish within "
                f"{self.hooks.timeout:g}s (HookSet.timeout)"
            )
        elif failure is not None:
            outcome.error = f"hook {self.ref.name} failed: {_one_line(failure)}"
        if outcome.error:
            outcome.status = {}
        return outcome


class _Failed(Exception):  # noqa: N818 - carries a callback's exception out of its thread
    def __init__(self, phase: str, cause: Exception) -> None:
        super().__init__(phase)
        self.phase = phase
        self.cause = cause

    def describe(self) -> str:
        cause = self.cause
        if isinstance(cause, MalformedObjectError | HookError | ApiError):
            return str(cause) + _user_frame(cause)
        return f"{type(cause).__name__}: {_one_line(cause)}{_user_frame(cause)}"


def _with_deadline(
    work: Callable[[float], None], relay: _Relay, timeout: float
) -> BaseException | None:
    """Run ``work(deadline)`` in a thread while serving its cluster calls here; its
    exception, TimeoutError, or None."""
    failure: list[BaseException] = []
    deadline = time.monotonic() + timeout

    def target() -> None:
        try:
            work(deadline)
        except BaseException as exc:  # handed to the reconciler's thread
            failure.append(exc)
        finally:
            relay.finished()

    threading.Thread(target=target, name="orkestra-hook", daemon=True).start()
    if not relay.serve(deadline):
        return TimeoutError()
    return failure[0] if failure else None


class _DeadlinePassed(Exception):  # noqa: N818 - an async callback was cancelled at it
    pass


def _run_async(awaitable: Any, seconds: float) -> Any:
    """An async callback's result, cancelled at the deadline (asyncio loads only for one)."""
    import asyncio

    async def bounded() -> Any:
        try:
            return await asyncio.wait_for(awaitable, max(seconds, 0.0))
        except TimeoutError:
            raise _DeadlinePassed from None

    return asyncio.run(bounded())


def _returned_objects(returned: Any, phase: str) -> list[Any]:
    if returned is None:
        return []
    if isinstance(returned, dict):
        return [returned]
    if isinstance(returned, list | tuple):
        return list(returned)
    raise MalformedObjectError(
        f"{phase} returned {type(returned).__name__}; expected None, an object or a list of objects"
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split(" For further information visit ")[0].split())
    return text if len(text) <= 500 else text[:497] + "..."


def _user_frame(exc: BaseException) -> str:
    """`` (file:line)`` of the innermost frame outside Orkestra and the standard library:
    where the hook failed."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(_NOT_USER_CODE)
    ]
    return f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
