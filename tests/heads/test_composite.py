"""CompositeHead: every per-element call goes to the inner head that owns the element, explicitly."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hydra.core.quals import Qual
from hydra.heads.base import Column, Element, Head, HeadError
from hydra.heads.composite import CompositeHead


class Inner(Head):
    """An in-memory head whose one element is ``<prefix>.t``; it records what it was asked."""

    kind = "inner"

    def __init__(self, prefix: str):
        super().__init__(prefix, f"mem://{prefix}")
        self.prefix, self.calls, self.closed = prefix, [], 0

    def enumerate(self):
        return [Element((self.prefix, "t"), "table", columns=[Column("id", "BIGINT")])]

    def head_tables(self):
        return {f"{self.prefix}_things": pa.table({"id": [1]})}

    def can_filter(self, element, qual):
        self.calls.append(("can_filter", element.parts, qual))
        return self.prefix == "a"

    def read(self, element, columns=None, quals=None, limit=None):
        self.calls.append(("read", element.parts, quals))
        if element.parts[-1] == "secret":
            raise HeadError(f"{self.prefix}: refused with password hunter2")
        return pa.table({"id": [1, 2, 3] if self.prefix == "a" else [7]}).to_reader()

    def close(self):
        self.closed += 1


class Pair(CompositeHead):
    """Two inner heads; an element's first part says which one owns it."""

    kind = "pair"

    def open(self):
        self.inner = [Inner("a"), Inner("b")]

    def owner(self, element):
        found = [h for h in self.inner if h.prefix == element.parts[0]]
        if not found:
            raise HeadError(f"{self.name}: no head reads {'.'.join(element.parts)}")
        return found[0]

    def clean(self, message):
        return message.replace("hunter2", "***")

    def own_tables(self):
        return {"pairs": pa.table({"n": [2]})}


@pytest.fixture
def pair():
    head = Pair("p", "pair://x")
    head.open()
    return head


def test_enumerate_and_head_tables_merge_the_inner_heads(pair):
    assert [e.parts for e in pair.enumerate()] == [("a", "t"), ("b", "t")]
    assert sorted(pair.head_tables()) == ["a_things", "b_things", "pairs"]


def test_each_element_goes_to_its_owner(pair):
    a, b = pair.inner
    qual = Qual("id", "=", (1,))
    assert pair.can_filter(Element(("a", "t"), "table"), qual) is True
    assert pair.can_filter(Element(("b", "t"), "table"), qual) is False
    assert pair.read(Element(("b", "t"), "table"), None, [qual]).read_all().num_rows == 1
    assert a.calls == [("can_filter", ("a", "t"), qual)]
    assert b.calls == [("can_filter", ("b", "t"), qual), ("read", ("b", "t"), [qual])]
    assert pair.split(Element(("a", "t"), "table"), 4) is None  # the inner head's "not supported"


def test_errors_are_cleaned_and_an_element_without_owner_is_refused(pair):
    with pytest.raises(HeadError) as err:
        pair.read(Element(("a", "secret"), "table"))
    assert str(err.value) == "a: refused with password ***"
    with pytest.raises(HeadError, match="no head reads c.t"):
        pair.read(Element(("c", "t"), "table"))
    assert pair.can_filter(Element(("c", "t"), "table"), Qual("id", "is null")) is False


def test_close_closes_every_inner_head_once_and_is_safe_twice(pair):
    inner = list(pair.inner)
    pair.close()
    pair.close()
    assert [h.closed for h in inner] == [1, 1]


def test_nothing_is_forwarded_implicitly(pair):
    with pytest.raises(AttributeError):
        pair.prefix  # noqa: B018 - an inner head's attribute is not the composite's
