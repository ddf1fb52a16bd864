"""HTTP load: 16 concurrent clients start requests and complete tasks against gunicorn (2 workers) on
PostgreSQL, through the real JSON API. Prints throughput and p50/p95/p99 latency.

    .venv/bin/python bench/http_load.py [--clients 16] [--seconds 20] [--postgres URL]

Targets: >= 130 completions/s; completion p95 <= 30 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import tempfile
import threading
import time
from pathlib import Path

from harness import DEFAULT_POSTGRES, gunicorn, percentile, postgres_database, prepared_engine
from linear_process import write_linear_process

from engine import services


class Client:
    """One keep-alive connection acting as one member of staff who also submits requests."""

    def __init__(self, base: str, token: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict) -> tuple[int, dict, float]:
        began = time.perf_counter()
        self.connection.request("POST", path, body=json.dumps(body), headers=self.headers)
        response = self.connection.getresponse()
        payload = json.loads(response.read() or b"{}")
        return response.status, payload, time.perf_counter() - began


def run_client(base: str, token: str, stop: float, completions: list[float], starts: list[float],
               errors: list[str]) -> None:
    """Start an instance, complete its ten steps, repeat until `stop`; a failure ends this client."""
    try:
        _client_loop(Client(base, token), stop, completions, starts, errors)
    except OSError as exc:
        errors.append(f"connection: {exc}")


def _client_loop(client: Client, stop: float, completions: list[float], starts: list[float],
                 errors: list[str]) -> None:
    while time.perf_counter() < stop:
        status, view, elapsed = client.post("/api/v1/processes/linear/instances", {"data": {}})
        if status != 201:
            errors.append(f"start {status}: {view}")
            return
        starts.append(elapsed)
        while view.get("open_tasks") and time.perf_counter() < stop:
            task_id = view["open_tasks"][0]["id"]
            status, view, elapsed = client.post(f"/api/v1/tasks/{task_id}/complete", {"data": {"note": "ok"}})
            if status != 200:
                errors.append(f"complete {status}: {view}")
                return
            completions.append(elapsed)


def main() -> None:
    """Run the load and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, postgres_database(args.postgres) as url:
        processes, forms = write_linear_process(Path(tmp))
        engine = prepared_engine(url, processes, forms)
        tokens = []
        for i in range(args.clients):
            services.add_user(engine, f"client{i}", ["organiser", "events_office"], password="bench-password")
            tokens.append(services.issue_token(engine, f"client{i}"))
        engine.db.dispose()
        completions: list[float] = []
        starts: list[float] = []
        errors: list[str] = []
        with gunicorn(url, processes, forms, workers=2) as base:
            stop = time.perf_counter() + args.seconds
            threads = [threading.Thread(target=run_client, args=(base, t, stop, completions, starts, errors))
                       for t in tokens]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - began
    ms = [c * 1000 for c in completions] or [float("nan")]
    print(f"HTTP load, {args.clients} clients, gunicorn 2 workers, PostgreSQL, {elapsed:.1f} s:")
    print(f"  task completions: {len(ms) / elapsed:7.1f}/s (target >= 130); starts: {len(starts) / elapsed:.1f}/s")
    print(f"  completion latency p50 {percentile(ms, .5):.1f} ms, p95 {percentile(ms, .95):.1f} ms "
          f"(target <= 30), p99 {percentile(ms, .99):.1f} ms, max {max(ms):.1f} ms")
    print(f"  errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))


if __name__ == "__main__":
    main()
