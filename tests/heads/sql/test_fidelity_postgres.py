"""Values read, extracted and reconciled exactly as the real PostgreSQL holds them (issue 11): infinite
dates and timestamps on every read path and in every target format, inet as psql prints it, JSON
null in JSON Lines, reconciliations of lossy and special values that pass on a clean copy, and what
a role may not see (inheritance children, row-level security, unreadable columns) said in elements."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import duckdb
import psycopg
import pytest

BULKS = ["binary", "copy", "client", "cursor"]  # psql binary COPY, psycopg binary COPY, psql CSV, cursor
FORMATS = ["parquet", "csv", "jsonl"]


def psql(url: str, sql: str) -> list[list[str | None]]:
    """Rows as psql prints them (ISO dates, UTC), NULL as None."""
    env = dict(os.environ, PGTZ="UTC", PGDATESTYLE="ISO")
    out = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\x01", "-R", "\x02", "-P", "null=\x03", "-d", url,
                          "-c", sql], capture_output=True, text=True, env=env, check=True).stdout
    records = out.rstrip("\n").split("\x02") if out.strip() else []
    return [[None if v == "\x03" else v for v in record.split("\x01")] for record in records]


def run(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(sql)


def failures(ws) -> list:
    return ws.execute("SELECT ref, check_name, source_value, target_value, detail FROM reconciliations "
                      "WHERE status <> 'pass'").rows


def checks(ws) -> dict:
    return {r[0]: r[1:] for r in ws.execute(
        "SELECT check_name, source_value, target_value, status, detail FROM reconciliations "
        "WHERE run_id = (SELECT max(run_id) FROM reconciliations)").rows}


INFINITE = """
CREATE TABLE stamps (id int PRIMARY KEY, ts timestamptz, tsn timestamp, d date);
INSERT INTO stamps VALUES (1, 'infinity', '-infinity', 'infinity'), (2, '-infinity', 'infinity', '-infinity'),
  (3, '2024-02-29 12:34:56.123456+00', '9999-12-31 23:59:59.999999', '0001-01-01'),
  (4, '0044-03-15 10:00:00+00 BC', '4713-11-24 00:00:00 BC', '4713-11-24 BC'), (5, NULL, NULL, NULL);
