"""A progress display on stderr while EXTRACT runs: one line per element and one overall, with
rows, rows/s and bytes. Shown only when stderr is a terminal; silent otherwise (scripts, pipes)."""

from __future__ import annotations

import sys
import threading
import time


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


class Display:
    """Use as a context manager; ``add(name, counters)`` per element, ``done(name, status)``."""

    def __init__(self, stream=None, enabled: bool | None = None, interval: float = 0.25):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.interval = interval
        self._items: dict[str, tuple] = {}
        self._progress = None
        self._overall = None
        self._stop = threading.Event()
        self._thread = None
        self._started = time.perf_counter()

    def __enter__(self):
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}", justify="left"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[rows]} rows"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[size]}"),
            TimeElapsedColumn(),
            console=Console(file=self.stream), transient=False, auto_refresh=False)
        self._progress.start()
        self._overall = self._progress.add_task("[bold]all elements", total=None, rows="0", rate="", size="")
        self._thread = threading.Thread(target=self._loop, name="hydra-progress", daemon=True)
        self._thread.start()
        return self

    def add(self, name: str, counters) -> None:
        if not self.enabled or self._progress is None:
            return
        task = self._progress.add_task(name[:50], total=counters.total_rows, rows="0", rate="", size="")
        self._items[name] = (task, counters, time.perf_counter())

    def done(self, name: str, status: str) -> None:
        if not self.enabled or name not in self._items:
            return
        task, counters, _ = self._items[name]
        self._progress.update(task, description=f"{name[:40]} [{status}]", total=counters.rows or 1,
                              completed=counters.rows or 1)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.refresh()

    def refresh(self) -> None:
        if self._progress is None:
            return
        now = time.perf_counter()
        all_rows = all_bytes = 0
        for task, counters, started in list(self._items.values()):
            all_rows += counters.rows
            all_bytes += counters.bytes
            rate = counters.rows / max(now - started, 1e-6)
            self._progress.update(task, completed=counters.rows, rows=f"{counters.rows:,}",
                                  rate=f"{rate:,.0f} rows/s", size=human_bytes(counters.bytes))
        rate = all_rows / max(now - self._started, 1e-6)
        self._progress.update(self._overall, rows=f"{all_rows:,}", rate=f"{rate:,.0f} rows/s",
                              size=human_bytes(all_bytes))
        self._progress.refresh()

    def __exit__(self, *exc):
        if self._progress is not None:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            self.refresh()
            self._progress.stop()
        return False
