"""Values read, extracted and reconciled exactly as the real MariaDB holds them (issue 11): FLOAT as
the value stored (not its 6-digit text), invalid dates as NULL on every path, and DECIMAL(65,30)
read as DOUBLE reconciled as the DOUBLE values it became."""

from __future__ import annotations

import numpy as np
import pymysql
import pytest

BULKS = ["client", "cursor"]  # the mysql client's batch output, PyMySQL's streaming cursor


def run(url: str, *statements: str) -> list:
    con = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=url.rsplit("/", 1)[1],
                          autocommit=True, charset="utf8mb4")
    try:
        with con.cursor() as cur:
            for stmt in statements:
                cur.execute(stmt)
            return list(cur.fetchall())
    finally:
        con.close()


def failures(ws) -> list:
    return ws.execute("SELECT ref, check_name, source_value, target_value, detail FROM reconciliations "
                      "WHERE status <> 'pass'").rows


def checks(ws) -> dict:
    return {r[0]: r[1:] for r in ws.execute(
        "SELECT check_name, source_value, target_value, status, detail FROM reconciliations "
        "WHERE run_id = (SELECT max(run_id) FROM reconciliations)").rows}


FLOATS = ("CREATE TABLE floats (id INT PRIMARY KEY, f FLOAT)",
          "INSERT INTO floats VALUES (1, 16777217), (2, 1.2345678), (3, 0.1), (4, -3.4e38), (5, 1.17549e-38), (6, NULL)")


@pytest.mark.parametrize("bulk", BULKS)
def test_float_is_read_as_the_value_stored(ws, mysql_database, tmp_path, bulk):
    run(mysql_database, *FLOATS)
    stored = [r[0] for r in run(mysql_database, "SELECT CAST(f AS DOUBLE) FROM floats ORDER BY id")]
    assert run(mysql_database, "SELECT f FROM floats WHERE id = 1")[0][0] == 16777200  # the protocol's text
    ws.execute(f"ATTACH '{mysql_database}' AS my (BULK '{bulk}')")
    ref = f"my.{mysql_database.rsplit('/', 1)[1]}.floats"
    read = [r[0] for r in ws.execute(f"SELECT f FROM {ref} ORDER BY id").rows]
    assert read[:-1] == [float(np.float32(v)) for v in stored[:-1]] and read[-1] is None
    assert read[0] == 16777216.0 and read[1] == float(np.float32(1.2345678))
    ws.execute(f"EXTRACT {ref} TO '{tmp_path}'")
    assert ws.execute("RECONCILE LAST").message.endswith("all passed"), failures(ws)


DATES = ("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'",
         "CREATE TABLE dates (id INT PRIMARY KEY, d DATE, dt DATETIME(6), ts TIMESTAMP(6) NULL)",
         "INSERT INTO dates VALUES (1, '2024-02-29', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456'), "
         "(2, '2024-02-30', '2024-02-31 00:00:00', '0000-00-00 00:00:00'), (3, '0000-00-00', '2024-00-15 10:00:00', NULL), "
         "(4, '9999-12-31', '1000-01-01 00:00:00.000001', '2038-01-19 03:14:07.999999')")


@pytest.mark.parametrize("bulk", BULKS)
def test_zero_and_invalid_dates_are_null_on_every_path_and_reconcile(ws, mysql_database, tmp_path, bulk):
    run(mysql_database, *DATES)
    ws.execute(f"ATTACH '{mysql_database}' AS my (BULK '{bulk}')")
    ref = f"my.{mysql_database.rsplit('/', 1)[1]}.dates"
    assert ws.execute(f"SELECT id, d::VARCHAR, dt::VARCHAR, ts::VARCHAR FROM {ref} ORDER BY id").rows == [
        (1, "2024-02-29", "2024-02-29 12:34:56.123456", "2024-02-29 12:34:56.123456+00"),
        (2, None, None, None), (3, None, None, None),
        (4, "9999-12-31", "1000-01-01 00:00:00.000001", "2038-01-19 03:14:07.999999+00")]
    notes = dict(ws.execute(f"SELECT name, note FROM columns WHERE ref = '{ref}'").rows)
    assert "'2024-02-30'" in notes["d"] and "'2024-02-30'" in notes["dt"]
    ws.execute(f"EXTRACT {ref} TO '{tmp_path}'")
    assert ws.execute("RECONCILE LAST").message.endswith("all passed"), failures(ws)
    assert checks(ws)["max(d)"][:3] == ("9999-12-31", "9999-12-31", "pass")


