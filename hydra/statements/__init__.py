"""Hydra's statements: the registry (``registry``), a reader over a statement's tokens
(``tokens``), running one statement (``run``, ``workspace``), and one module per statement
family (``catalog``: ATTACH, DETACH, REFRESH, MARK, UNMARK; ``report``: REPORT)."""
