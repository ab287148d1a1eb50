"""End to end: the real ``hydra`` command in a pseudo-terminal (pexpect), typed into as a user
would: attach a folder, Tab-complete a quoted ref, read the rendered table, switch to CSV, attach
a database URL with a password (it fails), Ctrl-C a long query, Ctrl-D out. Then the history file
and the workspace file are searched, byte by byte, for the password."""

from __future__ import annotations

import os
import re
import shutil
import sys
import time

import pytest
from support.repl import make_folder

pexpect = pytest.importorskip("pexpect")

PASSWORD = "s3cretPassw0rd"
CPR_REQUEST = "\x1b[6n"


def hydra_executable() -> list[str]:
    found = os.path.join(os.path.dirname(sys.executable), "hydra")
    return [found] if os.path.exists(found) else [sys.executable, "-m", "hydra"]


class Terminal:
    """A pexpect child that answers the terminal's cursor-position requests, as a real terminal
    does (prompt_toolkit draws its bottom toolbar once it knows where the cursor is)."""

    def __init__(self, args, env, cwd):
        command = hydra_executable()
        self.child = pexpect.spawn(command[0], command[1:] + args, env=env, cwd=cwd, encoding="utf-8",
                                   timeout=30, dimensions=(40, 160))
        self.seen = ""
        if os.environ.get("HYDRA_TEST_TERMINAL_LOG"):
            self.child.logfile_read = open(os.environ["HYDRA_TEST_TERMINAL_LOG"], "a", encoding="utf-8")

    def expect(self, pattern: str, literal: bool = True) -> str:
        wanted = re.escape(pattern) if literal else pattern
        while True:
            index = self.child.expect([wanted, re.escape(CPR_REQUEST)])
            self.seen += self.child.before + (self.child.after if isinstance(self.child.after, str) else "")
            if index == 0:
                return self.child.after
            self.child.send("\x1b[1;1R")

    def _terminal_signals(self) -> bool:
        """Whether the terminal is in cooked mode, where Ctrl-C sends SIGINT (ISIG): the prompt
        turns it off while it reads keys (raw mode) and back on when it returns a statement."""
        import termios

        return bool(termios.tcgetattr(self.child.child_fd)[3] & termios.ISIG)

    def _wait_for(self, condition, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout} s for {what}")
            time.sleep(0.02)

    def wait_until_reading(self) -> None:
        """Wait until the prompt reads keys (raw mode). Typed earlier, keys land in the
        terminal's line buffer, and a Ctrl-C sent after them may reach the shell before the
        statement does (this made the Ctrl-C test flaky on a busy machine)."""
        self._wait_for(lambda: not self._terminal_signals(), "the prompt to read keys")

    def wait_until_running(self) -> None:
        """After ``wait_until_reading`` and Enter: wait until the prompt has returned the statement
        to run (cooked mode again)."""
        self._wait_for(self._terminal_signals, "the shell to leave the prompt")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.child.pid)

    def prompt(self) -> None:
        self.expect("hydra>")

    def send(self, keys: str) -> None:
        self.child.send(keys)


