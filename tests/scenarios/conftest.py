"""Scenario fixtures: a frozen clock (SpiffWorkflow timers read datetime.now) and a driver."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg  # noqa: F401 - load its C extension before freezegun swaps datetime classes
import pytest
from freezegun import freeze_time
from scenario_driver import TODAY, Driver

from engine.bootstrap import WorkflowEngine


@pytest.fixture
def clock() -> Iterator[object]:
    """Time stands still at TODAY until the test moves it (`clock.move_to(...)`)."""
    with freeze_time(TODAY) as frozen:
        yield frozen


@pytest.fixture
def driver(clock: object, deployed: WorkflowEngine) -> Driver:
    """A scenario driver on the deployed processes."""
    return Driver(deployed)
