"""ENGINE 'dask': the executor on a real LocalCluster of 2 worker processes (one per module: a
cluster takes seconds to start), and EXTRACT through it against the real PostgreSQL and moto's S3."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from support import dask_cluster as tasks

pytest.importorskip("distributed")

SECRET = f"s3cret-{uuid.uuid4().hex}"  # a password only the workers' environment holds


@pytest.fixture(scope="module")
def cluster():
    with tasks.local_cluster({"HYDRA_TEST_WORKER_SECRET": SECRET}) as (local, client):
        yield local, client


def executor_on(cluster, cap: int = 2):
    from hydra.engine.dask import DaskExecutor

    return DaskExecutor(workers=2, scheduler=cluster[0].scheduler_address, cap=cap)


def outcomes(executor, count: int, timeout: float = 60) -> dict:
    found, deadline = {}, time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        for outcome in executor.completed(timeout=1):
            found[outcome.key] = outcome
    assert len(found) == count, found
    return found


def test_a_task_reads_secrets_from_the_workers_environment(cluster):
    assert "HYDRA_TEST_WORKER_SECRET" not in os.environ
    with executor_on(cluster) as ex:
        ex.submit("env", tasks.env_value, tasks.task(name="HYDRA_TEST_WORKER_SECRET"))
        assert outcomes(ex, 1)["env"].result == SECRET


def test_the_cap_holds_a_source_to_so_many_tasks_at_once(cluster):
    with executor_on(cluster, cap=1) as ex:
        for i in range(3):
            ex.submit(("pg", i), tasks.timed_sleep, tasks.task("pg", seconds=0.3))
        capped = [o.result for o in outcomes(ex, 3).values()]
        # the control: two sources, one task each, on the two idle workers, run at once
        for i in range(2):
            ex.submit(("other", i), tasks.timed_sleep, tasks.task(f"other{i}", seconds=0.5))
        free = [o.result for o in outcomes(ex, 2).values()]
    spans = sorted((start, end) for _, start, end in capped)
    assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:])), spans
    (_, s1, e1), (_, s2, e2) = free
    assert max(s1, s2) < min(e1, e2), "the control did not overlap: the cap test would prove nothing"


def test_a_task_that_raises_is_retried_then_fails_with_its_error(cluster, tmp_path):
    with executor_on(cluster) as ex:
        ex.submit("flaky", tasks.count_attempts, tasks.task(path=str(tmp_path / "attempts")))
        ex.submit("broken", tasks.fails, tasks.task(name="orders"))
        found = outcomes(ex, 2)
    assert found["flaky"].result == 3  # failed twice, passed on the third attempt
    assert isinstance(found["broken"].error, ValueError) and "cannot read orders" in str(found["broken"].error)


def test_progress_comes_from_task_completions(cluster):
    from hydra.engine.base import Context

    heard = []

    class Listening(Context):
        def progress(self, rows: int, size: int) -> None:
            heard.append((rows, size))

    with executor_on(cluster) as ex:
        ex.submit("one", tasks.summary, tasks.task(rows=1200, size=4096), Listening())
        ex.submit("two", tasks.summary, tasks.task(rows=800, size=1024), Listening())
        outcomes(ex, 2)
    assert sorted(heard) == [(800, 1024), (1200, 4096)]


def test_cancel_stops_running_tasks_and_drops_waiting_ones(cluster):
    _, client = cluster
    ex = executor_on(cluster, cap=2)
    for i in range(3):
        ex.submit(i, tasks.wait_for_stop, tasks.task("pg", seconds=60))
    deadline = time.time() + 30
    while time.time() < deadline and sum(len(k) for k in client.processing().values()) < 2:
        time.sleep(0.02)
    started = time.monotonic()
    ex.cancel()
    ex.close()
    assert time.monotonic() - started < 10  # the tasks noticed the stop: not the 60 s
    found = outcomes(ex, 3, timeout=5)
    assert all("interrupted" in str(o.error) for o in found.values()), found
    assert "before it started" in str(found[2].error)
    assert not any(client.processing().values())


def test_a_killed_worker_s_task_runs_again_elsewhere(cluster):
    _, client = cluster
    with executor_on(cluster) as ex:
        ex.submit("sleeper", tasks.timed_sleep, tasks.task(seconds=2.0, task_id="sleeper"))
        killed = tasks.kill_worker_running(client, prefix="hydra-sleeper", after=0.3)
        pid, started, ended = outcomes(ex, 1)["sleeper"].result
    assert pid != killed and ended - started >= 2.0  # ran again, to its end, on a live worker
    client.wait_for_workers(2, timeout=60)  # the nanny replaced the killed worker


def test_without_distributed_the_engine_says_how_to_install_it(monkeypatch):
    import sys

    from hydra.core.errors import HydraError
    from hydra.engine.dask import DaskExecutor

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(HydraError, match=r"pip install 'hydra-shell\[distributed\]'"):
        DaskExecutor()