def cpu_seconds(pid: int) -> float:
    """CPU time a process (all its threads) has used, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_busy(pid: int, cpu: float = 0.5, timeout: float = 120) -> None:
    """Wait until the process has used ``cpu`` more seconds of CPU: the long query is running in
    DuckDB (it keeps every core busy; nothing else in the shell uses that much). A fixed sleep
    was not enough on a busy machine, where the query may start seconds late."""
    start, deadline = cpu_seconds(pid), time.monotonic() + timeout
    while cpu_seconds(pid) - start < cpu:
        if time.monotonic() > deadline:
            raise AssertionError(f"the query did not use {cpu} s of CPU in {timeout} s")
        time.sleep(0.02)


LONG_QUERY = "SELECT sum(hash(i)) FROM range(100000000000) t(i)"
# runs first, in the same input: its message says the long query is next, under the same Ctrl-C
# handling (a Ctrl-C between the two interrupts the input all the same)
MARKER = "COPY (SELECT 1) TO 'started.csv'"


@pytest.fixture
def env(tmp_path):
    environment = dict(os.environ)
    environment.update(HOME=str(tmp_path / "home"), TERM="xterm-256color", PAGER="cat", LINES="40", COLUMNS="160")
    environment.pop("HYDRA_HISTORY", None)
    os.makedirs(environment["HOME"])
    return environment


def test_a_day_in_the_shell(tmp_path, env):
    folder = make_folder(tmp_path / "data")
    workspace = tmp_path / "client.duckdb"
    term = Terminal([str(workspace)], env, str(tmp_path))
    term.prompt()

    term.send(f"ATTACH '{folder}' AS files;\r")
    term.expect("attached files: 3 elements")
    term.prompt()
    term.expect("sources: files")  # the bottom toolbar

    term.send('SELECT customer_name FROM files."cust')
    time.sleep(0.5)  # a person pauses before Tab; completion while typing has finished by then
    term.send("\t")
    term.expect('customers.csv"')
    time.sleep(0.3)
    term.send(" ORDER BY customer_name;\r")
    term.expect("| customer_name |")
    term.expect("| Ann           |")
    term.expect("| Bob           |")
    term.expect("2 rows")
    term.prompt()

    term.send(".mode csv\r")
    term.prompt()
    term.send('SELECT customer_name, city FROM files."customers.csv" ORDER BY 1;\r')
    term.expect("customer_name,city\r\nAnn,Oslo\r\nBob,\r\n")
    term.prompt()

    term.send(f"ATTACH 'postgresql://consultant:{PASSWORD}@127.0.0.1:1/crm' AS crm;\r")
    error = term.expect(r"Error: [^\r\n]*", literal=False)
    assert PASSWORD not in error
    term.prompt()

    term.send("SELECT 'still alive' AS status;\r")
    term.expect("status\r\nstill alive")
    term.prompt()

    term.child.sendcontrol("d")
    term.child.expect(pexpect.EOF)
    term.child.close()
    assert term.child.exitstatus == 0

    history = tmp_path / "client.duckdb.history"
    assert history.exists()
    stored = history.read_bytes()
    assert b'SELECT customer_name FROM files."customers.csv" ORDER BY customer_name;' in stored
    assert b"postgresql://consultant:***@127.0.0.1:1/crm" in stored
    assert PASSWORD.encode() not in stored
    for path in tmp_path.iterdir():  # the workspace, its WAL if any, anything else hydra wrote
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_ctrl_c_cancels_a_long_query_in_a_terminal(tmp_path, env):
    workspace = tmp_path / "w.duckdb"
    term = Terminal([str(workspace)], env, str(tmp_path))
    term.prompt()
    term.send("CREATE TABLE kept AS SELECT 42 AS answer;\r")
    term.prompt()
    term.wait_until_reading()
    term.send(f"{MARKER}; {LONG_QUERY};\r")
    term.wait_until_running()
    term.expect("copy: 1 row")  # the long query is next
    wait_until_busy(term.child.pid)  # and it is running
    started = time.monotonic()
    term.child.sendintr()
    term.expect("Error: interrupted")
    assert time.monotonic() - started < 10
    term.prompt()
    term.send("SELECT answer FROM kept;\r")
    term.expect(r"\|\s+42 \|", literal=False)
    term.prompt()
    term.child.sendcontrol("d")
    term.child.expect(pexpect.EOF)
    term.child.close()
    assert term.child.exitstatus == 0


@pytest.mark.skipif(shutil.which("less") is None, reason="needs less")
def test_tall_results_open_the_pager_and_pager_off_prints_them(tmp_path, env):
    env = dict(env)
    env.pop("PAGER")
    term = Terminal([":memory:"], env, str(tmp_path))
    term.prompt()
    term.send("SELECT i, 'row ' || i AS label FROM range(80) t(i);\r")
    term.expect("row 0")
    term.expect(":")  # less waits at its prompt; the REPL has not come back yet
    term.send("q")
    term.prompt()
    term.send(".pager off\r")
    term.prompt()
    term.send("SELECT i FROM range(80) t(i);\r")
    term.expect("80 rows")
    term.prompt()
    term.child.sendcontrol("d")
    term.child.expect(pexpect.EOF)


def test_ctrl_c_stops_a_long_query_run_with_dash_c(tmp_path, env):
    command = hydra_executable()
    child = pexpect.spawn(command[0], command[1:] + [":memory:", "-c", MARKER, "-c", LONG_QUERY],
                          env=env, cwd=str(tmp_path), encoding="utf-8", timeout=60)
    child.expect("copy: 1 row")  # started (a Ctrl-C while Python still imports is not this test)
    wait_until_busy(child.pid)
    started = time.monotonic()
    child.sendintr()
    child.expect("hydra: interrupted")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert time.monotonic() - started < 10
