"""RECONCILE … AGAINST … on the real PostgreSQL and MariaDB, and a CSV file (issue 20).

Each test compares a PostgreSQL table (the left) with a copy (the right): a MariaDB table whose
types differ as a migration's do (NUMERIC(12,2) → DECIMAL(12,4), TIMESTAMPTZ → DATETIME(6)),
or a CSV file read by DuckDB (no pushdown). The copy starts identical; each test changes one
thing in it and says whether it is detected, and which key is named.
"""

from __future__ import annotations

import json
import subprocess

import pytest

ROWS = 3000  # more than rowdiff.LEAF_ROWS: the ranges are bisected at least once


@pytest.fixture
def pair(ws, pg_database, mysql_database):
    import psycopg
    import pymysql

    with psycopg.connect(pg_database.replace("postgresql+psycopg", "postgresql"), autocommit=True) as con:
        con.execute("CREATE TABLE t (id integer PRIMARY KEY, amount numeric(12,2), price double precision, "
                    "ts timestamptz, name varchar(20))")
        con.execute(f"INSERT INTO t SELECT g, g * 1.25, g / 3.0, timestamptz '2024-01-01 00:00:00+00' "
                    f"+ g * interval '1 second 250 milliseconds', 'name ' || g FROM generate_series(1, {ROWS}) g")
    database = mysql_database.rsplit("/", 1)[1]
    con = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database, autocommit=True)
    with con.cursor() as cur:
        cur.execute("CREATE TABLE t (id int PRIMARY KEY, amount decimal(12,4), price double, ts datetime(6), "
                    "name varchar(20))")
        cur.execute(f"INSERT INTO t SELECT seq, seq * 1.25, seq / 3.0e0, TIMESTAMP '2024-01-01 00:00:00' "
                    f"+ INTERVAL seq * 1250000 MICROSECOND, CONCAT('name ', seq) "
                    f"FROM seq_1_to_{ROWS}")
    ws.execute(f"ATTACH '{pg_database}' AS pg")
    ws.execute(f"ATTACH '{mysql_database}' AS my")
    yield ws, con
    con.close()


def right(con, sql: str) -> None:
    with con.cursor() as cur:
        cur.execute(sql)


def run(ws, options: str = "", left: str = "pg.public.t", right_ref: str = "my.*.t"):
    result = ws.execute(f"RECONCILE {left} AGAINST {right_ref} {options}")
    run_id = result.message.split()[1].rstrip(":")
    checks = {c: (s, d) for c, s, d in ws.con.execute(
        "SELECT check_name, status, detail FROM reconciliations WHERE run_id = ?", [run_id]).fetchall()}
    differences = ws.con.execute("SELECT kind, key_value, changed_columns FROM differences WHERE run_id = ? "
                                 "ORDER BY kind, key_value", [run_id]).fetchall()
    return result, checks, differences


def test_identical_copies_pass_with_each_normalisation_named(pair):
    """Same rows, decimal scale 2 against 4, TIMESTAMPTZ against DATETIME(6): all pass."""
    ws, _ = pair
    result, checks, differences = run(ws)
    assert result.failure is None, [c for c in checks.items() if c[1][0] == "fail"]
    assert result.rows[0][2] == "pass" and differences == []
    assert checks["rows"][0] == "pass"
    columns = checks["columns"][1]
    assert "amount: decimal at scale 4" in columns
    assert "ts: timestamp in UTC (no zone = UTC), truncated to microseconds" in columns
    assert "price: floating point" in columns and "name: text, trimmed" in columns
    assert "postgresql SQL, pushed down" in checks["snapshot"][1] and "mysql SQL" in checks["snapshot"][1]
    assert "repeatable read" in ws.execute(
        "SELECT source_value FROM reconciliations WHERE check_name = 'snapshot'").rows[0][0]
    assert result.rows[0][8] == 0 and result.rows[0][9] == 0, "identical copies read no rows"


def test_deleted_row_is_missing_at_the_right(pair):
    ws, con = pair
    right(con, "DELETE FROM t WHERE id = 1234")
    result, checks, differences = run(ws)
    assert result.failure and checks["row_count"][0] == "fail"
    assert differences == [("missing_right", "1234", None)]
    assert "1 row missing at the right: id 1234" in checks["rows"][1]
    assert 0 < result.rows[0][8] < ROWS, "only the differing ranges are read"


def test_inserted_row_is_missing_at_the_left(pair):
    ws, con = pair
    right(con, "INSERT INTO t VALUES (5000, 1.0, 1.0, '2024-01-01', 'new')")
    result, checks, differences = run(ws)
    assert differences == [("missing_left", "5000", None)]
    assert "1 row missing at the left: id 5000" in checks["rows"][1]


