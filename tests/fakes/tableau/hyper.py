"""Real Tableau extracts for the simulations: .hyper files built with the Hyper API, and the
.twbx/.tdsx packages that hold them (a zip with the .twb/.tds XML and ``Data/Extracts/*.hyper``).

Hyper runs locally (``tableauhyperapi`` ships ``hyperd``); tables are filled with one
``INSERT … SELECT … FROM generate_series`` each, so a 1M-row extract takes about a second. Values
are functions of the row number ``g`` (1…rows), so a test can compute any expected figure.
A legacy ``.tde`` cannot be built any more; ``LEGACY_TDE`` is a placeholder with the format's
magic bytes, enough for a reader to recognise what it has been given.
"""

from __future__ import annotations

import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from .estate import Datasource, ExtractTable, Workbook

# The first bytes of a Tableau Data Extract (as tableauserverclient's filesys_helpers tells them).
LEGACY_TDE = bytes.fromhex("20020162") + b"\0" * 60

# Per kind: (column name, Hyper SQL type, value as an SQL expression of the row number g).
KINDS: dict[str, list[tuple[str, str, str]]] = {
    "orders": [  # every type a Tableau extract commonly has, with NULLs in most columns
        ("order_id", "BIGINT NOT NULL", "g"),
        ("customer", "TEXT", "'C' || (g % 7)"),
        ("region", "TEXT", "CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN 'North' WHEN 2 THEN 'South' "
                           "WHEN 3 THEN 'East' ELSE 'Wést' END"),
        ("quantity", "INTEGER", "CAST(g % 9 + 1 AS INTEGER)"),
        ("priority", "SMALLINT", "CAST(g % 3 AS SMALLINT)"),
        ("amount", "NUMERIC(18,2)", "CAST(g * 10.25 AS NUMERIC(18,2))"),
        ("discount", "DOUBLE PRECISION", "CASE WHEN g % 3 = 0 THEN NULL ELSE g / 100.0 END"),
        ("order_date", "DATE", "DATE '2024-01-01' + CAST(g AS INTEGER)"),
        ("shipped_at", "TIMESTAMP", "CASE WHEN g % 4 = 0 THEN NULL ELSE "
                                    "TIMESTAMP '2024-01-01 08:00:00' + g * INTERVAL '1 hour' END"),
        ("paid_at", "TIMESTAMPTZ",
         "TIMESTAMPTZ '2024-01-01 08:00:00+00' + g * INTERVAL '90 minute'"),
        ("returned", "BOOLEAN", "CASE WHEN g % 11 = 0 THEN NULL ELSE g % 6 = 0 END"),
        ("location", "GEOGRAPHY", "CASE WHEN g % 4 = 0 THEN NULL ELSE "
         "CAST('POINT(' || (g % 90) || ' ' || (g % 45) || ')' AS GEOGRAPHY) END"),
    ],
    "ledger": [
        ("entry_id", "INTEGER NOT NULL", "CAST(g AS INTEGER)"),
        ("account", "TEXT", "'A' || (g % 6 + 1)"),
        ("amount", "NUMERIC(12,2)", "CAST((g % 13 - 6) * 100.5 AS NUMERIC(12,2))"),
        ("posted", "DATE", "DATE '2025-01-01' + CAST(g AS INTEGER)"),
        ("memo", "TEXT", "CASE WHEN g % 2 = 0 THEN NULL ELSE 'entry ' || g END"),
    ],
    "accounts": [
        ("account", "TEXT NOT NULL", "'A' || g"),
        ("name", "TEXT", "CASE g WHEN 1 THEN 'Cash' WHEN 2 THEN 'Receivables' WHEN 3 THEN "
         "'Payables' WHEN 4 THEN 'Revenue' WHEN 5 THEN 'Expenses' ELSE 'Equity' END"),
        ("is_balance_sheet", "BOOLEAN", "g IN (1, 2, 3, 6)"),
    ],
    "pairs": [  # the head contract's table t (tests/heads/test_contract.py): id 1..n, v 'v<id>'
        ("id", "INTEGER NOT NULL", "CAST(g AS INTEGER)"),
        ("v", "TEXT", "'v' || g"),
    ],
    "sequence": [  # the big extract: narrow enough to build fast, wide enough in types
        ("id", "BIGINT NOT NULL", "g"),
        ("label", "TEXT", "CASE WHEN g % 7 = 0 THEN NULL ELSE 'item-' || (g % 1000) END"),
        ("value", "DOUBLE PRECISION", "g * 0.5"),
        ("amount", "NUMERIC(18,2)", "CAST((g % 10000) * 1.25 AS NUMERIC(18,2))"),
        ("day", "DATE", "DATE '2020-01-01' + CAST(g % 2000 AS INTEGER)"),
        ("at", "TIMESTAMP", "TIMESTAMP '2020-01-01 00:00:00' + g * INTERVAL '1 second'"),
        ("flag", "BOOLEAN", "CASE WHEN g % 5 = 0 THEN NULL ELSE g % 2 = 0 END"),
    ],
}


