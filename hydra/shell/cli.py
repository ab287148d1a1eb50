"""The ``hydra`` command line."""

from __future__ import annotations

import argparse
import os
import sys

from hydra import __version__
from hydra.core.errors import HydraError

DESCRIPTION = """\
Hydra: a SQL-first federated query shell. Attach sources, list every data element,
profile, mark, extract in bulk to a folder or S3, and reconcile — all in SQL.

  hydra                       open ./hydra.duckdb in the interactive shell
  hydra work.duckdb -f attach.sql -c "SELECT * FROM elements"
  echo "SELECT 42" | hydra :memory:     (a script on stdin prints CSV when piped)
"""

EPILOG = """\
statements: ATTACH '<uri|path>' AS name [(TYPE kind, OPTION value, …)]; DETACH name;
  REFRESH name; MARK <selection> [WHERE …]; UNMARK <selection>; PROFILE <selection>;
  EXTRACT <MARKED|selection|(query)> TO '<folder|s3://…>' [(FORMAT parquet, …)];
  RECONCILE <LAST|MARKED|selection> [(AGAINST NOW)];
  RECONCILE <MARKED|selection> AGAINST <selection> [(KEY 'col', COLUMNS 'a,b', MAP 'l=r',
    TOLERANCE 'col=0.005', WHERE '…', PRECISION s|ms|us, TRIM true|false, PARQUET 'file')];
  REPORT TO '<file.html|file.md>' [(TITLE '…', …)];
  any DuckDB SQL. Type .help in the shell for more.
exit status: 0 on success; 1 when a statement fails (the script stops there), or when an
  EXTRACT or RECONCILE finishes with failed elements or checks (the script goes on, and the
  failures are summed up on stderr at the end); 2 for bad arguments; 130 when interrupted."""


class _Ordered(argparse.Action):
    """-c and -f append to one list so they run in the order given."""

    def __call__(self, parser, namespace, values, option_string=None):
        items = getattr(namespace, "script", None) or []
        items.append((self.dest, values))
        namespace.script = items


class _Parser(argparse.ArgumentParser):
    """--help ends with ATTACH's options, built from the installed heads only when asked for
    (importing every head costs start-up time)."""

    def format_help(self) -> str:
        from hydra.heads.registry import attach_help

        return super().format_help() + "\n" + attach_help() + "\n"


def parser() -> argparse.ArgumentParser:
    from hydra.shell.output import FORMATS

    p = _Parser(prog="hydra", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workspace", nargs="?", default="hydra.duckdb",
                   help="workspace file, created if missing (default ./hydra.duckdb; :memory: for none)")
    p.add_argument("-c", dest="command", metavar="SQL", action=_Ordered,
                   help="run SQL (repeatable; runs in order with -f)")
    p.add_argument("-f", dest="file", metavar="FILE", action=_Ordered,
                   help="run a SQL script file (repeatable)")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="output format (default: table on a terminal, csv when piped); list prints the values "
                        "as they are, joined by the separator, for `while read` loops")
    p.add_argument("--no-header", dest="header", action="store_false",
                   help="leave out the line naming the columns (table, csv, tsv, list)")
    p.add_argument("--separator", metavar="SEP", default="|",
                   help="what joins the values in list mode (default |; \\t for a tab)")
    p.add_argument("--read-only", action="store_true",
                   help="open the workspace read-only (a snapshot if another process holds it)")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    p.add_argument("--version", action="version", version=f"hydra {__version__}")
    p.set_defaults(script=[])
    return p


