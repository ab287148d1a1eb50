"""Ctrl-C: the interrupt handler marks an interrupt however it arrives."""

from __future__ import annotations


def test_an_interrupt_is_marked_by_the_handler_that_sees_it():
    """DuckDB may run Python's SIGINT handler itself (and raise "Query interrupted") before the
    watcher thread wakes: the handler must mark the interrupt, or -c reports an internal error."""
    import signal

    import duckdb

    from hydra.shell.interrupt import Interrupter

    interrupter = Interrupter(duckdb.connect())
    try:
        with interrupter:
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                assert interrupter.fired  # at once, not when the watcher thread gets round to it
            else:
                raise AssertionError("SIGINT did not raise KeyboardInterrupt")
    finally:
        interrupter.close()
