"""Heads: one package per kind of source (``files``, ``sql``, ``s3``, ``rds``, …), the contract
they implement (``base``), and how they are found (``registry``: the ``hydra.heads`` entry points)."""
