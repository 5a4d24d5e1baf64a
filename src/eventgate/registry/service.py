"""``Registry``: the registry of one process — reader, client, and (optionally) a writer
candidate — started and stopped together. Used by the worker and the API::

    registry = Registry(settings, is_writer_candidate=True)
    await registry.start()          # returns once the state is loaded from the log
    registry.state.get("purchase")  # hot-path reads: plain dictionary lookups
    await registry.ensure_types(["purchase", "click"])
    await registry.stop()
"""

from __future__ import annotations

import contextlib
from types import TracebackType

from eventgate.registry.client import DEFAULT_TIMEOUT_S, RegistryClient
from eventgate.registry.commands import Limits
from eventgate.registry.log import RegistryReader
from eventgate.registry.requests import Reply, Request
from eventgate.registry.state import RegistryState
from eventgate.registry.writer import RegistryWriter
from eventgate.settings import Settings


class Registry:
    """One process's registry; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        is_writer_candidate: bool = True,
        name: str = "eventgate",
        limits: Limits | None = None,
        writer_session_timeout_ms: int = 10_000,
        request_timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.settings = settings
        self.state = RegistryState()
        self.reader = RegistryReader(settings, self.state, client_id=f"{name}-registry-reader")
        self.client = RegistryClient(
            settings,
            self.reader,
            client_id=f"{name}-registry-client",
            request_timeout_s=request_timeout_s,
        )
        self.writer: RegistryWriter | None = None
        if is_writer_candidate:
            self.writer = RegistryWriter(
                settings,
                self.reader,
                limits=limits,
                client_id=f"{name}-registry-writer",
                session_timeout_ms=writer_session_timeout_ms,
            )
        self._started = False

    @property
    def is_writer(self) -> bool:
        """True while this process is the registry writer (metrics, ``/readyz``)."""
        return self.writer is not None and self.writer.is_writer

    async def start(self) -> None:
        """Start the reader, client and writer candidate; return once loaded."""
        await self.reader.start()
        try:
            await self.client.start()
            if self.writer is not None:
                await self.writer.start()
            await self.reader.loaded()
        except BaseException:
            await self.stop()
            raise
        self._started = True

    async def stop(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(Exception):
                await self.writer.stop()
        with contextlib.suppress(Exception):
            await self.client.stop()
        await self.reader.stop()
        self._started = False

    async def request(self, request: Request) -> Reply:
        """The writer's reply; see :meth:`RegistryClient.request`."""
        return await self.client.request(request)

    async def ensure_types(
        self,
        keys: list[str] | tuple[str, ...],
        *,
        seen_at_ms: int | None = None,
    ) -> dict[str, str]:
        return await self.client.ensure_types(keys, seen_at_ms=seen_at_ms)

    async def __aenter__(self) -> Registry:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
