"""The registry of Hydra statements: each registers its handler under its first word.

To add a statement: write ``def run(ws, stmt) -> Result`` in a module listed in
``STATEMENT_MODULES`` and decorate it with ``@statement("WORD", syntax=…, help=…)``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

# modules whose @statement registrations are loaded on first use (kept light at import time)
STATEMENT_MODULES = ("hydra.statements.catalog", "hydra.statements.transfer", "hydra.statements.report")


@dataclass
class Registered:
    keyword: str
    run: Callable
    syntax: str
    help: str


REGISTRY: dict[str, Registered] = {}
_loaded = False


def statement(keyword: str, syntax: str, help: str):
    """Register a Hydra statement handler ``run(ws, stmt) -> Result`` under its first word."""

    def register(run):
        REGISTRY[keyword.upper()] = Registered(keyword.upper(), run, syntax, help)
        return run

    return register


def registry() -> dict[str, Registered]:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in STATEMENT_MODULES:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as err:
                if err.name != module:
                    raise
    return REGISTRY
