"""Ctrl-C that stops a running statement at once.

Python runs a SIGINT handler only between bytecodes of the main thread, so a long DuckDB query
would notice Ctrl-C late (or never). ``Interrupter`` registers a wake-up file descriptor
(``signal.set_wakeup_fd``): the C-level handler writes the signal number to it straight away, a
small watcher thread reads it and calls ``con.interrupt()`` on the workspace connection, and
DuckDB stops the query within milliseconds. Python's own handler then raises
``KeyboardInterrupt`` in the main thread as usual, which also stops Python-level work (a
transfer's batch loop, a head's reader).
"""

from __future__ import annotations

import os
import signal
import threading


class Interrupter:
    """``with interrupter:`` around running a statement; ``fired`` says whether Ctrl-C was pressed."""

    def __init__(self, con):
        self.con = con
        self.fired = False
        self._active = False
        # held while the watcher interrupts and while ``__exit__`` ends the statement: once
        # ``__exit__`` returns, a wake-up read late (the signal came as the statement ended) cannot
        # interrupt what runs next (the ROLLBACK after Ctrl-C, the next statement)
        self._lock = threading.Lock()
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._old_fd = -1
        self._old_handler = None
        self._watcher = threading.Thread(target=self._watch, name="hydra-interrupt", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while True:
            try:
                data = os.read(self._read_fd, 64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGINT not in data:
                continue
            with self._lock:
                if not self._active:
                    continue
                self.fired = True
                try:
                    self.con.interrupt()
                except Exception:  # noqa: BLE001 - nothing running, or the connection closed
                    pass

    def _on_sigint(self, signum, frame) -> None:
        """Python's handler: mark the interrupt, then raise as the default handler does. DuckDB
        checks for signals while it runs a query and may run this before the watcher thread
        wakes: it then raises its own "Query interrupted", and ``fired`` must already say so."""
        self.fired = True
        raise KeyboardInterrupt

    def __enter__(self) -> Interrupter:
        self.fired = False
        if threading.current_thread() is threading.main_thread():
            self._old_handler = signal.signal(signal.SIGINT, self._on_sigint)
            self._old_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        self._active = True
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._active = False
        if threading.current_thread() is threading.main_thread() and self._old_handler is not None:
            signal.set_wakeup_fd(self._old_fd)
            signal.signal(signal.SIGINT, self._old_handler)
            self._old_handler = None

    def close(self) -> None:
        for fd in (self._write_fd, self._read_fd):
            try:
                os.close(fd)
            except OSError:
                pass
