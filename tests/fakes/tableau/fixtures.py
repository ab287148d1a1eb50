"""pytest fixtures for the Tableau simulations. A test module imports the ones it uses:

    from fakes.tableau.fixtures import tableau_estate, tableau_server  # noqa: F401
"""

from __future__ import annotations

import os

import pytest

from .estate import Estate, build_estate

PG_URL = os.environ.get("HYDRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture(scope="session")
def tableau_estate() -> Estate:
    """The estate both simulations serve (read-only: do not mutate it)."""
    return build_estate()


@pytest.fixture(scope="session")
def tableau_repository(tableau_estate):
    """The repository database on the real PostgreSQL, seeded with the estate, with its
    ``readonly``/``tableau`` roles (uuid-suffixed); dropped at the end of the session."""
    from .repository import create_repository, drop_repository

    repo = create_repository(PG_URL, tableau_estate)
    yield repo
    drop_repository(repo)


@pytest.fixture(scope="session")
def tableau_content_dir(tmp_path_factory):
    """Where the REST simulation builds the .twbx/.tdsx it serves (shared: built once)."""
    return tmp_path_factory.mktemp("tableau-content")


@pytest.fixture
def tableau_server(tableau_estate, tableau_content_dir):
    """A fresh REST simulation (its own sessions, log and switches) on 127.0.0.1."""
    from .rest import TableauServer

    server = TableauServer(tableau_estate, tableau_content_dir)
    server.start()
    yield server
    server.stop()
