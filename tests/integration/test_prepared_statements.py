"""Hot-path statements prepared once per PostgreSQL connection (engine/prepared.py)."""

from __future__ import annotations

import psycopg
import pytest

from engine.prepared import Message

pytestmark = pytest.mark.postgres_only

ECHO = "SELECT %(a)s::text || '%%' || %(a)s::text, %(b)s::int + 1"


@pytest.fixture
def driver(engine):
    if engine.db.dialect.name != "postgresql":
        pytest.fail("this test needs PostgreSQL: run it with CAMPUSFLOW_TEST_POSTGRES_URL set (make test-postgres)")
    with engine.db.connect() as conn:
        yield conn.connection.driver_connection


def _run(driver, sql: str, params: dict | None) -> tuple[list[str], object]:
    message = Message(driver)
    message.add(sql, params)
    message.send()
    while message.cursor.nextset():
        pass
    return message.statements, message.cursor.fetchone()


def test_a_statement_is_prepared_in_its_first_message_and_run_by_name_after(driver):
    first, row = _run(driver, ECHO, {"a": "x'y", "b": 41})
    assert row == ("x'y%x'y", 42)
    assert [s.split()[0] for s in first] == ["PREPARE", "EXECUTE"]
    again, row = _run(driver, ECHO, {"a": "z", "b": 1})
    assert row == ("z%z", 2) and [s.split()[0] for s in again] == ["EXECUTE"]


def test_after_a_failed_message_the_next_one_prepares_again(driver):
    _run(driver, ECHO, {"a": "x", "b": 1})
    with pytest.raises(psycopg.errors.DivisionByZero):
        _run(driver, "SELECT 1 / %(zero)s::int", {"zero": 0})
    driver.rollback()
    statements, row = _run(driver, ECHO, {"a": "x", "b": 1})
    assert row == ("x%x", 2)
    assert [s.split()[0] for s in statements] == ["DEALLOCATE", "PREPARE", "EXECUTE"]


def test_a_rollback_through_psycopg_keeps_them(driver):
    _run(driver, ECHO, {"a": "x", "b": 1})
    driver.execute("BEGIN")
    driver.execute("SELECT 1")
    driver.rollback()  # with psycopg's own preparation on, this would DEALLOCATE ALL
    for _ in range(6):  # past psycopg's default threshold for preparing on its own
        driver.execute("SELECT %s::int", (1,))
    driver.execute("BEGIN")
    driver.rollback()
    statements, row = _run(driver, ECHO, {"a": "y", "b": 2})
    assert row == ("y%y", 3) and [s.split()[0] for s in statements] == ["EXECUTE"]


def test_a_statement_prepared_in_a_failed_message_is_prepared_again(driver):
    message = Message(driver)
    message.add(ECHO, {"a": "x", "b": 1})  # its PREPARE runs, then the message fails after it
    message.add("SELECT 1 / %(zero)s::int", {"zero": 0})
    with pytest.raises(psycopg.errors.DivisionByZero):
        message.send()
    driver.rollback()
    statements, row = _run(driver, ECHO, {"a": "x", "b": 1})  # no "prepared statement already exists"
    assert row == ("x%x", 2) and [s.split()[0] for s in statements] == ["DEALLOCATE", "PREPARE", "EXECUTE"]
