"""Heads: one package per kind of source (``files``, ``sql``, ``s3``, ``rds``, …), the contract
they implement (``base``), and how they are found (``registry``: the ``hydra.heads`` entry points)."""

from hydra.core import secrets


def _secret_option_names() -> frozenset[str]:
    from hydra.heads.registry import secret_option_names

    return secret_option_names()


# the statement log and the shell's history mask the values of the options heads declare secret
secrets.SECRET_OPTION_SOURCES.append(_secret_option_names)
