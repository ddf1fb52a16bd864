"""A task completion through the service layer (SQLite and PostgreSQL) vs raw SpiffWorkflow with a serialize +
deserialize round trip per task, on the same 10-step process, in one run.

The three are measured in alternating slices (raw, SQLite, PostgreSQL, raw, ...), so a machine that speeds up
or slows down during the run affects them alike; each slice gives a ratio and the median ratio is the figure
(on a shared 2-core machine one-shot figures moved by 20% from run to run).
A completion's time is its own: starting the instance that holds it is timed apart (raw: creating the
workflow; service: `start_instance`) and shown on its own line.

    .venv/bin/python bench/complete_task.py [--seconds 5] [--rounds 20] [--history 10000] [--postgres URL]

PostgreSQL is measured on a database in service (bench/history.py): 10,000 instances of history with their
statistics (`--history 0` measures a fresh one).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from SpiffWorkflow.util.task import TaskState

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import DEFAULT_POSTGRES, postgres_database, prepared_engine  # noqa: E402
from history import in_service  # noqa: E402
from linear_process import write_linear_process  # noqa: E402

from engine import runtime, serializer, services  # noqa: E402
from engine.bpmn_parser import ModelerParser  # noqa: E402
from engine.model import Actor  # noqa: E402
from engine.scripting import ScriptEngine  # noqa: E402

STEPS = 10
ORGANISER = Actor("olivia", frozenset({"organiser"}))
REVIEWER = Actor("evan", frozenset({"events_office"}))


@dataclass
class Timings:
    """Seconds per completion, and per instance start, measured in one slice."""

    completions: list[float] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)

    def mean_ms(self) -> float:
        return statistics.fmean(self.completions) * 1000


def raw_slice(spec: Any, engine: ScriptEngine, seconds: float) -> Timings:
    """Raw SpiffWorkflow: a JSON round trip (spec embedded) before every task, then the task and the engine."""
    timings = Timings()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        workflow = runtime.BpmnWorkflow(spec, {}, script_engine=engine)
        workflow.do_engine_steps()
        timings.starts.append(time.perf_counter() - began)
        for _ in range(STEPS):
            began = time.perf_counter()
            workflow = serializer.raw_round_trip(workflow)
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            task.data.update({"note": "ok"})
            task.run()
            workflow.do_engine_steps()
            timings.completions.append(time.perf_counter() - began)
    return timings


def service_slice(engine: Any, seconds: float) -> Timings:
    """Through engine.services: validate, load, run, save, project tasks, audit, commit."""
    timings = Timings()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        view = services.start_instance(engine, "linear", {}, ORGANISER)
        timings.starts.append(time.perf_counter() - began)
        for _ in range(STEPS):
            began = time.perf_counter()
            view = services.complete_task(engine, view.open_tasks[0].id, {"note": "ok"}, REVIEWER)
            timings.completions.append(time.perf_counter() - began)
    return timings


def main() -> None:
    """Run every measurement and print one table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time for each of the three")
    parser.add_argument("--rounds", type=int, default=20, help="slices each is measured in, alternating")
    parser.add_argument("--history", type=int, default=10_000,
                        help="instances of history the PostgreSQL database holds before it is measured")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES,
                        help="server to create a throwaway database on ('' to skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as cleanup:
        processes, forms = write_linear_process(Path(tmp), STEPS)
        bpmn = ModelerParser()
        bpmn.add_bpmn_files([str(processes / "linear.bpmn")])
        spec, script_engine = bpmn.get_spec("linear"), ScriptEngine()
        engines = {"SQLite": prepared_engine(f"sqlite:///{tmp}/bench.db", processes, forms)}
        if args.postgres:
            engines["PostgreSQL"] = prepared_engine(cleanup.enter_context(postgres_database(args.postgres)),
                                                    processes, forms)
        for engine in engines.values():
            cleanup.callback(engine.db.dispose)
            service_slice(engine, 0.5)  # warm up: caches, pooled connections, prepared specs
            in_service(engine, args.history)  # history and statistics, as a database in service has them
        raw_slice(spec, script_engine, 0.5)
        piece = args.seconds / args.rounds
        raw: list[Timings] = []
        served: dict[str, list[Timings]] = {label: [] for label in engines}
        for _ in range(args.rounds):
            raw.append(raw_slice(spec, script_engine, piece))
            for label, engine in engines.items():
                served[label].append(service_slice(engine, piece))
        raw_all = [t for timings in raw for t in timings.completions]
        raw_ms = statistics.fmean(raw_all) * 1000
        print(f"raw SpiffWorkflow + JSON round trip per task: {raw_ms:.2f} ms per completion "
              f"(p50 {statistics.median(raw_all) * 1000:.2f} ms, {len(raw_all)} completions)")
        for label, slices in served.items():
            times = [t for timings in slices for t in timings.completions]
            ratios = [s.mean_ms() / r.mean_ms() for s, r in zip(slices, raw, strict=True)]
            starts = [t for timings in slices for t in timings.starts]
            low, median, high = statistics.quantiles(ratios, n=4)
            print(f"service layer on {label:10}: {statistics.fmean(times) * 1000:.2f} ms per completion "
                  f"(p50 {statistics.median(times) * 1000:.2f} ms, {len(times) / sum(times):.0f}/s); "
                  f"{median:.2f}x raw (half the slices within {low:.2f}-{high:.2f}x; target: within 3x)")
            whole = (sum(times) + sum(starts)) / len(times) * 1000
            raw_whole = (sum(raw_all) + sum(t for timings in raw for t in timings.starts)) / len(raw_all) * 1000
            print(f"  {'':25} instance start {statistics.median(starts) * 1000:.2f} ms (p50); with each "
                  f"instance's start spread over its {STEPS} completions: {whole / raw_whole:.2f}x raw")


if __name__ == "__main__":
    main()
