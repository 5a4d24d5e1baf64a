"""``create_app``: the FastAPI application of ``eventgate api`` (API under ``/api/v1``,
console at ``/``, ``/metrics``, ``/healthz``, ``/readyz``, ``/openapi.json``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from eventgate import __version__
from eventgate.api.auth import TokenTable
from eventgate.api.problems import install_error_handlers
from eventgate.api.routes import event_types
from eventgate.health import Readiness
from eventgate.metrics import Metrics
from eventgate.ops_http import ops_routes
from eventgate.registry.service import Registry
from eventgate.settings import Settings

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"


def create_app(settings: Settings, registry: Registry | None = None) -> FastAPI:
    """The app; it starts (and stops) its own ``Registry`` unless one is given."""
    own_registry = registry is None
    reg = registry if registry is not None else Registry(settings, name="api")
    metrics = Metrics()
    readiness = Readiness()
    loaded = False

    async def registry_loaded() -> str | None:
        return None if loaded else "registry not loaded yet"

    readiness.add("registry", registry_loaded)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal loaded
        if own_registry:
            await reg.start()
        loaded = True
        metrics.registry_types.set_function(reg.state.type_count)
        try:
            yield
        finally:
            if own_registry:
                await reg.stop()

    app = FastAPI(
        title="eventgate",
        version=__version__,
        description="Event types, their validation, structure and dependencies.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.registry = reg
    app.state.tokens = TokenTable(settings)
    install_error_handlers(app)
    app.include_router(event_types.router, prefix="/api/v1")
    for route in ops_routes(metrics, readiness):
        app.router.routes.append(route)
    app.mount("/", StaticFiles(directory=CONSOLE_DIR, html=True), name="console")
    return app
