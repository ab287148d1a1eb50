"""A live table and a client that keeps writing to it, for the snapshot tests (issue 13).

``live(id, amount, note)`` holds ``rows`` rows, ids 1..rows, amounts that sum to ``total(rows)``.
Each transaction of the ``Writer`` keeps three facts true at every committed moment — the row
count, the sum of ``amount``, and unique ids — while changing rows in every key range:

* moves 20 rows of the lowest ids past every range boundary (``id + 1e9``: the last range) and
  20 rows of the highest ids below them all (``-id``: the first range), so a reader of the first
  range and a reader of the last range that see different moments read rows twice or not at all;
* deletes a row and inserts its copy under a new id (count and sum unchanged);
* moves 7 of ``amount`` from one row to another (sum unchanged).

So any extract that is a consistent moment has exactly ``rows`` rows, unique ids and the same
sum; an extract whose ranges saw different moments breaks at least one of them.
"""

from __future__ import annotations

import random
import threading

MOVE = 20
FAR = 1_000_000_000


def total(rows: int) -> int:
    return sum(i % 1000 for i in range(1, rows + 1))


CREATE = "CREATE TABLE live (id BIGINT PRIMARY KEY, amount BIGINT NOT NULL, note VARCHAR(40))"


class Writer(threading.Thread):
    """Commits transactions on its own connection until ``stop()``; ``committed`` counts them.
    ``connect`` returns a DB-API connection not in autocommit; ``mark`` is its placeholder;
    ``pause``: seconds between transactions (0: back to back)."""

    def __init__(self, connect, rows: int, mark: str = "%s", pause: float = 0.0):
        super().__init__(name="live-writer", daemon=True)
        self.connect, self.rows, self.mark, self.pause = connect, rows, mark, pause
        self.committed = 0
        self.error: BaseException | None = None
        self._halt = threading.Event()
        self.started_writing = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=60)
        if self.error is not None:
            raise self.error

    def run(self) -> None:
        n, m = self.rows, self.mark
        low, high, doomed, fresh = 1, n, n // 4, 0
        rng = random.Random(13)
        try:
            con = self.connect()
            cur = con.cursor()
            while not self._halt.is_set() and low + MOVE < n // 4 and high - MOVE > 3 * n // 4 and doomed < n // 2:
                cur.execute(f"UPDATE live SET id = id + {FAR} WHERE id >= {m} AND id < {m}", (low, low + MOVE))
                cur.execute(f"UPDATE live SET id = -id WHERE id > {m} AND id <= {m}", (high - MOVE, high))
                fresh += 1
                cur.execute(f"INSERT INTO live SELECT {m}, amount, 'inserted' FROM live WHERE id = {m}",
                            (2 * FAR + fresh, doomed))
                cur.execute(f"DELETE FROM live WHERE id = {m}", (doomed,))
                a, b = rng.randrange(n // 2, 3 * n // 4), rng.randrange(n // 2, 3 * n // 4)
                cur.execute(f"UPDATE live SET amount = amount + 7 WHERE id = {m}", (a,))
                cur.execute(f"UPDATE live SET amount = amount - 7 WHERE id = {m}", (b,))
                con.commit()
                low, high, doomed = low + MOVE, high - MOVE, doomed + 1
                self.committed += 1
                self.started_writing.set()
                if self.pause:
                    self._halt.wait(self.pause)
            con.close()
        except BaseException as err:  # noqa: BLE001 - reported by stop()
            self.error = err
            self.started_writing.set()


def consistent(con, relation: str, rows: int) -> tuple[int, int, int]:
    """(row count, distinct ids, sum of amount) of ``relation`` on a DuckDB connection."""
    return con.execute(f"SELECT count(*), count(DISTINCT id), sum(amount) FROM {relation}").fetchone()


def kill_then_run_again(hydra_cmd, workspace, out, attach: str, what: str, writer: Writer) -> str:
    """``hydra -c`` EXTRACT ``what`` (WORKERS 4) killed with SIGKILL as soon as its first part is
    staged, then the same EXTRACT and RECONCILE LAST run again, all while ``writer`` writes;
    returns the second run's stderr. The writer is stopped at the end."""
    import subprocess
    import time

    extract = f"EXTRACT {what} TO '{out}' (WORKERS 4);"
    try:
        proc = subprocess.Popen([*hydra_cmd, str(workspace), "-c", f"{attach}; {extract}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        # a part being written (``.part-….parquet.tmp``, renamed once whole) or written
        while time.time() < deadline and not list(out.glob(".hydra-staging/**/*.parquet*")):
            time.sleep(0.01)
        proc.kill()  # kill -9: no clean-up of any kind
        proc.wait(timeout=30)
        assert not list(out.glob("**/_manifest.json")), "killed before the element completed"
        return subprocess.run([*hydra_cmd, str(workspace), "-c", f"{extract} RECONCILE LAST;"],
                              capture_output=True, text=True, timeout=300).stderr
    finally:
        writer.stop()
