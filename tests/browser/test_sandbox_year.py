"""Issue #5's last "Done when": in the sandbox, an admin persona runs the platform's year, in a
real browser against the real `innobridge sandbox` process (seeded by bot/sandbox/year.py).

刘管理 promotes 如皋市工业设计服务中心 to the voucher tier under public notice; 李经理 objects;
刘管理 dismisses the objection, evaluates last year (grades, the two-fails flag) and opens its
notice; ⏩ moves the sandbox's calendar 8 days on, so both notices end (the tier changes, the
evaluation is published); 赵检测 reads its own result; 刘管理 exports a table and broadcasts a
notice to enterprises, which 李经理 gets. The sandbox runs the reminder engine every 5 s, so
the engine's deliveries (the broadcast, the results) arrive within a step's wait.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import STEP_MS
from tests.browser.webchat import WebChat

pytestmark = pytest.mark.browser

ADMIN, OWNER, INSTITUTION = 9000, 9101, 9201
PROMOTED = "如皋市工业设计服务中心"
TWICE_FAILED = "如皋市材料分析实验室"  # unqualified the year before too (bot/sandbox/year.py)
INSTITUTION_ORG = "如皋市检验检测中心"
OBJECTION = "该中心去年有两个项目延期交付，建议核实后再晋级。"
NOTICE_TEXT = "请各企业于本月底前提交年度科技创新需求。"
# The engine's first tick comes 10 s after start-up, then one every 5 s: a delivery by the
# engine may take a tick and a send longer than a reply does.
ENGINE_MS = 3 * STEP_MS


def last_year() -> int:
    """The year the evaluation covers: last year, where the platform is."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).year - 1


async def promote(web: WebChat) -> str:
    """刘管理 opens the institution's card from /tier and promotes it; the notice's reference."""
    await web.be(ADMIN)
    await web.command("tier")
    listing = await web.pin(await web.sees("家服务机构"))
    await web.press(f"{PROMOTED} · 服务机构 · 正常", within=listing)
    await expect(listing).to_contain_text("级别：服务机构")
    await web.press("⬆️ 晋升为创新券服务机构", within=listing)
    await expect(listing).to_contain_text("已发起公示", timeout=STEP_MS)
    found = re.search(r"已发起公示 (\S+)：", await listing.inner_text())
    assert found, "the admin is given the notice's reference"
    return found.group(1)


async def object_to(web: WebChat, notice: str) -> str:
    """李经理 objects to the promotion with /object and a reason; the objection's reference."""
    await web.be(OWNER)
    await web.command("object")
    item = await web.sees(f"公示 {notice}")
    await expect(item).to_contain_text(f"{PROMOTED} 拟晋升为创新券服务机构")
    await web.press("🙅 提出异议", within=item)
    await web.sees("异议理由")
    await web.say(OBJECTION)
    filed = await web.sees("已提交异议")
    found = re.search(r"已提交异议 (\S+)，", await filed.inner_text())
    assert found, "the objector is given the objection's reference"
    return found.group(1)


async def dismiss(web: WebChat, objection: str) -> None:
    """刘管理 reads the objection and dismisses it: the promotion stays under notice."""
    await web.be(ADMIN)
    card = await web.sees(f"异议 {objection}")
    await expect(card).to_contain_text(OBJECTION)
    await web.press("❌ 异议不成立", within=card)
    await expect(card).to_contain_text("状态：异议不成立", timeout=STEP_MS)
    await expect(card.get_by_role("button")).to_have_count(0)


async def evaluate(web: WebChat, year: int) -> str:
    """刘管理 computes last year: grades and the two-fails flag; opens the notice."""
    await web.say(f"/evaluate {year}")
    card = await web.pin(await web.sees("已计算考核"))
    for shown in (f"{year} 年度考核 · 草稿", INSTITUTION_ORG, "等次分布", "不合格"):
        await expect(card).to_contain_text(shown)
    await expect(card).to_contain_text(re.compile(f"连续两年不合格（1 家）：{TWICE_FAILED}"))
    await web.press("📢 发起公示", within=card)
    await expect(card).to_contain_text("已发起公示", timeout=STEP_MS)
    await expect(card).to_contain_text("公示中")
    found = re.search(r"📊 (\S+) ", await card.inner_text())
    assert found, "the card quotes the run's reference"
    return found.group(1)


async def skip_a_week(web: WebChat) -> None:
    """⏩ 8 天后: the daily jobs run as of 8 days on; the page says what changed."""
    await web.page.get_by_test_id("clock-skip").click()
    await expect(web.toast).to_contain_text(re.compile(r"处理事项：[1-9]"), timeout=STEP_MS)


