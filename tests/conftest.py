"""Shared fixtures. Servers are real: the machine's PostgreSQL and MariaDB, and moto's S3/RDS
server on 127.0.0.1 over real HTTP (no in-process patching)."""

from __future__ import annotations

import socket
import uuid

import pytest

from support.services import MYSQL_URL, PG_URL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def hydra_cmd():
    """The command line that runs hydra in a subprocess, from this test environment."""
    import sys

    return [sys.executable, "-m", "hydra"]


@pytest.fixture
def ctrl_c_once_done(hydra_cmd):
    """Run ``hydra <workspace> -c <script>``, press Ctrl-C as soon as a file matching ``done``
    (a glob, e.g. a first element's manifest) exists, and return (exit code, stderr)."""
    import signal
    import subprocess
    import time

    def run(workspace, script: str, done) -> tuple[int, str]:
        proc = subprocess.Popen([*hydra_cmd, str(workspace), "-c", script],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and not list(done()):
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        return proc.returncode, err

    return run


@pytest.fixture
def ws():
    """A fresh in-memory workspace."""
    from hydra.statements.workspace import Workspace

    workspace = Workspace.open(":memory:")
    yield workspace
    workspace.close()


@pytest.fixture
def pg_database():
    """A fresh, empty PostgreSQL database; yields its SQLAlchemy URL and drops it afterwards."""
    import psycopg

    name = f"hydra_test_{uuid.uuid4().hex[:10]}"
    admin = f"{PG_URL.replace('postgresql://', 'postgresql://', 1)}/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_URL}/{name}"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def mysql_database():
    """A fresh, empty MariaDB database; yields its SQLAlchemy URL and drops it afterwards."""
    import pymysql

    name = f"hydra_test_{uuid.uuid4().hex[:10]}"
    con = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with con.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    yield f"{MYSQL_URL}/{name}"
    with con.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    con.close()


@pytest.fixture(scope="session")
def moto_server():
    """moto in server mode on 127.0.0.1 (real HTTP). Yields the endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_env(moto_server, monkeypatch):
    """Standard AWS settings pointing at the moto server, with a clean moto state per test."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_server


@pytest.fixture
def split_small_elements(monkeypatch):
    """EXTRACT splits elements into key ranges only when each range has enough to read; tests of
    the parallel ranges use small tables, so they lower that bar to one row."""
    from hydra.transfer import plan

    monkeypatch.setattr(plan, "RANGE_MIN_BYTES", 1)
    monkeypatch.setattr(plan, "RANGE_MIN_ROWS", 1)
