"""The local executor: tasks run in a pool of threads of this process (Hydra's behaviour before
there was an engine). The tasks and the coordinator's own work share the pool, so that the
coordinator's thread, which keeps the workspace's books, never waits on a disk or S3 itself."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Hashable

from hydra.engine.base import Completions, Context, Outcome


class LocalExecutor:
    def __init__(self, workers: int, name: str = "hydra-extract"):
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._outcomes = Completions()
        self._futures: set[Future] = set()
        self._contexts: dict[Hashable, Context] = {}
        self._lock = threading.Lock()
        self.cancelled = False

    def submit(self, key: Hashable, fn: Callable[[Any, Context], Any], task: Any,
               context: Context | None = None) -> None:
        context = context or Context()
        with self._lock:
            self._contexts[key] = context
        self._start(key, fn, task, context)

    def run_here(self, key: Hashable, fn: Callable[..., Any], *args: Any) -> None:
        self._start(key, fn, *args)

    def _start(self, key: Hashable, fn: Callable[..., Any], *args: Any) -> None:
        self._outcomes.started()
        future = self._pool.submit(fn, *args)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(lambda done: self._finished(key, done))

    def _finished(self, key: Hashable, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)
            self._contexts.pop(key, None)
        if future.cancelled():
            outcome = Outcome(key, error=InterruptedError("cancelled before it started"))
        else:
            error = future.exception()
            outcome = Outcome(key, error=error) if error is not None else Outcome(key, result=future.result())
        self._outcomes.finished(outcome)

    def completed(self, timeout: float | None = None) -> list[Outcome]:
        return self._outcomes.completed(timeout)

    def pending(self) -> int:
        return self._outcomes.pending()

    def cancel(self) -> None:
        """Drop the tasks not yet started and interrupt those running (their Contexts)."""
        self.cancelled = True
        with self._lock:
            futures, contexts = list(self._futures), list(self._contexts.values())
        for future in futures:
            future.cancel()
        for context in contexts:
            context.interrupt()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
