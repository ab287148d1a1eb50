"""A live count of what a long enumeration has listed so far (ATTACH, REFRESH)."""

from __future__ import annotations

from typing import Callable, Iterable


def with_progress(items: Iterable, label: str, after: float = 0.5, detail: Callable[[], str | None] | None = None):
    """Pass items through, showing a live count on stderr when a long enumeration (more than
    ``after`` seconds) runs on a terminal; silent in scripts and pipes. ``detail`` says more as the
    listing goes (a whole server: "120 of 200 databases"), after the label."""
    import sys
    import time

    if not sys.stderr.isatty():
        yield from items
        return
    started, progress, task = time.monotonic(), None, None
    try:
        for count, item in enumerate(items, start=1):
            if progress is None and time.monotonic() - started > after:
                from rich.console import Console
                from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

                progress = Progress(SpinnerColumn(), TextColumn("{task.description}: {task.completed:,} elements"),
                                    TimeElapsedColumn(), transient=True, console=Console(stderr=True))
                progress.start()
                task = progress.add_task(label, total=None)
            if progress is not None:
                more = detail() if detail is not None else None
                progress.update(task, completed=count, description=f"{label} ({more})" if more else label)
            yield item
    finally:
        if progress is not None:
            progress.stop()
