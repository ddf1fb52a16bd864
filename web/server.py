"""`campusflow serve`: the app under gunicorn (the same server production uses), one app per worker."""

from __future__ import annotations

import socket
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.http.body import LengthReader
from gunicorn.workers.sync import SyncWorker

# Chosen with bench/http_load.py on 2 cores with PostgreSQL (16 clients offering 130 task completions/s, quiet
# machine, runs interleaved): sync workers gave completion p95 31-95 ms in five runs of six (516 ms in one);
# gthread workers with 4 threads gave p95 204-2286 ms, with SO_REUSEPORT 28-4224 ms, with 2 threads and
# SO_REUSEPORT 50-314 ms, and needed up to 15 % more CPU per request. Each request makes a dozen database round
# trips, and in a threaded worker every one of them waits for the GIL while another thread computes, so threads
# lengthen requests instead of overlapping them; keep-alive also pins each client connection to the worker that
# accepted it, and the workers accept unevenly (16 connections went 16/0 or 15/1), overloading one worker.
# Sync workers take one request at a time from the shared socket, so the idle worker always gets the next one.
# The price: a worker is busy for the whole of a long request (an audit export, a large report), so run more
# workers than cores if such requests are frequent, and run behind a buffering reverse proxy (slow clients).
PRODUCTION_OPTIONS: dict[str, Any] = {"worker_class": "web.server.PromptCloseSyncWorker", "preload_app": False}


class PromptCloseSyncWorker(SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker, closing the connection as soon as the answer is sent when nothing is left to read.

    After each answer gunicorn 27 half-closes and then waits, up to 2 s, for the client to close its side, so
    that request bytes still arriving cannot make the kernel reset the connection and destroy the answer
    (RFC 9112 §9.6). Meanwhile the worker, which serves one request at a time, serves nobody: under
    bench/http_load.py's load on a busy machine that wait averaged 1.4 ms per request (a completion takes
    6-7 ms). When the whole request body has been read and no byte is waiting in the socket, this worker
    closes at once (a plain close: a FIN, no reset); otherwise gunicorn's lingering close runs as before.
    A client that pipelines a second request on a `Connection: close` answer may then see a reset, as it
    did with earlier gunicorn versions; browsers and reverse proxies do not pipeline.
    """

    def handle_request(self, listener: Any, req: Any, client: socket.socket, addr: Any) -> None:
        super().handle_request(listener, req, client, addr)
        if is_fully_read(req, client):
            client.close()  # gunicorn's own close that follows finds the socket closed and does nothing


def is_fully_read(req: Any, client: socket.socket) -> bool:
    """True when the request's body was read to its end and the client has sent nothing more (or closed)."""
    reader = getattr(getattr(req, "body", None), "reader", None)
    if not isinstance(reader, LengthReader) or reader.length != 0:  # unread or chunked body: let gunicorn linger
        return False
    try:
        return not client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)  # b"": the client closed already
    except BlockingIOError:
        return True  # nothing waiting
    except OSError:
        return False


def server_options(host: str, port: int, workers: int, **overrides: Any) -> dict[str, Any]:
    """Gunicorn settings for `campusflow serve`; `overrides` (gunicorn setting names) replace the defaults."""
    return {"bind": f"{host}:{port}", "workers": workers, **PRODUCTION_OPTIONS, "accesslog": "-", **overrides}


class CampusflowServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn with options from the command line; each worker builds its own app (own database pool)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from web import create_app

        return create_app()


def serve(host: str, port: int, workers: int, **overrides: Any) -> None:
    """Serve until interrupted."""
    CampusflowServer(server_options(host, port, workers, **overrides)).run()
