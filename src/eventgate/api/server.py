"""``eventgate api``: serve the API and console with uvicorn."""

from __future__ import annotations

import uvicorn

from eventgate.api.app import create_app
from eventgate.logs import setup_logging
from eventgate.settings import Settings


def run_api(settings: Settings) -> int:
    setup_logging(settings, "api")
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        loop="uvloop",
        proxy_headers=False,
    )
    return 0
