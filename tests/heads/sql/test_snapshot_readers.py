"""Every PostgreSQL reader joins the element's exported snapshot, whatever its transport (issue 13).

A snapshot is taken, then another connection inserts and deletes: the psql binary COPY, psycopg's
binary COPY, psql's CSV COPY, the DB-API cursor and the figures all still see the rows as they
were, while a read outside the snapshot sees the change; and once released, the snapshot can no
longer be joined (so the coordinator did hold it until then).
"""

from __future__ import annotations

import pytest


@pytest.fixture
def table(pg_database):
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        con.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    return pg_database


@pytest.mark.parametrize("bulk", ["binary", "copy", "client", "cursor"])
def test_every_transport_and_the_figures_read_in_the_snapshot(table, bulk):
    import psycopg

    from hydra.core.snapshot import reading
    from hydra.heads.base import HeadError
    from hydra.heads.sql.head import SqlHead

    head = SqlHead("db", table, {"BULK": bulk})
    head.open()
    try:
        element = next(e for e in head.enumerate() if e.name == "t")
        snapshot = head.snapshot(element, readers=2)
        assert snapshot.token and snapshot.sharing == "shared"
        with psycopg.connect(table, autocommit=True) as con:
            con.execute("INSERT INTO t VALUES (4, 'd')")
            con.execute("DELETE FROM t WHERE id = 1")

        def ids():
            return sorted(head.read(element).read_all().column("id").to_pylist())

        with reading(snapshot):
            assert ids() == [1, 2, 3]
        figures = head.aggregates(element, element.columns, snapshot)
        assert (figures.row_count, figures.columns["id"]["max_value"]) == (3, "3")
        assert "in the element's snapshot" in figures.method
        assert ids() == [2, 3, 4]  # outside the snapshot: the source as it is now
        assert head.snapshot_held(snapshot) > 0
        head.release(snapshot)
        assert head.snapshot_held(snapshot) is None
        with reading(snapshot), pytest.raises(HeadError, match="snapshot"):
            ids()
    finally:
        head.close()


@pytest.mark.parametrize("url, snapshot, psql, driver", [
    ("postgresql://u@h/db", dict(method="pg", isolation="rr", token="00000003-0000001B-1"),
     ["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "SET TRANSACTION SNAPSHOT '00000003-0000001B-1'"],
     ["SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", "SET TRANSACTION SNAPSHOT '00000003-0000001B-1'"]),
    ("mysql+pymysql://u@h/db", dict(method="mysql", isolation="rr"),
     ["START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"], ["START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"]),
    ("mssql+pyodbc://u@h/db", dict(method="mssql", isolation="snapshot"),
     ["SET TRANSACTION ISOLATION LEVEL SNAPSHOT"], ["SET TRANSACTION ISOLATION LEVEL SNAPSHOT"]),
    ("sqlite:///x.db", dict(method="sqlite", isolation="none"), [], []),
])
def test_what_each_reader_runs_first_to_join_the_snapshot(url, snapshot, psql, driver):
    from hydra.core.snapshot import Snapshot, no_snapshot, reading
    from hydra.heads.sql.head import SqlHead
    from hydra.heads.sql.snapshot import joining

    head = SqlHead("db", url)
    with reading(Snapshot("db", **snapshot)):
        assert (joining(head, explicit_begin=True), joining(head, explicit_begin=False)) == (psql, driver)
    with reading(Snapshot("other", **snapshot)):  # another source's snapshot is not this head's
        assert joining(head, explicit_begin=False) == []
    with reading(no_snapshot("db", "off")):
        assert joining(head, explicit_begin=False) == []
    assert joining(head, explicit_begin=False) == []
