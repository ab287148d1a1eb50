"""RECONCILE's drift rows: the source now against the figures taken in the snapshot (issue 13)."""

from __future__ import annotations

import pytest

from hydra.core.errors import StatementError
from hydra.transfer.reconcile import drift

COLUMNS = [("id", "BIGINT"), ("price", "DOUBLE"), ("name", "VARCHAR")]
THEN = {"row_count": 3, "columns": {"id": {"null_count": 0, "min_value": "1", "max_value": "3", "sum_value": 6},
                                    "price": {"null_count": 1, "sum_value": "0.30000000000000004"},
                                    "name": {"null_count": 0, "min_value": "a", "max_value": "c"}}}


def moved(now: dict) -> dict[str, str]:
    return {c["check"]: c["status"] for c in drift(COLUMNS, THEN, now, "postgresql aggregate query",
                                                   {"taken_at": "2026-01-01T00:00:00+00:00"})}


def test_a_source_that_did_not_move_is_steady_everywhere():
    statuses = moved(THEN)
    assert set(statuses.values()) == {"steady"} and "drift row_count" in statuses and "drift max(name)" in statuses


@pytest.mark.parametrize("change, check", [
    (lambda now: now.update(row_count=4), "drift row_count"),
    (lambda now: now["columns"]["id"].update(max_value="9"), "drift max(id)"),
    (lambda now: now["columns"]["name"].update(min_value="A"), "drift min(name)"),
    (lambda now: now["columns"]["price"].update(null_count=0), "drift null_count(price)"),
    (lambda now: now["columns"]["price"].update(sum_value="0.5"), "drift sum(price)"),
])
def test_each_figure_that_moved_is_drift_never_fail(change, check):
    import copy

    now = copy.deepcopy(THEN)
    change(now)
    statuses = moved(now)
    assert statuses[check] == "drift"
    assert [c for c, s in statuses.items() if s != "steady"] == [check]


def test_a_floating_point_sum_added_in_another_order_is_steady():
    import copy

    now = copy.deepcopy(THEN)
    now["columns"]["price"]["sum_value"] = "0.3"
    assert moved(now)["drift sum(price)"] == "steady"


@pytest.mark.parametrize("statement, error", [
    ("RECONCILE LAST (AGAINST THEN)", "AGAINST takes NOW"),
    ("RECONCILE LAST (FOO 1)", "unknown option FOO"),
    ("RECONCILE (AGAINST NOW)", "expected LAST, MARKED"),
])
def test_reconcile_options_are_checked(ws, statement, error):
    with pytest.raises(StatementError, match=error):
        ws.execute(statement)
