"""Which executor an EXTRACT runs on: its options ``ENGINE``, ``SCHEDULER`` and ``PER_SOURCE``.

Kept here so that the coordinator (``hydra.transfer.extract``) only passes its options on: an
engine's options are read, checked and acted on in ``hydra.engine``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hydra.core.errors import StatementError

OPTIONS = ("ENGINE", "SCHEDULER", "PER_SOURCE")
ENGINES = ("local", "dask")


@dataclass(frozen=True)
class EngineChoice:
    engine: str = "local"  # 'local': threads of this process; 'dask': a Dask cluster
    scheduler: str | None = None  # the Dask scheduler's address; None: a LocalCluster started here
    per_source: int | None = None  # at most so many tasks of one source at once (None: WORKERS)

    @property
    def remote(self) -> bool:
        """Tasks run in other processes: each opens its source from its spec (no coordinator head)."""
        return self.engine != "local"


def parse(raw: dict[str, str], statement: str = "EXTRACT") -> EngineChoice:
    """The engine options of a statement's raw options (the others are left to it)."""
    engine = str(raw.get("ENGINE", "local")).strip().lower()
    if engine not in ENGINES:
        raise StatementError(f"{statement}: ENGINE must be {' or '.join(repr(e) for e in ENGINES)}, "
                             f"not {raw['ENGINE']!r}")
    scheduler = str(raw["SCHEDULER"]).strip() if raw.get("SCHEDULER") else None
    if scheduler is not None and engine != "dask":
        raise StatementError(f"{statement}: SCHEDULER goes with ENGINE 'dask'")
    if scheduler is not None and "://" not in scheduler:
        raise StatementError(f"{statement}: SCHEDULER is a Dask scheduler's address, as "
                             f"'tcp://host:8786', not {scheduler!r}")
    per_source = None
    if "PER_SOURCE" in raw:
        try:
            per_source = int(raw["PER_SOURCE"])
        except ValueError:
            raise StatementError(f"{statement}: PER_SOURCE must be a whole number, not {raw['PER_SOURCE']!r}") from None
        if per_source < 1:
            raise StatementError(f"{statement}: PER_SOURCE must be at least 1")
        if engine != "dask":  # the local engine's WORKERS threads are its cap already
            raise StatementError(f"{statement}: PER_SOURCE goes with ENGINE 'dask' (locally, WORKERS caps the reads)")
    return EngineChoice(engine, scheduler, per_source)


def open_executor(choice: EngineChoice, workers: int, name: str = "hydra-extract"):
    """The executor the choice names, started (a LocalCluster starts here: seconds)."""
    if choice.engine == "dask":
        from hydra.engine.dask import DaskExecutor

        return DaskExecutor(workers=workers, scheduler=choice.scheduler, cap=choice.per_source)
    from hydra.engine.local import LocalExecutor

    return LocalExecutor(workers, name=name)
