"""The Tableau protocol layer's errors: one line each, never a secret (see hydra/core/errors.py)."""

from __future__ import annotations

from hydra.heads.base import HeadConnectionError, HeadError

# What the client's Tableau administrator runs to open the repository to a reader (Tableau
# Server's "Collect data with the Tableau Server repository" page); port 8060 must also be
# reachable from this machine.
ENABLE_REPOSITORY = ("tsm data-access repository-access enable --repository-username readonly "
                     "--repository-password <password>")


class TableauError(HeadError):
    """Tableau answered, but not with what was asked (an unknown site, a .tde extract, …)."""


class TableauConnectionError(HeadConnectionError):
    """Tableau could not be reached or refused the credentials."""
