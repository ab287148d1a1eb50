"""Quals written as SQL, for head tests: ``quals("a = 1", "b BETWEEN 1 AND 2")`` is the list a head's
``read`` takes, ``accepts(head, element, "a = 1")`` whether its ``can_filter`` takes all of them."""

from __future__ import annotations

from hydra.core.quals import Qual, parse


def quals(*conditions: str) -> list[Qual]:
    """The Quals of the conditions, ANDed (each must be expressible as Quals)."""
    out: list[Qual] = []
    for text in conditions:
        found = parse(text)
        assert found is not None, f"not expressible as Quals: {text}"
        out += found
    return out


def accepts(head, element, condition: str) -> bool:
    """Whether the condition is expressible as Quals and ``head.can_filter`` takes every one."""
    found = parse(condition)
    return found is not None and all(head.can_filter(element, q) for q in found)
