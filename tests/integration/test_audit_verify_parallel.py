"""Verify split into seq ranges checked by worker processes reports exactly what one walk over the chain does."""

from __future__ import annotations

import pytest
from test_audit_chain import _run_two_requests, _tamper

from engine import services
from engine.audit import combine
from engine.audit_scan import read_snapshot, scan_parallel, scan_rows

TAMPERINGS = {
    "edited": ["UPDATE audit_events SET actor = 'mallory' WHERE seq = 9"],
    "deleted": ["DELETE FROM audit_events WHERE seq = 7"],
    "reordered": ["UPDATE audit_events SET seq = -1 WHERE seq = 4", "UPDATE audit_events SET seq = 4 WHERE seq = 6",
                  "UPDATE audit_events SET seq = 6 WHERE seq = -1"],
    "newest removed": ["DELETE FROM audit_events WHERE seq >= (SELECT max(seq) - 1 FROM audit_events)"],
    "border edited": ["UPDATE audit_events SET details = '{}' WHERE seq = (SELECT max(seq) / 2 FROM audit_events)"],
}


def test_untouched_chain_verifies_in_parallel(deployed):
    _run_two_requests(deployed)
    serial, parallel = (services.verify_audit(deployed, parallel=p) for p in (False, True))
    assert parallel == serial and parallel.ok


@pytest.mark.parametrize("kind", sorted(TAMPERINGS))
def test_parallel_verify_finds_the_same_first_bad_event(deployed, kind):
    _run_two_requests(deployed)
    _tamper(deployed, *TAMPERINGS[kind])
    serial = services.verify_audit(deployed, parallel=False)
    assert not serial.ok
    assert services.verify_audit(deployed, parallel=True) == serial


def test_a_null_where_text_belongs_is_a_finding_not_a_crash():
    row = (1, "2027-03-01T10:00:00.000000+00:00", None, None, None, "x", None, "{}", "0" * 64, "f" * 64)
    assert scan_rows([row]).bad == 1


def test_more_workers_than_events_still_cover_the_chain_exactly_once(deployed):
    _run_two_requests(deployed)
    with deployed.db.connect() as conn:
        snapshot = read_snapshot(conn.connection.cursor())
    runs = scan_parallel(deployed.db.dialect.name, deployed.settings.database_url, snapshot, workers=16)
    assert combine(runs, snapshot.head_seq, snapshot.head_hash) == services.verify_audit(deployed, parallel=False)
