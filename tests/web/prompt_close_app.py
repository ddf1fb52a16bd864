"""A tiny WSGI app for tests/web/test_server.py: answers 200, reading the body only when asked (`/read`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Echo how many body bytes were read; `/read` reads the whole body, any other path none of it."""
    read = len(environ["wsgi.input"].read()) if environ["PATH_INFO"] == "/read" else 0
    body = b"read %d" % read + b" " * 20000  # more than one segment, so a reset would be noticed
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
