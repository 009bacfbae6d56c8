"""Issue #9 in the sandbox, in a real browser against the real `innobridge sandbox` process
(seeded by bot/sandbox/listings.py): 李经理 finds the spectrometer by 光谱 with its owner's
tier and evaluation stars, books a slot, and 赵检测 accepts it into an engagement; 李经理 asks
about the research team's achievement and 陈教授, the research persona, accepts the enquiry.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import STEP_MS
from tests.browser.webchat import WebChat

pytestmark = pytest.mark.browser

OWNER, INSTITUTION, RESEARCHER = 9101, 9201, 9401
INSTRUMENT, ACHIEVEMENT = "傅里叶红外光谱仪", "石墨烯导热膜低成本制备技术"


def weekday_slot() -> str:
    """A slot on a working day two or more days ahead, within the instrument's open hours."""
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=2)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return f"{day.isoformat()} 09:00-11:00"


async def test_an_instrument_is_found_booked_and_an_achievement_enquired(page: Page) -> None:
    web = WebChat(page)
    await web.be(OWNER)
    await web.say("/search 光谱")
    results = await web.pin(await web.sees(INSTRUMENT))
    # The owner's tier and the stars of its latest published evaluation (Rugao art. 20).
    owner_line = re.compile(r"如皋市检验检测中心 · 创新券服务机构 · \d{4} 年度评价 [★☆]{5}")
    await expect(results).to_contain_text(owner_line)
    await web.press(f"1. {INSTRUMENT}", within=results)
    card = await web.pin(await web.sees("Nicolet iS50"))
    await web.press("📅 预约", within=card)
    await web.press("送样（由管理员测试）", within=await web.sees("请选择使用方式"))
    await web.sees("请输入日期和时段")
    await web.say(weekday_slot())
    await web.sees("请说明用途")
    await web.say("三批高分子样品做红外光谱分析")
    await web.sees(re.compile(r"预约 B\d{4}-\d{6} 已提交"))

    await web.be(INSTITUTION)
    booking = await web.pin(await web.sees("新预约"))
    await expect(booking).to_contain_text("如皋市示范智能装备有限公司")
    await web.press("✅ 接受", within=booking)
    await expect(booking).to_contain_text("已接受", timeout=STEP_MS)
    await web.sees("李经理")  # the requester's contact, as for an accepted offer

    await web.be(OWNER)
    engaged = await web.sees("赵检测")
    await expect(engaged.get_by_role("button", name="📄 备案合同")).to_be_visible()
    await web.say("/search 石墨烯")
    found = await web.pin(await web.sees(ACHIEVEMENT))
    await expect(found).to_contain_text("南通大学材料科学团队")
    await web.press(f"1. {ACHIEVEMENT}", within=found)
    await web.press("💬 咨询", within=await web.sees("ZL201910123456.X"))
    await web.sees("请写明您的需求")
    await web.say("想了解石墨烯导热膜的中试线投资规模和许可方式。")
    await web.sees("已发送")

    await web.be(RESEARCHER)
    enquiry = await web.pin(await web.sees("新咨询"))
    await expect(enquiry).to_contain_text("中试线投资规模")
    await web.press("✅ 接受", within=enquiry)
    await web.sees("李经理")


async def test_the_tour_describes_the_catalogue(page: Page) -> None:
    await page.get_by_role("link", name="导览").click()
    zh = page.get_by_test_id("tour-catalog-zh")
    await expect(zh.get_by_role("heading")).to_contain_text("资源目录")
    await expect(zh).to_contain_text("/search 光谱")
    await expect(zh).to_contain_text("陈教授")
    await expect(page.get_by_test_id("tour-catalog-en")).to_contain_text("/search 光谱")
