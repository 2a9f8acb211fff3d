"""ISO 8601 timer arithmetic."""
import datetime as dt

import pytest

from runtime.engine import EngineError
from runtime.engine.timers import compute_due, due_value, next_occurrence

NOW = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def test_duration_date_and_cycle():
    assert compute_due({"type": "duration", "value": "PT90M"}, {}, NOW).at == NOW + dt.timedelta(minutes=90)
    assert compute_due({"type": "date", "value": "2024-04-01T00:00:00"}, {}, NOW).at == \
        dt.datetime(2024, 4, 1, tzinfo=dt.timezone.utc)
    cycle = compute_due({"type": "cycle", "value": "R3/PT10M"}, {}, NOW)
    assert cycle.at == NOW + dt.timedelta(minutes=10) and cycle.repeats == 2
    nxt = next_occurrence(cycle.at, cycle.interval, cycle.repeats)
    assert nxt.at == NOW + dt.timedelta(minutes=20) and nxt.repeats == 1
    assert next_occurrence(nxt.at, "PT10M", 0) is None


def test_unbounded_cycle_and_cycle_with_start_date():
    assert compute_due({"type": "cycle", "value": "R/P1D"}, {}, NOW).repeats is None
    due = compute_due({"type": "cycle", "value": "R5/2024-03-01T10:00:00Z/PT1H"}, {}, NOW)
    assert due.at == NOW and due.repeats == 2


def test_expression_values_and_errors():
    assert compute_due({"type": "duration", "value": "=wait"}, {"wait": "P1D"}, NOW).at == NOW + dt.timedelta(days=1)
    with pytest.raises(EngineError):
        compute_due({"type": "duration", "value": "soon"}, {}, NOW)
    with pytest.raises(EngineError):
        compute_due({"type": "cycle", "value": "PT1H"}, {}, NOW)


def test_due_value_for_user_tasks():
    assert due_value("P2D", {}, NOW) == NOW + dt.timedelta(days=2)
    assert due_value("2024-05-01", {}, NOW) == dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    assert due_value(None, {}, NOW) is None
