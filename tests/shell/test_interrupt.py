"""Ctrl-C: the interrupt handler marks an interrupt however it arrives."""

from __future__ import annotations

import duckdb
import pytest


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


def test_ctrl_c_in_the_lookups_before_a_query_stops_the_statement():
    """Ctrl-C that lands while the shell asks DuckDB whether a query names a source (before the
    query itself runs) comes out of DuckDB as its InterruptException or, when DuckDB ran our
    handler itself, as RuntimeError("Query interrupted"). Taken for "DuckDB cannot tell", the
    query itself would then run on: the first Ctrl-C would have done nothing."""
    import io
    import os
    import signal
    import threading
    import time

    import duckdb
    import pytest

    from hydra.shell.interrupt import Interrupter
    from hydra.shell.session import Session
    from hydra.statements.workspace import Workspace

    ws = Workspace.open(":memory:")
    session = Session(ws, out=io.StringIO(), err=io.StringIO())

    def slow_source_names():  # a lookup slow enough for Ctrl-C to land in it
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        ws.con.execute("SELECT sum(hash(i)) FROM range(100000000000) t(i)").fetchall()
        return []

    ws.source_names = slow_source_names
    rescue = threading.Timer(15, ws.con.interrupt)  # ends the query if the first Ctrl-C did not
    interrupter = Interrupter(ws.con)
    started = time.monotonic()
    try:
        rescue.start()
        with pytest.raises((KeyboardInterrupt, RuntimeError, duckdb.InterruptException)):
            with interrupter:
                session.run_text("SELECT sum(hash(i)) AS long FROM range(100000000000) t(i);")
        assert interrupter.fired
        assert time.monotonic() - started < 10, "the query ran on after Ctrl-C"
    finally:
        rescue.cancel()
        interrupter.close()
        ws.close()


@pytest.mark.parametrize("interrupted", [RuntimeError("Query interrupted"),
                                         duckdb.InterruptException("INTERRUPT Error: Interrupted!")],
                         ids=["handler-run-by-duckdb", "con-interrupt"])
def test_the_two_errors_duckdb_gives_for_ctrl_c_in_the_lookups_end_the_statement(interrupted):
    """The two errors DuckDB raises for Ctrl-C (seen in the test above; which one depends on
    whether DuckDB ran our SIGINT handler or the watcher's ``con.interrupt()`` came first) are
    not "DuckDB cannot tell": the statement ends there and the query never starts."""
    import io

    from hydra.shell.session import Session
    from hydra.statements.workspace import Workspace

    ws = Workspace.open(":memory:")
    session = Session(ws, out=io.StringIO(), err=io.StringIO())

    calls = []

    def interrupted_source_names():  # the interrupt is spent once raised: later lookups succeed
        calls.append(1)
        if len(calls) == 1:
            raise interrupted
        return []

    ws.source_names = interrupted_source_names
    try:
        with pytest.raises(type(interrupted)):
            session.run_text("SELECT 42 AS answer;")
        assert "42" not in session.out.getvalue()
    finally:
        ws.close()


def test_once_the_statement_ends_a_late_wake_up_interrupts_nothing():
    """The watcher thread may read the signal just as the statement ends: ``__exit__`` waits for
    its ``con.interrupt()`` to finish, so the interrupt cannot land on what runs next (the ROLLBACK
    after Ctrl-C, the next statement)."""
    import os
    import signal
    import threading
    import time

    from hydra.shell.interrupt import Interrupter

    class SlowConnection:
        def __init__(self):
            self.entered, self.release, self.done = threading.Event(), threading.Event(), threading.Event()

        def interrupt(self):
            self.entered.set()
            self.release.wait(10)
            self.done.set()

    con = SlowConnection()
    interrupter = Interrupter(con)
    order = []

    def release_later():
        time.sleep(0.3)
        order.append("interrupt released")
        con.release.set()

    try:
        interrupter.__enter__()
        os.write(interrupter._write_fd, bytes([signal.SIGINT]))  # what the C-level handler writes
        assert con.entered.wait(10)  # the watcher is inside con.interrupt()
        threading.Thread(target=release_later).start()
        interrupter.__exit__(None, None, None)
        order.append("exited")
        assert con.done.is_set()
        assert order == ["interrupt released", "exited"], "__exit__ returned with an interrupt on its way"
    finally:
        con.release.set()
        interrupter.close()
