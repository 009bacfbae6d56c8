"""The OpenAPI document of /api/v1: valid OpenAPI 3.1, complete, and true to the server.

Schemathesis generates requests from the document (valid ones and invalid ones) and sends
them to the running app on a real port; no answer may be a server error, and every answer
must match what the document says (status, content type, body schema). The number of
examples is bounded and the generation derandomised, so the run is short and repeatable.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, Phase
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from bot.api import DOCUMENT, PREFIX, create_api_app
from bot.config import Settings, load_platform
from bot.web import create_web_app
from models.api_entities import ApiScope
from models.entities import Organization, Role
from models.evaluation_entities import Grade, RunStatus
from models.reminder_entities import ReminderDelivery
from tests.api_support import api_client, bearer, evaluated
from tests.conftest import make_staff
from tests.demand_support import make_member, matched_demand, published_demand

Client = TestClient  # type: ignore[type-arg]
EXAMPLES = 15  # per operation and mode: about 200 requests in all
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
async def api(database: str) -> AsyncIterator[Client]:
    """The web app on the test database."""
    async with api_client(database) as client:
        yield client


def _api_document() -> dict[str, Any]:
    return create_api_app(load_platform(None))[DOCUMENT]


def test_the_document_is_valid_openapi_3_1() -> None:
    document = _api_document()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": PREFIX}]


def test_every_route_of_the_app_is_in_the_document_and_nothing_else() -> None:
    app = create_web_app(Settings(_env_file=None))  # type: ignore[call-arg]
    served = set()
    for resource in app.router.resources():
        sub = getattr(resource, "_app", None)
        if sub is None:
            continue
        for route in sub.router.routes():
            path = route.resource.canonical.removeprefix(PREFIX)
            served.add((route.method.lower(), path))
    documented = {
        (method, path) for path, item in _api_document()["paths"].items() for method in item
    }
    assert served == documented
    assert ("get", "/demands/{reference}") in served


async def _seed() -> dict[str, str]:
    """Some of everything, so that generated requests find records to answer with."""
    reviewer = await make_staff(301, Role.REVIEWER, "王审核")
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    lab = await make_member(401, "张工", Role.INSTITUTION, "南通检测中心")
    await published_demand(owner, reviewer)
    await matched_demand(owner, reviewer, lab)
    org = await Organization.get(id=lab.organization_id)
    await evaluated(org, 2024, Grade.GOOD, RunStatus.PUBLISHED)
    await ReminderDelivery.create(
        rule="annual_report", recipient_id=lab.id, occurrence="2026", due_at=org.created_at
    )
    return await bearer(ApiScope.READ_PERSONAL)


def _run(operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> set[int]:
    """One operation in one mode; the statuses it answered with."""
    statuses: set[int] = set()

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, headers=headers)
        if response.status_code == 400 and mode is GenerationMode.POSITIVE:
            # Only a cursor can be well-formed for the document yet not be one of ours.
            assert response.json()["error"]["parameter"] == "cursor", case.query
        statuses.add(response.status_code)
        case.validate_response(response, checks=CHECKS)

    check()
    return statuses


def _fuzz(
    document: dict[str, Any], base_url: str, headers: dict[str, str]
) -> tuple[list[str], dict[str, set[int]]]:
    """Run schemathesis over every operation (in a thread: its HTTP client is synchronous).

    Returns the failures and, per operation and mode, the statuses it answered with."""
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    seen: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        has_parameters = bool(document["paths"][operation.path]["get"].get("parameters"))
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and not has_parameters:
                continue  # nothing to get wrong
            label = f"{operation.label} {mode.value}"
            try:
                seen[label] = _run(operation, mode, base_url, headers)
            except Exception as failure:  # noqa: BLE001 — reported together below
                failures.append(f"{label}: {failure}")
    return failures, seen


async def test_schemathesis_finds_no_server_error_and_no_drift(api: Client) -> None:
    headers = await _seed()
    base_url = str(api.make_url(PREFIX))
    document = await (await api.get(f"{PREFIX}/openapi.json")).json()
    failures, seen = await asyncio.to_thread(_fuzz, document, base_url, headers)
    assert failures == []
    # The run reached the data (valid requests answered 200; a generated reference or year
    # may well not exist) and invalid ones were refused.
    for label, statuses in seen.items():
        if label.endswith("positive"):
            assert statuses <= {200, 400, 404}, (label, statuses)
            assert 200 in statuses or "{" in label, (label, statuses)
        else:
            # Unknown extra parameters are ignored (200); a broken one is refused.
            assert 400 in statuses and statuses <= {200, 400, 401, 404}, (label, statuses)
