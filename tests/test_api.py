"""The JSON API (issue #6 item 1): every endpoint, paging, filters, tokens, scopes, masking.

What the provincial platform or the city portal would see when they pull data (Jiangsu
art. 10, 16), over HTTP against the production web app and a real database.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from models import api_tokens
from models.api_entities import ApiScope, ApiToken
from models.demand_entities import Demand
from models.entities import AuditLog, InstitutionTier, Organization, OrgKind, OrgStatus, Role
from models.evaluation_entities import Grade, RunStatus
from models.reminder_entities import DeliveryState, ReminderDelivery
from tests.api_support import admin, api_client, bearer, evaluated
from tests.conftest import make_staff
from tests.demand_support import (
    make_member,
    matched_demand,
    published_demand,
    submitted_demand,
)

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
async def api(database: str) -> AsyncIterator[Client]:
    """The web app on the test database."""
    async with api_client(database) as client:
        yield client


async def _get(api: Client, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = await api.get(f"/api/v1{path}", headers=headers, params=params)
    body = await response.json()
    return response.status, body


async def _market() -> dict[str, Any]:
    """Three published demands in two categories and townships, and one still in review."""
    reviewer = await make_staff(301, Role.REVIEWER, "王审核")
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    first = await published_demand(owner, reviewer)
    second = await published_demand(owner, reviewer, category="ip", township="jiuhua")
    third = await published_demand(owner, reviewer, title="材料疲劳试验")
    waiting = await submitted_demand(owner, title="尚未审核的需求")
    return {"owner": owner, "reviewer": reviewer, "demands": [first, second, third, waiting]}


async def test_demands_are_listed_in_pages_of_the_published_only(api: Client) -> None:
    market = await _market()
    first, second, third, waiting = market["demands"]
    headers = await bearer()
    status, page = await _get(api, "/demands", headers, limit=2)
    assert status == 200
    assert [d["reference"] for d in page["data"]] == [first.reference, second.reference]
    assert page["next_cursor"]
    status, rest = await _get(api, "/demands", headers, limit=2, cursor=page["next_cursor"])
    assert [d["reference"] for d in rest["data"]] == [third.reference]
    assert rest["next_cursor"] is None
    # The demand still in review never leaves the platform (Rugao art. 15-16).
    status, body = await _get(api, f"/demands/{waiting.reference}", headers)
    assert status == 404 and body["error"]["code"] == "not_found"
    one = page["data"][0]
    assert one["title"] == "红外光谱检测" and one["status"] == "published"
    assert one["owner"]["name"] == "如皋精密机械有限公司"
    assert one["matched_institution"] is None and one["attachments"] == 0


async def test_demands_are_filtered_by_status_category_township_and_time(api: Client) -> None:
    market = await _market()
    first, second, third, _ = market["demands"]
    institution = await make_member(401, "张工", Role.INSTITUTION, "南通检测中心")
    matched = await matched_demand(market["owner"], market["reviewer"], institution)
    headers = await bearer()

    async def refs(**params: Any) -> list[str]:
        status, body = await _get(api, "/demands", headers, **params)
        assert status == 200, body
        return [d["reference"] for d in body["data"]]

    assert await refs(category="ip") == [second.reference]
    assert await refs(township="jiuhua") == [second.reference]
    assert await refs(status="matched") == [matched.reference]
    assert await refs(status="published", category="testing") == [
        first.reference,
        third.reference,
    ]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    earlier = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert await refs(updated_since=later) == []
    assert len(await refs(updated_since=earlier)) == 4
    status, one = await _get(api, f"/demands/{matched.reference}", headers)
    assert one["matched_institution"]["name"] == "南通检测中心"


async def test_one_demand_by_reference_masks_the_contact(api: Client) -> None:
    market = await _market()
    demand = market["demands"][0]
    status, body = await _get(api, f"/demands/{demand.reference}", await bearer())
    assert status == 200
    assert body["reference"] == demand.reference
    assert body["contact"] == {"name": "王**", "phone": "138****0101", "telegram_id": None}
    assert body["wanted_by"] == demand.wanted_by.isoformat()


@pytest.mark.parametrize(
    ("reference", "status", "code"),
    [
        ("D2026-999999", 404, "not_found"),
        ("D1999-000001", 404, "not_found"),  # the right id with the wrong year
        ("X", 400, "invalid_parameter"),
        ("D2026-1", 400, "invalid_parameter"),
    ],
)
async def test_an_unknown_or_malformed_reference(
    api: Client, reference: str, status: int, code: str
) -> None:
    await _market()
    got, body = await _get(api, f"/demands/{reference}", await bearer())
    assert (got, body["error"]["code"]) == (status, code)
    if status == 400:
        assert body["error"]["parameter"] == "reference"


async def test_personal_data_needs_the_scope_and_is_audited(api: Client) -> None:
    market = await _market()
    demand = market["demands"][0]
    path = f"/demands/{demand.reference}"
    status, body = await _get(api, path, await bearer(ApiScope.READ), personal="true")
    assert status == 403 and body["error"]["code"] == "insufficient_scope"
    personal = await bearer(ApiScope.READ_PERSONAL, "市门户")
    status, body = await _get(api, path, personal)
    assert body["contact"]["name"] == "王**"  # masked unless asked for
    assert not await AuditLog.filter(action="api.personal_read").exists()
    status, body = await _get(api, path, personal, personal="true")
    assert status == 200
    assert body["contact"] == {"name": "王经理", "phone": "+8613800000101", "telegram_id": 101}
    status, page = await _get(api, "/demands", personal, personal="true")
    assert page["data"][0]["contact"]["name"] == "王经理"
    audits = await AuditLog.filter(action="api.personal_read").order_by("id")
    assert [a.after for a in audits] == [
        {"path": f"/api/v1{path}"},
        {"path": "/api/v1/demands"},
    ]


async def test_auth_failures_are_401_with_a_stable_code(api: Client) -> None:
    headers = await bearer()
    cases = [
        ({}, "missing_token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "invalid_token"),
        ({"Authorization": "Bearer "}, "invalid_token"),
        ({"Authorization": "Bearer ibk_not-a-real-token"}, "invalid_token"),
        ({"Authorization": headers["Authorization"] + "x"}, "invalid_token"),
    ]
    for sent, code in cases:
        response = await api.get("/api/v1/organisations", headers=sent)
        body = await response.json()
        assert (response.status, body["error"]["code"]) == (401, code), sent
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # The document itself is public: integrators read it before they have a token.
    response = await api.get("/api/v1/openapi.json")
    assert response.status == 200
    assert (await response.json())["openapi"] == "3.1.0"


async def test_a_revoked_token_stops_working_at_once(api: Client) -> None:
    issued = await api_tokens.issue(await admin(), "省平台", ApiScope.READ)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    status, _ = await _get(api, "/organisations", headers)
    assert status == 200
    await api_tokens.revoke(await admin(), issued.token.id)
    status, body = await _get(api, "/organisations", headers)
    assert (status, body["error"]["code"]) == (401, "token_revoked")


async def test_only_a_digest_of_the_secret_is_stored_and_use_is_recorded(api: Client) -> None:
    issued = await api_tokens.issue(await admin(), "省平台", ApiScope.READ)
    row = await ApiToken.get(id=issued.token.id)
    assert issued.secret not in (row.token_hash, row.hint)
    assert row.token_hash == api_tokens.digest(issued.secret)
    assert row.last_used_at is None
    await _get(api, "/organisations", {"Authorization": f"Bearer {issued.secret}"})
    assert (await ApiToken.get(id=row.id)).last_used_at is not None


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/demands", {"limit": "0"}, "limit"),
        ("/demands", {"limit": "101"}, "limit"),
        ("/demands", {"limit": "many"}, "limit"),
        ("/demands", {"cursor": "garbage"}, "cursor"),
        ("/demands", {"cursor": "b3JnYW5pc2F0aW9uczox"}, "cursor"),  # organisations:1
        ("/demands", {"status": "submitted"}, "status"),
        ("/demands", {"category": "astrology"}, "category"),
        ("/demands", {"township": "atlantis"}, "township"),
        ("/demands", {"updated_since": "2026-01-01T00:00:00"}, "updated_since"),  # no zone
        ("/demands", {"updated_since": "yesterday"}, "updated_since"),
        ("/demands", {"updated_since": "9999-12-31T23:59:59-23:59"}, "updated_since"),
        ("/demands", {"personal": "maybe"}, "personal"),
        ("/organisations", {"tier": "gold"}, "tier"),
        ("/organisations", {"kind": "person"}, "kind"),
        ("/engagements", {"institution_id": "99999999999"}, "institution_id"),
        ("/reminder-deliveries", {"state": "lost"}, "state"),
        ("/reminder-deliveries", {"rule": "no\x00pe"}, "rule"),
        ("/evaluations/1999", {}, "year"),
        ("/evaluations/this-year", {}, "year"),
    ],
)
async def test_bad_parameters_are_400_naming_the_parameter(
    api: Client, path: str, params: dict[str, str], parameter: str
) -> None:
    status, body = await _get(api, path, await bearer(), **params)
    assert status == 400, body
    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["parameter"] == parameter


async def test_unknown_paths_and_methods_answer_json(api: Client) -> None:
    headers = await bearer()
    status, body = await _get(api, "/nothing-here", headers)
    assert (status, body["error"]["code"]) == (404, "not_found")
    response = await api.post("/api/v1/demands", headers=headers, json={})
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_organisations_carry_tier_and_latest_published_grade(api: Client) -> None:
    lab = await make_member(401, "张工", Role.INSTITUTION, "南通检测中心")
    await make_member(402, "赵工", Role.INSTITUTION, "苏州孵化器", tier=InstitutionTier.VOUCHER)
    await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    await Organization.create(name="待审核公司", kind=OrgKind.ENTERPRISE, status=OrgStatus.PENDING)
    lab_org = await Organization.get(id=lab.organization_id)
    await evaluated(lab_org, 2024, Grade.GOOD, RunStatus.PUBLISHED, "86.50")
    await evaluated(lab_org, 2025, Grade.EXCELLENT, RunStatus.NOTICE)  # not yet published
    headers = await bearer()
    status, page = await _get(api, "/organisations", headers)
    assert status == 200
    by_name = {o["name"]: o for o in page["data"]}
    assert set(by_name) == {"南通检测中心", "苏州孵化器", "如皋精密机械有限公司"}
    assert by_name["南通检测中心"]["tier"] == "service"
    assert by_name["南通检测中心"]["latest_grade"] == {
        "year": 2024,
        "grade": "good",
        "stars": 4,
        "score": "86.50",
    }
    assert by_name["苏州孵化器"]["latest_grade"] is None
    status, vouchers = await _get(api, "/organisations", headers, tier="voucher")
    assert [o["name"] for o in vouchers["data"]] == ["苏州孵化器"]
    status, firms = await _get(api, "/organisations", headers, kind="enterprise", limit=1)
    assert [o["name"] for o in firms["data"]] == ["如皋精密机械有限公司"]
    assert firms["next_cursor"] is None


async def test_evaluations_of_a_year_only_once_published(api: Client) -> None:
    first = await make_member(401, "张工", Role.INSTITUTION, "南通检测中心")
    second = await make_member(402, "赵工", Role.INSTITUTION, "苏州孵化器")
    for user in (first, second):
        org = await Organization.get(id=user.organization_id)
        await evaluated(org, 2024, Grade.GOOD, RunStatus.PUBLISHED)
        await evaluated(org, 2025, Grade.GOOD, RunStatus.COMPUTED)
    headers = await bearer()
    status, page = await _get(api, "/evaluations/2024", headers, limit=1)
    assert status == 200
    assert page["data"][0]["organisation"]["name"] == "南通检测中心"
    assert page["data"][0]["grade"] == "good" and page["data"][0]["indicators"]
    status, rest = await _get(api, "/evaluations/2024", headers, cursor=page["next_cursor"])
    assert [e["organisation"]["name"] for e in rest["data"]] == ["苏州孵化器"]
    # A cursor of 2024 is not one of 2025, and a computed run is not published.
    status, body = await _get(api, "/evaluations/2025", headers)
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await _get(api, "/evaluations/2023", headers)
    assert status == 404


async def test_engagements_with_their_demand_and_institution(api: Client) -> None:
    market = await _market()
    lab = await make_member(401, "张工", Role.INSTITUTION, "南通检测中心")
    other = await make_member(402, "赵工", Role.INSTITUTION, "苏州孵化器")
    matched = await matched_demand(market["owner"], market["reviewer"], lab)
    headers = await bearer()
    status, page = await _get(api, "/engagements", headers)
    assert status == 200
    [engagement] = page["data"]
    assert engagement["demand_reference"] == matched.reference
    assert engagement["status"] == "matched"
    assert engagement["institution"]["name"] == "南通检测中心"
    status, none = await _get(
        api, "/engagements", headers, institution_id=str(other.organization_id)
    )
    assert none["data"] == []


async def test_reminder_deliveries_mask_the_recipient(api: Client) -> None:
    lab = await make_member(401, "张工", Role.INSTITUTION, "南通检测中心")
    now = datetime.now(UTC)
    for rule, state in (("annual_report", DeliveryState.SENT), ("feedback", DeliveryState.FAILED)):
        await ReminderDelivery.create(
            rule=rule, recipient_id=lab.id, occurrence="2026", due_at=now, state=state
        )
    status, page = await _get(api, "/reminder-deliveries", await bearer())
    assert status == 200
    assert [d["rule"] for d in page["data"]] == ["annual_report", "feedback"]
    assert page["data"][0]["recipient"] == {
        "name": "张*",
        "phone": "138****0401",
        "telegram_id": None,
    }
    status, failed = await _get(api, "/reminder-deliveries", await bearer(), state="failed")
    assert [d["rule"] for d in failed["data"]] == ["feedback"]
    personal = await bearer(ApiScope.READ_PERSONAL, "市门户")
    status, full = await _get(api, "/reminder-deliveries", personal, rule="feedback", personal="1")
    assert full["data"][0]["recipient"]["telegram_id"] == lab.id


async def test_no_personal_data_or_secret_in_urls_or_logs(
    api: Client, caplog: pytest.LogCaptureFixture
) -> None:
    market = await _market()
    demand: Demand = market["demands"][0]
    issued = await api_tokens.issue(await admin(), "市门户", ApiScope.READ_PERSONAL)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    with caplog.at_level(logging.DEBUG):
        status, body = await _get(api, f"/demands/{demand.reference}", headers, personal="true")
        await _get(api, "/demands", headers, personal="true", limit=1)
    assert body["contact"]["phone"] == "+8613800000101"
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert f"GET /api/v1/demands/{demand.reference}" in logged  # the access log was captured
    for secret in ("王经理", "13800000101", issued.secret, "Bearer"):
        assert secret not in logged
