"""What a head is asked to filter on: a ``Qual`` is one conjunct, ``column op values``.

Pushdown and split ranges speak Quals rather than sqlglot trees so a head never parses SQL: the
translators here turn Quals into a sqlglot dialect's SQL (``to_sql``) or into a pyarrow
expression (``to_arrow``), so a head whose source speaks SQL or reads through Arrow gets filters
for free. A Qual is plain, frozen data, so a transfer task that carries one can be pickled to
another machine.

The core makes Quals from the user's WHERE conjuncts (``from_sql``, on sqlglot's tree). Values
are Python values: ``int``, ``Decimal`` (a literal with a fraction: exact, as DuckDB reads it),
``float`` (a literal with an exponent), ``str``, ``bool``, ``datetime.date`` (``DATE '…'``) and
``datetime.datetime`` (``TIMESTAMP '…'``); a NULL literal never is one (``x = NULL`` holds for no
row: it stays in DuckDB).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator

if TYPE_CHECKING:  # heavy at start-up; imported inside the translators
    import pyarrow as pa
    from sqlglot import exp

#: the comparisons a Qual can hold; ``values`` holds one value for the binary ones, the list for
#: ``in``/``not in``, nothing for the null tests, and the alternatives (Quals) for ``or``, whose
#: ``column`` is None
OPS = ("=", "<>", "<", "<=", ">", ">=", "in", "not in", "like", "not like", "is null", "is not null", "or")
BINARY = ("=", "<>", "<", "<=", ">", ">=", "like", "not like")


@dataclass(frozen=True)
class Qual:
    column: str | None
    op: str
    values: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown Qual operator {self.op!r}; one of {', '.join(OPS)}")

    def __iter__(self) -> Iterator[Any]:
        """``column, op, values = qual``: a Qual unpacks as the plain triple it is."""
        return iter((self.column, self.op, self.values))

    @property
    def value(self) -> Any:
        """The one value of a binary comparison."""
        return self.values[0]

    @classmethod
    def either(cls, *alternatives: Qual) -> Qual:
        """A disjunction: true where any alternative is (e.g. a range that keeps NULL keys)."""
        return cls(None, "or", tuple(alternatives))

    def leaves(self) -> Iterator[Qual]:
        """The comparisons in this Qual: itself, or the alternatives of an ``or``."""
        if self.op == "or":
            for alternative in self.values:
                yield from alternative.leaves()
        else:
            yield self


# -- from the user's SQL --------------------------------------------------------------------------

_FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NEGATED = {"=": "<>", "<>": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<", "in": "not in",
            "like": "not like", "is null": "is not null"}


def from_sql(conjunct: exp.Expression) -> list[Qual] | None:
    """The Quals of one WHERE conjunct (a sqlglot tree, columns unqualified), or None when it is
    not a plain comparison of columns with literals. ``a BETWEEN 1 AND 2`` and a parenthesised
    AND give more than one Qual; an OR of comparisons gives one ``or`` Qual."""
    from sqlglot import exp

    node = _unparen(conjunct)
    if isinstance(node, exp.And):
        out: list[Qual] = []
        for part in node.flatten():
            found = from_sql(part)
            if found is None:
                return None
            out += found
        return out
    if isinstance(node, exp.Between):
        column, low, high = _column(node.this), _value(node.args.get("low")), _value(node.args.get("high"))
        if column is None or low is None or high is None or node.args.get("symmetric") or node.args.get("negate"):
            return None
        return [Qual(column, ">=", low), Qual(column, "<=", high)]
    if isinstance(node, exp.Or):
        alternatives = []
        for part in node.flatten():
            found = from_sql(part)
            if found is None or len(found) != 1:
                return None  # an AND inside an OR stays in DuckDB
            alternatives += found[0].values if found[0].op == "or" else found
        return [Qual.either(*alternatives)]
    found = _comparison(node)
    return None if found is None else [found]


def parse(text: str) -> list[Qual] | None:
    """The Quals of a WHERE condition written in DuckDB's SQL (None when any conjunct has none)."""
    import sqlglot

    return from_sql(sqlglot.parse_one(text, read="duckdb"))


