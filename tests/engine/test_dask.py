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
AWS_SECRET = f"aws-{uuid.uuid4().hex}"  # the S3 secret key of the coordinator and the workers
BIG_ROWS = 2_000_000
MID_ROWS = 400_000


@pytest.fixture(scope="module")
def cluster(moto_server):
    env = {"HYDRA_TEST_WORKER_SECRET": SECRET, "AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": AWS_SECRET, "AWS_DEFAULT_REGION": "us-east-1"}
    with tasks.local_cluster(env) as (local, client):
        yield local, client


def _partitioned(con, table: str, rows: int, parts: int = 4) -> None:
    """``table``: ``rows`` rows in ``parts`` range partitions, made by PostgreSQL itself (unlogged
    partitions loaded one by one, the key added after: 2M rows in ~10 s at load 14, not 37 s)."""
    con.execute(f"CREATE TABLE {table} (id bigint NOT NULL, amount numeric(12,2), name text, day date) "
                f"PARTITION BY RANGE (id)")
    size = rows // parts
    for i in range(parts):
        con.execute(f"CREATE UNLOGGED TABLE {table}_{i} PARTITION OF {table} FOR VALUES FROM ({i * size + 1}) "
                    f"TO ({(i + 1) * size + 1})")
        con.execute(f"INSERT INTO {table}_{i} SELECT g, (g % 100000) / 100.0, 'customer ' || (g % 5000), "
                    f"date '2000-01-01' + (g % 9000)::int FROM generate_series({i * size + 1}, {(i + 1) * size}) g")
    con.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
    con.execute(f"ANALYZE {table}")


@pytest.fixture(scope="module")
def pg_db():
    """A database with ``mid`` (400,000 rows in 4 partitions) and ``small`` (1,000 rows); yields
    its name, dropped afterwards."""
    import psycopg
    from support.services import PG_URL

    name = f"hydra_test_dask_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"{PG_URL}/{name}", autocommit=True) as con:
            _partitioned(con, "mid", MID_ROWS)
            con.execute("CREATE TABLE small (id int PRIMARY KEY, h text)")
            con.execute("INSERT INTO small SELECT g, md5(g::text) FROM generate_series(1, 1000) g")
            con.execute("ANALYZE small")
        yield name
    finally:
        with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def pg_big(pg_db):
    """``big`` in the same database: the issue's 2M-row partitioned table (one test reads it)."""
    import psycopg
    from support.services import PG_URL

    with psycopg.connect(f"{PG_URL}/{pg_db}", autocommit=True) as con:
        _partitioned(con, "big", BIG_ROWS)
    return pg_db


def pg_url(database: str, variable: str) -> str:
    """The URL of the test database with the password ``${variable}`` (PostgreSQL trusts the
    machine, so any password logs in: what matters is where its value comes from)."""
    from support.services import PG_URL

    return PG_URL.replace("postgres@", "postgres:${" + variable + "}@", 1) + f"/{database}"


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


def test_what_a_run_opened_on_a_worker_is_closed_when_it_ends(cluster, tmp_path):
    """A cluster outlives the run: the connections its tasks opened there are closed with it."""
    path = str(tmp_path / "held")
    with executor_on(cluster, cap=1) as ex:
        for i in range(3):
            ex.submit(i, tasks.holds, tasks.task("pg", path=path))
        opened = {o.result for o in outcomes(ex, 3).values()}
        assert not (tmp_path / "held").exists()  # open while the run goes on…
    assert len(opened) <= 2  # …shared by the run's tasks in each worker process
    assert (tmp_path / "held").read_text().count("closed") == len(opened)


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


def test_without_distributed_the_engine_says_how_to_install_it(monkeypatch):
    import sys

    from hydra.core.errors import HydraError
    from hydra.engine.dask import DaskExecutor

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(HydraError, match=r"pip install 'hydra-shell\[distributed\]'"):
        DaskExecutor()


# -- EXTRACT … (ENGINE 'dask') ------------------------------------------------------------------


