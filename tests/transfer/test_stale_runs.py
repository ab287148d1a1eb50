"""A run killed with kill -9 does not stay 'running' forever: the next open of the workspace (or
the next EXTRACT) marks its unfinished elements 'interrupted' (issue 10, item 5)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import duckdb

from hydra.statements.workspace import Workspace


def statuses(path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute("SELECT status, count(*) FROM transfers GROUP BY status").fetchall())
    finally:
        con.close()


def test_a_killed_runs_elements_are_interrupted_at_the_next_open(tmp_path, hydra_cmd):
    data = tmp_path / "data"
    data.mkdir()
    con = duckdb.connect()
    for i in range(6):
        con.execute(f"COPY (SELECT r AS id, md5(r::VARCHAR) AS h FROM range(400000) t(r)) TO '{data}/p{i}.csv' (HEADER)")
    con.close()
    out, workspace = tmp_path / "out", tmp_path / "ws.duckdb"
    proc = subprocess.Popen([*hydra_cmd, str(workspace), "-c", f"ATTACH '{data}' AS f; EXTRACT f.* TO '{out}' (WORKERS 1);"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and not list(out.glob("f/*/_manifest.json")):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    left = statuses(workspace)
    assert left.get("running", 0) >= 1, left  # what the killed process left behind

    snapshot = Workspace.open(str(workspace), read_only=True)  # read-only: looks, writes nothing
    try:
        assert dict(snapshot.query("SELECT status, count(*) FROM transfers GROUP BY status")) == left
    finally:
        snapshot.close()
    assert statuses(workspace) == left

    Workspace.open(str(workspace)).close()
    after = statuses(workspace)
    assert "running" not in after
    assert after["interrupted"] == left["running"]
    con = duckdb.connect(str(workspace), read_only=True)
    errors = {e for (e,) in con.execute("SELECT error FROM transfers WHERE status = 'interrupted'").fetchall()}
    con.close()
    assert errors == {"interrupted: the Hydra process running it ended before this element finished"}


def test_the_next_extract_marks_them_too_but_never_a_live_run(ws, tmp_path):
    ws.con.execute("INSERT INTO transfers (run_id, source, ref, target_uri, status) VALUES "
                   "('dead', 's', 's.a', 'x', 'running'), ('live', 's', 's.b', 'x', 'running'), "
                   "('old', 's', 's.c', 'x', 'done')")
    ws.live_runs.add("live")  # a run of this process that is still going
    try:
        (tmp_path / "d").mkdir()
        (tmp_path / "d" / "a.csv").write_text("id\n1\n")
        ws.execute(f"ATTACH '{tmp_path / 'd'}' AS f")
        ws.execute(f"EXTRACT f.* TO '{tmp_path / 'out'}'")
        found = dict(ws.query("SELECT run_id, status FROM transfers WHERE source = 's'"))
        assert found == {"dead": "interrupted", "live": "running", "old": "done"}
    finally:
        ws.live_runs.discard("live")
