"""The Executor protocol, what it hands back (``Outcome``) and what a task may ask of where it
runs (``Context``).

A task is plain data and ``fn(task, context)`` a module-level function (so both pickle): an
executor may run it in a thread, a process or on another machine. The coordinator may also run
work of its own (committing an element at the target, taking figures in a snapshot) through
``run_here``: it runs in the coordinator's process, and its outcome arrives through the same
``completed`` as the tasks', so one loop waits on both.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Protocol, runtime_checkable


@dataclass(frozen=True)
class Outcome:
    """How one submitted task ended: its ``result``, or the ``error`` it raised."""

    key: Hashable
    result: Any = None
    error: BaseException | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


class Context:
    """What a running task may ask of the place it runs in; the defaults suit any process.

    * ``resource(key, make)``: one object per process for ``key`` (an opened head, a target),
      made by ``make()`` the first time; the local executor's coordinator pre-fills it with the
      heads it already holds open (and the snapshots they hold).
    * ``stopped()``: why the task should stop now (the run was cancelled, a sibling range of the
      same element failed), or None to go on; checked between batches.
    * ``opened(con)``/``closed(con)``: a DuckDB connection the task reads on, so ``cancel`` can
      interrupt it.
    * ``progress(rows, size)``: rows and bytes written since the last call (a monitor).
    """

    _shared: dict = {}  # per process: shared by the tasks of every run
    _shared_lock = threading.Lock()

    def __init__(self) -> None:
        self._connections: list = []

    def resource(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with Context._shared_lock:
            found = Context._shared.get(key)
            if found is None:
                found = Context._shared[key] = make()
            return found

    def stopped(self) -> str | None:
        return None

    def opened(self, con) -> None:
        self._connections.append(con)

    def closed(self, con) -> None:
        if con in self._connections:
            self._connections.remove(con)

    def interrupt(self) -> None:
        """Interrupt the queries the task runs now (``Executor.cancel``)."""
        for con in list(self._connections):
            try:
                con.interrupt()
            except Exception:  # noqa: BLE001 - the connection may be closing as we interrupt it
                pass

    def progress(self, rows: int, size: int) -> None:
        pass


@runtime_checkable
class Executor(Protocol):
    """Runs tasks and hands back their outcomes as they complete."""

    workers: int  # how many tasks run at once (the coordinator keeps about twice that submitted)

    def submit(self, key: Hashable, fn: Callable[[Any, Context], Any], task: Any,
               context: Context | None = None) -> None:
        """Run ``fn(task, context)`` somewhere; its outcome comes back under ``key``. A remote
        executor passes its own Context (``context`` is for a task run in this process)."""

    def run_here(self, key: Hashable, fn: Callable[..., Any], *args: Any) -> None:
        """Run coordinator work ``fn(*args)`` in this process; its outcome comes back under ``key``."""

    def completed(self, timeout: float | None = None) -> list[Outcome]:
        """Every outcome ready now, waiting up to ``timeout`` (None: until one is) when none is."""

    def pending(self) -> int:
        """Tasks and coordinator work submitted whose outcome ``completed`` has not yet returned."""

    def cancel(self) -> None:
        """Drop what has not started; interrupt what runs (through the tasks' Contexts)."""

    def close(self) -> None:
        """Wait for what still runs, then release the workers."""


class Completions:
    """The outcome queue every executor needs: what finished, in the order it finished."""

    def __init__(self) -> None:
        self._done: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self._pending = 0
        self._lock = threading.Lock()

    def started(self) -> None:
        with self._lock:
            self._pending += 1

    def finished(self, outcome: Outcome) -> None:
        self._done.put(outcome)

    def pending(self) -> int:
        return self._pending

    def completed(self, timeout: float | None = None) -> list[Outcome]:
        found: list[Outcome] = []
        if not self._pending:
            return found
        try:  # an interrupt (Ctrl-C) while waiting loses nothing: what was taken is counted
            found.append(self._done.get(timeout=timeout))
            while True:
                found.append(self._done.get_nowait())
        except queue.Empty:
            pass
        finally:
            with self._lock:
                self._pending -= len(found)
        return found