@pytest.fixture
def s3(aws_env, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    client = boto3.client("s3", endpoint_url=aws_env, region_name="us-east-1")
    client.create_bucket(Bucket="landing")
    return client


def s3_objects(client, prefix: str = "") -> dict[str, bytes]:
    found = client.list_objects_v2(Bucket="landing", Prefix=prefix).get("Contents") or []
    return {o["Key"]: client.get_object(Bucket="landing", Key=o["Key"])["Body"].read() for o in found}


@pytest.fixture
def shipped(monkeypatch):
    """Every task the Dask executor sends, as pickled bytes."""
    import pickle

    from hydra.engine.dask import DaskExecutor

    sent: list[bytes] = []
    submit = DaskExecutor.submit

    def recording(self, key, fn, task, context=None):
        sent.append(pickle.dumps(task))
        return submit(self, key, fn, task, context)

    monkeypatch.setattr(DaskExecutor, "submit", recording)
    return sent


@pytest.mark.slow
def test_extract_on_dask_survives_a_killed_worker_and_reconciles(cluster, pg_big, s3, shipped, tmp_path,
                                                                  monkeypatch):
    import io
    import json
    import threading

    import pyarrow.parquet as pq
    from support.outbound_data import make_client_folder

    from hydra.statements.workspace import Workspace

    local, client = cluster
    monkeypatch.setenv("HYDRA_TEST_WORKER_SECRET", SECRET)  # ATTACH reads the catalog here, too
    folder = make_client_folder(tmp_path / "data", rows=50_000)
    workspace = tmp_path / "ws.duckdb"
    ws = Workspace.open(str(workspace))
    try:
        ws.execute(f"ATTACH '{pg_url(pg_big, 'HYDRA_TEST_WORKER_SECRET')}' AS pg (SCHEMAS 'public')")
        ws.execute(f"ATTACH '{folder}' AS f")
        ws.execute("MARK pg.public.big")
        ws.execute("MARK f.*")
        outcome: dict = {}

        def extract():
            try:
                outcome["result"] = ws.execute(f"EXTRACT MARKED TO 's3://landing/hydra/' "
                                               f"(ENGINE 'dask', SCHEDULER '{local.scheduler_address}', WORKERS 4)")
            except BaseException as err:
                outcome["error"] = err

        thread = threading.Thread(target=extract)
        thread.start()
        killed = tasks.kill_worker_running(client, prefix="hydra-", after=1.0, timeout=120)
        thread.join(timeout=300)
        assert "error" not in outcome, outcome.get("error")
        result = outcome["result"]
        assert [r[1] for r in result.rows] == ["done"] * 3, result.rows
        assert killed not in tasks.worker_pids(client).values()
        assert f"EXTRACT on the Dask cluster at {local.scheduler_address}" in result.message
        reconciled = ws.execute("RECONCILE LAST")
        assert reconciled.message.endswith("all passed"), reconciled.rows
    finally:
        ws.close()

    objects = s3_objects(s3, "hydra/")
    manifests = {k: json.loads(v) for k, v in objects.items() if k.endswith("/_manifest.json")}
    assert len(manifests) == 3
    listed = {f"{m['target'].removeprefix('s3://landing/')}/{f['path']}" for m in manifests.values()
              for f in m["files"]}
    data = {k for k in objects if "/_" not in k}
    assert data == listed  # no part twice, no part left by the killed attempt
    big = next(m for m in manifests.values() if m["ref"] == "pg.public.big")
    assert big["rows"] == BIG_ROWS and len(big["files"]) >= 4  # read in ranges, by several tasks
    assert sum(pq.read_table(io.BytesIO(objects[k])).num_rows for k in data
               if "pg.public.big" in k or "/big/" in k) >= BIG_ROWS
    # no secret anywhere: the workspace, the objects at the target, the tasks as shipped
    on_disk = workspace.read_bytes()
    for secret in (SECRET, AWS_SECRET):
        assert secret.encode() not in on_disk
        assert not [k for k, v in objects.items() if secret.encode() in v]
        assert shipped and not [t for t in shipped if secret.encode() in t]


def test_a_worker_without_the_secret_fails_its_element_with_one_line(cluster, pg_db, tmp_path, monkeypatch):
    local, _ = cluster
    monkeypatch.setenv("HYDRA_TEST_WORKER_SECRET", SECRET)
    monkeypatch.setenv("HYDRA_TEST_COORDINATOR_ONLY", "not on the workers")
    from hydra.statements.workspace import Workspace

    ws = Workspace.open(":memory:")
    try:
        ws.execute(f"ATTACH '{pg_url(pg_db, 'HYDRA_TEST_WORKER_SECRET')}' AS good (SCHEMAS 'public')")
        ws.execute(f"ATTACH '{pg_url(pg_db, 'HYDRA_TEST_COORDINATOR_ONLY')}' AS bad (SCHEMAS 'public')")
        result = ws.execute(f"EXTRACT good.public.small, bad.public.small TO '{tmp_path / 'out'}' "
                            f"(ENGINE 'dask', SCHEDULER '{local.scheduler_address}')")
    finally:
        ws.close()
    outcome = {r[0]: (r[1], r[6]) for r in result.rows}
    assert outcome["good.public.small"] == ("done", None)
    status, error = outcome["bad.public.small"]
    assert status == "failed" and "HYDRA_TEST_COORDINATOR_ONLY" in error and "\n" not in error
    assert not (tmp_path / "out" / ".hydra-staging").exists() or not any((tmp_path / "out" / ".hydra-staging").iterdir())


@pytest.mark.slow
def test_ctrl_c_stops_the_tasks_and_leaves_no_staging(cluster, pg_db, tmp_path, ctrl_c_once_done):
    """Ctrl-C while the workers write: the run stops its tasks on the cluster, removes the staging
    and records the elements as interrupted; the same EXTRACT run again completes them."""
    from support.services import PG_URL

    local, client = cluster
    out = tmp_path / "out"
    workspace = tmp_path / "ws.duckdb"
    extract = (f"EXTRACT pg.public.mid TO '{out}' (ENGINE 'dask', SCHEDULER '{local.scheduler_address}', "
               f"WORKERS 4, ROWS_PER_FILE 20000);")
    script = f"ATTACH '{PG_URL}/{pg_db}' AS pg (SCHEMAS 'public'); {extract}"
    code, err = ctrl_c_once_done(workspace, script, lambda: list(out.glob(".hydra-staging/*/*")))
    assert code != 0, err[-2000:]
    left = [p for p in out.rglob("*") if p.is_file() and "_hydra_runs" not in p.parts]  # (the run's record)
    assert not left, left  # no staging, no part
    deadline = time.time() + 30  # the tasks noticed the stop (at most a batch later)
    while time.time() < deadline and any(str(k).startswith("hydra-") for keys in client.processing().values()
                                         for k in keys):
        time.sleep(0.1)
    assert not [k for keys in client.processing().values() for k in keys if str(k).startswith("hydra-")]
    from hydra.statements.workspace import Workspace

    ws = Workspace.open(str(workspace))
    try:
        assert ws.execute("SELECT status, error FROM transfers").rows == [("failed", "interrupted")]
        again = ws.execute(extract)
        assert [r[1] for r in again.rows] == ["done"], again.rows
        assert ws.execute("RECONCILE LAST").message.endswith("all passed")
    finally:
        ws.close()


@pytest.mark.slow
def test_engine_dask_without_a_scheduler_starts_a_local_cluster(ws, tmp_path):
    """The way a user tries it first: no SCHEDULER, a LocalCluster of WORKERS processes, started
    for the run and closed after it."""
    from support.outbound_data import make_client_folder

    folder = make_client_folder(tmp_path / "data", rows=20_000)
    ws.execute(f"ATTACH '{folder}' AS f")
    result = ws.execute(f"EXTRACT f.* TO '{tmp_path / 'out'}' (ENGINE 'dask', WORKERS 2)")
    assert [r[1] for r in result.rows] == ["done", "done"], result.rows
    assert "EXTRACT on a LocalCluster of 2 worker processes" in result.message
    assert ws.execute("RECONCILE LAST").message.endswith("all passed")
    assert not list((tmp_path / "out").glob(".hydra-staging/*"))


def test_an_unreachable_scheduler_fails_each_element_with_one_line(ws, tmp_path, monkeypatch):
    import socket

    from hydra.engine import dask as engine

    monkeypatch.setattr(engine, "CONNECT_SECONDS", 1)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "a.csv").write_text("x\n1\n")
    ws.execute(f"ATTACH '{tmp_path / 'a.csv'}' AS one")
    result = ws.execute(f"EXTRACT one.* TO '{tmp_path / 'out'}' (ENGINE 'dask', SCHEDULER 'tcp://127.0.0.1:{port}')")
    (status, error), = [(r[1], r[6]) for r in result.rows]
    assert status == "failed" and error.startswith(f"ENGINE 'dask': cannot reach the scheduler tcp://127.0.0.1:{port}")
    assert "\n" not in error


