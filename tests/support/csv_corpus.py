"""A corpus of polluted CSV files built from clean tables, and a scorer of readings against them.

Clean tables of a few shapes (integers, decimals, text with commas and quotes, dates, timestamps,
NULLs, accented text) are written as CSV, then polluted ONE way at a time (``POLLUTIONS``): another
delimiter, quote or escape character, row delimiter, a preamble, a footer, blank rows, a missing or an
extra cell, a header on two lines, no header, quoted newlines, a stray quote, an encoding, number and
date formats, null tokens. For each file the generator knows the table a perfect reader returns.

Where a pollution changes what a perfect reader can return, the expected table says so: an unquoted
delimiter inside a text value (``extra_cell``) is still part of that value; a stray quote is a
character of its value; a row missing a cell (``missing_cell``) cannot be restored by any reader and
stays expected as it was (it costs every reader the same).

``score(reading, expected)`` gives header, record and cell precision/recall/F1 (in the manner of the
Pollock benchmark of CSV loading): records and cells are compared as multisets of canonical values
(numbers by value, dates in ISO form, NULL and the empty string alike), cells keyed by column position.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Callable


@dataclass
class Table:
    names: list[str]
    rows: list[tuple]
    text_columns: list[int] = field(default_factory=list)  # free-text columns (pollutions play there)
    number_columns: list[int] = field(default_factory=list)
    date_columns: list[int] = field(default_factory=list)


@dataclass
class CorpusFile:
    name: str         # file name
    kind: str         # the pollution
    table: str        # the clean table's name
    data: bytes       # the file's bytes
    expected: Table   # what a perfect reader returns
    has_header: bool = True
    encoding: str = "utf-8"


# -- clean tables ---------------------------------------------------------------------------------

LATIN_NAMES = ["Müller", "Zoë Brontë", "Ærøskøbing AS", "São Paulo Ltda", "Façade & Co", "Jürgen Groß",
               "Ñandú SA", "Crème brûlée", "Smith, John", 'The "Best" Shop', "O'Neill", "Plain Name",
               "Åsa Öberg", "Lopez-Garcia", "Niño", "Île-de-France"]
WORDS = ["alpha", "beta", "gamma", "delta", "north", "south", "east", "west", "red", "green", "blue", "big",
         "small", "fast", "slow", "order", "invoice", "return", "priority", "standard"]


def clean_tables(rows: int = 40, seed: int = 7) -> dict[str, Table]:
    rng = random.Random(seed)
    start = date(2019, 1, 1)

    orders = []
    for i in range(rows):
        orders.append((
            1000 + i,
            rng.choice(LATIN_NAMES),
            round(rng.uniform(-500, 250000), 2),
            start + timedelta(days=rng.randrange(1500)),
            None if i % 7 == 3 else rng.choice(["open", "shipped", "closed, paid", "on hold"]),
            rng.randrange(1, 5000),
        ))
    people = []
    for i in range(rows):
        people.append((
            rng.choice(LATIN_NAMES) + f" {i}",
            " ".join(rng.sample(WORDS, 3)),
            date(1950, 1, 1) + timedelta(days=rng.randrange(20000)),
            round(rng.uniform(0, 100), 1),
            None if i % 5 == 0 else rng.choice(["likes tea", "prefers e-mail, not phone", 'said "hi"', "n/a today"]),
        ))
    readings = []
    for i in range(rows):
        readings.append((
            f"sensor-{rng.randrange(20):02d}",
            datetime(2023, 1, 1) + timedelta(seconds=rng.randrange(10**7)),
            None if i % 9 == 4 else round(rng.uniform(-40, 60), 3),
            rng.randrange(0, 10**6),
            rng.choice(["ok", "degraded", "offline; retry", "ok"]),
        ))
    return {
        "orders": Table(["order_id", "customer", "amount", "order_date", "status", "qty"], orders,
                        text_columns=[1, 4], number_columns=[2, 5], date_columns=[3]),
        "people": Table(["full_name", "tags", "born", "score", "remark"], people,
                        text_columns=[0, 1, 4], number_columns=[3], date_columns=[2]),
        "readings": Table(["sensor", "taken_at", "value", "counter", "state"], readings,
                          text_columns=[0, 4], number_columns=[2, 3], date_columns=[]),
    }


# -- writing --------------------------------------------------------------------------------------

def text_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_csv(names, rows, *, delimiter=",", quotechar='"', escapechar=None, doublequote=True,
              lineterminator="\n", header=True, fmt: Callable = text_of) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quotechar=quotechar, escapechar=escapechar,
                        doublequote=doublequote, lineterminator=lineterminator, quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow(names)
    for row in rows:
        writer.writerow([fmt(v) for v in row])
    return out.getvalue()


# -- pollutions -----------------------------------------------------------------------------------
# Each takes (table, rng) and returns (text or bytes, expected table, options for CorpusFile).

def _same(table):
    return Table(table.names, list(table.rows), table.text_columns, table.number_columns, table.date_columns)


def p_clean(t, rng):
    return write_csv(t.names, t.rows), _same(t), {}


def p_delimiter(delimiter):
    def pollute(t, rng):
        return write_csv(t.names, t.rows, delimiter=delimiter), _same(t), {}
    return pollute


def p_quote_single(t, rng):
    return write_csv(t.names, t.rows, quotechar="'"), _same(t), {}


def p_escape_backslash(t, rng):
    return write_csv(t.names, t.rows, escapechar="\\", doublequote=False), _same(t), {}


def p_row_delimiter(terminator):
    def pollute(t, rng):
        if terminator != "mixed":
            return write_csv(t.names, t.rows, lineterminator=terminator), _same(t), {}
        lines = write_csv(t.names, t.rows).splitlines()
        return "".join(line + rng.choice(["\n", "\r\n", "\r"]) for line in lines), _same(t), {}
    return pollute


def p_no_final_newline(t, rng):
    return write_csv(t.names, t.rows).rstrip("\n"), _same(t), {}


PREAMBLES = ["Sales report", "Exported by SupplyBase v2.3 on 2024-03-01 10:22", "Confidential - internal use only",
             "", "Region: EMEA", "Generated,2024-03-01"]


def p_preamble(lines):
    def pollute(t, rng):
        pre = "".join(line + "\n" for line in PREAMBLES[:lines])
        return pre + write_csv(t.names, t.rows), _same(t), {}
    return pollute


def p_excel_sep_hint(t, rng):
    return "sep=;\n" + write_csv(t.names, t.rows, delimiter=";"), _same(t), {}


def p_footer(t, rng):
    total = sum(v for v in (r[t.number_columns[0]] for r in t.rows) if v is not None)
    cells = [""] * len(t.names)
    cells[0] = "Total"
    cells[t.number_columns[0]] = f"{total:.2f}"
    foot = "\n" + ",".join(cells) + f"\n{len(t.rows)} rows exported\nEnd of report\n"
    return write_csv(t.names, t.rows) + foot, _same(t), {}


def p_blank_rows(t, rng):
    lines = write_csv(t.names, t.rows).splitlines(keepends=True)
    out = [lines[0]]
    for line in lines[1:]:
        out.append(line)
        if rng.random() < 0.15:
            out.append(rng.choice(["\n", "\n\n", "   \n"]))
    return "".join(out), _same(t), {}


def _polluted_rows(t, rng, share=0.1):
    return sorted(rng.sample(range(len(t.rows)), max(2, int(len(t.rows) * share))))


def p_missing_cell(t, rng):
    """Rows that lost a cell: no reader can restore them, so they stay expected as they were."""
    chosen = set(_polluted_rows(t, rng))
    lines = [write_csv(t.names, [], header=True)]
    for i, row in enumerate(t.rows):
        cells = [text_of(v) for v in row]
        if i in chosen:
            del cells[rng.randrange(len(cells))]
        lines.append(write_csv(None, [cells], header=False, fmt=str))
    return "".join(lines), _same(t), {}


def p_extra_cell(t, rng):
    """A text value holding the delimiter, written without quotes: one cell too many. The value with
    its comma is what a perfect reader returns."""
    chosen = set(_polluted_rows(t, rng))
    rows, lines = [], [write_csv(t.names, [], header=True)]
    column = t.text_columns[-1]
    for i, row in enumerate(t.rows):
        row = list(row)
        if i in chosen:
            row[column] = f"{rng.choice(WORDS)},{rng.choice(WORDS)}"
            cells = [text_of(v) for v in row]
            lines.append(",".join(c if j == column else _quoted(c) for j, c in enumerate(cells)) + "\n")
        else:
            lines.append(write_csv(None, [row], header=False))
        rows.append(tuple(row))
    return "".join(lines), Table(t.names, rows, t.text_columns, t.number_columns, t.date_columns), {}


def _quoted(cell: str) -> str:
    """One cell as csv writes it in a row ("" alone on a line would be its way to write an empty row)."""
    return write_csv(None, [[cell]], header=False, fmt=str).rstrip("\n") if cell else ""


def p_header_two_lines(t, rng):
    """Each name split over two header lines ("order" / "id"): a perfect reader joins them with a space."""
    top, bottom, names = [], [], []
    for name in t.names:
        first, _, rest = name.partition("_")
        top.append(first)
        bottom.append(rest)
        names.append(f"{first} {rest}".strip())
    text = write_csv(top, [bottom], fmt=str) + write_csv(None, t.rows, header=False)
    return text, Table(names, list(t.rows), t.text_columns, t.number_columns, t.date_columns), {}


def p_no_header(t, rng):
    return write_csv(None, t.rows, header=False), _same(t), {"has_header": False}


def p_multiline_fields(t, rng):
    chosen = set(_polluted_rows(t, rng, 0.2))
    column = t.text_columns[-1]
    rows = [tuple(f"{r[column] or 'note'}\n{rng.choice(WORDS)} line\r\nlast" if i in chosen and j == column else v
                  for j, v in enumerate(r)) for i, r in enumerate(t.rows)]
    return write_csv(t.names, rows), Table(t.names, rows, t.text_columns, t.number_columns, t.date_columns), {}


def p_stray_quote(t, rng):
    """A value starting with a quote character that is not a quoted field (written unescaped)."""
    chosen = set(_polluted_rows(t, rng, 0.05))
    column = t.text_columns[0]
    rows, lines = [], [write_csv(t.names, [], header=True)]
    for i, row in enumerate(t.rows):
        row = list(row)
        if i in chosen:
            row[column] = '"' + rng.choice(WORDS) + " " + rng.choice(WORDS)
            lines.append(",".join(c if j == column else _quoted(c) for j, c in enumerate(map(text_of, row))) + "\n")
        else:
            lines.append(write_csv(None, [row], header=False))
        rows.append(tuple(row))
    return "".join(lines), Table(t.names, rows, t.text_columns, t.number_columns, t.date_columns), {}


def p_encoding(codec, bom=b""):
    def pollute(t, rng):
        text = write_csv(t.names, t.rows)
        if codec == "cp1252":  # a few characters that exist in 1252 but not in Latin-1
            rows = [tuple(v + " – €5 “ok”" if j == t.text_columns[-1] and isinstance(v, str) and i % 4 == 0 else v
                          for j, v in enumerate(r)) for i, r in enumerate(t.rows)]
            text = write_csv(t.names, rows)
            t2 = Table(t.names, rows, t.text_columns, t.number_columns, t.date_columns)
            return bom + text.encode(codec), t2, {"encoding": codec}
        return bom + text.encode(codec), _same(t), {"encoding": codec}
    return pollute


def p_number_format(style):
    """Numbers with thousands separators: "1,234.5" (comma delimiter, quoted) or "1.234,5" (in a
    semicolon file, as European exports write them)."""
    def fmt(value):
        if isinstance(value, float) or isinstance(value, int) and not isinstance(value, bool):
            text = f"{value:,}" if isinstance(value, int) else f"{value:,.3f}".rstrip("0").rstrip(".")
            if style == "decimal_comma":
                text = text.replace(",", "_").replace(".", ",").replace("_", ".")
            return text
        return text_of(value)

    def pollute(t, rng):
        delimiter = ";" if style == "decimal_comma" else ","
        return write_csv(t.names, t.rows, delimiter=delimiter, fmt=fmt), _same(t), {}
    return pollute


DATE_STYLES = ["%Y-%m-%d", "%d/%m/%Y", "%d %b %Y", "%Y.%m.%d", "%Y%m%d"]


def p_date_formats(t, rng):
    if not t.date_columns:
        return p_clean(t, rng)
    column = t.date_columns[0]

    def fmt_row(i, row):
        return [v.strftime(DATE_STYLES[i % len(DATE_STYLES)]) if j == column else text_of(v)
                for j, v in enumerate(row)]
    # day > 12 in a day-first value somewhere, so the order is decidable
    rows = list(t.rows)
    rows[1] = tuple(date(2021, 3, 25) if j == column else v for j, v in enumerate(rows[1]))
    lines = [write_csv(t.names, [], header=True)] + [write_csv(None, [fmt_row(i, r)], header=False, fmt=str)
                                                     for i, r in enumerate(rows)]
    return "".join(lines), Table(t.names, rows, t.text_columns, t.number_columns, t.date_columns), {}


def p_null_token(token):
    def pollute(t, rng):
        return write_csv(t.names, t.rows, fmt=lambda v: token if v is None else text_of(v)), _same(t), {}
    return pollute


POLLUTIONS: dict[str, Callable] = {
    "clean": p_clean,
    "delimiter_semicolon": p_delimiter(";"),
    "delimiter_pipe": p_delimiter("|"),
    "delimiter_tab": p_delimiter("\t"),
    "quote_single": p_quote_single,
    "escape_backslash": p_escape_backslash,
    "rows_crlf": p_row_delimiter("\r\n"),
    "rows_cr": p_row_delimiter("\r"),
    "rows_mixed": p_row_delimiter("mixed"),
    "no_final_newline": p_no_final_newline,
    "preamble_1": p_preamble(1),
    "preamble_3": p_preamble(3),
    "preamble_5": p_preamble(5),
    "excel_sep_hint": p_excel_sep_hint,
    "footer": p_footer,
    "blank_rows": p_blank_rows,
    "missing_cell": p_missing_cell,
    "extra_cell": p_extra_cell,
    "header_two_lines": p_header_two_lines,
    "no_header": p_no_header,
    "multiline_fields": p_multiline_fields,
    "stray_quote": p_stray_quote,
    "utf8_bom": p_encoding("utf-8", b"\xef\xbb\xbf"),
    "utf16le_bom": p_encoding("utf-16-le", b"\xff\xfe"),
    "utf16be_bom": p_encoding("utf-16-be", b"\xfe\xff"),
    "latin1": p_encoding("latin-1"),
    "cp1252": p_encoding("cp1252"),
    "thousands_separators": p_number_format("thousands"),
    "decimal_comma": p_number_format("decimal_comma"),
    "date_formats": p_date_formats,
    "null_tokens_na": p_null_token("n/a"),
    "null_tokens_NULL": p_null_token("NULL"),
}


def build(rows: int = 40, seed: int = 7) -> list[CorpusFile]:
    """Every pollution of every clean table (deterministic for a seed)."""
    files = []
    for table_name, table in clean_tables(rows, seed).items():
        for kind, pollute in POLLUTIONS.items():
            rng = random.Random(f"{seed}-{table_name}-{kind}")
            data, expected, options = pollute(table, rng)
            if isinstance(data, str):
                data = data.encode("utf-8")
            files.append(CorpusFile(f"{table_name}__{kind}.csv", kind, table_name, data, expected, **options))
    return files


def write(folder, files: list[CorpusFile]) -> list[str]:
    import os

    paths = []
    for f in files:
        path = os.path.join(str(folder), f.name)
        with open(path, "wb") as fh:
            fh.write(f.data)
        paths.append(path)
    return paths


def physical_lines(data: bytes, encoding: str = "utf-8") -> int:
    """Lines of a file as the reader must count them: \\n, \\r\\n or \\r end a line; a last line
    without a newline counts."""
    if encoding.startswith("utf-16"):
        data = data.decode(encoding.removesuffix("-sig")).encode("utf-8")
    return len(data.splitlines())


# -- scoring --------------------------------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def canonical(value):
    """One text for one value, whatever type a reader gave it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        if isinstance(value, float) and value != value:
            return None
        if isinstance(value, int):
            return str(value)
        return format(Decimal(repr(value) if isinstance(value, float) else value).normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text == "":
        return None
    if _PLAIN_NUMBER.match(text):
        try:
            return format(Decimal(text).normalize(), "f")
        except ArithmeticError:
            return text
    return text


@dataclass
class Score:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _prf(matched: int, read: int, expected: int) -> Score:
    return Score(matched / read if read else (1.0 if not expected else 0.0),
                 matched / expected if expected else (1.0 if not read else 0.0))


def score(names: list[str] | None, rows: list[tuple], expected: Table, has_header: bool = True) -> dict:
    """{'header': Score | None, 'record': Score, 'cell': Score} of a reading."""
    header = None
    if has_header:
        names = names or []
        correct = sum(1 for a, b in zip(names, expected.names) if a.strip() == b)
        header = _prf(correct, len(names), len(expected.names))
    got = Counter(tuple(canonical(v) for v in r) for r in rows)
    want = Counter(tuple(canonical(v) for v in r) for r in expected.rows)
    record = _prf(sum((got & want).values()), sum(got.values()), sum(want.values()))
    got_cells = Counter((j, v) for r, n in got.items() for j, v in enumerate(r) for _ in range(n))
    want_cells = Counter((j, v) for r, n in want.items() for j, v in enumerate(r) for _ in range(n))
    cell = _prf(sum((got_cells & want_cells).values()), sum(got_cells.values()), sum(want_cells.values()))
    return {"header": header, "record": record, "cell": cell}


# -- the two readers compared ---------------------------------------------------------------------

def read_hydra(path: str):
    """(names, rows, accounting, rejects) as hydra.messycsv reads the file."""
    from hydra.messycsv import CsvReader, detect

    reader = CsvReader(path, detect(path))
    table = reader.read_all()
    return table.column_names, [tuple(r.values()) for r in table.to_pylist()], reader.accounting, reader.rejects


DUCKDB_LENIENT = "strict_mode=false, ignore_errors=true, null_padding=true"


def read_duckdb(path: str):
    """(names, rows) as DuckDB's lenient read_csv reads the file; ([], []) when it cannot."""
    import duckdb

    con = duckdb.connect()
    try:
        cur = con.execute(f"SELECT * FROM read_csv(?, {DUCKDB_LENIENT})", [path])
        return [d[0] for d in cur.description], cur.fetchall()
    except duckdb.Error:
        return [], []
    finally:
        con.close()


def score_corpus(folder, files: list[CorpusFile]) -> list[dict]:
    """One dict per file: kind, file, hydra and duckdb scores, hydra's accounting and line count."""
    import os

    results = []
    write(folder, files)
    for f in files:
        path = os.path.join(str(folder), f.name)
        names, rows, accounting, rejects = read_hydra(path)
        d_names, d_rows = read_duckdb(path)
        results.append({
            "kind": f.kind, "file": f.name,
            "hydra": score(names, rows, f.expected, f.has_header),
            "duckdb": score(d_names, d_rows, f.expected, f.has_header),
            "accounting": accounting, "rejects": rejects,
            "lines": physical_lines(f.data[2:] if f.encoding.startswith("utf-16") else f.data, f.encoding),
        })
    return results


def by_kind(results: list[dict]) -> dict[str, dict[str, float]]:
    """Mean F1 per pollution kind: {kind: {'hydra_record': …, 'duckdb_record': …, …}}."""
    table: dict[str, dict[str, list[float]]] = {}
    for r in results:
        row = table.setdefault(r["kind"], {})
        for reader in ("hydra", "duckdb"):
            for level in ("header", "record", "cell"):
                s = r[reader][level]
                if s is not None:
                    row.setdefault(f"{reader}_{level}", []).append(s.f1)
    return {kind: {k: sum(v) / len(v) for k, v in row.items()} for kind, row in table.items()}
