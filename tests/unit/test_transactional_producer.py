"""The transactional producer factory: idempotent, acks=all, and aiokafka's fixed wait after
CONCURRENT_TRANSACTIONS shortened (``connections.TXN_RESTART_BACKOFF_S``).

The shortening sets a module constant of aiokafka; these tests fail if a release renames
it or stops using it where a transaction's first AddPartitionsToTxn is retried, so the
tuning is reviewed instead of silently lost."""

from __future__ import annotations

import inspect

import aiokafka.producer.sender as aiokafka_sender
import pytest

from eventgate.connections import TXN_RESTART_BACKOFF_S, transactional_producer
from eventgate.settings import Settings


def test_aiokafka_still_retries_a_concurrent_transaction_after_its_constant() -> None:
    handler = inspect.getsource(aiokafka_sender.AddPartitionsToTxnHandler.handle_response)
    assert "ConcurrentTransactions" in handler
    assert "return BACKOFF_OVERRIDE" in handler


async def test_the_factory_shortens_the_wait_and_sets_delivery_guarantees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aiokafka_sender, "BACKOFF_OVERRIDE", 0.02)
    producer = transactional_producer(
        Settings(kafka_bootstrap="127.0.0.1:1"), "client", "txn-id", linger_ms=7
    )
    try:
        assert aiokafka_sender.BACKOFF_OVERRIDE == TXN_RESTART_BACKOFF_S
        txn = producer._txn_manager  # what aiokafka sends at start()
        assert txn.transactional_id == "txn-id"
        assert producer._sender._acks == -1  # acks="all"
        assert producer._message_accumulator._linger_time == 0.007  # options pass through
        assert producer._sender._retry_backoff == 0.01  # CONCURRENT_TRANSACTIONS elsewhere
    finally:
        await producer.stop()  # never started: only closes the client