async def export(web: WebChat) -> None:
    """刘管理 exports the evaluations, masked, as XLSX: the file arrives in the chat."""
    await web.command("export")
    menu = await web.pin(await web.sees("选择要导出的表"))
    await web.press("考核评价", within=menu)
    await expect(menu).to_contain_text("选择文件格式")
    await web.press("XLSX", within=menu)
    await expect(menu).to_contain_text("是否脱敏")
    await web.press("🔒 脱敏导出（推荐）", within=menu)
    sent = await web.sees("「考核评价」共")
    link = sent.get_by_role("link", name=re.compile(r"^innobridge-evaluations-.*\.xlsx$"))
    await expect(link).to_be_visible()
    download = await web.page.request.get(await link.evaluate("a => a.href"))
    assert (await download.body())[:2] == b"PK", "an XLSX workbook (a zip) is downloaded"


async def broadcast(web: WebChat) -> Locator:
    """刘管理 broadcasts a text to enterprise users; the progress message, once done."""
    await web.command("broadcast")
    await web.sees("请发送通知正文")
    await web.say(NOTICE_TEXT)
    picker = await web.pin(await web.sees("选择接收对象"))
    await web.press("▫️ 企业用户", within=picker)
    await expect(picker.get_by_role("button", name="✅ 企业用户")).to_be_visible()
    await expect(picker).to_contain_text("角色：企业用户")
    await web.press("👀 预览", within=picker)
    summary = await web.pin(await web.sees("第 3 步，共 3 步"))
    await expect(summary).to_contain_text("接收人数：1")  # 李经理, the one reachable
    await expect(summary).to_contain_text("未设免打扰时段")  # the sandbox sends at any hour
    await web.press("✅ 确认发送", within=summary)
    await expect(summary).to_contain_text("已完成：已发送 1 / 1，失败 0", timeout=ENGINE_MS)
    return summary


async def test_the_admin_runs_the_year(page: Page, tmp_path: Path) -> None:
    web = WebChat(page)
    year = last_year()
    notice = await promote(web)
    objection = await object_to(web, notice)
    await dismiss(web, objection)
    run = await evaluate(web, year)

    await skip_a_week(web)
    await web.say(f"/tier {PROMOTED}")  # the notice ended without an upheld objection
    promoted = await web.sees(re.compile(f"{PROMOTED}.*级别：创新券服务机构", re.S))
    await expect(promoted).not_to_contain_text(notice)  # no notice open any more
    await web.sees(f"{year} 年度考核 {run}（8 家机构）已公布")  # admins are told
    await web.say(f"/evaluate {year}")
    card = await web.sees(f"考核 {run} 已进入公示或已公布")
    await expect(card).to_contain_text(f"{year} 年度考核 · 已公布")
    await expect(card.get_by_role("button")).to_have_count(0)

    await web.be(INSTITUTION)
    told = web.messages("bot").filter(has_text=f"{run} {year} 年度服务机构考核结果")
    await expect(told.last).to_be_visible(timeout=ENGINE_MS)  # the engine tells it
    await web.say("/evaluation")
    own = await web.sees(re.compile(f"{INSTITUTION_ORG}：\\S+"))
    await expect(own).to_contain_text(re.compile(r"排名 \d+/\d+"))
    await expect(own).not_to_contain_text("公示中")

    await web.be(ADMIN)
    await export(web)
    await broadcast(web)

    await web.be(OWNER)
    received = await web.sees("平台通知")
    await expect(received).to_contain_text(NOTICE_TEXT)

    shot = tmp_path / "admin-year.png"
    await page.screenshot(path=shot)
    assert shot.stat().st_size > 1000, "the screenshot shows the page"


async def test_the_tour_describes_the_admins_year(page: Page) -> None:
    await page.get_by_role("link", name="导览").click()
    await expect(page.get_by_role("heading", name="管理员的一年")).to_be_visible()
    steps = page.get_by_test_id("tour-year-zh").get_by_role("listitem")
    await expect(steps.first).to_contain_text("/tier")
    await expect(page.get_by_test_id("tour-year-zh")).to_contain_text("⏩ 8 天后")
    await expect(page.get_by_test_id("tour-year-zh")).to_contain_text("/voucher")
    english = page.get_by_test_id("tour-year-en")
    await expect(english.get_by_role("heading", name="The admin's year")).to_be_visible()
    await expect(english).to_contain_text("moves the sandbox's calendar")
