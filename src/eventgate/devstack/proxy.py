"""A small TCP proxy for fault tests: put it between a process and a service (Redis, a
broker) and add latency, black-hole the link for a while, or reset every connection.

It runs its own asyncio loop in a daemon thread, so a test drives it from any thread or
event loop and the proxy keeps forwarding while the test's own loop is busy::

    with TcpProxy("127.0.0.1", 26479) as proxy:   # listens on proxy.port (a free one)
        proxy.latency_s = 0.2        # every chunk, each way, waits 200 ms (order kept)
        proxy.blackhole = True       # accept, forward nothing (bytes wait, as in TCP)
        proxy.blackhole = False      # ... and deliver what waited
        proxy.reset()                # RST every open connection

A black hole holds bytes rather than dropping them: a real partition loses packets that
TCP then re-sends once the link heals, so the endpoints see delay, never a corrupt
stream. Connections accepted during a black hole reach the target only after it heals.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

CHUNK = 64 * 1024
T = TypeVar("T")


class _Link:
    """One proxied connection: two pumps, each a reader and a delayed writer."""

    def __init__(self, proxy: TcpProxy, client: asyncio.StreamWriter) -> None:
        self.proxy = proxy
        self.writers: list[asyncio.StreamWriter] = [client]
        self.tasks: list[asyncio.Task[None]] = []

    def abort(self) -> None:
        """Close both sockets at once with RST (SO_LINGER 0), not FIN."""
        for writer in self.writers:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        for task in self.tasks:
            task.cancel()


class TcpProxy:
    """Forward ``listen_host:port`` to ``target_host:target_port`` with fault controls."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        port: int = 0,
        listen_host: str = "127.0.0.1",
    ) -> None:
        self.target = (target_host, target_port)
        self.listen = (listen_host, port)
        self.latency_s = 0.0
        self.connections = 0  # accepted so far
        self._healed = asyncio.Event()  # binds to the proxy's loop on first use
        self._healed.set()
        self._blackhole = False
        self._links: set[_Link] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = port

    # -- controls (callable from any thread) ----------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def blackhole(self) -> bool:
        return self._blackhole

    @blackhole.setter
    def blackhole(self, on: bool) -> None:
        self._blackhole = on
        self._call(self._set_healed, not on)

    def reset(self) -> int:
        """Reset every open connection (RST both ways); how many there were."""
        return self._call(self._reset_all)

    @property
    def open_links(self) -> int:
        return len(self._links)

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> TcpProxy:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._open())
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name=f"tcp-proxy-{self.target}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- inside the proxy's loop -----------------------------------------------------------

    def _call(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(*args)`` on the proxy's loop and return its result (directly when the
        proxy is not running: the loop applies the controls when it opens)."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return fn(*args)

        async def call() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(call(), loop).result(10)

    async def _open(self) -> None:
        self._server = await asyncio.start_server(self._accept, *self.listen)
        self._port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        """Stop listening, reset every link and wait for every task to finish."""
        if self._server is not None:
            self._server.close()
        self._reset_all()
        me = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not me]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def _set_healed(self, healed: bool) -> None:
        if healed:
            self._healed.set()
        else:
            self._healed.clear()

    def _reset_all(self) -> int:
        links = list(self._links)
        for link in links:
            link.abort()
        self._links.clear()
        return len(links)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A handler that ends by cancellation upsets asyncio's stream callback: end quietly.
        with contextlib.suppress(asyncio.CancelledError):
            await self._serve(reader, writer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        link = _Link(self, writer)
        self._links.add(link)
        try:
            await self._healed.wait()  # a black hole: the connect waits with the bytes
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except (OSError, asyncio.CancelledError):
            link.abort()
            self._links.discard(link)
            return
        link.writers.append(up_writer)
        link.tasks = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        await asyncio.wait(link.tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in link.tasks:
            task.cancel()
        for w in link.writers:
            w.close()
        self._links.discard(link)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        """Forward one direction: each chunk leaves ``latency_s`` after it arrived, in
        order; nothing leaves during a black hole (and reading stops, as TCP's window
        would make it)."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(maxsize=64)

        async def send() -> None:
            while True:
                arrived, data = await queue.get()
                due = arrived + self.latency_s - time.monotonic()
                if due > 0:
                    await asyncio.sleep(due)
                await self._healed.wait()
                if not data:
                    if dst.can_write_eof():
                        dst.write_eof()
                    return
                dst.write(data)
                await dst.drain()

        sender = asyncio.create_task(send())
        try:
            while True:
                await self._healed.wait()
                data = await src.read(CHUNK)
                await queue.put((time.monotonic(), data))
                if not data:
                    break
            await sender
        except (OSError, ConnectionError):
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError, ConnectionError):
                await sender
