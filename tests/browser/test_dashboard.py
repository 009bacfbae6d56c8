"""The dashboard in a real browser (issue #6 item 2): in `innobridge sandbox`, 张伟 registers
through the web chat, the admin 刘管理 asks /dashboard for a login link, opens it, approves
the application on the review queue page, and 张伟 is told in the web chat.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.webchat import WebChat
from tests.factories import credit_code

pytestmark = pytest.mark.browser

ZHANG, ADMIN = 1001, 9000
REFERENCE = re.compile(r"R\d{4}-\d{6}")
LINK = re.compile(r"https?://\S+/dashboard/login/[\w-]+")


async def _register_zhang(web: WebChat) -> str:
    await web.be(ZHANG)
    await web.say("/start")
    await web.press("企业用户")
    await web.sees("第 2 步，共 6 步")
    await web.say("张伟")
    await web.sees("第 3 步，共 6 步")
    await web.tap_keyboard("分享我的手机号")
    await web.sees("第 4 步，共 6 步")
    await web.say("如皋市星火科技有限公司")
    await web.sees("第 5 步，共 6 步")
    await web.say(credit_code("91320682MA1P0002"))
    await web.sees("第 6 步，共 6 步")
    await web.press("东陈镇")
    summary = await web.sees("请核对")
    await web.press("✅ 确认提交", within=summary)
    submitted = await web.sees("注册申请已提交")
    found = REFERENCE.search(await submitted.inner_text())
    assert found, "the applicant is given a reference"
    return found.group()


async def test_admin_approves_from_the_dashboard_and_the_applicant_is_told(
    page: Page, tmp_path: Path
) -> None:
    web = WebChat(page)
    reference = await _register_zhang(web)

    await web.be(ADMIN)
    await web.say("/dashboard")
    sent = await web.sees("登录链接")
    found = LINK.search(await sent.inner_text())
    assert found, "the admin is given a login link"

    dashboard = await page.context.new_page()
    await dashboard.goto(found.group())
    await expect(dashboard).to_have_url(re.compile(r"/dashboard$"))
    await expect(dashboard.get_by_text("平台统计")).to_be_visible()
    await dashboard.get_by_role("link", name="待审核").click()
    card = dashboard.locator("section").filter(has_text=reference)
    await expect(card).to_contain_text("张伟")
    await card.get_by_role("button", name="✅ 批准").click()
    await expect(dashboard.locator("#notice")).to_contain_text(f"已处理：{reference}")
    await expect(dashboard.locator("section").filter(has_text=reference)).to_have_count(0)
    shot = tmp_path / "dashboard.png"
    await dashboard.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 1000
    await dashboard.close()

    await web.be(ZHANG)
    told = await web.sees(re.compile(f"{reference}.*已通过审核"))
    await expect(told).to_contain_text("企业")
