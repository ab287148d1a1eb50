"""What a head is asked to filter on: a ``Qual`` is one conjunct, ``column op values``.

Pushdown and split ranges speak Quals rather than sqlglot trees so a head never parses SQL: shared
translators turn Quals into the head's SQL dialect or into Arrow expressions. A Qual is plain,
frozen data, so a transfer task that carries one can be pickled to another machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: the comparisons a Qual can hold; ``values`` holds one value for the binary ones, the list for
#: ``in``, nothing for the null tests
OPS = ("=", "<>", "<", "<=", ">", ">=", "in", "is null", "is not null")


@dataclass(frozen=True)
class Qual:
    column: str
    op: str
    values: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown Qual operator {self.op!r}; one of {', '.join(OPS)}")

    @property
    def value(self) -> Any:
        """The one value of a binary comparison."""
        return self.values[0]