def test_changed_value_names_the_row_and_the_column(pair):
    ws, con = pair
    right(con, "UPDATE t SET name = 'renamed' WHERE id = 77")
    result, checks, differences = run(ws)
    assert differences == [("changed", "77", ["name"])]
    assert checks["row_count"][0] == "pass" and checks["null_count(name)"][0] == "pass"
    assert "1 row changed: id 77 (name)" in checks["rows"][1]
    left_values, right_values = ws.execute("SELECT left_values, right_values FROM differences").rows[0]
    assert json.loads(left_values)["name"] == "name 77" and json.loads(right_values)["name"] == "renamed"


def test_changed_null_is_detected(pair):
    ws, con = pair
    right(con, "UPDATE t SET amount = NULL WHERE id = 2999")
    result, checks, differences = run(ws)
    assert checks["null_count(amount)"][0] == "fail"
    assert differences == [("changed", "2999", ["amount"])]


def test_float_within_tolerance_passes_and_beyond_fails(pair):
    """price at the right moved by 0.004, then by 0.006, against TOLERANCE 'price=0.005'."""
    ws, con = pair
    right(con, "UPDATE t SET price = price + 0.004 WHERE id = 10")
    result, checks, differences = run(ws, "(TOLERANCE 'price=0.005')")
    assert result.failure is None and differences == []
    assert "price: floating point, equal within ±0.005" in checks["columns"][1]
    result, checks, differences = run(ws)  # without the tolerance: ±1e-9
    assert differences == [("changed", "10", ["price"])]
    right(con, "UPDATE t SET price = price + 0.002 WHERE id = 10")
    result, checks, differences = run(ws, "(TOLERANCE 'price=0.005')")
    assert differences == [("changed", "10", ["price"])]


def test_decimal_beyond_the_common_scale_is_a_change(pair):
    """DECIMAL(12,4) at the right holds a digit the left's scale 2 cannot: 1.2501 ≠ 1.25."""
    ws, con = pair
    right(con, "UPDATE t SET amount = amount + 0.0001 WHERE id = 1")
    _, checks, differences = run(ws)
    assert differences == [("changed", "1", ["amount"])]
    assert checks["sum(amount)"][0] == "fail" and checks["min(amount)"][0] == "fail"


def test_timestamp_precision_is_configurable(pair):
    """A timestamp 400 µs later at the right: a change at microseconds (the default), none when
    both are truncated to seconds (the values step by 1.25 s, so 400 µs never crosses a second)."""
    ws, con = pair
    right(con, "UPDATE t SET ts = ts + INTERVAL 400 MICROSECOND WHERE id = 8")
    _, _, differences = run(ws)
    assert differences == [("changed", "8", ["ts"])]
    result, checks, differences = run(ws, "(PRECISION s)")
    assert differences == [] and result.failure is None
    assert "truncated to seconds" in checks["columns"][1]


def test_options_key_columns_map_where(pair):
    ws, con = pair
    right(con, "ALTER TABLE t CHANGE name label varchar(20)")
    right(con, "UPDATE t SET label = 'x', price = 0 WHERE id IN (5, 2500)")
    ws.execute("REFRESH my")
    _, checks, differences = run(ws, "(KEY 'id', COLUMNS 'id, name', MAP 'name=label', WHERE 'id < 1000')")
    assert differences == [("changed", "5", ["name"])]
    assert "right column label" in checks["null_count(name)"][1]
    assert "price" not in checks["columns"][1]


@pytest.fixture
def csv_copy(pair, tmp_path):
    """The PostgreSQL table as a CSV file, with its timestamps written at +02:00."""
    ws, _ = pair
    folder = tmp_path / "files"
    folder.mkdir()
    rows = ws.execute("SELECT * FROM pg.public.t ORDER BY id").rows
    lines = ["id,amount,price,ts,name"]
    for id_, amount, price, ts, name in rows:
        local = ts.astimezone(__import__("datetime").timezone(__import__("datetime").timedelta(hours=2)))
        lines.append(f"{id_},{amount},{price!r},{local.isoformat()},{name}")
    path = folder / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    ws.execute(f"ATTACH '{folder}' AS f")
    return ws, path


def test_csv_without_pushdown_zone_representation_is_no_difference(csv_copy):
    """Timestamps written at +02:00 in the file are the same instants as PostgreSQL's UTC ones."""
    ws, path = csv_copy
    result, checks, differences = run(ws, right_ref="f.\"t.csv\"")
    assert result.failure is None, [c for c in checks.items() if c[1][0] == "fail"]
    assert "DuckDB over the element's read stream" in checks["snapshot"][1]
    assert "ts: timestamp in UTC (no zone = UTC), truncated to microseconds / text read as a timestamp" in \
        checks["columns"][1], "the file's mixed spellings are read as text, then as timestamps"
    assert result.rows[0][9] == ROWS, "a file is read whole"


