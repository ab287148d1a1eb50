"""ENGINE 'dask': the executor on a real LocalCluster of 2 worker processes (one per module: a
cluster takes seconds to start), and EXTRACT through it against the real PostgreSQL and moto's S3."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import wait

import pytest
from support import dask_cluster as tasks

pytest.importorskip("distributed")

SECRET = f"s3cret-{uuid.uuid4().hex}"  # a password only the workers' environment holds


@pytest.fixture(scope="module")
def cluster():
    with tasks.local_cluster({"HYDRA_TEST_WORKER_SECRET": SECRET}) as (local, client):
        yield local, client


@pytest.fixture
def executor(cluster):
    from hydra.engine.dask import DaskExecutor

    local, _ = cluster
    ex = DaskExecutor(scheduler=local.scheduler_address, workers=2, cap=2)
    yield ex
    ex.shutdown()


def test_a_task_reads_secrets_from_the_workers_environment(executor):
    assert "HYDRA_TEST_WORKER_SECRET" not in os.environ
    assert executor.submit(tasks.env_value, "HYDRA_TEST_WORKER_SECRET").result(timeout=30) == SECRET


def test_the_cap_holds_a_source_to_so_many_tasks_at_once(cluster):
    from hydra.engine.dask import DaskExecutor

    local, _ = cluster
    ex = DaskExecutor(scheduler=local.scheduler_address, workers=2, cap=1)
    try:
        capped = [ex.submit(tasks.timed_sleep, 0.3, source="pg") for _ in range(3)]
        wait(capped, timeout=60)
        # the control: two sources, one task each, on two idle workers run at once
        free = [ex.submit(tasks.timed_sleep, 0.5, source=f"other{i}") for i in range(2)]
        wait(free, timeout=60)
    finally:
        ex.shutdown()
    spans = sorted((f.result()[1], f.result()[2]) for f in capped)
    assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:])), spans
    (_, s1, e1), (_, s2, e2) = (f.result() for f in free)
    assert max(s1, s2) < min(e1, e2), "the control did not overlap: the cap test would prove nothing"


def test_a_task_that_raises_is_retried_then_fails_with_its_error(executor, tmp_path):
    attempts = tmp_path / "attempts"
    assert executor.submit(tasks.count_attempts, str(attempts)).result(timeout=30) == 3
    failing = executor.submit(tasks.fails, "orders")
    with pytest.raises(ValueError, match="cannot read orders"):
        failing.result(timeout=30)


def test_cancel_stops_running_tasks_and_drops_waiting_ones(cluster):
    import time

    from hydra.engine.dask import DaskExecutor

    local, client = cluster
    ex = DaskExecutor(scheduler=local.scheduler_address, workers=2, cap=2)
    running = [ex.submit(tasks.wait_for_stop, 60, source="pg") for _ in range(2)]
    waiting = ex.submit(tasks.wait_for_stop, 60, source="pg")
    deadline = time.time() + 30
    while time.time() < deadline and sum(len(k) for k in client.processing().values()) < 2:
        time.sleep(0.02)
    started = time.monotonic()
    ex.shutdown(cancel=True)
    assert time.monotonic() - started < 10  # the tasks noticed the stop, not the 60 s
    for future in running + [waiting]:
        assert "interrupted" in str(future.exception(timeout=5))
    assert not any(client.processing().values())


def test_a_killed_worker_s_task_runs_again_elsewhere(cluster, executor):
    local, client = cluster
    future = executor.submit(tasks.timed_sleep, 2.0, key="sleeper")
    killed = tasks.kill_worker_running(client, prefix="hydra-sleeper", after=0.3)
    pid, started, ended = future.result(timeout=60)
    assert pid != killed and ended - started >= 2.0  # ran again, to its end, on a live worker
    client.wait_for_workers(2, timeout=60)  # the nanny replaced the killed worker


def test_without_distributed_the_engine_says_how_to_install_it(monkeypatch):
    import sys

    from hydra.core.errors import HydraError
    from hydra.engine.dask import DaskExecutor

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(HydraError, match=r"pip install 'hydra-shell\[distributed\]'"):
        DaskExecutor()
