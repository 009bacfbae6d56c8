"""The web dashboard (issue #6 items 2 and 4): a login link from the chat, the review queue
deciding through the same domain as the chat (the applicant hears in Telegram), and the
admin's overview pages. The web app runs in aiohttp's TestClient beside the real bot.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings
from bot.emulator import EmulatedUser
from bot.web import BOT_READY, create_web_app
from models import dashboard, review
from models.dashboard_entities import DashboardLink, DashboardSession
from models.demand_entities import Demand, DemandStatus
from models.entities import (
    AuditLog,
    Registration,
    RegistrationStatus,
    Review,
    ReviewStatus,
    Role,
    User,
)
from models.reminder_entities import ReminderDelivery
from tests.conftest import ADMIN_ID, TOKEN, Harness, make_staff
from tests.demand_support import make_member, submitted_demand
from tests.factories import register_enterprise
from tests.reminder_support import started

LINK = re.compile(r"https?://[^/\s]+(/dashboard/login/[\w-]+)")


@pytest.fixture
async def web(harness: Harness) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    settings = Settings(_env_file=None, bot_token=TOKEN)  # type: ignore[call-arg]
    app = create_web_app(settings)
    app[BOT_READY]["application"] = harness.application
    async with TestClient(TestServer(app)) as client:
        yield client


def _client(web: TestClient) -> TestClient:  # type: ignore[type-arg]
    """Another browser on the same server (its own cookie jar)."""
    return TestClient(TestServer(web.server.app))


async def _link(person: EmulatedUser) -> str:
    await person.send("/dashboard")
    found = LINK.search(person.last.text)
    assert found, person.last.text
    return found.group(1)


async def _login(web: TestClient, person: EmulatedUser) -> None:  # type: ignore[type-arg]
    response = await web.get(await _link(person), allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/dashboard"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found
    return found.group(1)


async def _admin(harness: Harness, lang: str = "zh-CN") -> EmulatedUser:
    await User.filter(id=ADMIN_ID).update(language_code=lang, real_name="刘管理")
    return harness.person(ADMIN_ID, "刘管理", language_code=lang)


async def _pending_registration(harness: Harness) -> tuple[EmulatedUser, Registration, Review]:
    zhang = harness.person(201, "张伟")
    await register_enterprise(zhang)
    await zhang.press("✅ 确认提交")
    application = await Registration.get(user_id=201)
    target = await Review.get(subject_id=application.id, subject_type="registration")
    return zhang, application, target


async def test_admin_logs_in_with_a_single_use_link_in_chinese(harness: Harness, web) -> None:
    admin = await _admin(harness)
    path = await _link(admin)
    assert "10 分钟内有效" in admin.last.text and "只能使用一次" in admin.last.text
    stored = await DashboardLink.get(user_id=ADMIN_ID)
    assert stored.token_hash not in path and path.rsplit("/", 1)[1] not in stored.token_hash
    response = await web.get(path, allow_redirects=False)
    assert response.status == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = await web.get("/dashboard")
    assert page.status == 200
    text = await page.text()
    assert "平台统计" in text and "待审核" in text and "/dashboard/chart.png" in text
    chart = await web.get("/dashboard/chart.png")
    assert (await chart.read()).startswith(b"\x89PNG\r\n\x1a\n")
    again = await web.get(path, allow_redirects=False)
    assert again.status == 410 and "已经使用过" in await again.text()


async def test_english_admin_reads_english_and_https_makes_the_cookie_secure(
    harness: Harness, web
) -> None:
    admin = await _admin(harness, "en")
    path = await _link(admin)
    assert "valid 10 minutes, once only" in admin.last.text
    response = await web.get(path, allow_redirects=False, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in response.headers["Set-Cookie"]
    unknown = await web.get("/dashboard/login/nonsense", headers={"Accept-Language": "en"})
    assert unknown.status == 404 and "not valid" in await unknown.text()


async def test_expired_link_and_expired_session_are_refused(harness: Harness, web) -> None:
    admin = await _admin(harness)
    path = await _link(admin)
    await DashboardLink.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    response = await web.get(path)
    assert response.status == 410 and "已过期" in await response.text()
    await _login(web, admin)
    assert (await web.get("/dashboard")).status == 200
    await DashboardSession.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    late = await web.get("/dashboard")
    assert late.status == 401 and "/dashboard" in await late.text()


async def test_expired_links_and_sessions_are_deleted_a_day_later(harness: Harness, web) -> None:
    admin = await _admin(harness)
    old_link = await _link(admin)
    await _login(web, admin)  # spends a second link, starts a session
    await _link(admin)  # live
    now = datetime.now(UTC)
    token = old_link.rsplit("/", 1)[-1]
    expired = now - dashboard.KEPT_AFTER_EXPIRY - timedelta(hours=1)
    await DashboardLink.filter(token_hash=dashboard._hash(token)).update(expires_at=expired)
    await DashboardSession.all().update(expires_at=expired)
    await dashboard.forget_expired(now.date() + timedelta(days=1))
    assert await DashboardLink.all().count() == 2 and await DashboardSession.all().count() == 0
    assert (await web.get(old_link)).status == 404  # forgotten: an unknown link
    assert await AuditLog.filter(action="dashboard.login").count() == 1  # the login stays


async def test_links_are_rate_limited(harness: Harness) -> None:
    admin = await _admin(harness)
    for _ in range(5):
        await _link(admin)
    await admin.send("/dashboard")
    assert "过于频繁" in admin.last.text and "/dashboard/login/" not in admin.last.text
    assert await DashboardLink.all().count() == 5


async def test_other_roles_get_no_link_and_a_demoted_reviewer_loses_access(
    harness: Harness, web
) -> None:
    zhang, _, _ = await _pending_registration(harness)
    await zhang.send("/dashboard")
    assert "只有管理员和审核员" in zhang.last.text
    await make_staff(301, Role.REVIEWER, "王审核")
    wang = harness.person(301, "王审核")
    await _login(web, wang)
    queue = await web.get("/dashboard/reviews")
    assert queue.status == 200 and "张伟" in await queue.text()
    # A reviewer sees the queue, not the admin's pages.
    assert (await web.get("/dashboard/audit")).status == 403
    overview = await web.get("/dashboard", allow_redirects=False)
    assert overview.headers["Location"] == "/dashboard/reviews"
    await User.filter(id=301).update(role=Role.ENTERPRISE)
    refused = await web.get("/dashboard/reviews")
    assert refused.status == 401 and "张伟" not in await refused.text()


async def test_a_form_without_its_csrf_token_changes_nothing(harness: Harness, web) -> None:
    _, _, target = await _pending_registration(harness)
    admin = await _admin(harness)
    await _login(web, admin)
    for form in ({"action": "approve"}, {"action": "approve", "csrf": "0" * 64}):
        response = await web.post(f"/dashboard/reviews/{target.id}", data=form)
        assert response.status == 403 and "未作任何更改" in await response.text()
    assert (await Review.get(id=target.id)).status is ReviewStatus.PENDING
    assert (await web.get(f"/dashboard/reviews/{target.id}")).status == 405


async def test_approve_from_the_web_tells_the_applicant_and_a_second_decision_names_who(
    harness: Harness, web
) -> None:
    zhang, application, target = await _pending_registration(harness)
    admin = await _admin(harness)
    await _login(web, admin)
    queue = await (await web.get("/dashboard/reviews")).text()
    assert application.reference in queue and "张伟" in queue
    assert "13800000201" not in queue  # the phone is masked as on the chat's card
    await make_staff(301, Role.REVIEWER, "王审核")
    wang = harness.person(301, "王审核")
    async with _client(web) as other:
        await _login(other, wang)
        other_csrf = _csrf(await (await other.get("/dashboard/reviews")).text())
        first = await web.post(
            f"/dashboard/reviews/{target.id}", data={"action": "approve", "csrf": _csrf(queue)}
        )
        assert first.status == 200 and f"已处理：{application.reference}" in await first.text()
        assert application.reference in zhang.last.text and "已通过审核" in zhang.last.text
        second = await other.post(
            f"/dashboard/reviews/{target.id}",
            data={"action": "reject", "reason": "材料不全", "csrf": other_csrf},
        )
        assert second.status == 409 and "刘管理" in await second.text()
    assert (await Registration.get(id=application.id)).status is RegistrationStatus.APPROVED


async def test_reject_needs_a_reason_and_two_browsers_at_once_decide_once(
    harness: Harness, web
) -> None:
    zhang, application, target = await _pending_registration(harness)
    admin = await _admin(harness)
    await _login(web, admin)
    csrf = _csrf(await (await web.get("/dashboard/reviews")).text())
    url = f"/dashboard/reviews/{target.id}"
    empty = await web.post(url, data={"action": "reject", "reason": " ", "csrf": csrf})
    assert empty.status == 400 and "驳回理由" in await empty.text()
    assert (await Review.get(id=target.id)).status is ReviewStatus.PENDING
    form = {"action": "reject", "reason": "营业执照不清晰", "csrf": csrf}
    statuses = sorted(
        r.status for r in await asyncio.gather(web.post(url, data=form), web.post(url, data=form))
    )
    assert statuses == [200, 409]
    assert "营业执照不清晰" in zhang.last.text
    assert (await Registration.get(id=application.id)).status is RegistrationStatus.REJECTED


async def test_logout_ends_the_session_and_admin_pages_list(harness: Harness, web) -> None:
    await _pending_registration(harness)
    admin = await _admin(harness)
    await _login(web, admin)
    audit = await (await web.get("/dashboard/audit")).text()
    assert "dashboard.login" in audit and "刘管理" in audit
    assert (await web.get("/dashboard/institutions")).status == 200
    due = datetime(2030, 12, 1, 1, 30, tzinfo=UTC)
    await ReminderDelivery.create(rule="pending_reviews", recipient_id=ADMIN_ID, occurrence="x",
                                  due_at=due)  # fmt: skip
    reminders = await web.get("/dashboard/reminders")
    # Rules and states by name, times in the platform's zone (Asia/Shanghai, UTC+8).
    assert reminders.status == 200
    shown = await reminders.text()
    assert "待审提醒" in shown and "待发送" in shown and "2030-12-01 09:30" in shown
    assert "pending_reviews" not in shown
    page = await (await web.get("/dashboard/reviews")).text()
    out = await web.post("/dashboard/logout", data={"csrf": _csrf(page)})
    assert out.status == 200 and "已退出" in await out.text()
    assert (await web.get("/dashboard/reviews")).status == 401


async def test_a_demand_is_approved_from_the_web_only_with_the_whole_checklist(
    harness: Harness, web
) -> None:
    # Rugao art. 15: the publishing checklist; the web form carries it as three boxes.
    owner_user = await make_member(311, "李经理", Role.ENTERPRISE, "如皋市星火科技有限公司")
    li = await started(harness, owner_user)
    demand = await submitted_demand(owner_user)
    target = await Review.get(subject_type="demand", subject_id=demand.id)
    admin = await _admin(harness)
    await _login(web, admin)
    queue = await (await web.get("/dashboard/reviews")).text()
    assert queue.count('name="check"') == 3 and demand.reference in queue
    partial = await web.post(
        f"/dashboard/reviews/{target.id}",
        data=[("action", "approve"), ("csrf", _csrf(queue)), ("check", "no_secret"),
              ("check", "compliant"), ("check", "forged_item")],
    )  # fmt: skip
    assert partial.status == 400 and "审核要点" in await partial.text()
    assert (await Demand.get(id=demand.id)).status is DemandStatus.SUBMITTED
    whole = await web.post(
        f"/dashboard/reviews/{target.id}",
        data=[("action", "approve"), ("csrf", _csrf(queue))]
        + [("check", item) for item in review.CHECKLIST],
    )
    assert whole.status == 200
    assert (await Demand.get(id=demand.id)).status is DemandStatus.PUBLISHED
    assert demand.reference in li.last.text
    decided = await Review.get(id=target.id)
    assert decided.status is ReviewStatus.APPROVED and decided.checklist == list(review.CHECKLIST)
