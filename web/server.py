"""`campusflow serve`: the app under gunicorn (the same server production uses), one app per worker."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

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
PRODUCTION_OPTIONS: dict[str, Any] = {"worker_class": "sync", "preload_app": False}


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
