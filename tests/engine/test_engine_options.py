"""ENGINE, SCHEDULER and PER_SOURCE: read and checked by hydra.engine.choose, one line per mistake."""

from __future__ import annotations

import pytest

from hydra.core.errors import StatementError
from hydra.engine.choose import EngineChoice, parse


def test_the_default_is_the_local_engine():
    assert parse({}) == EngineChoice("local", None, None) and not parse({}).remote


def test_dask_with_and_without_a_scheduler():
    assert parse({"ENGINE": "Dask"}) == EngineChoice("dask", None, None)
    choice = parse({"ENGINE": "dask", "SCHEDULER": "tcp://dask-scheduler.client.local:8786", "PER_SOURCE": "3"})
    assert choice == EngineChoice("dask", "tcp://dask-scheduler.client.local:8786", 3) and choice.remote


@pytest.mark.parametrize(("raw", "message"), [
    ({"ENGINE": "spark"}, "ENGINE must be 'local' or 'dask', not 'spark'"),
    ({"SCHEDULER": "tcp://h:8786"}, "SCHEDULER goes with ENGINE 'dask'"),
    ({"ENGINE": "dask", "SCHEDULER": "h:8786"}, "as 'tcp://host:8786', not 'h:8786'"),
    ({"ENGINE": "dask", "PER_SOURCE": "many"}, "PER_SOURCE must be a whole number, not 'many'"),
    ({"ENGINE": "dask", "PER_SOURCE": "0"}, "PER_SOURCE must be at least 1"),
    ({"PER_SOURCE": "2"}, "PER_SOURCE goes with ENGINE 'dask'"),
])
def test_a_mistake_is_one_line(raw, message):
    with pytest.raises(StatementError, match=message.replace("(", r"\(")) as caught:
        parse(raw)
    assert "\n" not in str(caught.value)
