"""Simulations of servers that cannot run on the test machine (Tableau, Domino, SAP).

Each follows its published spec in ``../shared/reference/`` and has a test that checks it does;
tests that use one carry the ``simulated`` marker and name it in their docstring."""
