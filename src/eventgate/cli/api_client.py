"""A small JSON client of eventgate's HTTP API for the CLI (standard library only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from eventgate.settings import Settings


class ApiFailure(Exception):
    """The API refused the request or could not be reached."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


@dataclass(frozen=True)
class ApiClient:
    base_url: str
    token: str
    timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiClient:
        return cls(settings.cli_api_url.rstrip("/"), settings.cli_token.get_secret_value())

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        """``(status, JSON body or None, headers)``; raises ``ApiFailure`` for 4xx/5xx."""
        url = f"{self.base_url}/api/v1{path}"
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        request.add_header("Accept", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310
                raw = answer.read()
                return answer.status, json.loads(raw) if raw else None, dict(answer.headers)
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                error = json.loads(raw)["error"]
            except (ValueError, KeyError, TypeError):
                raise ApiFailure(
                    exc.code, "http_error", raw.decode(errors="replace")[:200]
                ) from None
            raise ApiFailure(
                exc.code, error["code"], error["message"], error.get("details")
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ApiFailure(0, "unreachable", f"{self.base_url}: {exc}") from None
