"""pyarrow's memory pool in a process that imports Hydra (``hydra/__init__.py``): jemalloc, which
keeps freed pages for the next batch, instead of mimalloc, which hands them back at once (every
batch then faulted in pages the kernel had to zero: 28% of an EXTRACT's CPU samples)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="chosen on Linux only")

POOL = "import hydra, pyarrow; print(pyarrow.default_memory_pool().backend_name)"


def pool(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run([sys.executable, "-c", POOL], env={**base, **env}, capture_output=True, text=True,
                          check=True)
    assert not done.stderr, done.stderr  # no warning about an unknown backend
    return done.stdout.strip()


def test_a_hydra_process_allocates_arrow_memory_with_jemalloc():
    assert pool() == "jemalloc"


def test_a_pool_the_user_chose_in_the_environment_stands():
    assert pool(ARROW_DEFAULT_MEMORY_POOL="system") == "system"
