"""The fault-test TCP proxy (``eventgate.devstack.proxy``) against a local echo server:
it forwards, delays by the configured latency, holds bytes during a black hole and
delivers them after, and resets connections."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from eventgate.devstack.proxy import TcpProxy


@pytest.fixture
def echo() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # the proxy resets links: expected
            while data := conn.recv(65536):
                conn.sendall(data)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def _round_trip(port: int, payload: bytes, timeout: float = 5) -> tuple[bytes, float]:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        started = time.monotonic()
        conn.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = conn.recv(65536)
            if not chunk:
                break
            got += chunk
        return got, time.monotonic() - started


def test_forwards_and_adds_latency_each_way(echo: int) -> None:
    with TcpProxy("127.0.0.1", echo) as proxy:
        assert _round_trip(proxy.port, b"hello" * 1000)[0] == b"hello" * 1000
        proxy.latency_s = 0.2
        got, took = _round_trip(proxy.port, b"ping")
        assert got == b"ping"
        assert took >= 0.4  # 200 ms there and 200 ms back


def test_blackhole_holds_bytes_then_delivers_them(echo: int) -> None:
    with TcpProxy("127.0.0.1", echo) as proxy:
        proxy.blackhole = True
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.5) as conn:
            conn.sendall(b"waiting")
            with pytest.raises(TimeoutError):
                conn.recv(100)  # the connection is accepted, nothing comes back
            proxy.blackhole = False
            conn.settimeout(5)
            assert conn.recv(100) == b"waiting"


def test_reset_breaks_open_connections_and_new_ones_work(echo: int) -> None:
    with TcpProxy("127.0.0.1", echo) as proxy:
        conn = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        conn.sendall(b"x")
        assert conn.recv(1) == b"x"
        assert proxy.reset() == 1
        with pytest.raises(OSError):  # reset by peer, or EOF then a broken pipe
            for _ in range(50):
                conn.sendall(b"y")
                if not conn.recv(1):
                    raise ConnectionResetError("closed")
                time.sleep(0.02)
        conn.close()
        assert _round_trip(proxy.port, b"again")[0] == b"again"
