"""Hydra: a SQL-first federated query shell for rapid data extraction."""

import os
import sys

__version__ = "0.1.0"

# pyarrow's default memory pool on Linux is mimalloc, which gives freed memory back to the system
# within milliseconds: each new batch then faults in fresh pages the kernel must zero first (huge
# pages, under transparent huge pages). That zeroing was 28% of the CPU samples of an EXTRACT of
# 1M rows of text (perf); jemalloc, also in pyarrow's Linux wheels, keeps the pages for the next
# batch. Whole commands, 1M rows, client CPU-s mimalloc -> jemalloc: text 3.2 -> 2.3, json 2.3 ->
# 1.7, mixed 1.45 -> 1.28 (wall 2.2-2.5 -> 1.9-2.0 s, 2.0-2.5 -> 1.8 s, 1.5-1.6 -> 1.4-1.5 s), and
# peak RSS no higher. Read when pyarrow first makes its pool, so set before it is imported; a
# choice the user made in the environment stands.
if sys.platform.startswith("linux"):
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
