"""Shared fixtures: a migrated database per test.

SQLite file by default, or a throwaway PostgreSQL database when CAMPUSFLOW_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine import services
from engine.bootstrap import WorkflowEngine, bootstrap
from engine.catalog import load_catalog
from engine.config import Settings
from engine.migrate import upgrade
from engine.model import Actor

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
POSTGRES_URL = os.environ.get("CAMPUSFLOW_TEST_POSTGRES_URL")
ADMIN = Actor("admin", frozenset({"admin"}))


def _postgres_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL server, dropped afterwards."""
    name = f"cf_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """The database under test: SQLite file by default, a throwaway PostgreSQL database in the PG run."""
    if POSTGRES_URL:
        yield from _postgres_database()
    else:
        yield f"sqlite:///{tmp_path / 'campusflow.db'}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, processes_dir=PROCESSES, forms_dir=FORMS,
                    secret_key="test-secret")


@pytest.fixture
def engine(settings: Settings) -> Iterator[WorkflowEngine]:
    """A migrated, empty database wired into a WorkflowEngine."""
    upgrade(settings.database_url)
    wf = bootstrap(settings)
    yield wf
    wf.db.dispose()


@pytest.fixture
def deployed(engine: WorkflowEngine) -> WorkflowEngine:
    """The engine with processes/ and forms/ deployed."""
    services.deploy(engine, load_catalog(PROCESSES, FORMS, engine.settings.roles), ADMIN)
    return engine


@pytest.fixture
def mini(engine: WorkflowEngine) -> WorkflowEngine:
    """The engine with the small fixture project (tests/fixtures/mini) deployed."""
    from mini_project import ADMIN as MINI_ADMIN
    from mini_project import MINI

    services.deploy(engine, load_catalog(MINI / "processes", MINI / "forms", engine.settings.roles), MINI_ADMIN)
    return engine
