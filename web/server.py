"""`campusflow serve`: the app under gunicorn (the same server production uses), one app per worker."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


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


def serve(host: str, port: int, workers: int) -> None:
    """Serve until interrupted."""
    CampusflowServer({"bind": f"{host}:{port}", "workers": workers, "threads": 4, "accesslog": "-",
                      "preload_app": False}).run()
