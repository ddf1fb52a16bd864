"""HTTP load: concurrent members of staff start requests and complete their ten tasks against gunicorn
(2 workers, the production settings of web/server.py) on PostgreSQL, through the real JSON API.

    .venv/bin/python bench/http_load.py [--clients 16] [--seconds 20] [--rate 130] [--history 10000] [--postgres URL]
        [--worker-class gthread --threads 4 --keepalive 5 --reuse-port]   (to compare gunicorn settings;
        --worker-class sync is gunicorn's own sync worker, which lingers after each answer until the client closes)

The clients are coroutines in one asyncio loop, each with one HTTP/1.1 connection (kept alive when the
server allows; sync workers close it after every answer), so the load generator needs little CPU (the
server has the same 2 cores). Three phases, each `--seconds` long:

(a) capacity: closed loop (each client sends its next request as soon as the last is answered), with 8 and
    with `--clients` clients. This saturates the server: by Little's law mean latency = clients / throughput,
    so its latencies measure queueing at saturation, not what a user waits at the real load.
(b) latency at the target load: `--clients` clients together offer `--rate` completions/s (plus one start per
    ten completions) on a fixed open-loop schedule; each latency runs from the request's intended send time,
    so a slow answer that delays the next request is counted too (no coordinated omission).

Server CPU is utime+stime of the gunicorn master and workers (/proc), divided by the completions (the
starts' share included); PostgreSQL CPU is that of the backends connected to the bench database.
The database holds `--history` instances of history first, with statistics (bench/history.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from harness import DEFAULT_POSTGRES, gunicorn_server, percentile, postgres_database, prepared_engine
from history import in_service
from linear_process import write_linear_process

from engine import services
from web.server import PRODUCTION_OPTIONS

TICK = os.sysconf("SC_CLK_TCK")
ANCHOR_CLIENTS = 8  # the anchors' throughput target is for 8 clients
GRACE = 5.0  # an overloaded open-loop phase stops sending this long after its end


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol for the JSON API."""

    def __init__(self, base: str, token: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.head = (f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\nConnection: keep-alive\r\n").encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.connects = 0

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST JSON and return the status and the decoded JSON answer; reconnects when the server closed."""
        data = json.dumps(body).encode()
        request = b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s" % (path.encode(), self.head, len(data), data)
        reused = self.writer is not None
        try:
            return await self._exchange(request)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.close()
            if not reused:
                raise
            # An idle keep-alive connection the server had already closed (it read nothing): send once more.
            return await self._exchange(request)

    async def _exchange(self, request: bytes) -> tuple[int, dict[str, Any]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.connects += 1
        assert self.reader is not None
        self.writer.write(request)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection":
                close = value == "close"
        payload = await self.reader.readexactly(length)
        if close:  # sync workers answer every request with Connection: close
            self.close()
        return status, json.loads(payload or b"{}")

    def close(self) -> None:
        """Drop the connection; the next request opens a new one."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Tally:
    """What one phase measured (latencies in seconds)."""

    completions: list[float] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unsent: int = 0  # open loop: requests due before the end but still unsent GRACE seconds after it
    split: list[int] = field(default_factory=list)  # connections held by each worker half-way


async def staff_member(conn: Connection, schedule: Iterator[float] | None, stop: float, tally: Tally) -> None:
    """Start an instance, complete its ten tasks, repeat until `stop`.

    Closed loop (`schedule` None): each request goes as soon as the previous one is answered and its latency
    runs from sending. Open loop: each request has an intended send time from `schedule` and its latency runs
    from that time, however late the previous answer let it go.
    """
    view: dict[str, Any] = {}
    loop = asyncio.get_running_loop()
    while True:
        intended = next(schedule) if schedule is not None else loop.time()
        if intended >= stop:
            return
        if schedule is not None and loop.time() > stop + GRACE:
            tally.unsent += 1
            while next(schedule) < stop:
                tally.unsent += 1
            return
        if intended > loop.time():
            await asyncio.sleep(intended - loop.time())
        try:
            if view.get("open_tasks"):
                task_id = view["open_tasks"][0]["id"]
                status, view = await asyncio.wait_for(
                    conn.post(f"/api/v1/tasks/{task_id}/complete", {"data": {"note": "ok"}}), 30)
                latencies, expected = tally.completions, 200
            else:
                status, view = await asyncio.wait_for(conn.post("/api/v1/processes/linear/instances", {"data": {}}), 30)
                latencies, expected = tally.starts, 201
            if status == expected:
                latencies.append(loop.time() - intended)
            else:
                tally.errors.append(f"HTTP {status}: {view}")
                view = {}
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            view = {}


def fixed_schedule(first: float, interval: float) -> Iterator[float]:
    """first, first + interval, first + 2 * interval, ..."""
    n = 0
    while True:
        yield first + n * interval
        n += 1


@dataclass
class Usage:
    """CPU seconds used so far by the server, the bench database's backends, this process and the machine."""

    server: float
    database: float
    generator: float
    machine_busy: float
    wall: float


def process_cpu(pid: int) -> float:
    """utime + stime of `pid` in seconds (0 if it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def connections_per_worker(master: int, port: int) -> list[int]:
    """Open client connections to `port` held by each worker (keep-alive pins a connection to one worker)."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[3] == "01" and int(parts[1].rpartition(":")[2], 16) == port:
            established.add(parts[9])
    counts = []
    for pid in children(master):
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        counts.append(sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in established))
    return sorted(counts, reverse=True)


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    return (sum(values) - values[3] - values[4]) / TICK


def usage(master: int, db: psycopg.Connection) -> Usage:
    """A snapshot of CPU use (the database backends are those connected to the bench database but `db`)."""
    backends = [pid for (pid,) in db.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    return Usage(server=sum(process_cpu(p) for p in [master, *children(master)]),
                 database=sum(process_cpu(p) for p in backends), generator=time.process_time(),
                 machine_busy=machine_busy(), wall=time.perf_counter())


async def run_phase(base: str, tokens: list[str], seconds: float, rate: float | None,
                    probe: Callable[[], list[int]] | None = None) -> Tally:
    """One phase: closed loop when `rate` is None, else `rate` completions/s offered on a fixed schedule.

    `probe`, called half-way, says how many connections each worker holds.
    """
    tally = Tally()
    loop = asyncio.get_running_loop()
    began = loop.time() + 0.05
    stop = began + seconds
    connections = [Connection(base, t) for t in tokens]
    schedules: list[Iterator[float] | None] = [None] * len(tokens)
    if rate is not None:
        interval = len(tokens) / (rate * 1.1)  # ten completions and one start per instance
        schedules = [fixed_schedule(began + i * interval / len(tokens), interval) for i in range(len(tokens))]
    clients = asyncio.gather(*(staff_member(c, s, stop, tally) for c, s in zip(connections, schedules, strict=True)))
    if probe is not None:
        await asyncio.sleep(seconds / 2)
        tally.split = probe()
    await clients
    for conn in connections:
        conn.close()
    return tally


def verdict(value: float, target: float, at_least: bool = False) -> str:
    """'met' or 'MISSED'."""
    return "met" if (value >= target if at_least else value <= target) else "MISSED"


def report(title: str, tally: Tally, before: Usage, after: Usage, latency_targets: bool,
           throughput_target: bool) -> None:
    """Print one phase's figures, each beside its target."""
    wall = after.wall - before.wall
    done = len(tally.completions)
    rate = done / wall
    ms = [c * 1000 for c in tally.completions] or [float("nan")]
    p50, p95, p99 = (percentile(ms, q) for q in (.5, .95, .99))
    print(title)
    line = f"  completions {rate:7.1f}/s, starts {len(tally.starts) / wall:.1f}/s, over {wall:.1f} s"
    print(line + (f"   target >= 130/s with {ANCHOR_CLIENTS} clients: {verdict(rate, 130, True)}"
                  if throughput_target else ""))
    if latency_targets:
        print(f"  completion latency p50 {p50:6.1f} ms   target <=  8 ms: {verdict(p50, 8)}")
        print(f"                     p95 {p95:6.1f} ms   target <= 30 ms: {verdict(p95, 30)}")
        print(f"                     p99 {p99:6.1f} ms   target <= 50 ms: {verdict(p99, 50)}")
        print(f"                     max {max(ms):6.1f} ms")
    else:
        print(f"  completion latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {max(ms):.1f} ms "
              "(at saturation: queueing, no target)")
    per_completion = (after.server - before.server) * 1000 / max(done, 1)
    print(f"  server CPU per completion {per_completion:5.2f} ms   target <= 8 ms: {verdict(per_completion, 8)}   "
          f"(PostgreSQL backends {(after.database - before.database) * 1000 / max(done, 1):.2f} ms)")
    server_cpu, db_cpu = after.server - before.server, after.database - before.database
    generator, busy = after.generator - before.generator, after.machine_busy - before.machine_busy
    print(f"  machine CPU {busy / wall:.2f} of {os.cpu_count()} cores: server {server_cpu / wall:.2f}, PostgreSQL "
          f"backends {db_cpu / wall:.2f}, load generator {generator / wall:.2f}, "
          f"other processes {(other := max(0.0, busy - server_cpu - db_cpu - generator) / wall):.2f}")
    if other > 0.2:
        print("  NOTE: other processes shared the 2 cores during this phase; its figures are pessimistic")
    if tally.split:
        print(f"  client connections held per worker half-way: {' / '.join(map(str, tally.split))}")
    if tally.unsent:
        print(f"  NOT SENT: {tally.unsent} requests due in the phase were still waiting {GRACE:g} s after its end")
    print(f"  errors: {len(tally.errors)}" + (f" (first: {tally.errors[0]})" if tally.errors else ""))


def main() -> None:
    """Run the three phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--rate", type=float, default=130.0, help="completions/s offered in phase (b)")
    parser.add_argument("--history", type=int, default=10_000, help="instances of history before the load")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--worker-class", default=PRODUCTION_OPTIONS["worker_class"])
    parser.add_argument("--threads", type=int, default=PRODUCTION_OPTIONS.get("threads", 1))
    parser.add_argument("--keepalive", type=int, default=PRODUCTION_OPTIONS.get("keepalive", 2))
    parser.add_argument("--reuse-port", action=argparse.BooleanOptionalAction,
                        default=PRODUCTION_OPTIONS.get("reuse_port", False))
    args = parser.parse_args()
    sync = args.worker_class in ("sync", "web.server.PromptCloseSyncWorker")  # the latter is web.server's
    options = {"worker_class": args.worker_class, "threads": args.threads, "keepalive": args.keepalive,
               "reuse_port": args.reuse_port}
    with tempfile.TemporaryDirectory() as tmp, postgres_database(args.postgres) as url:
        processes, forms = write_linear_process(Path(tmp))
        engine = prepared_engine(url, processes, forms)
        tokens = []
        for i in range(max(args.clients, ANCHOR_CLIENTS)):
            services.add_user(engine, f"client{i}", ["organiser", "events_office"], password="bench-password")
            tokens.append(services.issue_token(engine, f"client{i}"))
        in_service(engine, args.history)  # history and statistics, as a database in service has them
        engine.db.dispose()
        with gunicorn_server(url, processes, forms, workers=2, **options) as server, \
                psycopg.connect(url, autocommit=True) as db:
            workers = (f"{args.worker_class}: one request at a time, a new connection per request" if sync
                       else f"{args.worker_class}, {args.threads} threads, keep-alive {args.keepalive} s"
                       + (", reuse_port" if args.reuse_port else ""))
            print(f"HTTP load: gunicorn 2 workers ({workers}), PostgreSQL; clients: asyncio coroutines in one "
                  "process, one connection each (kept alive if the server allows)")
            asyncio.run(run_phase(server.base, tokens[:args.clients], 3.0, None))  # warm-up, not reported
            db.execute("ANALYZE")  # statistics, as a database in service has them (harness.analyze)
            phases = [(f"(a) capacity, closed loop, {ANCHOR_CLIENTS} clients:", tokens[:ANCHOR_CLIENTS], None),
                      (f"(a) capacity, closed loop, {args.clients} clients:", tokens[:args.clients], None),
                      (f"(b) latency at the target load, open loop: {args.clients} clients offering "
                       f"{args.rate:g} completions/s (+{args.rate / 10:g} starts/s), latency from the intended "
                       "send time:", tokens[:args.clients], args.rate)]
            for title, clients, rate in phases:
                before = usage(server.pid, db)
                probe = None if sync else partial(  # sync: a connection per request
                    connections_per_worker, server.pid, int(server.base.rpartition(":")[2]))
                tally = asyncio.run(run_phase(server.base, clients, args.seconds, rate, probe))
                after = usage(server.pid, db)
                report(title, tally, before, after, latency_targets=rate is not None,
                       throughput_target=len(clients) == ANCHOR_CLIENTS and rate is None)


if __name__ == "__main__":
    main()
