"""The API keeps the contract of its own ``/openapi.json``, against the real stack.

``eventgate up`` (worker and API, on the test's Kafka and Redis) serves the document;
Schemathesis generates requests from it with the admin token `up` printed — every operation, its
examples, its coverage cases, fuzzed valid and invalid inputs, and stateful sequences
along the links it infers (create a type, then read, patch, validate, delete it…) — and
every check runs on every answer (``tests/contract/``):

- no 5xx (``not_a_server_error``);
- every status is a documented one, every body and header matches its schema, error
  codes included (``status_code_conformance``, ``response_schema_conformance``,
  ``response_headers_conformance``, ``content_type_conformance``);
- schema-invalid requests are refused (``negative_data_rejection``); methods the document
  does not list are 405 with ``Allow``, ``OPTIONS`` names the documented ones;
- no request valid by the document is refused with a schema-breach code
  (``no_undeclared_refusal``, ``tests/contract/hooks.py``);
- a deleted resource stays gone, a created one can be read (``use_after_free``,
  ``ensure_resource_availability``).

The seed is fixed (``CONTRACT_SEED``, default below), so a run depends on the code alone,
and it is bounded by examples per operation (``CONTRACT_EXAMPLES``, 30 here: about a
minute). ``make contract`` runs it longer with a new seed, printed for replay.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from stack import running_up

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "tests" / "contract"
SEED = int(os.environ.get("CONTRACT_SEED", "20261203"))
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "30"))


async def _seed_resources(api_url: str, token: str) -> None:
    """What the document's examples name (``purchase``), so generated requests reach past
    the 404 of an unknown key: a type with segmentation on and a workflow and a segment
    depending on it (which keep the fuzzed deletes from removing it)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"{api_url}/api/v1", headers=headers) as client:
        created = await client.post(
            "/event-types", json={"key": "purchase", "name": "Purchase", "segmentation": True}
        )
        assert created.status_code == 201, created.text
        workflow = {"name": "Thanks", "status": "active", "launchOn": ["purchase"]}
        assert (await client.put("/workflows/wf-1", json=workflow)).status_code == 201
        segment = {"name": "Buyers", "eventTypeKeys": ["purchase"]}
        assert (await client.put("/segments/seg-1", json=segment)).status_code == 201


def _schemathesis(api_url: str, token: str, report: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(CONTRACT / "hooks.py")}
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONTRACT / "schemathesis.toml"),
        "run",
        f"{api_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",  # replaced by hooks.py's no_undeclared_refusal
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES),
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, cwd=report.parent, check=False
    )


async def test_the_api_keeps_the_contract_of_its_openapi_document(
    services: Any, prefix: str, tmp_path: Path
) -> None:
    async with running_up(services, prefix, tmp_path) as up:  # as `make up` runs it
        await _seed_resources(up.api_url, up.token)
        report = tmp_path / "junit.xml"
        run = await asyncio.to_thread(_schemathesis, up.api_url, up.token, report)
        output = run.stdout + run.stderr
        print(output[-4000:])  # the summary, in pytest's captured output
        summary = re.search(r"(\d+) generated", output)
        assert run.returncode == 0, f"seed {SEED}:\n{output[-12000:]}"
        assert summary is not None and int(summary.group(1)) >= 500, output[-2000:]
        log = up.log()
    assert " Traceback" not in log and "internal error" not in log, log[-4000:]
