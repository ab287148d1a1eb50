"""The progress display shows how long the source has held an element's snapshot (issue 13)."""

from __future__ import annotations

import io


def test_the_display_shows_how_long_the_snapshot_is_held():
    from hydra.transfer.progress import Display
    from hydra.transfer.writers import Progress

    held = Progress(total_rows=10)
    held.snapshot_held = lambda: 12.4
    quiet = Progress(total_rows=10)
    stream = io.StringIO()
    with Display(stream=stream, enabled=True) as display:
        display.add("db.public.busy", held)
        display.add("db.public.quiet", quiet)
        display.refresh()
    shown = stream.getvalue()
    assert "db.public.busy (snapshot held 12 s)" in shown
    assert "db.public.quiet (snapshot" not in shown