"""
INFINITE_READ = [
    (1, "infinity", "-infinity", "infinity", True),
    (2, "-infinity", "infinity", "-infinity", True),
    (3, "2024-02-29 12:34:56.123456+00", "9999-12-31 23:59:59.999999", "0001-01-01", False),
    (4, "0044-03-15 (BC) 10:00:00+00", "4713-11-24 (BC) 00:00:00", "4713-11-24 (BC)", False),
    (5, None, None, None, None),
]


@pytest.mark.parametrize("bulk", BULKS)
def test_infinite_and_bc_dates_and_timestamps_survive_every_read_path(ws, pg_database, bulk):
    run(pg_database, INFINITE)
    ws.execute(f"ATTACH '{pg_database}' AS pg (BULK '{bulk}')")
    got = ws.execute("SELECT id, ts::VARCHAR, tsn::VARCHAR, d::VARCHAR, isinf(ts) AND isinf(tsn) AND isinf(d) "
                     "FROM pg.public.stamps ORDER BY id").rows
    assert got == INFINITE_READ


@pytest.mark.parametrize("fmt", FORMATS)
def test_infinities_extract_to_every_format_and_reconcile(ws, pg_database, tmp_path, fmt):
    """Every format holds DuckDB's infinities for DuckDB (Parquet as DuckDB's sentinel integers, CSV
    and JSON Lines as the text 'infinity'); the manifest says what Parquet does to them."""
    run(pg_database, INFINITE)
    ws.execute(f"ATTACH '{pg_database}' AS pg")
    ws.execute(f"EXTRACT pg.public.stamps TO '{tmp_path}' (FORMAT {fmt})")
    result = ws.execute("RECONCILE LAST")
    assert result.message.endswith("all passed"), failures(ws)
    found = checks(ws)
    assert found["max(ts)"][:3] == ("infinity", "infinity", "pass")  # compared, not left out
    assert found["min(d)"][:3] == ("-infinity", "-infinity", "pass")
    assert found["min(tsn)"][:3] == ("-infinity", "-infinity", "pass")
    folder = tmp_path / "pg" / "public" / "stamps"
    manifest = json.loads((folder / "_manifest.json").read_text())
    notes = {c["name"]: c.get("note") for c in manifest["columns"]}
    if fmt == "parquet":
        assert all("infinity" in notes[c] for c in ("ts", "tsn", "d"))
        back = duckdb.connect().execute(
            f"SELECT id, ts::VARCHAR, tsn::VARCHAR, d::VARCHAR, isinf(ts) AND isinf(tsn) AND isinf(d) "
            f"FROM read_parquet('{folder}/*.parquet') ORDER BY id").fetchall()
        assert back == INFINITE_READ
    else:
        assert notes == {"id": None, "ts": None, "tsn": None, "d": None}
        text = "".join(p.read_text() for p in sorted(folder.glob("part-*")))
        assert "-infinity" in text and "(BC)" in text


T_INF = ("CREATE TABLE t_inf(id int PRIMARY KEY, ts timestamptz, d date, t time, f float8, ip inet); "
         "INSERT INTO t_inf VALUES (1,'infinity','infinity','12:34:56.789','NaN','192.168.0.1'),"
         "(2,'-infinity','-infinity','01:02:03.5',1.5,'::1'),(3,'2024-01-01 00:00:00+00','2024-01-01','00:00:00',2.5,NULL)")


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_issues_t_inf_extracts_reconciles_and_reads_as_psql_prints_it(ws, pg_database, tmp_path, fmt):
    run(pg_database, T_INF)
    ws.execute(f"ATTACH '{pg_database}' AS pg")
    ws.execute(f"EXTRACT pg.public.t_inf TO '{tmp_path / 'r_out'}' (FORMAT {fmt})")
    result = ws.execute("RECONCILE LAST")
    assert result.message.endswith("all passed"), failures(ws)
    found = checks(ws)
    assert found["max(t)"][:3] == ("12:34:56.789", "12:34:56.789", "pass")
    assert found["sum(f)"][:3] == ("nan", "nan", "pass")
    assert {"min(ts)", "max(ts)", "min(d)", "max(d)"} <= set(found)
    read = ws.execute("SELECT id::VARCHAR, ts::VARCHAR, d::VARCHAR, t::VARCHAR, f::VARCHAR, ip "
                      "FROM pg.public.t_inf ORDER BY id").rows
    printed = psql(pg_database, "SELECT * FROM t_inf ORDER BY id")
    # the one spelling that differs: psql prints a float NaN as NaN, DuckDB as nan
    assert [list(r) for r in read] == [[v.lower() if v == "NaN" else v for v in r] for r in printed]
    assert printed[0][5] == "192.168.0.1" and printed[1][5] == "::1"


INET = """
CREATE TABLE nets (id int PRIMARY KEY, ip inet, net cidr, mac macaddr, ips inet[]);
INSERT INTO nets VALUES (1, '192.168.0.1', '192.168.0.0/24', '08:00:2b:01:02:03', '{10.0.0.1,10.0.0.0/8}'),
  (2, '::1', '::/0', 'ff:ff:ff:ff:ff:ff', '{::1}'), (3, '192.168.0.0/24', '10.0.0.0/8', NULL, NULL),
  (4, '2001:db8::1/64', '2001:db8::/32', '00:00:00:00:00:00', '{}'), (5, NULL, NULL, NULL, NULL);
"""


@pytest.mark.parametrize("bulk", BULKS)
def test_inet_cidr_and_macaddr_read_as_psql_prints_them(ws, pg_database, bulk):
    run(pg_database, INET)
    ws.execute(f"ATTACH '{pg_database}' AS pg (BULK '{bulk}')")
    read = ws.execute("SELECT id::VARCHAR, ip, net, mac FROM pg.public.nets ORDER BY id").rows
    printed = psql(pg_database, "SELECT id, ip, net, mac FROM nets ORDER BY id")
    assert [list(r) for r in read] == printed
    assert printed[0][1:3] == ["192.168.0.1", "192.168.0.0/24"] and printed[1][1] == "::1"
    arrays = ws.execute("SELECT ips FROM pg.public.nets ORDER BY id").rows
    assert [r[0] for r in arrays] == [["10.0.0.1", "10.0.0.0/8"], ["::1"], None, [], None]


ARRAYS = r"""
CREATE TABLE arrs (id int PRIMARY KEY, o oid, i int[], f float8[], b bool[], s text[], c char(3)[], d date[],
  ts timestamp[], u uuid[], j jsonb[], bt bytea[], n numeric(10,2)[], nx numeric[], m money[], two int[][]);
