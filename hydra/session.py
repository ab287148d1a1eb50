"""A session: a workspace plus the shell's settings (output format, output file, timer, …).

The command line, scripts, stdin and the REPL all run text through ``Session.run_text``, so every
statement and dot command behaves the same in every mode.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Callable, TextIO

from hydra.errors import HydraError
from hydra.output import write_result
from hydra.statements import Statement, split_statements


class StatementFailed(HydraError):
    """A statement of a script failed; carries where, for the one-line error message."""

    def __init__(self, error: Exception, statement: Statement, origin: str):
        self.error, self.statement, self.origin = error, statement, origin
        first = statement.text.strip().splitlines()[0] if statement.text.strip() else ""
        if len(first) > 70:
            first = first[:69] + "…"
        super().__init__(f"{origin}:{statement.line}: {error} (in: {first})")


class Quit(Exception):
    """``.quit`` was run."""


@dataclass
class DotCommand:
    name: str
    run: Callable
    usage: str
    help: str


DOT_COMMANDS: dict[str, DotCommand] = {}


def dot_command(name: str, usage: str, help: str, aliases: tuple[str, ...] = ()):
    """Register ``run(session, args: list[str])`` as ``.name``."""

    def register(run):
        for key in (name, *aliases):
            DOT_COMMANDS[key] = DotCommand(name, run, usage, help)
        return run

    return register


class Session:
    def __init__(self, ws, fmt: str = "table", out: TextIO | None = None, err: TextIO | None = None):
        self.ws = ws
        self.format = fmt
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.timer = False
        self.max_rows: int | None = None
        self.max_width = 40
        self.once: TextIO | None = None  # .once: the next result only
        self.output_file: TextIO | None = None  # .output: until reset
        self.last_elapsed: float | None = None

    # -- running --------------------------------------------------------------------------------

    def run_text(self, text: str, origin: str = "<input>") -> None:
        """Run every statement of ``text``; the first failure raises ``StatementFailed``."""
        for stmt in split_statements(text):
            self.run_statement(stmt, origin)

    def run_statement(self, stmt: Statement, origin: str = "<input>") -> None:
        started = time.perf_counter()
        try:
            if stmt.dot:
                self.run_dot(stmt.text)
                return
            result = self.ws.run(stmt)
        except (Quit, StatementFailed):
            raise
        except HydraError as err:
            raise StatementFailed(err, stmt, origin) from err
        finally:
            self.last_elapsed = time.perf_counter() - started
        self.show(result)
        if self.timer:
            self.err.write(f"Run Time: {self.last_elapsed:.3f} s\n")

    def run_dot(self, line: str) -> None:
        import shlex

        import hydra.dot_commands  # noqa: F401 - registers the built-in dot commands

        try:
            words = shlex.split(line)
        except ValueError as err:
            raise HydraError(f"cannot read {line!r}: {err}") from None
        command = DOT_COMMANDS.get(words[0][1:].lower())
        if command is None:
            raise HydraError(f"unknown command {words[0]}; .help lists them")
        command.run(self, words[1:])

    # -- output ---------------------------------------------------------------------------------

    def target(self) -> TextIO:
        return self.once or self.output_file or self.out

    def show(self, result) -> None:
        out = self.target()
        if result.columns:
            write_result(result, out, self.format, max_width=self.max_width if self.format == "table" else None,
                         max_rows=self.max_rows if self.format == "table" else None)
            out.flush()
            if self.once is not None:
                self.once.close()
                self.once = None
        if result.message:
            self.err.write(result.message + "\n")

    def close(self) -> None:
        for stream in (self.once, self.output_file):
            if stream is not None:
                stream.close()
        self.once = self.output_file = None
