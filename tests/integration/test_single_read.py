"""A lone read on PostgreSQL runs outside any transaction: one round trip, not BEGIN, SELECT and ROLLBACK."""

from __future__ import annotations

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import event

from engine import services
from engine.errors import AuthenticationError

pytestmark = pytest.mark.postgres_only


def test_a_token_check_is_one_statement_outside_a_transaction(engine):
    if engine.db.dialect.name != "postgresql":
        pytest.fail("this test needs PostgreSQL: run it with CAMPUSFLOW_TEST_POSTGRES_URL set (make test-postgres)")
    services.add_user(engine, "tess", ["organiser"])
    token = services.issue_token(engine, "tess")
    seen: list[TransactionStatus] = []

    @event.listens_for(engine.db, "after_cursor_execute")
    def _status(conn, cursor, statement, parameters, context, executemany):
        seen.append(conn.connection.driver_connection.info.transaction_status)

    assert services.authenticate_token(engine, token).username == "tess"
    assert seen == [TransactionStatus.IDLE]
    with pytest.raises(AuthenticationError):
        services.authenticate_token(engine, token + "x")
