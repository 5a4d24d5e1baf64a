"""``eventgate api``: serve the API and console with uvicorn."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import uvicorn

from eventgate.api.app import create_app
from eventgate.logs import setup_logging
from eventgate.settings import Settings

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_S = 10
"""How long a stopping API waits for requests in flight before closing their connections."""


class ApiServer(uvicorn.Server):
    """uvicorn's server, stopped by SIGINT or SIGTERM like the worker: one clean shutdown,
    then exit status 0.

    uvicorn turns a second Ctrl-C into a forced exit that skips the application's lifespan
    shutdown; the API's Kafka clients are then never stopped, and asyncio's final
    cancellation of their tasks hung (30 s and more here, for two SIGINTs 10-50 ms apart).
    Here a repeated signal only says so; waiting for requests in flight is bounded by
    ``GRACEFUL_SHUTDOWN_S`` instead. uvicorn also raises the signals it caught again once it
    has stopped (SIGINT then ended ``eventgate api`` with status 1, SIGTERM with 143); a
    requested stop that completed is a success."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        del frame
        if self.should_exit:
            log.info("already stopping: closing connections and Kafka clients")
            return
        log.info("stopping", extra={"signal": signal.Signals(sig).name})
        self.should_exit = True


def run_api(settings: Settings) -> int:
    setup_logging(settings, "api")
    config = uvicorn.Config(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        loop="uvloop",
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    ApiServer(config).run()
    return 0
