"""web.server's gunicorn worker: it is free for the next request as soon as an answer is sent, unless the
client may still be sending (then gunicorn's lingering close keeps the answer from being reset)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from web.server import PRODUCTION_OPTIONS

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    """One production worker (one request at a time) serving tests/web/prompt_close_app.py."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-k", PRODUCTION_OPTIONS["worker_class"], "-b",
         f"127.0.0.1:{port}", "--chdir", str(HERE), "--no-control-socket", "--log-level", "warning",
         "prompt_close_app:app"],
        cwd=HERE.parents[1], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def post(address: tuple[str, int], path: str, body: bytes, *, send: int | None = None) -> socket.socket:
    """Send a POST (only the first `send` bytes of the body when given) and return the open connection."""
    conn = socket.create_connection(address, timeout=10)
    head = f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    conn.sendall(head + body[:send])
    return conn


def answer(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes its side."""
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_the_worker_takes_the_next_request_while_the_last_client_has_not_closed_yet(server):
    with post(server, "/read", b"x" * 1000) as first:
        assert answer(first).split(b"\r\n")[0] == b"HTTP/1.1 200 OK"  # `first` stays open: no FIN from us

        began = time.monotonic()
        with post(server, "/read", b"y" * 10) as second:
            reply = answer(second)
        waited = time.monotonic() - began

    assert b"read 10" in reply
    assert waited < 1.0  # gunicorn's own close would hold the only worker for up to 2 s waiting for `first`


def test_an_answer_sent_before_the_body_was_read_arrives_whole(server):
    conn = post(server, "/ignore", b"z" * 40_000, send=20_000)  # the rest is still "in flight"
    time.sleep(0.2)
    conn.sendall(b"z" * 20_000)  # gunicorn drains up to 64 KiB before it closes

    with conn:
        reply = answer(conn)  # a reset would raise ConnectionResetError or cut the answer short

    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and body.startswith(b"read 0") and len(body) == 20006
