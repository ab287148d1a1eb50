"""Fixtures of REPORT's tests: the demo's workspace, run once per module through the command line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory, hydra_cmd) -> Path:
    """A folder where ``hydra demo.duckdb -f samples/demo.sql`` ran, as the README says."""
    folder = tmp_path_factory.mktemp("demo")
    shutil.copytree(REPO / "samples", folder / "samples")
    run = subprocess.run([*hydra_cmd, "demo.duckdb", "-f", "samples/demo.sql"], cwd=folder,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    (folder / "demo.stderr").write_text(run.stderr)  # what the demo said, for its tests
    return folder


@pytest.fixture(scope="session")
def hydra_in(hydra_cmd):
    """``hydra_in(folder, statement, …)``: run statements with ``-c`` in ``folder`` on demo.duckdb."""

    def run(folder: Path, *statements: str, workspace: str = "demo.duckdb", env=None, check: bool = True):
        args = [*hydra_cmd, workspace]
        for statement in statements:
            args += ["-c", statement]
        result = subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=300, env=env)
        if check:
            assert result.returncode == 0, result.stderr
        return result

    return run
