"""The local executor: outcomes arrive as tasks complete (not as submitted), a failing task is
one failed outcome while the others go on, and cancel drops what has not started and interrupts
what runs."""

from __future__ import annotations

import threading
import time

import duckdb

from hydra.engine.base import Context, Executor, Outcome
from hydra.engine.local import LocalExecutor


def sleep_then_echo(task, context):
    time.sleep(task[1])
    return task[0]


def fail_if_asked(task, context):
    if task == "bad":
        raise ValueError("this task fails")
    return task


def long_duckdb_query(task, context):
    """A query that runs for minutes unless interrupted, on a connection the context knows."""
    con = duckdb.connect()
    context.opened(con)
    try:
        task.set()
        return con.execute("SELECT count(*) FROM range(10000000000) a WHERE hash(a.range) = 1").fetchall()
    finally:
        context.closed(con)
        con.close()


def everything(executor, timeout: float = 60) -> list[Outcome]:
    found, deadline = [], time.monotonic() + timeout
    while executor.pending() and time.monotonic() < deadline:
        found += executor.completed(timeout=1)
    return found


def test_outcomes_arrive_as_tasks_complete():
    with LocalExecutor(3) as engine:
        assert isinstance(engine, Executor)
        for key, seconds in (("slow", 0.6), ("fast", 0.0), ("middle", 0.3)):
            engine.submit(key, sleep_then_echo, (key, seconds))
        outcomes = everything(engine)
    assert [o.key for o in outcomes] == ["fast", "middle", "slow"]
    assert [o.result for o in outcomes] == ["fast", "middle", "slow"] and not any(o.failed for o in outcomes)


def test_a_failing_task_is_one_failed_outcome_and_the_others_go_on():
    with LocalExecutor(2) as engine:
        for key in ("a", "bad", "b", "c"):
            engine.submit(key, fail_if_asked, key)
        engine.run_here("coordinator", lambda: "committed")  # the coordinator's own work, same outcomes
        outcomes = {o.key: o for o in everything(engine)}
    assert {k: o.result for k, o in outcomes.items() if not o.failed} == {
        "a": "a", "b": "b", "c": "c", "coordinator": "committed"}
    assert isinstance(outcomes["bad"].error, ValueError) and str(outcomes["bad"].error) == "this task fails"


def test_cancel_interrupts_the_running_task_and_drops_the_queued_ones():
    started = threading.Event()
    engine = LocalExecutor(1)
    try:
        engine.submit("long", long_duckdb_query, started, Context())
        engine.submit("queued", sleep_then_echo, ("queued", 0))
        assert started.wait(30)
        time.sleep(0.2)  # the query is running
        begun = time.monotonic()
        engine.cancel()
        outcomes = {o.key: o for o in everything(engine, timeout=30)}
        assert time.monotonic() - begun < 10  # interrupted, not run to its end
    finally:
        engine.close()
    assert isinstance(outcomes["long"].error, duckdb.InterruptException)
    assert isinstance(outcomes["queued"].error, InterruptedError)
    assert engine.pending() == 0
