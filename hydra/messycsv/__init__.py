"""Messy delimited files: detect their dialect and structure, read every line into a row, a reject
with its reason, or a counted skipped line — never lose one silently.

    dialect = detect(path)                      # or detect(path, delimiter=';', header=2, …)
    reader = CsvReader(path, dialect)           # iterate: pa.RecordBatch; reader.rejects; reader.accounting
    options = duckdb_options(path, dialect)     # DuckDB read_csv options when its native reader is exact

Self-contained on purpose (it imports nothing of Hydra but ``hydra.core.errors``): the files head wires it
in (ATTACH options, the ``rejects`` table, PROFILE/EXTRACT/RECONCILE accounting).
"""

from hydra.messycsv.detect import detect
from hydra.messycsv.dialect import ColumnSpec, Dialect
from hydra.messycsv.fastpath import count_lines, duckdb_options, fast_accounting, read_csv_sql
from hydra.messycsv.reader import Accounting, AccountingError, CsvReader, Reject, read

__all__ = ["detect", "read", "CsvReader", "Dialect", "ColumnSpec", "Reject", "Accounting", "AccountingError",
           "duckdb_options", "read_csv_sql", "fast_accounting", "count_lines"]
