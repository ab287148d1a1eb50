"""MySQL/MariaDB bulk path (placeholder until measured): the generic cursor path is used."""

from __future__ import annotations


def usable(head) -> bool:
    return False