def test_wide_decimal_read_as_double_reconciles_as_the_doubles_it_became(ws, mysql_database, tmp_path):
    run(mysql_database, "CREATE TABLE wide (id INT PRIMARY KEY, d DECIMAL(65,30))",
        "INSERT INTO wide VALUES (1, 100000000000000000), (2, 1), (3, -100000000000000000), "
        "(4, 12345678901234567890123456789012345.123456789012345678901234567890), "
        "(5, -12345678901234567890123456789012345.123456789012345678901234567890), (6, 0.000000000000000000000000000001)")
    ws.execute(f"ATTACH '{mysql_database}' AS my")
    ref = f"my.{mysql_database.rsplit('/', 1)[1]}.wide"
    ws.execute(f"EXTRACT {ref} TO '{tmp_path}'")
    assert ws.execute("RECONCILE LAST").message.endswith("all passed"), failures(ws)
    found = checks(ws)
    # the source sums exactly (1.000…001); the DOUBLEs lose the 1 against 1e17 and 1.2e34
    assert found["sum(d)"][0] == "1.000000000000000000000000000001" and found["sum(d)"][2] == "pass"
    assert found["sum(d)"][3].startswith("decimal(65,30) read as DOUBLE: equal within ±")
    assert found["max(d)"][:3] == ("12345678901234567890123456789012345.123456789012345678901234567890",
                                   "1.234567890123457e+34", "pass")
    assert "rounded to DOUBLE" in found["max(d)"][3]


def test_a_value_too_long_for_quote_or_hex_fails_the_read_not_the_copy(ws, mysql_database, tmp_path):
    """QUOTE() and HEX() return NULL for a result longer than max_allowed_packet: a BLOB over half
    of it, or a text of quotes (each escaped), used to be copied as NULL with the EXTRACT done
    (RECONCILE caught the null count). The client path now fails the element naming the column;
    the driver's cursor (BULK 'cursor') reads the same rows whole, and RECONCILE passes."""
    (packet,), = run(mysql_database, "SELECT @@max_allowed_packet")
    half = packet // 2 + 1024  # stored values stay under the packet; HEX()/QUOTE() of them do not
    run(mysql_database, "CREATE TABLE longs (id INT PRIMARY KEY, b LONGBLOB, t LONGTEXT)",
        f"INSERT INTO longs VALUES (1, REPEAT('x', {half}), 'short'), (2, NULL, NULL), (3, 'ok', REPEAT('''', {half}))")
    db = mysql_database.rsplit("/", 1)[1]
    ws.execute(f"ATTACH '{mysql_database}' AS my")
    for column, where in (("b", "id <> 3"), ("t", "id <> 1")):
        result = ws.execute(f"EXTRACT (SELECT * FROM my.{db}.longs WHERE {where}) TO '{tmp_path / column}' "
                            f"(NAME '{column}')")
        assert "1 failed" in result.message
        (error,), = ws.execute("SELECT error FROM transfers ORDER BY started_at DESC LIMIT 1").rows
        assert error.startswith(f"column '{column}' holds a value longer than the server's max_allowed_packet")
        assert "Traceback" not in error and "\n" not in error
        assert not (tmp_path / column).exists() or not any((tmp_path / column).rglob("*.parquet"))
    ws.execute(f"ATTACH '{mysql_database}' AS myc (BULK 'cursor')")
    ws.execute(f"EXTRACT myc.{db}.longs TO '{tmp_path / 'cursor'}'")
    assert ws.execute("RECONCILE LAST").message.endswith("all passed"), failures(ws)
