"""The documentation says what the program does: every statement, dot command and ATTACH option of
every installed head is in ``hydra --help``, in ``.help`` and in README.md, and every statement of
the README's SQL examples parses (Hydra's grammar for Hydra's statements, with ATTACH's options
checked against the head's declarations; sqlglot's DuckDB grammar for the rest)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlglot

from hydra.heads.registry import all_heads, head_for
from hydra.core.statement import split_statements
from hydra.statements.registry import registry

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


@pytest.fixture(scope="module")
def cli_help() -> str:
    from hydra.shell.cli import parser

    return parser().format_help()


def _dot_help(ws, *args: str) -> str:
    from hydra.shell.session import Session

    out = io.StringIO()
    Session(ws, out=out, err=io.StringIO()).run_text(" ".join([".help", *args]))
    return out.getvalue()


def test_every_statement_is_in_the_help_and_the_readme(ws, cli_help):
    shown = _dot_help(ws)
    table = _section("Statements")
    for keyword, entry in registry().items():
        assert keyword in cli_help, keyword
        assert entry.syntax in shown, keyword
        assert f"| `{keyword}" in table, keyword


def test_every_dot_command_is_in_the_help_and_the_readme(ws):
    from hydra.shell.dot_commands import DOT_COMMANDS

    listed = _dot_help(ws).split("Dot commands:", 1)[1]
    section = README.split("Dot commands (in the shell and in scripts", 1)[1].split("\n## ", 1)[0]
    for name in DOT_COMMANDS:
        assert f".{name}" in listed, name
        assert re.search(rf"`\.{name}\b", section), name


@pytest.mark.parametrize("cls", all_heads(), ids=lambda cls: cls.kind)
def test_every_attach_option_is_in_the_help_and_the_readme(ws, cli_help, cls):
    shown = _dot_help(ws, "attach")
    heads = _section("Heads")
    assert f"TYPE {cls.kind}" in shown and f"TYPE {cls.kind}" in cli_help
    for option in cls.attach_options:
        line = f"    {option.usage():<34} {option.help}"
        assert line in shown and line in cli_help, option.name
        assert re.search(rf"`[^`]*\b{option.name}\b[^`]*`", heads), f"{cls.kind}: {option.name} not in README's Heads"


class _Parsed(Exception):
    """The statement's grammar was read in full: the handler went on to the workspace."""


class _Workspace:
    """What a statement handler sees once it has parsed its statement: ATTACH's options are
    checked against the head they go to; anything else ends the test of that statement."""

    def has_source(self, name):
        return False

    def attach(self, uri, name, options, replace=False):
        from hydra.core.options import check

        cls = head_for(uri, options.pop("TYPE", None))
        check(options, cls.attach_options, cls.kind)
        raise _Parsed

    def __getattr__(self, name):
        raise _Parsed


def _examples() -> list:
    blocks = re.findall(r"```sql\n(.*?)```", README, re.S)
    assert blocks
    return [stmt for block in blocks for stmt in split_statements(block)]


@pytest.mark.parametrize("stmt", _examples(), ids=lambda s: s.text.strip().splitlines()[0][:60])
def test_every_readme_statement_parses(stmt):
    entry = registry().get(stmt.keyword)
    if entry is None:
        sqlglot.parse_one(stmt.text, read="duckdb")
        return
    with pytest.raises(_Parsed):
        entry.run(_Workspace(), stmt)