def test_csv_without_pushdown_names_a_deleted_row(csv_copy):
    ws, path = csv_copy
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("42,")) + "\n")
    _, checks, differences = run(ws, right_ref="f.\"t.csv\"")
    assert differences == [("missing_right", "42", None)]


def test_marked_against_a_glob_pairs_by_name_and_says_what_did_not_pair(pair):
    ws, con = pair
    right(con, "CREATE TABLE other (id int)")
    ws.execute("REFRESH my")
    ws.execute("MARK pg.public.t")
    result = ws.execute("RECONCILE MARKED AGAINST my.*")
    by_status = {r[2]: r for r in result.rows}
    assert by_status["pass"][0] == "pg.public.t" and by_status["pass"][1].endswith(".t")
    assert by_status["unpaired"][1].endswith(".other") and "no element of that name at the left" in by_status["unpaired"][10]
    assert "not paired:" in result.message
    assert result.failure is None, "an element only at the right is said, not failed"
    ws.execute("MARK pg.public.t")
    right(con, "RENAME TABLE t TO t2")
    ws.execute("REFRESH my")
    result = ws.execute("RECONCILE MARKED AGAINST my.*")
    assert ("pg.public.t", None, "unpaired") == result.rows[0][:3] or ("pg.public.t", None, "unpaired") in [
        r[:3] for r in result.rows]
    assert result.failure and "1 not paired" in result.failure, "a marked element without its copy fails"


def test_grammar_keeps_against_now_apart(ws):
    from hydra.core.errors import StatementError

    with pytest.raises(StatementError, match=r"\(AGAINST NOW\)"):
        ws.execute("RECONCILE LAST AGAINST NOW")
    with pytest.raises(StatementError, match="unknown option"):
        ws.execute("RECONCILE LAST (AGAINST NOW, KEY 'id')")


def test_cli_exit_status_and_json_summary(pair, hydra_cmd, tmp_path, pg_database, mysql_database):
    """``-c`` exits 1 when a check fails, and ``--format json`` prints the summary rows."""
    ws, con = pair
    right(con, "DELETE FROM t WHERE id = 3")
    parquet = tmp_path / "diff.parquet"
    script = (f"ATTACH '{pg_database}' AS pg; ATTACH '{mysql_database}' AS my; "
              f"RECONCILE pg.public.t AGAINST my.*.t (PARQUET '{parquet}')")
    done = subprocess.run([*hydra_cmd, ":memory:", "--format", "json", "-c", script], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip().startswith("{") else \
        json.loads(done.stdout)
    row = summary[0] if isinstance(summary, list) else summary
    assert row["status"] == "fail" and row["missing_right"] == 1
    import duckdb

    assert duckdb.sql(f"SELECT kind, key_value FROM '{parquet}'").fetchall() == [("missing_right", "3")]


def test_wide_integer_keys_do_not_overflow_the_buckets(pair, pg_database):
    """Keys 1..2999 and 2,000,000,000 (INTEGER at both sides): a bucket number computed in 32 bits
    would overflow; the changed row is still named."""
    import psycopg

    ws, con = pair
    with psycopg.connect(pg_database.replace("postgresql+psycopg", "postgresql"), autocommit=True) as pg:
        pg.execute("UPDATE t SET id = 2000000000 WHERE id = 3000")
    right(con, "UPDATE t SET id = 2000000000 WHERE id = 3000")
    right(con, "UPDATE t SET name = 'x' WHERE id = 5")
    _, checks, differences = run(ws)
    assert differences == [("changed", "5", ["name"])], checks["rows"]


def test_s3_object_without_pushdown_names_a_changed_row(csv_copy, aws_env):
    """The CSV copy as an S3 object (moto server), one value changed: read through the S3 head."""
    import uuid

    import boto3

    ws, path = csv_copy
    path.write_text(path.read_text().replace("\n7,8.75,", "\n7,8.76,", 1))
    bucket = f"against-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=aws_env, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="t.csv", Body=path.read_bytes())
    ws.execute(f"ATTACH 's3://{bucket}' AS lake")
    _, checks, differences = run(ws, right_ref='lake."t.csv"')
    assert differences == [("changed", "7", ["amount"])], checks.get("rows") or checks
    assert "DuckDB over the element's read stream" in checks["snapshot"][1]