def _comparison(node) -> Qual | None:
    from sqlglot import exp

    node = _unparen(node)
    if isinstance(node, exp.Not):
        inner = _comparison(node.this)
        if inner is None or inner.op not in _NEGATED:
            return None  # NOT of an OR would need an AND
        return Qual(inner.column, _NEGATED[inner.op], inner.values)
    if node.args.get("negate") and not isinstance(node, exp.Like):
        return None  # sqlglot writes some NOTs as a flag on the node: only LIKE's is read here
    ops = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}
    if type(node) in ops or type(node) is exp.Like:
        op = ops.get(type(node)) or ("not like" if node.args.get("negate") else "like")
        left, right = node.this, node.expression
        if _column(left) is None and "like" not in op:
            left, right, op = right, left, _FLIPPED[op]
        column, value = _column(left), _value(right)
        if column is None or value is None or ("like" in op and not isinstance(value[0], str)):
            return None
        return Qual(column, op, value)
    if isinstance(node, exp.In):
        column = _column(node.this)
        if column is None or node.args.get("query") or node.args.get("unnest") or not node.expressions:
            return None
        values = [_value(v) for v in node.expressions]
        if any(v is None for v in values):
            return None
        return Qual(column, "in", tuple(v[0] for v in values))
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        column = _column(node.this)
        return None if column is None else Qual(column, "is null")
    return None


def _is_decimal(value: Any) -> bool:
    return type(value).__name__ == "Decimal" and type(value).__module__ == "decimal"


def _unparen(node):
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _column(node) -> str | None:
    from sqlglot import exp

    node = _unparen(node)
    if isinstance(node, exp.Column) and not node.table and isinstance(node.this, exp.Identifier):
        return node.name
    return None


def _value(node) -> tuple[Any] | None:
    """``(value,)`` of a literal node, or None when it is not a literal a Qual holds."""
    from sqlglot import exp

    node = _unparen(node)
    negative = isinstance(node, exp.Neg)
    if negative:
        node = _unparen(node.this)
    if isinstance(node, exp.Boolean):
        return None if negative else (bool(node.this),)
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string and not negative:
        text = node.this.this
        try:
            if node.to.is_type("date"):
                return (dt.date.fromisoformat(text),)
            if node.to.is_type("timestamp", "datetime", "timestampntz"):
                return (dt.datetime.fromisoformat(text),)
        except ValueError:
            return None
        return None
    if not isinstance(node, exp.Literal):
        return None
    if node.is_string:
        return None if negative else (node.this,)
    text = node.this
    try:
        value: Any = int(text)
    except ValueError:
        try:
            from decimal import Decimal  # here: importing decimal costs start-up time

            value = float(text) if "e" in text.lower() else Decimal(text)
        except ArithmeticError:
            return None
        except ValueError:
            return None
    return (-value if negative else value,)


# -- to a source's SQL ----------------------------------------------------------------------------


def to_sqlglot(qual: Qual, quoted: bool = True) -> exp.Expression:
    """The Qual as a sqlglot condition, values as literal nodes. Identifiers are quoted (a
    source may fold unquoted ones); ``quoted=False`` quotes only those that need it, for a
    record people read."""
    from sqlglot import exp

    if qual.op == "or":
        return exp.or_(*(exp.paren(to_sqlglot(q, quoted), copy=False) for q in qual.values), copy=False)
    column = exp.column(exp.to_identifier(qual.column, quoted=True if quoted else None))
    op = qual.op
    if op == "is null":
        return exp.Is(this=column, expression=exp.Null())
    if op == "is not null":
        return exp.Not(this=exp.Is(this=column, expression=exp.Null()))
    if op in ("in", "not in"):
        found = exp.In(this=column, expressions=[literal(v) for v in qual.values])
        return exp.Not(this=found) if op == "not in" else found
    if op in ("like", "not like"):
        found = exp.Like(this=column, expression=literal(qual.value))
        return exp.Not(this=found) if op == "not like" else found
    nodes = {"=": exp.EQ, "<>": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
    return nodes[op](this=column, expression=literal(qual.value))


def literal(value: Any) -> exp.Expression:
    """A Python value as a sqlglot literal node: never formatted into SQL text by hand."""
    from sqlglot import exp

    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)) or _is_decimal(value):
        number = exp.Literal.number(abs(value))
        return exp.Neg(this=number) if value < 0 else number
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise TypeError(f"a Qual holds no {type(value).__name__} value")


