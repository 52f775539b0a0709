"""Running one CR's callbacks for a cycle: args, the typed CR, a deadline, the outcome.

:class:`LoadedHooks` is what the reconciler holds (:class:`orkestra.engine.hooks.Hooks`).
For each cycle it renders the string args against the CR, builds the CR model, and runs the
cycle's callbacks in order in a thread of their own with one deadline (``HookSet.timeout``):
a callback that hangs fails the cycle when the deadline passes and its client is closed, so
the worker moves on (Python cannot stop the thread; an async callback is cancelled). An
exception, a malformed object or a malformed status becomes the cycle's error, naming the
callback and where in the user's code it happened; a callback's return value (an object or
a list of them) is applied like ``ctx.client.apply``. Exceptions the cluster raises that
are not API errors (the runtime's request to retry with fresh data) are re-raised to the
reconciler's caller once the callbacks are done, whatever the callback did with them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orkestra.cluster.data import clone
from orkestra.cluster.errors import ApiError
from orkestra.engine.hooks import EventNote, HookCall, HookOutcome
from orkestra.hooks.api import Args, HookContext, HookError, HookSet
from orkestra.hooks.client import HookClient, MalformedObjectError
from orkestra.hooks.spec import CodeRef
from orkestra.template import TemplateError

Obj = dict[str, Any]
RESERVED_STATUS = ("observedGeneration", "conditions")
log = logging.getLogger("orkestra.hooks")
_NOT_USER_CODE = tuple(dict.fromkeys(
    [str(Path(__file__).resolve().parents[1]) + "/",
     *(str(Path(sysconfig.get_paths()[k]).resolve()) + "/" for k in ("stdlib", "platstdlib"))]))


class _Guard:
    """Makes a client's cluster calls, remembering what only the caller may handle."""

    def __init__(self) -> None:
        self.abort: BaseException | None = None

    def __call__(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (ApiError, HookError):
            raise
        except Exception as exc:
            self.abort = self.abort or exc
            raise


class LoadedHooks:
    """The hook set of one CRD entry, ready to run."""

    def __init__(self, ref: CodeRef, hooks: HookSet[Any],
                 model: Callable[[Any], Any] | None = None, model_name: str = "") -> None:
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
        callbacks = [(p, getattr(self.hooks, p)) for p in call.phases
                     if getattr(self.hooks, p) is not None]
        if not callbacks:
            return HookOutcome()
        try:
            args = Args(self._args(call))
            cr = self._typed(call.cr)
        except (TemplateError, HookError) as exc:
            return HookOutcome(error=f"hook {self.ref.name}: {exc}")
        guard = _Guard()
        client = HookClient(call, f"{self.ref.block}/{self.ref.function}", guard)
        meta = call.cr["metadata"]
        logger = logging.LoggerAdapter(log, {"hook": self.ref.name, "name": meta["name"],
                                             "namespace": meta.get("namespace", "")})
        contexts = [HookContext(phase, meta["name"], meta.get("namespace", ""),
                                _cr_copy(call.cr), client, args, logger)
                    for phase, _ in callbacks]
        failure = _with_deadline(lambda deadline: self._call_all(callbacks, cr, contexts,
                                                                 deadline),
                                 self.hooks.timeout)
        client.closed = True
        if guard.abort is not None:
            raise guard.abort
        return self._outcome(contexts, failure)

    def _args(self, call: HookCall) -> Obj:
        if self.ref.replaces_templates:
            return dict(self.ref.args)
        return {k: call.renderer.render(v, call.data) if isinstance(v, str) and "{{" in v
                else v for k, v in self.ref.args.items()}

    def _typed(self, cr: Obj) -> Any:
        if self.model is None:
            return _cr_copy(cr)
        try:
            return self.model(_cr_copy(cr))
        except Exception as exc:  # pydantic's ValidationError, or the model's own check
            raise HookError(f"the CR does not fit the model {self.model_name}: "
                            f"{_one_line(exc)}") from None

    def _call_all(self, callbacks: list[tuple[str, Any]], cr: Any,
                  contexts: list[HookContext], deadline: float) -> None:
        for (phase, callback), ctx in zip(callbacks, contexts, strict=True):
            try:
                returned = callback(cr, ctx)
                if inspect.isawaitable(returned):
                    returned = asyncio.run(_bounded(returned, deadline - time.monotonic()))
                for obj in _returned_objects(returned, phase):
                    ctx.client.apply(obj)
            except (_Failed, _DeadlinePassed):
                raise
            except Exception as exc:
                raise _Failed(phase, exc) from exc

    def _outcome(self, contexts: list[HookContext], failure: BaseException | None
                 ) -> HookOutcome:
        outcome = HookOutcome()
        for ctx in contexts:
            outcome.events.extend(EventNote(*e) for e in ctx.events.recorded)
            outcome.status.update(ctx.status)
        reserved = [k for k in RESERVED_STATUS if k in outcome.status]
        if failure is None and reserved:
            outcome.error = f"hook {self.ref.name} set status.{reserved[0]}, which the " \
                            "runtime writes itself"
        elif isinstance(failure, _Failed):
            outcome.error = f"hook {self.ref.name} {failure.phase} failed: {failure.describe()}"
        elif isinstance(failure, TimeoutError | _DeadlinePassed):
            outcome.error = f"hook {self.ref.name} did not finish within " \
                            f"{self.hooks.timeout:g}s (HookSet.timeout)"
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


def _with_deadline(work: Callable[[float], None], timeout: float) -> BaseException | None:
    """Run ``work(deadline)`` in a thread; its exception, TimeoutError, or None."""
    done = threading.Event()
    failure: list[BaseException] = []
    deadline = time.monotonic() + timeout

    def target() -> None:
        try:
            work(deadline)
        except BaseException as exc:  # handed to the reconciler's thread
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=target, name="orkestra-hook", daemon=True).start()
    if not done.wait(timeout):
        return TimeoutError()
    return failure[0] if failure else None


class _DeadlinePassed(Exception):  # noqa: N818 - an async callback was cancelled at it
    pass


async def _bounded(awaitable: Any, seconds: float) -> Any:
    try:
        return await asyncio.wait_for(awaitable, max(seconds, 0.0))
    except TimeoutError:
        raise _DeadlinePassed from None


def _returned_objects(returned: Any, phase: str) -> list[Any]:
    if returned is None:
        return []
    if isinstance(returned, dict):
        return [returned]
    if isinstance(returned, list | tuple):
        return list(returned)
    raise MalformedObjectError(f"{phase} returned {type(returned).__name__}; expected None, "
                               "an object or a list of objects")


def _cr_copy(cr: Obj) -> Any:
    return clone(cr)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split(" For further information visit ")[0].split())
    return text if len(text) <= 500 else text[:497] + "..."


def _user_frame(exc: BaseException) -> str:
    """`` (file:line)`` of the innermost frame outside Orkestra and the standard library:
    where the hook failed."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_NOT_USER_CODE)]
    return f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
