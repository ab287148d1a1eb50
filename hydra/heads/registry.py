"""Finding heads. Every head, built-in or third-party, registers in the ``hydra.heads`` entry-point
group as ``<kind> = "package.module:HeadClass"``; modules are imported only when a head is needed,
so start-up stays fast."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from hydra.core.errors import HydraError
from hydra.heads.base import Head


@cache
def _entry_points() -> dict:
    return {ep.name: ep for ep in entry_points(group="hydra.heads")}


def kinds() -> list[str]:
    return sorted(_entry_points())


@cache
def head_class(kind: str) -> type[Head]:
    """The head class registered under ``kind``."""
    ep = _entry_points().get(kind.lower())
    if ep is None:
        raise HydraError(f"unknown source TYPE {kind!r}; installed heads: {', '.join(kinds())}")
    cls = ep.load()
    if not (isinstance(cls, type) and issubclass(cls, Head)):
        raise HydraError(f"entry point {ep.value} is not a hydra Head")
    return cls


def all_heads() -> list[type[Head]]:
    """Every installed head class (imports them all: only for ATTACH without TYPE, and .help)."""
    heads = []
    for kind in kinds():
        try:
            heads.append(head_class(kind))
        except Exception:  # noqa: BLE001 - a broken third-party head must not break the others
            continue
    return heads


def uri_scheme(uri: str) -> str:
    """The URI scheme, or '' for a plain local path (Windows drive letters included). Read
    before the first ':' only: the rest may hold a password with any character in it."""
    scheme, colon, _ = uri.partition(":")
    valid = scheme[:1].isascii() and scheme[:1].isalpha() and all(
        ch.isascii() and (ch.isalnum() or ch in "+-.") for ch in scheme)
    if not (colon and valid and ("://" in uri or scheme.lower() == "sqlite")):
        return ""
    return scheme.lower()


def head_for(uri: str, kind: str | None = None) -> type[Head]:
    """The head class for an ATTACH: from TYPE when given, else from the URI scheme or the path."""
    if kind:
        return head_class(kind)
    scheme = uri_scheme(uri)
    heads = all_heads()
    if scheme:
        for cls in heads:
            if scheme in cls.schemes:
                return cls
        for cls in heads:  # heads that accept any scheme they can load (e.g. SQLAlchemy dialects)
            if cls.claims_scheme(scheme):
                return cls
        known = sorted({s for cls in heads for s in cls.schemes})
        raise HydraError(f"unknown URI scheme {scheme!r}; known schemes: {', '.join(known)}")
    for cls in heads:
        if cls.claims_path(uri):
            return cls
    raise HydraError(f"no head can attach {uri!r}: not an existing folder, file or glob, and no URI scheme")
