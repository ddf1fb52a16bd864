"""Migration 0013: PostgreSQL keeps a fifth of each new instances page free, so step updates can stay on their page
(the gain is measured in the migration's docstring; that an update stays is PostgreSQL's own doing)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from engine.db import make_engine
from engine.migrate import alembic_config, upgrade


def _options(url: str) -> list[str] | None:
    db = make_engine(url)
    try:
        with db.connect() as conn:
            return conn.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'instances'")).scalar_one()
    finally:
        db.dispose()


def test_migration_0013_sets_the_fillfactor_on_postgresql_and_downgrades(database_url):
    upgrade(database_url)
    if not database_url.startswith("postgresql"):
        command.downgrade(alembic_config(database_url), "0012")  # nothing to undo on SQLite
        return
    assert _options(database_url) == ["fillfactor=80"]
    command.downgrade(alembic_config(database_url), "0012")
    assert _options(database_url) is None
