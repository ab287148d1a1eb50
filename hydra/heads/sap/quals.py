"""Conjuncts as ``Qual``s, and back: the head contract still hands a head sqlglot expressions
(DuckDB dialect, unqualified columns) and takes split ranges as sqlglot; the SAP head thinks in
``hydra.core.quals.Qual`` only, which is what the contract is moving to. These two functions are
the whole bridge (and go when the contract passes Quals itself).

Only what a Qual can say is read: ``column op literal`` (either side), ``IN`` a list of literals,
``IS [NOT] NULL``; literals are text, numbers, and DuckDB's typed ``DATE``/``TIME`` literals.
Anything else is None: not pushed, DuckDB applies it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from hydra.core.quals import Qual

_FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class _NotLiteral(ValueError):
    pass


def to_qual(predicate) -> Qual | None:
    """The Qual a sqlglot conjunct (or a Qual) says, or None."""
    if isinstance(predicate, Qual):
        return predicate
    from sqlglot import exp

    node = predicate
    while isinstance(node, exp.Paren):
        node = node.this
    ops = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}
    try:
        if type(node) in ops:
            op = ops[type(node)]
            left, right = node.this, node.expression
            if isinstance(right, exp.Column) and not isinstance(left, exp.Column):
                left, right, op = right, left, _FLIPPED[op]
            if not isinstance(left, exp.Column):
                return None
            return Qual(left.name, op, (_literal(right),))
        if isinstance(node, exp.In) and isinstance(node.this, exp.Column) and not node.args.get(
                "query") and not node.args.get("unnest") and node.expressions:
            return Qual(node.this.name, "in", tuple(_literal(v) for v in node.expressions))
        negated = isinstance(node, exp.Not)
        inner = node.this if negated else node
        if (isinstance(inner, exp.Is) and isinstance(inner.this, exp.Column)
                and isinstance(inner.expression, exp.Null)):
            return Qual(inner.this.name, "is not null" if negated else "is null")
    except _NotLiteral:
        return None
    return None


def _literal(node) -> Any:
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Neg):
        value = _literal(node.this)
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return -value
        raise _NotLiteral
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        try:
            return int(node.this)
        except ValueError:
            try:
                return Decimal(node.this)
            except InvalidOperation:
                raise _NotLiteral from None
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        kind = node.to.this
        try:
            if kind == exp.DataType.Type.DATE:
                return dt.date.fromisoformat(node.this.this)
            if kind == exp.DataType.Type.TIME:
                return dt.time.fromisoformat(node.this.this)
        except ValueError:
            raise _NotLiteral from None
    raise _NotLiteral


def to_sqlglot(qual: Qual):
    """A Qual as a sqlglot condition (DuckDB dialect), for the contract's split ranges."""
    from sqlglot import exp

    column = exp.column(qual.column, quoted=True)
    if qual.op in ("is null", "is not null"):
        test = exp.Is(this=column, expression=exp.Null())
        return exp.Not(this=test) if qual.op == "is not null" else test
    if qual.op == "in":
        return exp.In(this=column, expressions=[_sql_value(v) for v in qual.values])
    ops = {"=": exp.EQ, "<>": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
    return ops[qual.op](this=column, expression=_sql_value(qual.value))


def _sql_value(value: Any):
    from sqlglot import exp

    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        return exp.Literal.number(value)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    raise ValueError(f"no SQL literal for {value!r}")