@contextmanager
def hyper_process() -> Iterator[object]:
    """A local Hyper server (no telemetry, no log file)."""
    from tableauhyperapi import HyperProcess, Telemetry

    with HyperProcess(Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU,
                      parameters={"log_config": ""}) as process:
        yield process


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build_hyper(path: Path, tables: Iterable[ExtractTable], process=None) -> Path:
    """Write a .hyper file holding ``tables`` (each in its schema, filled per its kind)."""
    from tableauhyperapi import Connection, CreateMode

    if process is None:
        with hyper_process() as own:
            return build_hyper(path, tables, own)
    with Connection(process.endpoint, str(path), CreateMode.CREATE_AND_REPLACE) as con:
        schemas: set[str] = set()
        for table in tables:
            if table.schema not in schemas:
                con.execute_command(f"CREATE SCHEMA IF NOT EXISTS {_q(table.schema)}")
                schemas.add(table.schema)
            columns = KINDS[table.kind]
            name = f"{_q(table.schema)}.{_q(table.name)}"
            con.execute_command(f"CREATE TABLE {name} ("
                                + ", ".join(f"{_q(c)} {t}" for c, t, _ in columns) + ")")
            con.execute_command(f"INSERT INTO {name} SELECT "
                                + ", ".join(v for _, _, v in columns)
                                + f" FROM generate_series(1, {table.rows}) AS s(g)")
    return path


def big_extract(path: Path, rows: int = 1_000_000, process=None) -> Path:
    """A single-table extract (``Extract.Extract``) of ``rows`` rows of the ``sequence`` kind."""
    return build_hyper(path, [ExtractTable("Extract", "Extract", "sequence", rows)], process)


def document_xml(obj: Workbook | Datasource) -> bytes:
    """The .twb/.tds inside a package: its connections, and the extract when there is one."""
    from lxml import etree

    def datasource(parent, caption: str):
        attrs = {"caption": caption, "inline": "true", "version": "18.1"}
        ds = etree.Element("datasource", attrs) if parent is None else \
            etree.SubElement(parent, "datasource", attrs)
        federated = etree.SubElement(ds, "connection", {"class": "federated"})
        named = etree.SubElement(federated, "named-connections")
        for c in obj.connections:
            nc = etree.SubElement(named, "named-connection", caption=c.server or c.dbclass,
                                  name=f"{c.dbclass}.{c.id}")
            attrs = {"class": c.dbclass, "server": c.server, "dbname": c.dbname or "",
                     "port": str(c.port or ""), "username": c.username or ""}
            etree.SubElement(nc, "connection", attrs)
        if obj.extract:
            ext = etree.SubElement(ds, "extract", count="-1", enabled="true", units="records")
            etree.SubElement(ext, "connection", {
                "class": "hyper" if not obj.extract.legacy else "dataengine",
                "dbname": f"Data/Extracts/{obj.extract.file_name}"})
        return ds

    if isinstance(obj, Workbook):
        root = etree.Element("workbook", version="18.1")
        datasource(etree.SubElement(root, "datasources"), obj.name)
        worksheets = etree.SubElement(root, "worksheets")
        for v in obj.views:
            etree.SubElement(worksheets, "worksheet", name=v.name)
    else:
        root = datasource(None, obj.name)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def build_package(path: Path, obj: Workbook | Datasource, hyper: Path | None = None,
                  include_extract: bool = True) -> Path:
    """Write ``obj``'s .twbx/.tdsx (or its bare .twb/.tds when it has no extract).

    ``hyper`` is the extract file to pack (built from ``obj.extract`` when not given); a legacy
    extract packs ``LEGACY_TDE``. ``include_extract=False`` leaves ``Data/Extracts`` out, as the
    server does for ``?includeExtract=False``.
    """
    document = document_xml(obj)
    if obj.extract is None:
        path.write_bytes(document)
        return path
    inner = obj.file_name[:-1]  # Orders.tdsx -> Orders.tds
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(inner, document)
        if not include_extract:
            return path
        member = f"Data/Extracts/{obj.extract.file_name}"
        if obj.extract.legacy:
            z.writestr(member, LEGACY_TDE)
        else:
            if hyper is None:
                hyper = build_hyper(path.with_suffix(".hyper"), obj.extract.tables)
            # stored, not deflated: Hyper files are already compact, and this is what Tableau does
            z.write(hyper, member, compress_type=zipfile.ZIP_STORED)
    return path


def package_for(obj_name: str, path: Path, hyper: Path, kind: str = "tdsx") -> Path:
    """A stand-alone package around an existing .hyper (e.g. ``big_extract``'s)."""
    from lxml import etree

    tag = "workbook" if kind == "twbx" else "datasource"
    root = etree.Element(tag, version="18.1")
    etree.SubElement(root, "extract", enabled="true").append(
        etree.Element("connection", {"class": "hyper", "dbname": f"Data/Extracts/{hyper.name}"}))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{obj_name}.{kind[:-1]}", etree.tostring(root, xml_declaration=True,
                                                               encoding="utf-8"))
        z.write(hyper, f"Data/Extracts/{hyper.name}", compress_type=zipfile.ZIP_STORED)
    return path
