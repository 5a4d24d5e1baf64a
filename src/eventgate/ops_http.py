"""The operational endpoints every process serves: ``/metrics``, ``/healthz``, ``/readyz``."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from eventgate.health import Readiness
from eventgate.metrics import Metrics


def ops_routes(metrics: Metrics, readiness: Readiness) -> list[Route]:
    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(_: Request) -> Response:
        failing = await readiness.evaluate()
        if failing:
            return JSONResponse({"status": "not ready", "failing": failing}, status_code=503)
        return JSONResponse({"status": "ready"})

    return [
        Route("/metrics", metrics_endpoint, include_in_schema=False),
        Route("/healthz", healthz, include_in_schema=False),
        Route("/readyz", readyz, include_in_schema=False),
    ]


def ops_app(metrics: Metrics, readiness: Readiness) -> Starlette:
    """A small ASGI app for workers (the API mounts the same routes)."""
    return Starlette(routes=ops_routes(metrics, readiness))
