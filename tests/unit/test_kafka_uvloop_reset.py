"""Under uvloop, a request on a Kafka connection whose socket is already closed is a
``KafkaConnectionError`` (the connection is closed), not a ``RuntimeError`` that escapes
aiokafka's background tasks (``eventgate.connections``; aio-libs/aiokafka#1038)."""

from __future__ import annotations

import asyncio

import pytest
import uvloop
from aiokafka.conn import AIOKafkaConnection
from aiokafka.errors import KafkaConnectionError
from aiokafka.protocol.metadata import MetadataRequest

import eventgate.connections  # installs the uvloop-safe send


async def _request_on_a_closed_socket() -> tuple[BaseException | None, bool]:
    accepted: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conn = AIOKafkaConnection("127.0.0.1", port)
    conn._reader, conn._writer = await asyncio.open_connection("127.0.0.1", port)
    conn._versions = {MetadataRequest.API_KEY: (0, 12)}  # as after the ApiVersions handshake
    # The socket goes before aiokafka's reader task notices (here: there is none yet).
    conn._read_task = asyncio.get_running_loop().create_future()
    conn._read_task.set_result(None)
    conn._writer.transport.abort()
    await asyncio.sleep(0.05)  # uvloop closes the handle on a later loop turn
    raised: BaseException | None = None
    try:
        conn.send(MetadataRequest([]))
    except Exception as exc:
        raised = exc
    closed = conn._writer is None
    for writer in accepted:
        writer.close()
    server.close()
    await server.wait_closed()
    return raised, closed


def test_a_request_on_a_reset_connection_is_a_connection_error_under_uvloop() -> None:
    raised, closed = uvloop.run(_request_on_a_closed_socket())
    assert isinstance(raised, KafkaConnectionError), repr(raised)
    assert type(raised.__cause__) is RuntimeError, repr(raised.__cause__)  # uvloop's
    assert closed


def test_other_runtime_errors_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("not a closed socket")

    monkeypatch.setattr(eventgate.connections, "_aiokafka_send", broken)

    async def send() -> None:
        AIOKafkaConnection("127.0.0.1", 9).send(MetadataRequest([]))

    with pytest.raises(RuntimeError, match="not a closed socket"):
        asyncio.run(send())
