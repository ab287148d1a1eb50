"""Hydra: a SQL-first federated query shell for rapid data extraction."""

__version__ = "0.1.0"