def to_sql(quals: Iterable[Qual], dialect: str, quoted: bool = True) -> str:
    """The Quals ANDed, as SQL text in a sqlglot dialect ('' for none)."""
    quals = list(quals)
    if len(quals) == 1:
        return to_sqlglot(quals[0], quoted).sql(dialect=dialect)
    return " AND ".join(f"({to_sqlglot(q, quoted).sql(dialect=dialect)})" for q in quals)


# -- to Arrow -------------------------------------------------------------------------------------


def to_arrow(quals: Iterable[Qual], schema: pa.Schema):
    """A ``pyarrow.compute.Expression`` applying the Quals ANDed exactly as DuckDB would on data of
    this schema (NULLs included), or None when one of them cannot be (a type that needs DuckDB's
    casts, LIKE, an unknown column). ``True`` for no Quals."""
    expression = None
    for qual in quals:
        found = _arrow(qual, schema)
        if found is None:
            return None
        expression = found if expression is None else expression & found
    if expression is None:
        import pyarrow.compute as pc

        return pc.scalar(True)
    return expression


def _arrow(qual: Qual, schema: pa.Schema):
    import pyarrow.compute as pc

    if qual.op == "or":
        found = [_arrow(q, schema) for q in qual.values]
        if not found or any(f is None for f in found):
            return None
        out = found[0]
        for f in found[1:]:
            out = out | f
        return out
    matches = [f for f in schema if f.name == qual.column] or \
        [f for f in schema if f.name.lower() == qual.column.lower()]
    if len(matches) != 1:
        return None
    field = matches[0]
    column = pc.field(field.name)
    if qual.op == "is null":
        return column.is_null()
    if qual.op == "is not null":
        return column.is_valid()
    values = [_arrow_value(v, field) for v in qual.values]
    if not values or any(v is None for v in values):
        return None
    values = [v[0] for v in values]
    if qual.op == "in":
        return column.isin(values)
    if qual.op == "not in":
        # SQL: NULL NOT IN (…) is NULL (row dropped); Arrow's is_in gives false for nulls
        return ~column.isin(values) & column.is_valid()
    methods = {"=": "__eq__", "<>": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}
    if qual.op not in methods:
        return None  # LIKE: Arrow's match_like escapes with a backslash, DuckDB's LIKE does not
    return getattr(column, methods[qual.op])(values[0])


def _arrow_value(value: Any, field: pa.Field) -> tuple[Any] | None:
    """``(value,)`` as compared with ``field`` the way DuckDB compares it, or None when DuckDB
    would cast (a number against text, text against a number…) and Arrow would not."""
    import pyarrow as pa

    t = field.type
    if isinstance(value, bool):
        return (value,) if pa.types.is_boolean(t) else None
    if isinstance(value, (int, float)) or _is_decimal(value):
        if pa.types.is_integer(t) or pa.types.is_floating(t):
            return (value if isinstance(value, int) else float(value),)
        return None
    if isinstance(value, str):
        if pa.types.is_string(t) or pa.types.is_large_string(t) or str(t) == "string_view":
            return (value,)
        try:
            if pa.types.is_date32(t) or pa.types.is_date64(t):
                return (dt.date.fromisoformat(value),)
            if pa.types.is_timestamp(t) and t.tz is None:
                return (pa.scalar(dt.datetime.fromisoformat(value), type=t),)
        except ValueError:
            return None
        return None
    if isinstance(value, dt.datetime):
        return (pa.scalar(value, type=t),) if pa.types.is_timestamp(t) and t.tz is None else None
    if isinstance(value, dt.date):
        if pa.types.is_date32(t) or pa.types.is_date64(t):
            return (value,)
        if pa.types.is_timestamp(t) and t.tz is None:
            return (pa.scalar(dt.datetime.combine(value, dt.time()), type=t),)
    return None
