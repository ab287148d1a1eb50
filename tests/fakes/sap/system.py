"""A simulated SAP system: its ABAP Dictionary (DD02L, DD02T, DD03L), its tables, its users and
what they may call or read, all held in one DuckDB database (in memory, or a file that a
subprocess can open through ``fakes/sap/pythonpath``).

Build one in a test::

    system = SapSystem()
    system.add_user("RFC_USER", "secret", denied_functions={"EM_GET_NUMBER_OF_ENTRIES"})
    system.table("KNA1", [Field("MANDT", "CLNT", key=True), Field("KUNNR", "CHAR", 10, key=True),
                          Field("NAME1", "CHAR", 35)], text="General Data in Customer Master")
    system.insert("KNA1", [("100", "0000000001", "Acme")])
    conn = system.connect(**system.logon_params())   # ashost, sysnr, client, user, passwd

The dictionary tables are ordinary simulated tables, declared through the same builder, so a
client reads them with RFC_READ_TABLE like any other (as a real head does).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import threading
from dataclasses import dataclass, field as dc_field
from typing import Any, Iterable

import duckdb
import pyarrow as pa

from .ddic import Field, quote

#: The read functions a system may offer, with their DATA row width (reference/sap).
READ_FUNCTION_WIDTHS = {"RFC_READ_TABLE": 512, "/SAPDS/RFC_READ_TABLE2": 2048,
                        "/BODS/RFC_READ_TABLE": 512, "BBP_RFC_READ_TABLE": 512}
#: Functions every simulated system has, whatever read functions it offers.
STANDARD_FUNCTIONS = ("RFC_PING", "RFC_GET_FUNCTION_INTERFACE", "DDIF_FIELDINFO_GET",
                      "EM_GET_NUMBER_OF_ENTRIES")
_CATALOG = ("DD02L", "DD02T", "DD03L")
LANGUAGES = {"EN": "E", "DE": "D", "FR": "F", "ES": "S", "IT": "I", "JA": "J", "PT": "P"}


@dataclass
class TableDef:
    name: str
    fields: list[Field]
    tabclass: str = "TRANSP"
    text: str = ""
    contflag: str = "A"
    generated: bool = False  # a DuckDB view over generating SQL rather than stored rows

    @property
    def client_dependent(self) -> bool:
        return bool(self.fields) and self.fields[0].datatype == "CLNT"

    @property
    def keys(self) -> list[Field]:
        return [f for f in self.fields if f.key]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass
class User:
    password: str
    denied_tables: tuple[str, ...] = ()  # fnmatch patterns (S_TABU_DIS/S_TABU_NAM refused)
    denied_functions: tuple[str, ...] = ()  # S_RFC refused

    def may_read(self, table: str) -> bool:
        return not any(fnmatch.fnmatchcase(table, p) for p in self.denied_tables)

    def may_call(self, function: str) -> bool:
        return function not in self.denied_functions


@dataclass
class Call:
    """One function call as the system received it (tests inspect ``system.calls``)."""

    function: str
    params: dict[str, Any]
    user: str = ""


@dataclass
class Identity:
    sysid: str = "HYD"
    ashost: str = "sap-app.client.com"
    sysnr: str = "00"
    mshost: str = "sap-ms.client.com"
    msserv: str = "3600"
    group: str = "PUBLIC"
    clients: tuple[str, ...] = ("100",)
    read_functions: dict[str, int] = dc_field(default_factory=lambda: {"RFC_READ_TABLE": 512})
    seed: int = 1


class SapSystem:
    """One simulated SAP system (see the module docstring)."""

    def __init__(self, path: str | None = None, *, read_only: bool = False,
                 memory_limit: str | None = None, **identity):
        """A new system, or with ``path`` naming a file that holds one, that system."""
        self.db = duckdb.connect(str(path) if path else ":memory:", read_only=read_only)
        if memory_limit:
            self.db.execute(f"SET memory_limit = '{memory_limit}'")
        self.path = path
        self.tables: dict[str, TableDef] = {}
        self.users: dict[str, User] = {}
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        saved = self.db.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = '__sim_state'"
                                ).fetchone()
        if saved:
            if identity:
                raise ValueError(f"{path} holds a system already; its identity is saved there")
            self._load()
        else:
            self.identity = Identity(**identity)
            self._bootstrap()

    @classmethod
    def open(cls, path: str, *, read_only: bool = True) -> SapSystem:
        """The system saved in a DuckDB file (every change is saved as it is made)."""
        return cls(path, read_only=read_only)

    @property
    def functions(self) -> set[str]:
        return set(STANDARD_FUNCTIONS) | set(self.identity.read_functions)

    def logon_params(self, user: str = "RFC_USER", passwd: str = "secret", **extra) -> dict:
        """Connection parameters that log on to this system (pyrfc's keyword names)."""
        params = {"ashost": self.identity.ashost, "sysnr": self.identity.sysnr,
                  "client": self.identity.clients[0], "user": user, "passwd": passwd,
                  "lang": "EN"}
        params.update(extra)
        return params

    def connect(self, **params):
        """A pyrfc-compatible connection to this system (``fakes.sap.pyrfc_api.Connection``)."""
        from .pyrfc_api import Connection

        return Connection(system=self, **params)

    # -- users ---------------------------------------------------------------------------------
    def add_user(self, name: str, password: str, *, denied_tables: Iterable[str] = (),
                 denied_functions: Iterable[str] = ()) -> None:
        self.users[name] = User(password, tuple(denied_tables), tuple(denied_functions))
        self._save()

    # -- tables --------------------------------------------------------------------------------
    def table(self, name: str, fields: list[Field], *, text: str = "", tabclass: str = "TRANSP",
              contflag: str = "A", sql: str | None = None, inactive: bool = False) -> TableDef:
        """Declare a table (or, with ``tabclass='INTTAB'``, a structure without data).

        ``sql``: the table's rows come from this SELECT (its columns in field order), held as a
        DuckDB view, so a generated table of any size exists at once and always holds the same
        values. ``inactive``: the dictionary also holds an inactive version ('N') of the table
        with an extra field, as when someone is editing it in SE11."""
        if name in self.tables:
            raise ValueError(f"table {name} exists")
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{name}: duplicate field names")
        if sql is not None and not any(f.key for f in fields):
            raise ValueError(f"{name}: a generated table needs key fields (its row order)")
        table = TableDef(name, list(fields), tabclass, text, contflag, generated=sql is not None)
        if tabclass != "INTTAB":
            self._create_storage(table, sql)
        self.tables[name] = table
        self._write_dictionary(table, inactive)
        self._save()
        return table

    def _create_storage(self, table: TableDef, sql: str | None) -> None:
        name = quote(table.name)
        if sql is None:
            columns = ", ".join(f"{quote(f.name)} {f.storage}" for f in table.fields)
            self.db.execute(f"CREATE TABLE {name} ({columns})")
            return
        aliases = ", ".join(quote(f.name) for f in table.fields)
        casts = ", ".join(f"CAST({quote(f.name)} AS {f.storage}) AS {quote(f.name)}"
                          for f in table.fields)
        self.db.execute(f"CREATE VIEW {name} AS SELECT {casts} FROM ({sql}) AS s({aliases})")

    def insert(self, name: str, rows: Iterable[dict | tuple | list]) -> None:
        """Append rows given as dicts (missing fields NULL) or tuples in field order."""
        table = self._stored(name)
        columns: list[list] = [[] for _ in table.fields]
        for row in rows:
            values = ([row.get(f.name) for f in table.fields] if isinstance(row, dict)
                      else list(row))
            if len(values) != len(table.fields):
                raise ValueError(f"{name}: a row needs {len(table.fields)} values")
            for column, fld, value in zip(columns, table.fields, values, strict=True):
                column.append(fld.python_value(value))
        arrow = pa.table({f.name: pa.array(col, _arrow_type(f))
                          for f, col in zip(table.fields, columns, strict=True)})
        with self._lock:
            cursor = self.db.cursor()
            cursor.register("__rows_in", arrow)
            cursor.execute(f"INSERT INTO {quote(name)} SELECT * FROM __rows_in")
            cursor.close()

    def insert_sql(self, name: str, select_sql: str) -> None:
        """Append the rows of a DuckDB SELECT (its columns in field order)."""
        self._stored(name)
        self.db.execute(f"INSERT INTO {quote(name)} SELECT * FROM ({select_sql})")

    def sql(self, query: str, params=None):
        """Run SQL on the system's database in a fresh cursor (for tests)."""
        return self.db.cursor().execute(query, params or [])

    def _stored(self, name: str) -> TableDef:
        table = self.tables[name]
        if table.generated or table.tabclass == "INTTAB":
            raise ValueError(f"{name} has no stored rows to append to")
        return table

    # -- the dictionary ------------------------------------------------------------------------
    def _bootstrap(self) -> None:
        c30 = lambda n, key=False: Field(n, "CHAR", 30, key=key)  # noqa: E731
        catalog = [
            TableDef("DD02L", [c30("TABNAME", True), Field("AS4LOCAL", "CHAR", 1, key=True),
                               Field("AS4VERS", "NUMC", 4, key=True),
                               Field("TABCLASS", "CHAR", 8), c30("SQLTAB"),
                               Field("CLIDEP", "CHAR", 1), Field("CONTFLAG", "CHAR", 1),
                               Field("MAINFLAG", "CHAR", 1)],
                     text="SAP Tables", contflag="S"),
            TableDef("DD02T", [c30("TABNAME", True), Field("DDLANGUAGE", "LANG", key=True),
                               Field("AS4LOCAL", "CHAR", 1, key=True),
                               Field("AS4VERS", "NUMC", 4, key=True),
                               Field("DDTEXT", "CHAR", 60)],
                     text="SAP DD: SAP Table Texts", contflag="S"),
            TableDef("DD03L", [c30("TABNAME", True), c30("FIELDNAME", True),
                               Field("AS4LOCAL", "CHAR", 1, key=True),
                               Field("AS4VERS", "NUMC", 4, key=True),
                               Field("POSITION", "NUMC", 4, key=True),
                               Field("KEYFLAG", "CHAR", 1), c30("ROLLNAME"), c30("DOMNAME"),
                               Field("INTTYPE", "CHAR", 1), Field("INTLEN", "NUMC", 6),
                               Field("DATATYPE", "CHAR", 4), Field("LENG", "NUMC", 6),
                               Field("DECIMALS", "NUMC", 6), Field("NOTNULL", "CHAR", 1)],
                     text="Table Fields", contflag="S"),
        ]
        for table in catalog:
            self._create_storage(table, None)
            self.tables[table.name] = table
        for table in catalog:
            self._write_dictionary(table, False)
        self._save()

    def _write_dictionary(self, table: TableDef, inactive: bool) -> None:
        versions = [("A", table.fields)]
        if inactive:
            versions.append(("N", [*table.fields, Field("ZZNEW", "CHAR", 10, text="In work")]))
        for local, fields in versions:
            self.insert("DD02L", [(table.name, local, "0000", table.tabclass, table.name,
                                   "X" if table.client_dependent else "", table.contflag, "X")])
            self.insert("DD02T", [(table.name, "E", local, "0000", table.text)])
            rows = [(table.name, f.name, local, "0000", "X" if f.key else "", f"Z{f.name}"[:30],
                     f"Z{f.datatype}"[:30], f.inttype, f"{f.intlen:06d}", f.datatype,
                     f"{f.leng:06d}", f"{f.decimals:06d}", "X" if f.key else "")
                    for f in fields]
            nonkey = [i for i, f in enumerate(fields) if not f.key]
            if table.name not in _CATALOG and len(nonkey) >= 2:
                # SE11 writes a row for an included structure, which is no field of the table
                rows.insert(nonkey[0], (table.name, ".INCLUDE", local, "0000", "",
                                        f"{table.name}_INCL"[:30], "", "", "000000", "",
                                        "000000", "000000", ""))
            self.insert("DD03L", [(*row[:4], f"{i:04d}", *row[4:])
                                  for i, row in enumerate(rows, 1)])

    # -- persistence (for subprocesses) --------------------------------------------------------
    def _save(self) -> None:
        state = {
            "identity": dataclasses.asdict(self.identity),
            "users": {n: dataclasses.asdict(u) for n, u in self.users.items()},
            "tables": [{**{k: v for k, v in dataclasses.asdict(t).items() if k != "fields"},
                        "fields": [dataclasses.asdict(f) for f in t.fields]}
                       for t in self.tables.values()],
        }
        with self._lock:
            self.db.execute("CREATE OR REPLACE TABLE __sim_state (state VARCHAR)")
            self.db.execute("INSERT INTO __sim_state VALUES (?)", [json.dumps(state)])

    def _load(self) -> None:
        (state,) = self.db.execute("SELECT state FROM __sim_state").fetchone()
        state = json.loads(state)
        identity = state["identity"]
        identity["clients"] = tuple(identity["clients"])
        self.identity = Identity(**identity)
        self.users = {n: User(u["password"], tuple(u["denied_tables"]),
                              tuple(u["denied_functions"])) for n, u in state["users"].items()}
        self.tables = {t["name"]: TableDef(**{**t, "fields": [Field(**f) for f in t["fields"]]})
                       for t in state["tables"]}

    def close(self) -> None:
        self.db.close()


def _arrow_type(f: Field) -> pa.DataType:
    storage = f.storage
    if storage.startswith("DECIMAL"):
        return pa.decimal128(f.leng, f.decimals)
    return {"VARCHAR": pa.string(), "BLOB": pa.binary(), "DOUBLE": pa.float64(),
            "UTINYINT": pa.uint8(), "SMALLINT": pa.int16(), "INTEGER": pa.int32(),
            "BIGINT": pa.int64()}[storage]
