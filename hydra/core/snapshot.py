"""One consistent read point per element, shared by every reader of it (issue 13).

A live source keeps changing while Hydra reads it. When an element is read in several key ranges,
each on its own connection, every range must see the same moment, and the figures RECONCILE
compares the copy with must be taken at that moment too. The head that can give such a moment
takes a ``Snapshot`` (``SqlHead.snapshot``), holds whatever keeps it valid (PostgreSQL: the
exporting transaction) until the element ends, and each reader joins it.

A ``Snapshot`` is plain, frozen data: a transfer task can carry it to a thread or another machine,
and the manifest records it (``as_manifest``). A reader joins the snapshot it is given with
``reading(snapshot)`` around the head's ``read`` (the head looks it up with ``current()`` as it
opens its connection, its client process or its cursor); nothing else changes for a head that
has no snapshot.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field
from typing import Iterator

#: how readers of an element relate in time
SHARED = "shared"  # every reader and the figures see the same moment
PER_READER = "per reader"  # each reader sees one consistent moment of its own (ranges may differ)
NONE = "none"  # each statement sees whatever is committed when it runs


@dataclass(frozen=True)
class Snapshot:
    source: str  # the attached source that took it
    method: str  # what the source was asked, e.g. "pg_export_snapshot() + SET TRANSACTION SNAPSHOT"
    isolation: str  # the isolation of every reader, e.g. "repeatable read, read only"
    sharing: str = SHARED  # SHARED, PER_READER or NONE
    token: str | None = None  # what a reader joins with (PostgreSQL: the exported snapshot's id)
    identity: tuple[tuple[str, str], ...] = ()  # the source's own name for the moment, e.g. WAL LSN
    taken_at: str | None = None  # ISO time the snapshot was taken
    note: str | None = None  # anything a reader of the manifest should know (why not shared, …)
    extra: tuple[tuple[str, str], ...] = field(default=())  # head-private, plain values

    def as_manifest(self) -> dict:
        out = {"source": self.source, "method": self.method, "isolation": self.isolation,
               "sharing": self.sharing, "taken_at": self.taken_at, "identity": dict(self.identity)}
        if self.note:
            out["note"] = self.note
        return out


def no_snapshot(source: str, why: str) -> Snapshot:
    """What the manifest records for a source read without a snapshot."""
    return Snapshot(source, method="none", isolation="each statement at its own moment",
                    sharing=NONE, note=why)


_current: contextvars.ContextVar[Snapshot | None] = contextvars.ContextVar("hydra_snapshot", default=None)


def current() -> Snapshot | None:
    """The snapshot the reader being opened in this thread must join, if any."""
    return _current.get()


@contextlib.contextmanager
def reading(snapshot: Snapshot | None) -> Iterator[None]:
    """Open readers within ``snapshot`` (None: as usual)."""
    token = _current.set(snapshot)
    try:
        yield
    finally:
        _current.reset(token)