def test_a_messy_csv_read_on_a_worker_accounts_for_every_line(cluster, tmp_path):
    """The line accounting of a delimited file read record by record is taken on the worker that
    read it (TaskResult.accounting), and reaches the manifest and ``rejects`` on the coordinator."""
    import json

    from hydra.statements.workspace import Workspace

    local, _ = cluster
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ragged.csv").write_text(
        "id,name,amount\n1,ann,10\n2,bob\n3,cy,30,extra,fields\n4,dee,40\n")
    ws = Workspace.open(":memory:")
    try:
        ws.execute(f"ATTACH '{tmp_path / 'data'}' AS f")
        result = ws.execute(f"EXTRACT f.* TO '{tmp_path / 'out'}' (ENGINE 'dask', SCHEDULER '{local.scheduler_address}')")
        assert [r[1] for r in result.rows] == ["done"], result.rows
        rejects = ws.con.execute("SELECT line, action FROM rejects ORDER BY line").fetchall()
        assert ws.execute("RECONCILE LAST").message.endswith("all passed")
    finally:
        ws.close()
    manifest, = (tmp_path / "out").rglob("_manifest.json")
    lines = json.loads(manifest.read_text())["lines"]
    assert lines["lines"] == 5 and [line for line, _ in rejects] == [3, 4]
