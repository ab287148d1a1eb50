"""Dot commands, in the habit of the DuckDB and SQLite shells. Each works in scripts too.

A command is ``run(session, args)`` registered with ``@dot_command``; ``Session.run_dot`` finds it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from hydra.core.errors import HydraError
from hydra.core.statement import Result
from hydra.shell.output import FORMATS, unescape_separator


class Quit(Exception):
    """``.quit`` was run."""


@dataclass
class DotCommand:
    name: str
    run: Callable
    usage: str
    help: str
    aliases: tuple[str, ...] = ()


DOT_COMMANDS: dict[str, DotCommand] = {}


def dot_command(name: str, usage: str, help: str, aliases: tuple[str, ...] = ()):
    """Register ``run(session, args: list[str])`` as ``.name``."""

    def register(run):
        for key in (name, *aliases):
            DOT_COMMANDS[key] = DotCommand(name, run, usage, help, aliases)
        return run

    return register


def _one(args, usage):
    if len(args) != 1:
        raise HydraError(f"usage: {usage}")
    return args[0]


@dot_command("help", ".help", "List statements and dot commands")
def help_(session, args):
    from hydra.statements.registry import registry

    lines = ["Hydra statements (end with ;):"]
    for entry in registry().values():
        lines.append(f"  {entry.syntax}")
        lines.append(f"      {entry.help}")
    lines.append("Any other SQL runs in DuckDB; element refs (source.…) are read from their sources.")
    lines.append("Dot commands:")
    for command in sorted({c.name: c for c in DOT_COMMANDS.values()}.values(), key=lambda c: c.name):
        also = f" (also {', '.join('.' + a for a in command.aliases)})" if command.aliases else ""
        lines.append(f"  {command.usage:<34} {command.help}{also}")
    lines.append("In the shell: Enter runs a statement ending with ; (Alt-Enter runs it as it is), Tab completes,")
    lines.append("  Ctrl-R searches the history, Ctrl-C cancels the running statement, Ctrl-D leaves.")
    session.target().write("\n".join(lines) + "\n")


@dot_command("quit", ".quit", "Leave hydra", aliases=("exit", "q"))
def quit_(session, args):
    raise Quit()


@dot_command("mode", ".mode FORMAT", "Set the output format: " + ", ".join(FORMATS))
def mode(session, args):
    fmt = _one(args, ".mode " + "|".join(FORMATS)).lower()
    if fmt not in FORMATS:
        raise HydraError(f"unknown mode {fmt!r}; choose one of {', '.join(FORMATS)}")
    session.format = fmt


def _on_off(args, usage) -> bool:
    value = _one(args, usage).lower()
    if value not in ("on", "off"):
        raise HydraError(f"usage: {usage}")
    return value == "on"


@dot_command("headers", ".headers on|off", "Print the line naming the columns (table, csv, tsv, list)")
def headers(session, args):
    session.header = _on_off(args, ".headers on|off")


@dot_command("separator", ".separator SEP", "Set what joins the values in list mode (default |; \\t for a tab)")
def separator(session, args):
    session.separator = unescape_separator(_one(args, ".separator SEP"))


@dot_command("read", ".read FILE", "Run the statements of a SQL file")
def read(session, args):
    path = _one(args, ".read FILE")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as err:
        raise HydraError(f"cannot read {path}: {err.strerror}") from None
    session.run_text(text, origin=path)


def _open_for_output(path: str):
    try:
        return open(os.path.expanduser(path), "w", encoding="utf-8", newline="")
    except OSError as err:
        raise HydraError(f"cannot write {path}: {err.strerror}") from None


@dot_command("output", ".output [FILE]", "Send results to FILE (no FILE: back to the screen)")
def output(session, args):
    if session.output_file is not None:
        session.output_file.close()
        session.output_file = None
    if args:
        session.output_file = _open_for_output(_one(args, ".output [FILE]"))


@dot_command("once", ".once FILE", "Send the next result only to FILE")
def once(session, args):
    session.once = _open_for_output(_one(args, ".once FILE"))


@dot_command("timer", ".timer on|off", "Show how long each statement takes")
def timer(session, args):
    session.timer = _on_off(args, ".timer on|off")


@dot_command("maxrows", ".maxrows N", "Show at most N rows in table mode (0: no limit)")
def maxrows(session, args):
    value = _one(args, ".maxrows N")
    if not value.isdigit():
        raise HydraError("usage: .maxrows N (a whole number; 0 for no limit)")
    session.max_rows = int(value) or None


@dot_command("pager", ".pager on|off|COMMAND", "Page results taller than the screen (default on: $PAGER or less)")
def pager(session, args):
    if not args:
        raise HydraError("usage: .pager on|off|COMMAND")
    value = " ".join(args)
    session.pager_command = value.lower() if value.lower() in ("on", "off") else value


def _show(session, sql, params=None):
    result = Result.from_sql(session.ws.con, sql, "SELECT", params=params)
    try:
        session.show(result)
    finally:
        result.close()


@dot_command("sources", ".sources", "List attached sources")
def sources(session, args):
    _show(session, "SELECT name, kind, uri, element_count, status, scanned_at FROM sources ORDER BY name")


@dot_command("elements", ".elements [PATTERN]", "List the elements whose ref matches a LIKE pattern",
             aliases=("tables",))
def elements(session, args):
    pattern = args[0] if args else "%"
    if "%" not in pattern and "_" not in pattern:
        pattern = f"%{pattern}%"
    _show(session, "SELECT ref, kind, row_count, row_count_exact, column_count, error FROM elements "
                   "WHERE ref ILIKE ? ORDER BY source, ref", [pattern])


@dot_command("schema", ".schema REF", "Show the columns of an element or table")
def schema(session, args):
    if not args:
        raise HydraError("usage: .schema REF")
    ref = " ".join(args)
    (known,) = session.ws.con.execute("SELECT count(*) FROM columns WHERE ref = ?", [ref]).fetchone()
    if known:
        _show(session, "SELECT position, name, type, source_type, nullable, note FROM columns WHERE ref = ? "
                       "ORDER BY position", [ref])
        return
    session.show(session.ws.execute(f"DESCRIBE {ref}"))
