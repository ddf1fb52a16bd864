"""Growth: inbox, instance list, history and report latency with 1k, 10k and 100k instances (about 20 audit
events each) on PostgreSQL. Where indexes should make the cost flat, it must stay flat.

    .venv/bin/python bench/growth.py [--sizes 1000,10000,100000] [--postgres URL]

Target: inbox p95 <= 20 ms at 100k instances.

The clones are started by 100 organisers (olivia is one of them), and one in twenty is a decided event request,
250 a year, going back a year every 250 (so the current academic year holds 50, 250, 250 of them at 1k, 10k,
100k): list pages and history must stay flat; the yearly reports must follow the year's requests, not the history.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from harness import DEFAULT_POSTGRES, analyze, percentile, postgres_database, prepared_engine
from history import ORGANISER, REVIEWER, grow, templates
from linear_process import write_linear_process
from sqlalchemy import func, select

from engine import services
from engine.model import Actor
from engine.reporting.ofs import academic_year_bounds, utc_bounds
from engine.tables import InstanceRecord

AUDITOR = Actor("audrey", frozenset({"auditor"}))


def timed(call, repeat: int = 30) -> tuple[float, float]:
    """p50 and p95 in ms over `repeat` calls."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return percentile(times, .5), percentile(times, .95)


def year_requests(engine) -> int:
    """Event requests submitted in the current academic year (what the yearly report's cost should follow)."""
    today = engine.now().date()
    start, end = utc_bounds(*academic_year_bounds(today.year if today.month >= 8 else today.year - 1))
    with engine.new_uow(readonly=True) as uow:
        return uow.session.execute(select(func.count()).select_from(InstanceRecord).where(
            InstanceRecord.process_key == "event_approval", InstanceRecord.started_at >= start,
            InstanceRecord.started_at < end)).scalar_one()


def main() -> None:
    """Grow the database step by step and time the reads at each size."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp, postgres_database(args.postgres) as url:
        processes, forms = write_linear_process(Path(tmp))
        engine = prepared_engine(url, processes, forms)
        template = templates(engine)
        year = engine.now().year if engine.now().month >= 8 else engine.now().year - 1
        print("p50/p95 in ms; list: first page of 50, newest first (staff: own + worked processes; organiser: own;"
              " running: auditor, status filter)")
        columns = ("inbox", "list staff", "list organiser", "list running", "history", "OfS report", "dashboard")
        print(f"{'instances':>10} " + " ".join(f"{c:>15}" for c in columns) + f" {'year rows':>9} {'build s':>8}")
        for size in sizes:
            began = time.perf_counter()
            grow(engine, size, template)
            analyze(engine)  # the planner would keep the statistics of the size before
            build = time.perf_counter() - began
            times = [timed(lambda: services.list_tasks(engine, REVIEWER, "groups", limit=50)),
                     timed(lambda: services.list_instances(engine, REVIEWER, limit=50)),
                     timed(lambda: services.list_instances(engine, ORGANISER, limit=50)),
                     timed(lambda: services.list_instances(engine, AUDITOR, status="running", limit=50)),
                     timed(lambda size=size: services.instance_history(engine, size // 2, AUDITOR)),
                     timed(lambda: services.ofs_report(engine, AUDITOR, year)),
                     timed(lambda: services.dashboard_report(engine, AUDITOR))]
            print(f"{size:>10} " + " ".join(f"{p50:7.1f}/{p95:<7.1f}" for p50, p95 in times)
                  + f" {year_requests(engine):>9} {build:8.1f}")
        print("target: inbox p95 <= 20 ms at 100k instances; inbox, list and history stay flat as the history grows;"
              " the reports (current academic year) follow 'year rows' (the year's event requests), not the history:"
              " flat from 10k to 100k, where the year's volume is the same")
        verified = services.verify_audit(engine)  # the clones are chained like real events: all must verify
        print(json.dumps({"audit_events": verified.events, "chain_ok": verified.ok, "first_bad": verified.first_bad}))
        engine.db.dispose()
        if not verified.ok:
            sys.exit("the grown audit chain does not verify: the clones were written wrongly")


if __name__ == "__main__":
    main()
