"""A ReadTask is plain data: it pickles, carries no secret, and runs in another process with
nothing from the coordinator (no workspace, no DuckDB connection), writing the same parts each
time it runs."""

from __future__ import annotations

import hashlib
import multiprocessing
import pickle

import pyarrow.parquet as pq
import pytest
from support.outbound_data import make_client_folder

from hydra.core.refs import ref_text
from hydra.heads.spec import SourceSpec
from hydra.transfer.targets import open_target
from hydra.transfer.task import Layout, ReadTask, TaskResult, run_task


def _task(ws, source: str, name: str, out, **extra) -> ReadTask:
    element = next(e for e in ws.elements(source).values() if e.parts[-1] == name)
    target = open_target(str(out))
    target.check()
    return ReadTask("0.0", SourceSpec.from_row(ws.source_row(source)), ref_text(source, element.parts), element,
                    target.uri, target.staging(f"{source}/{name}"), **extra)


def _run_in_child(task: ReadTask, queue) -> None:
    queue.put(run_task(task))


@pytest.mark.slow  # a spawned interpreter imports Hydra: ~7 s under load
def test_a_csv_task_runs_in_a_fresh_process_and_again_to_the_same_parts(ws, tmp_path):
    folder = make_client_folder(tmp_path / "data", rows=20_000)
    ws.execute(f"ATTACH '{folder}' AS f")
    out = tmp_path / "out"
    task = _task(ws, "f", "big.csv", out)
    again = pickle.loads(pickle.dumps(task))
    assert again == task
    spawn = multiprocessing.get_context("spawn")  # a new interpreter: nothing shared with this one
    queue = spawn.Queue()
    child = spawn.Process(target=_run_in_child, args=(again, queue))
    child.start()
    result: TaskResult = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0
    part = f"{task.staging}/part-00000.parquet"
    assert [f["path"] for f in result.files] == ["part-00000.parquet"] and result.rows == 20_000
    assert result.files[0]["sha256"] == hashlib.sha256(open(part, "rb").read()).hexdigest()
    assert pq.read_table(part).num_rows == 20_000
    twice = run_task(task)  # idempotent: the same part, the same rows and checksum
    assert (twice.rows, twice.checksum, [f["path"] for f in twice.files]) == \
        (result.rows, result.checksum, [f["path"] for f in result.files])


def test_a_task_of_a_range_names_its_parts_after_itself(ws, tmp_path):
    folder = make_client_folder(tmp_path / "data", rows=1_000)
    ws.execute(f"ATTACH '{folder}' AS f")
    task = _task(ws, "f", "big.csv", tmp_path / "out", part_task="003",
                 layout=Layout(format="csv", compression="none", rows_per_file=400))
    result = run_task(task)
    assert [f["path"] for f in result.files] == ["part-003-00000.csv", "part-003-00001.csv", "part-003-00002.csv"]
    assert [f["rows"] for f in result.files] == [400, 400, 200]


@pytest.mark.parametrize("how", ["placeholder", "literal"])
def test_a_task_carries_no_secret(ws, pg_database, monkeypatch, how):
    """The password never enters the task: a ${ENV} placeholder stays a placeholder (expanded
    where the task runs), and a literal password is stored masked (the task cannot run)."""
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        con.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 50) g")
    password = "pw-S3cr3t-" + hashlib.sha256(pg_database.encode()).hexdigest()[:8]
    monkeypatch.setenv("HYDRA_TASK_PW", password)
    written = "${HYDRA_TASK_PW}" if how == "placeholder" else password
    url = pg_database.replace("postgresql://postgres@", f"postgresql://postgres:{written}@")
    ws.execute(f"ATTACH '{url}' AS crm")
    element = next(e for e in ws.elements("crm").values() if e.parts[-1] == "t")
    spec = SourceSpec.from_row(ws.source_row("crm"))
    task = ReadTask("0.0", spec, "crm.public.t", element, "/nowhere", "/nowhere/staging")
    blob = pickle.dumps(task)
    assert password.encode() not in blob and password not in repr(task)
    if how == "placeholder":
        assert b"${HYDRA_TASK_PW}" in blob
        head = spec.open()  # the worker's own environment gives the password
        try:
            assert sum(b.num_rows for b in head.read(element)) == 50
        finally:
            head.close()


def test_the_plan_of_an_element_is_the_same_each_time(ws, pg_database, split_small_elements):
    """Ranges from the source's split, ids, part names, snapshot-less tasks: built twice, equal."""
    import psycopg

    from hydra.transfer.common import items_for
    from hydra.transfer.plan import element_tasks, parse_options, range_count

    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        con.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g")
        con.execute("ANALYZE t")
    ws.execute(f"ATTACH '{pg_database}' AS crm")
    ws.execute("MARK crm.public.t WHERE id > 10")
    ws.con.execute("UPDATE marks SET columns = ['id', 'v']")  # a mark's column list
    options = parse_options({"WORKERS": "3", "FORMAT": "csv"})

    def plan():
        (item,) = items_for(ws, None)
        head = ws.head("crm")
        split = head.split(item.element, range_count(item.element, options.workers))
        return element_tasks(7, SourceSpec.from_row(ws.source_row("crm")), item, [list(r) for r in split],
                             "/out", "/out/.hydra-staging/x", options)

    first, second = plan(), plan()
    assert first == second and len(first) == 3
    assert [t.task_id for t in first] == ["7.0", "7.1", "7.2"] and [t.part_task for t in first] == ["000", "001", "002"]
    assert all(t.filter == "id > 10" and t.columns == ("id", "v") and t.range for t in first)
    assert [pickle.loads(pickle.dumps(t)) for t in first] == first