INSERT INTO arrs VALUES
  (1, 4294967295, ARRAY[1, NULL], ARRAY[1e300, 'NaN', 'Infinity', '-Infinity']::float8[], ARRAY[true, NULL],
   ARRAY['a"b', E'new\nline', 'ü', NULL], ARRAY['ab'], ARRAY['2024-02-29', 'infinity', '-infinity']::date[],
   ARRAY['2024-01-01 12:00:00.123456', 'infinity']::timestamp[], ARRAY['00000000-0000-0000-0000-00000000000a']::uuid[],
   ARRAY['{"a": 1}', '[1, 2]']::jsonb[], ARRAY['\x0a0b'::bytea], ARRAY[1.25, NULL, 'NaN']::numeric(10,2)[],
   ARRAY[1.5, 'NaN']::numeric[], ARRAY[1.25]::money[], ARRAY[[1, 2], [3, 4]]),
  (2, 0, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"""
ARRAYS_READ = {  # each list as DuckDB prints its values (CAST(… AS VARCHAR[])), row 1
    "i": ["1", None], "f": ["1e+300", "nan", "inf", "-inf"], "b": ["true", None],
    "s": ['a"b', "new\nline", "ü", None], "c": ["ab "], "d": ["2024-02-29", "infinity", "-infinity"],
    "ts": ["2024-01-01 12:00:00.123456", "infinity"], "u": ["00000000-0000-0000-0000-00000000000a"],
    "j": ['{"a": 1}', "[1, 2]"], "bt": ["\\x0A\\x0B"], "n": ["1.25", None, None], "nx": ["1.5", "nan"],
    "m": ["1.25"], "two": ["1", "2", "3", "4"],
}


@pytest.mark.parametrize("bulk", BULKS)
def test_arrays_of_every_element_type_read_extract_and_reconcile(ws, pg_database, tmp_path, bulk):
    """Arrays come as JSON arrays of their elements' text, parsed by Arrow: NaN and infinities,
    dates, timestamps, uuids, json, bytea, numerics (NaN as NULL, as in a numeric(p,s) column),
    money, char(n)'s padding and multi-dimensional arrays (flattened) all read as PostgreSQL
    holds them — each of these failed the read or changed the value before. The oid column
    checks the figures: PostgreSQL has no SUM(oid), so it is summed as the bigint Hydra reads."""
    run(pg_database, ARRAYS)
    ws.execute(f"ATTACH '{pg_database}' AS pg (BULK '{bulk}')")
    names = list(ARRAYS_READ)
    rows = ws.execute(f"SELECT {', '.join(f'CAST({n} AS VARCHAR[])' for n in names)} FROM pg.public.arrs "
                      "ORDER BY id").rows
    assert dict(zip(names, rows[0])) == ARRAYS_READ
    assert list(rows[1]) == [[]] * len(names) and list(rows[2]) == [None] * len(names)
    ws.execute(f"EXTRACT pg.public.arrs TO '{tmp_path}'")
    result = ws.execute("RECONCILE LAST")
    assert result.message.endswith("all passed"), failures(ws)
    assert checks(ws)["sum(o)"][:3] == ("4294967295", "4294967295", "pass")


LONG_ARRAYS = """
CREATE TABLE longs (id int PRIMARY KEY, a int[], t varchar(40)[], d date[]);
INSERT INTO longs SELECT g,
  CASE WHEN g % 3 = 0 THEN '[0:2]={7,NULL,9}'::int[] ELSE ARRAY(SELECT h * g FROM generate_series(1, g % 500) h) END,
  ARRAY(SELECT CASE WHEN h % 7 = 0 THEN NULL ELSE md5((g * h)::text) END FROM generate_series(1, g % 50) h),
  ARRAY['2000-01-01'::date + g, NULL]
FROM generate_series(1, 20000) g;
"""


def test_long_arrays_with_other_lower_bounds_read_across_many_blocks(ws, pg_database):
    """Arrays of up to 499 elements (40 MB of them: many of the decoder's blocks), NULL elements
    anywhere, and arrays whose subscripts start at 0 read element for element as PostgreSQL
    holds them (binary array format: the k-th elements of all rows are read together)."""
    run(pg_database, LONG_ARRAYS)
    ws.execute(f"ATTACH '{pg_database}' AS pg")
    read = ws.execute("SELECT sum(len(a)), sum(list_sum(a)), sum(list_count(a)), sum(len(t)), sum(list_count(t)), "
                      "md5(string_agg(array_to_string(t, ','), '|' ORDER BY id)), "
                      "md5(string_agg(array_to_string(d, ','), '|' ORDER BY id)) FROM pg.public.longs").rows
    held = psql(pg_database, "SELECT sum(cardinality(a)), sum((SELECT sum(x) FROM unnest(a) x)), "
                "sum((SELECT count(x) FROM unnest(a) x)), sum(cardinality(t)), sum((SELECT count(x) FROM unnest(t) x)), "
                "md5(string_agg(array_to_string(t, ','), '|' ORDER BY id)), "
                "md5(string_agg(array_to_string(d, ','), '|' ORDER BY id)) FROM longs")
    assert [str(v) for v in read[0]] == held[0]


JSON_TABLE = """
CREATE TABLE docs (id int PRIMARY KEY, j json, jb jsonb, f float8);
INSERT INTO docs VALUES (1, 'null', 'null', 'NaN'), (2, NULL, NULL, NULL), (3, '{"a": [1, 2.50, null]}', '{"b": 2.50}', 'Infinity'),
  (4, '"text"', '[]', '-Infinity'), (5, '  {"dup": 1, "dup": 2}  ', '{}', 1.5);
"""


def test_jsonl_keeps_json_null_apart_from_sql_null_and_stays_valid_json(ws, pg_database, tmp_path):
    run(pg_database, JSON_TABLE)
    ws.execute(f"ATTACH '{pg_database}' AS pg")
    ws.execute(f"EXTRACT pg.public.docs TO '{tmp_path}' (FORMAT jsonl)")
    result = ws.execute("RECONCILE LAST")
    assert result.message.endswith("all passed"), failures(ws)
    assert checks(ws)["null_count(j)"][:3] == ("1", "1", "pass")

    def strict(constant):
        raise ValueError(f"{constant} is not JSON")

    folder = tmp_path / "pg" / "public" / "docs"
    lines = [json.loads(line, parse_constant=strict) for p in sorted(folder.glob("*.jsonl"))
             for line in p.read_text().splitlines()]
    by_id = {line["id"]: line for line in lines}
    assert (by_id[1]["j"], by_id[1]["jb"], by_id[1]["f"]) == ("null", "null", "NaN")  # JSON null: a value
    assert (by_id[2]["j"], by_id[2]["jb"], by_id[2]["f"]) == (None, None, None)  # SQL NULL
    assert by_id[3]["j"] == '{"a": [1, 2.50, null]}' and by_id[3]["f"] == "Infinity"
    assert by_id[5]["j"] == '  {"dup": 1, "dup": 2}  '  # json keeps its text exactly
    manifest = json.loads((folder / "_manifest.json").read_text())
    notes = {c["name"]: c.get("note") or "" for c in manifest["columns"]}
    assert "JSON null" in notes["j"] and "NaN" in notes["f"]


LOSSY = """
CREATE TABLE lossy (id int PRIMARY KEY, t time, t3 time(3), f float8, r real, n numeric, nan numeric,
                    n10 numeric(10,2), wide numeric(1000,500));
INSERT INTO lossy VALUES
  (1, '12:34:56.789', '12:34:56.789', 'NaN', 0.1, 1e17, 'NaN', 'NaN', 1/3::numeric(1000,500)),
  (2, '01:02:03.5', '23:59:59.999', 1.5, 16777217, 1, 1, 12.5, 123456789012345678901234567890.5),
  (3, '24:00:00', '00:00:00.001', 2.5, 'NaN', -1e17, 'Infinity', NULL, -1e300),
  (4, NULL, NULL, NULL, NULL, 0.5, NULL, -0.01, 0.1);
"""


def test_reconcile_passes_lossy_and_special_values_and_says_how(ws, pg_database, tmp_path):
    run(pg_database, LOSSY)
    ws.execute(f"ATTACH '{pg_database}' AS pg")
    notes = dict(ws.execute("SELECT name, note FROM columns WHERE ref = 'pg.public.lossy'").rows)
    assert "NaN read as NULL" in notes["n10"] and "DOUBLE" in notes["n"] and "DOUBLE" in notes["wide"]
    ws.execute(f"EXTRACT pg.public.lossy TO '{tmp_path}'")
    result = ws.execute("RECONCILE LAST")
    assert result.message.endswith("all passed"), failures(ws)
    found = checks(ws)
    assert found["max(t3)"][:3] == ("23:59:59.999", "23:59:59.999", "pass")
    assert found["null_count(n10)"][:3] == ("2", "2", "pass")  # the NaN is NULL at both ends
    assert found["sum(f)"][:3] == ("nan", "nan", "pass")
    assert "numeric read as DOUBLE" in found["sum(n)"][3] and "within" in found["sum(n)"][3]
    assert found["min(wide)"][3].startswith("numeric(1000,500) read as DOUBLE")
    assert found["sum(r)"][:3] == ("nan", "nan", "pass")
    assert found["sum(nan)"][:3] == ("nan", "nan", "pass") and found["max(nan)"][:3] == ("nan", "nan", "pass")
    # NaN is NULL once read: IS NULL is not pushed down, where it would leave the NaN rows out
    assert ws.execute("SELECT id FROM pg.public.lossy WHERE n10 IS NULL ORDER BY id").rows == [(1,), (3,)]
    assert ws.execute("SELECT id FROM pg.public.lossy WHERE n10 > 0 ORDER BY id").rows == [(2,)]


# -- what a role may not see: said in elements ----------------------------------------------------


@pytest.fixture
def role(pg_database):
    """A login role of this test (roles are cluster-wide: uniquely named, dropped afterwards)."""
    name = f"hydra_role_{uuid.uuid4().hex[:10]}"
    run(pg_database, f"CREATE ROLE {name} LOGIN; GRANT USAGE ON SCHEMA public TO {name}")
    yield name
    run(pg_database, f"DROP OWNED BY {name}")
    run(pg_database, f"DROP ROLE {name}")


def test_an_inheritance_parent_is_read_with_only_and_noted(ws, pg_database, tmp_path):
    run(pg_database, "CREATE TABLE parent (id int PRIMARY KEY, v text); CREATE TABLE child (extra int) INHERITS (parent); "
                     "CREATE TABLE part (id int, v text) PARTITION BY RANGE (id); "
                     "CREATE TABLE part_low PARTITION OF part FOR VALUES FROM (0) TO (100); "
                     "INSERT INTO parent VALUES (1, 'p1'), (2, 'p2'); INSERT INTO child VALUES (3, 'c3', 30), (4, 'c4', 40); "
                     "INSERT INTO part VALUES (1, 'x'), (2, 'y'); ANALYZE")
    ws.execute(f"ATTACH '{pg_database}' AS pg")
    notes = dict(ws.execute("SELECT ref, note FROM elements").rows)
    assert "inheritance parent of table public.child: read with ONLY" in notes["pg.public.parent"]
    assert notes["pg.public.child"] is None and notes["pg.public.part"] is None
    assert ws.execute("SELECT count(*) FROM pg.public.parent").rows == [(2,)]
    assert ws.execute("SELECT count(*) FROM pg.public.part").rows == [(2,)]  # partitions read as usual
    ws.execute("MARK pg.*")
    result = ws.execute(f"EXTRACT MARKED TO '{tmp_path}'")
    assert {r[0]: r[2] for r in result.rows} == {"pg.public.parent": 2, "pg.public.child": 2, "pg.public.part": 2}
    assert ws.execute("RECONCILE LAST").message.endswith("all passed"), failures(ws)
    manifest = json.loads((tmp_path / "pg" / "public" / "parent" / "_manifest.json").read_text())
    assert "ONLY" in manifest["element_note"]
    ws.close()
    from hydra.statements.workspace import Workspace

    # a reopened workspace (its catalog from the file) reads the parent the same way
    path = tmp_path / "w.duckdb"
    first = Workspace.open(str(path))
    first.execute(f"ATTACH '{pg_database}' AS pg")
    first.close()
    again = Workspace.open(str(path))
    try:
        assert again.execute("SELECT count(*) FROM pg.public.parent").rows == [(2,)]
    finally:
        again.close()


def test_row_level_security_is_noted(ws, pg_database, role, tmp_path):
    run(pg_database, f"CREATE TABLE secured (id int PRIMARY KEY, owner text); "
                     f"INSERT INTO secured SELECT g, CASE WHEN g % 2 = 0 THEN '{role}' ELSE 'other' END "
                     f"FROM generate_series(1, 10) g; ANALYZE secured; "
                     f"ALTER TABLE secured ENABLE ROW LEVEL SECURITY; "
                     f"CREATE POLICY mine ON secured FOR SELECT USING (owner = current_user); "
                     f"CREATE TABLE open (id int); GRANT SELECT ON secured, open TO {role}")
    ws.execute(f"ATTACH '{pg_database.replace('postgres@', role + '@', 1)}' AS pg")
    rows = dict(ws.execute("SELECT ref, row_count FROM elements").rows)
    notes = dict(ws.execute("SELECT ref, note FROM elements").rows)
    assert "row-level security applies to this role" in notes["pg.public.secured"]
    assert notes["pg.public.open"] is None
    assert rows["pg.public.secured"] == 10 and ws.execute("SELECT count(*) FROM pg.public.secured").rows == [(5,)]
    ws.execute(f"EXTRACT pg.public.secured TO '{tmp_path}'")
    assert ws.execute("RECONCILE LAST").message.endswith("all passed"), failures(ws)


def test_unreadable_columns_are_noted_and_the_readable_ones_extracted_on_request(ws, pg_database, role, tmp_path):
    run(pg_database, f"CREATE TABLE salaries (id int PRIMARY KEY, name text, salary numeric(10,2)); "
                     f"INSERT INTO salaries VALUES (1, 'a', 100), (2, 'b', 200); CREATE TABLE hidden (id int); "
                     f"GRANT SELECT (id, name) ON salaries TO {role}")
    url = pg_database.replace("postgres@", role + "@", 1)
    ws.execute(f"ATTACH '{url}' AS pg")
    notes = dict(ws.execute("SELECT ref, note FROM elements").rows)
    assert "may not read column salary, so reading the table fails" in notes["pg.public.salaries"]
    assert "READABLE_COLUMNS true" in notes["pg.public.salaries"]
    assert "may not read it" in notes["pg.public.hidden"]
    assert ws.execute("SELECT name, note FROM columns WHERE ref = 'pg.public.salaries' AND note LIKE 'this role%'").rows == [
        ("salary", "this role may not read this column; NaN read as NULL (DECIMAL has no NaN)")]
    with pytest.raises(Exception, match="permission denied"):
        ws.execute("SELECT * FROM pg.public.salaries")

    ws.execute(f"ATTACH OR REPLACE '{url}' AS pg (READABLE_COLUMNS true)")
    note = ws.execute("SELECT note FROM elements WHERE ref = 'pg.public.salaries'").rows[0][0]
    assert note == "this role may not read column salary: left out (READABLE_COLUMNS true)"
    assert ws.execute("SELECT * FROM pg.public.salaries ORDER BY id").rows == [(1, "a"), (2, "b")]
    ws.execute(f"EXTRACT pg.public.salaries TO '{tmp_path}'")
    assert ws.execute("RECONCILE LAST").message.endswith("all passed"), failures(ws)
    manifest = json.loads((tmp_path / "pg" / "public" / "salaries" / "_manifest.json").read_text())
    assert [c["name"] for c in manifest["columns"]] == ["id", "name"] and "salary" in manifest["element_note"]


def test_a_date_key_holding_infinity_and_bc_dates_splits_and_reconciles(ws, pg_database, tmp_path, split_small_elements):
    run(pg_database, "CREATE TABLE days (d date PRIMARY KEY, v int); "
                     "INSERT INTO days SELECT DATE '2000-01-01' + g, g FROM generate_series(1, 3000) g; "
                     "INSERT INTO days VALUES ('infinity', -1), ('-infinity', -2), ('0044-03-15 BC', -3); ANALYZE days")
    ws.execute(f"ATTACH '{pg_database}' AS pg")
    result = ws.execute(f"EXTRACT pg.public.days TO '{tmp_path}' (WORKERS 3)")
    assert result.rows[0][1:3] == ("done", 3003), result.rows
    manifest = json.loads((tmp_path / "pg" / "public" / "days" / "_manifest.json").read_text())
    assert len(manifest["query"]["ranges"]) == 3  # split on the date key
    assert ws.execute("RECONCILE LAST").message.endswith("all passed"), failures(ws)


def test_a_workspace_written_before_elements_had_a_note_gains_it(tmp_path, pg_database):
    from hydra.statements.workspace import Workspace

    path = str(tmp_path / "old.duckdb")
    old = Workspace.open(path)
    old.con.execute("ALTER TABLE elements DROP COLUMN note")  # as an older Hydra created it
    old.close()
    again = Workspace.open(path)
    try:
        run(pg_database, "CREATE TABLE p (id int); CREATE TABLE c () INHERITS (p)")
        again.execute(f"ATTACH '{pg_database}' AS pg")
        assert "read with ONLY" in again.execute("SELECT note FROM elements WHERE ref = 'pg.public.p'").rows[0][0]
    finally:
        again.close()