class _NoPandas:
    """An import finder that says pandas is not installed (see ``_without_pandas``)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("pandas is not used by the hydra command line", name=name)


def _without_pandas() -> None:
    """Hydra never uses pandas, but pyarrow imports it the first time it turns Python values into
    Arrow (``pa.array``, ``pa.table``) to ask whether they are pandas objects: 0.47 s of an
    EXTRACT of a 1-row table (``python -X importtime``, load 2), more than the whole of
    ``hydra -c "SELECT 1"``. The command line is a process of its own, so it tells Python there is
    no pandas; pyarrow then answers "not a pandas object" at once. (Not ``sys.modules["pandas"] =
    None``: Cython's import takes that None for the module.)"""
    if "pandas" not in sys.modules:
        sys.meta_path.insert(0, _NoPandas())


def _one_blas_thread() -> None:
    """numpy's OpenBLAS starts a thread per core when numpy is imported (pyarrow imports it), and
    those threads spin-wait: 5% of the CPU time of an EXTRACT of a 1-row CSV (``perf``), 0.1 s of
    its user+sys time (0.73 → 0.62 s, median of 7 interleaved runs, load 1.6). Hydra does no linear
    algebra, so the command line asks for one BLAS thread, unless the user set a number."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _fewer_collections() -> None:
    """Python's cyclic collector runs every 700 new objects by default; a command imports tens of
    thousands that live as long as the process (modules, classes, functions), and traversing them
    again and again was 60-73 ms of CPU of an EXTRACT of a 1-row PostgreSQL table (159 young, 15
    middle and one full collection; ``gc.callbacks`` with ``time.thread_time``, 3 runs, load 4.7),
    16% of its CPU in ``perf``. Every 10,000 objects: 32-37 ms (11 and 1 collections). Cyclic
    garbage still goes, a few MB at most later; reference counting frees the rest as before."""
    import gc

    gc.set_threshold(10_000, 10, 10)


def _quiet_sqlalchemy_logs() -> None:
    """SQLAlchemy reports to the ``logging`` module, which, unconfigured, prints its errors with a
    traceback on stderr. The one it emits in Hydra's use is "Exception during reset or similar":
    after Ctrl-C, a pooled connection interrupted in the middle of a command cannot be rolled
    back, and the pool discards it (invalidates it) — nothing is lost, and the user has already
    been told "interrupted". Every error that matters reaches Hydra as an exception and is said in
    one line, so the command line gives SQLAlchemy's loggers a handler that prints nothing."""
    import logging

    logging.getLogger("sqlalchemy").addHandler(logging.NullHandler())


def main(argv: list[str] | None = None) -> int:
    _without_pandas()
    _one_blas_thread()
    _fewer_collections()
    _quiet_sqlalchemy_logs()
    args = parser().parse_args(argv)
    from hydra.shell.output import unescape_separator

    try:
        separator = unescape_separator(args.separator)
    except HydraError as err:
        return _fail(err, args.debug)
    fmt = args.format or ("table" if sys.stdout.isatty() else "csv")
    interactive = not args.script and sys.stdin.isatty()
    from hydra.shell.dot_commands import Quit
    from hydra.shell.session import Session

    # A throw-away :memory: workspace creates its catalog tables (77 COMMENT statements, ~20 ms)
    # only when a statement could see them: `hydra :memory: -c "SELECT 1"` starts fast.
    lazy_catalog = args.workspace == ":memory:" and not args.read_only and not interactive
    try:
        if lazy_catalog:
            from hydra.catalog.duckdb_guard import connect

            ws = _LazyWorkspace(connect(":memory:"))
        else:
            from hydra.statements.workspace import Workspace

            ws = Workspace.open(args.workspace, read_only=args.read_only)
    except HydraError as err:
        return _fail(err, args.debug)
    if ws.snapshot_of:
        print(f"note: opened a read-only snapshot of {ws.snapshot_of} (as of its last checkpoint)",
              file=sys.stderr)
    session = Session(ws, fmt)
    session.header, session.separator = args.header, separator
    session.catalog_ready = not lazy_catalog
    interrupter = None
    try:
        if interactive:
            from hydra.shell.repl.loop import run_repl

            return run_repl(session)
        # Ctrl-C stops a running DuckDB query at once (not only between Python bytecodes)
        from hydra.shell.interrupt import Interrupter

        interrupter = Interrupter(ws.con)
        with interrupter:
            for kind, value in args.script or [("stdin", None)]:
                if kind == "command":
                    session.run_text(value, origin="-c")
                elif kind == "file":
                    session.run_text(_read_file(value), origin=value)
                else:
                    session.run_text(sys.stdin.read(), origin="<stdin>")
        if session.failures:
            count = len(session.failures)
            print(f"hydra: {count} statement{'s' * (count != 1)} finished with failures:", file=sys.stderr)
            for line in session.failures:
                print(f"  {line}", file=sys.stderr)
            return 1
        return 0
    except Quit:
        return 0
    except KeyboardInterrupt:
        print("hydra: interrupted", file=sys.stderr)
        return 130
    except HydraError as err:
        if interrupter is not None and interrupter.fired:
            print("hydra: interrupted", file=sys.stderr)
            return 130
        return _fail(err, args.debug)
    except BrokenPipeError:  # `hydra … | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:  # noqa: BLE001 - a bug: one line unless --debug
        if interrupter is not None and interrupter.fired:  # DuckDB's RuntimeError("Query interrupted")
            print("hydra: interrupted", file=sys.stderr)
            return 130
        if args.debug:
            raise
        print(f"hydra: internal error: {type(err).__name__}: {err} (run with --debug for details)",
              file=sys.stderr)
        return 1
    finally:
        if interrupter is not None:
            interrupter.close()
        session.close()
        ws.close()


class _LazyWorkspace:
    """A fresh ``:memory:`` workspace for a script: the connection now, the ``Workspace`` object
    (and the modules behind it: heads, refs, secrets…) on first use. A plain ``-c "SELECT …"``
    never needs it (``Session._plain_query``), so it starts faster."""

    path = ":memory:"
    snapshot_of = None
    read_only = False

    def __init__(self, con):
        self.con = con
        self._workspace = None

    def _real(self):
        if self._workspace is None:
            from hydra.statements.workspace import Workspace

            self._workspace = Workspace(self.con, ":memory:")
        return self._workspace

    def __getattr__(self, name):  # anything else: the real Workspace
        return getattr(self._real(), name)

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()
        else:
            self.con.close()


def _read_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as err:
        raise HydraError(f"cannot read {path}: {err.strerror}") from None


def _fail(err: BaseException, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exception(err)
    print(f"hydra: error: {err}", file=sys.stderr)
    return 1
