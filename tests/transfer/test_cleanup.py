"""The clean-up after Ctrl-C is redone when a second interrupt lands in it, but a bounded number
of times: a clean-up that keeps failing cannot keep EXTRACT from returning."""

from __future__ import annotations

import pytest

from hydra.transfer import extract


def test_a_clean_up_that_keeps_failing_is_tried_a_bounded_number_of_times(ws, tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("id\n1\n2\n")
    ws.execute(f"ATTACH '{tmp_path / 'data'}' AS f")
    ws.execute("MARK f.*")
    calls = []

    def interrupted_loop(self, engine, display, queue):
        raise KeyboardInterrupt

    def cancel_interrupted_again(self, engine, running):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(extract.Run, "_small_loop", lambda self, *args: None)  # every element by the loop
    monkeypatch.setattr(extract.Run, "_loop", interrupted_loop)
    monkeypatch.setattr(extract.Run, "_cancel", cancel_interrupted_again)
    with pytest.raises(KeyboardInterrupt):
        ws.execute(f"EXTRACT MARKED TO '{tmp_path / 'out'}'")
    assert len(calls) == extract.CLEANUP_ATTEMPTS == 5


def test_a_clean_up_interrupted_once_is_redone_and_completes():
    attempts = []

    def step():
        attempts.append(1)
        if len(attempts) == 1:
            raise KeyboardInterrupt

    assert extract.cleaned_up(step) is True and len(attempts) == 2
