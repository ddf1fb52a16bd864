"""OfS return (SPEC §9) over a generated year of 1,000 requests, checked against an independent count.

Rows are generated through a fast path: InstanceRecord rows whose summaries hold exactly the fields the
event_approval scripts write (decided_on, final_decision_on, ofs_category via the same ofs_category_of,
withdrawn, appeal_outcome, decision fields). tests/integration/test_reports_e2e.py drives real processes.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest
from sqlalchemy import select

from engine import services
from engine.errors import InvalidDataError, PermissionDeniedError
from engine.model import Actor
from engine.process_functions import ofs_category_of
from engine.reporting.ofs import ofs_csv
from engine.tables import InstanceRecord, ProcessVersionRecord, SharingLogRecord

AUDITOR = Actor("audrey", frozenset({"auditor"}))
YEAR = 2026
OUTCOMES = ("approved", "prevent_conditions", "non_prevent_conditions", "rejected_prevent", "rejected_procedural",
            "rejected_health_and_safety", "rejected_other", "overturned", "overturned_with_conditions",
            "appeal_upheld", "withdrawn", "not_in_scope", "undecided")
DECISION = {"approved": ("approved", None, None), "prevent_conditions": ("approved_with_conditions", "prevent", None),
            "non_prevent_conditions": ("approved_with_conditions", "non_prevent", None),
            "rejected_prevent": ("rejected", None, "prevent_risk"),
            "rejected_procedural": ("rejected", None, "procedural"),
            "rejected_health_and_safety": ("rejected", None, "health_and_safety"),
            "rejected_other": ("rejected", None, "other"), "appeal_upheld": ("rejected", None, "procedural"),
            "overturned": ("approved", None, None), "overturned_with_conditions": ("approved_with_conditions",
                                                                                    "non_prevent", None)}


def _bank_days() -> set[date]:
    return set(holidays.country_holidays("GB", subdiv="ENG", years=range(2024, 2029)).keys())


def _plan(rng: random.Random, n: int) -> list[dict]:
    """n requests: outcome, submission day and (when decided) decision and final decision days."""
    plan = []
    for i in range(n):
        outcome = rng.choice(OUTCOMES)
        submitted = date(2026, 6, 1) + timedelta(days=rng.randrange(0, 470))  # straddles both year ends
        decided = submitted + timedelta(days=rng.randrange(0, 20))
        final = decided + timedelta(days=rng.randrange(3, 30)) if outcome in (
            "overturned", "overturned_with_conditions", "appeal_upheld", "withdrawn") else decided
        plan.append({"i": i, "outcome": outcome, "submitted": submitted, "decided": decided, "final": final,
                     "reasons": f"Reasons for request {i}."})
    return plan


def _summary(item: dict) -> dict:
    """What the event_approval scripts leave in the summary for this outcome."""
    outcome = item["outcome"]
    summary = {"title": f"Event {item['i']}", "risk_level": "LOW", "risk_score": 1}
    if outcome == "undecided":
        return summary
    if outcome == "not_in_scope":
        return {**summary, "decision": "not_in_scope", "final_decision_on": item["final"].isoformat()}
    if outcome == "withdrawn":  # approved with conditions, then withdrawn when asked to accept them
        return {**summary, "decision": "withdrawn", "withdrawn": True, "ofs_category": None,
                "condition_reason_category": "non_prevent", "decided_on": item["decided"].isoformat(),
                "final_decision_on": item["final"].isoformat()}
    decision, condition, rejection = DECISION[outcome]
    summary.update(decision=decision, condition_reason_category=condition, rejection_reason_category=rejection,
                   decision_reasons=item["reasons"] if decision == "rejected" else "",
                   decided_on=item["decided"].isoformat(), final_decision_on=item["final"].isoformat(),
                   ofs_category=ofs_category_of(decision, condition, rejection))
    if outcome.startswith("overturned") or outcome == "appeal_upheld":
        summary["appeal_outcome"] = "uphold" if outcome == "appeal_upheld" else "overturn"
    return summary


def _insert(engine, plan: list[dict]) -> None:
    with engine.new_uow() as uow:
        version_id = uow.session.execute(select(ProcessVersionRecord.id).where(
            ProcessVersionRecord.process_key == "event_approval")).scalars().first()
        for item in plan:
            started = datetime.combine(item["submitted"], time(11), UTC)
            record = InstanceRecord(process_version_id=version_id, process_key="event_approval",
                                    status="running" if item["outcome"] == "undecided" else "completed",
                                    state="{}", summary=_summary(item), started_by="olivia", started_at=started,
                                    lock_version=1)
            uow.session.add(record)
            uow.session.flush()
            item["id"] = record.id
        uow.commit()


def _independent_count(plan: list[dict], year: int) -> dict:
    first, last = date(year, 8, 1), date(year + 1, 7, 31)
    bank = _bank_days()
    expected = {k: [] for k in ("E1", "E2a", "E2b", "E3a", "E3b", "E3b:procedural", "E3b:health_and_safety",
                                "E3b:other", "withdrawn")}
    days = []
    for item in plan:
        outcome = item["outcome"]
        if outcome in ("undecided", "not_in_scope"):
            continue
        if first <= item["decided"] <= last:
            d, n = item["submitted"], 0
            while d < item["decided"]:
                d += timedelta(days=1)
                n += d.weekday() < 5 and d not in bank
            days.append(n)
        if not first <= item["final"] <= last:
            continue
        if outcome == "withdrawn":
            expected["withdrawn"].append(item["id"])
        elif outcome in ("approved", "overturned"):
            expected["E1"].append(item["id"])
        elif outcome == "prevent_conditions":
            expected["E1"].append(item["id"])
            expected["E2a"].append(item["id"])
        elif outcome in ("non_prevent_conditions", "overturned_with_conditions"):
            expected["E1"].append(item["id"])
            expected["E2b"].append(item["id"])
        elif outcome == "rejected_prevent":
            expected["E3a"].append(item["id"])
        else:
            category = {"appeal_upheld": "procedural"}.get(outcome, outcome.removeprefix("rejected_"))
            expected["E3b"].append(item["id"])
            expected[f"E3b:{category}"].append(item["id"])
    days.sort()
    mid = len(days) // 2
    median = days[mid] if len(days) % 2 else (days[mid - 1] + days[mid]) / 2
    return {"ids": expected, "median": median, "timed": len(days)}


def test_a_generated_year_of_1000_requests_matches_an_independent_count(deployed):
    plan = _plan(random.Random(20260801), 1000)
    _insert(deployed, plan)
    report = services.ofs_report(deployed, AUDITOR, YEAR)
    expected = _independent_count(plan, YEAR)
    for code in ("E1", "E2a", "E2b", "E3a", "E3b"):
        assert report["figures"][code] == len(expected["ids"][code]), code
        assert report["drilldown"][code] == expected["ids"][code], code
    for category in ("procedural", "health_and_safety", "other"):
        assert report["E3b_by_category"][category] == len(expected["ids"][f"E3b:{category}"])
        assert report["drilldown"][f"E3b:{category}"] == expected["ids"][f"E3b:{category}"]
    assert report["withdrawn_internal"] == len(expected["ids"]["withdrawn"])
    assert (report["median_decision_working_days"], report["decisions_timed"]) == (expected["median"],
                                                                                  expected["timed"])
    assert [r["instance_id"] for r in report["E3b_reasons"]] == expected["ids"]["E3b"]
    by_id = {item["id"]: item for item in plan}
    assert all(r["reasons"] == by_id[r["instance_id"]]["reasons"] for r in report["E3b_reasons"])
    assert report["figures"]["E1"] > 100 and report["withdrawn_internal"] > 10  # the sample is not degenerate
    csv_text = ofs_csv(report)
    assert f"events,E1,Events approved (including approved with conditions),{report['figures']['E1']}," in csv_text


def test_an_overturn_after_the_year_end_counts_in_the_year_of_the_appeal(deployed):
    plan = [{"i": 0, "outcome": "overturned", "submitted": date(2027, 7, 1), "decided": date(2027, 7, 20),
             "final": date(2027, 8, 3), "reasons": "Too late."}]
    _insert(deployed, plan)
    assert services.ofs_report(deployed, AUDITOR, 2026)["figures"]["E3b"] == 0
    assert services.ofs_report(deployed, AUDITOR, 2026)["figures"]["E1"] == 0
    assert services.ofs_report(deployed, AUDITOR, 2027)["figures"]["E1"] == 1


def test_shares_are_counted_by_direction_and_decision(deployed):
    with deployed.new_uow() as uow:
        for direction, decision in (("inbound", "shared"), ("inbound", "declined"), ("inbound", "shared"),
                                    ("outbound", "query_sent")):
            uow.session.add(SharingLogRecord(direction=direction, decision=decision, counterpart_org="North Uni",
                                             decided_by="priya", created_at=datetime(2026, 10, 1, tzinfo=UTC),
                                             data_requested=[], data_categories_shared=[], details={},
                                             transmitted=False))
        uow.commit()
    report = services.ofs_report(deployed, AUDITOR, 2026)
    assert report["information_shares"] == {"inbound": {"shared": 2, "declined": 1}, "outbound": {"query_sent": 1}}
    assert len(report["drilldown"]["shares:inbound:shared"]) == 2


@pytest.mark.parametrize("year", ["twenty", "1999", ""])
def test_a_bad_year_is_refused_naming_the_field(deployed, year):
    with pytest.raises(InvalidDataError) as caught:
        services.ofs_report(deployed, AUDITOR, year)
    assert "year" in caught.value.fields


def test_only_reporting_roles_see_the_return(deployed):
    with pytest.raises(PermissionDeniedError):
        services.ofs_report(deployed, Actor("olivia", frozenset({"organiser"})), 2026)
    assert services.ofs_report(deployed, Actor("dana", frozenset({"dpo"})), 2026)["figures"]["E1"] == 0
