"""Issue #3 "Done when": in the sandbox, a person plays the demand lifecycle end to end with the
personas, in a real browser against the real `innobridge sandbox` process.

李经理 submits a demand with /new (with an attachment), 王审核 ticks the checklist and approves,
赵检测 is recommended it and offers help, 李经理 accepts, 赵检测 files the contract, 王审核
acknowledges it, 赵检测 marks it delivered, 李经理 confirms completion and rates, 赵检测 sees the
scores. Nobody but the newcomers sends /start: the seeded personas have used the bot before.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import STEP_MS
from tests.browser.webchat import WebChat

pytestmark = pytest.mark.browser

ADMIN, REVIEWER, OWNER, INSTITUTION = 9000, 9001, 9101, 9201
REFERENCE = re.compile(r"D\d{4}-\d{6}")
TITLE = "复合材料出口检测标准咨询"
PROPOSAL = "我们熟悉相关国家标准和欧盟标准，一周内给出检测方案。"
COMMENT = "报告出得很快，数据清楚。"
OWNER_ORG, INSTITUTION_ORG = "如皋市示范智能装备有限公司", "如皋市检验检测中心"
PARTS_LIST = b"%PDF-1.4\n% parts list\n1 0 obj <</Type /Catalog>> endobj\n%%EOF\n"
CONTRACT = b"%PDF-1.4\n% signed contract\n1 0 obj <</Type /Catalog>> endobj\n%%EOF\n"


def shanghai_today() -> date:
    """Today where the platform is: the bot checks a signing date in its own time zone."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


async def submit_demand(web: WebChat) -> str:
    """李经理 goes through /new's seven steps, with one attachment; the demand's reference."""
    await web.be(OWNER)
    await web.command("new")  # from the "/" menu: the bot's own menu for an enterprise user
    await web.sees("第 1 步，共 7 步")
    await web.say(TITLE)
    await web.sees("第 2 步，共 7 步")
    # 科技咨询: none of testing, R&D or instruments, which the institution used to serve alone
    await web.press("科技咨询")
    await web.sees("第 3 步，共 7 步")
    await web.say("一批复合材料部件要出口欧洲，需要了解适用的检测标准并制定检测方案。")
    await web.sees("第 4 步，共 7 步")
    await web.press("5 万元以下")
    calendar = await web.sees("第 5 步，共 7 步")
    today = shanghai_today()
    year, month = (today.year, today.month + 1) if today.month < 12 else (today.year + 1, 1)
    await web.press("▶", within=calendar)  # next month: its 15th is always ahead
    await expect(calendar.get_by_role("button", name=f"{year}年{month}月")).to_be_visible()
    await web.press("15", within=calendar)
    await web.sees(f"期望完成日期：{year}-{month:02d}-15")
    await web.sees("第 6 步，共 7 步")
    await web.upload("部件清单.pdf", PARTS_LIST, "application/pdf")
    files = await web.sees("已收到附件")
    await expect(files).to_contain_text("部件清单.pdf")
    await web.press("完成（1 个附件）", within=files)
    await web.sees("第 7 步，共 7 步")
    await web.press("城南街道")
    summary = await web.sees("请核对您的需求")
    for shown in (TITLE, "科技咨询", "5 万元以下", "部件清单.pdf", "城南街道"):
        await expect(summary).to_contain_text(shown)
    await web.press("✅ 确认提交", within=summary)
    submitted = await web.sees("需求已提交")
    found = REFERENCE.search(await submitted.inner_text())
    assert found, "the owner is given the demand's reference"
    return found.group()


async def approve_demand(web: WebChat, reference: str) -> None:
    """王审核 looks at the attachment, ticks the art. 15 checklist and approves."""
    await web.be(REVIEWER)
    card = await web.sees(f"需求审核 {reference}")
    await expect(card).to_contain_text(OWNER_ORG)
    await web.press("📎 附件（1）", within=card)
    sent = await web.sees(f"{reference} · 文件 1/1")
    await expect(sent.get_by_role("link", name="部件清单.pdf")).to_be_visible()
    await web.press("✅ 批准", within=card)  # not yet: the checklist comes first
    await expect(web.toast).to_contain_text("请先勾选全部三项")
    await web.toast.get_by_role("button", name="确定").click()  # an alert waits for OK
    await expect(web.toast).to_be_hidden()
    for item in ("不涉及保密内容", "信息真实、有效", "符合法律法规和政策"):
        await web.press(f"☐ {item}", within=card)
        await expect(card.get_by_role("button", name=f"☑ {item}")).to_be_visible()
    await web.press("✅ 批准", within=card)
    await expect(card).to_contain_text("已由 王审核", timeout=STEP_MS)
    await expect(card.get_by_role("button")).to_have_count(0)


async def offer_help(web: WebChat, reference: str) -> None:
    """赵检测 is recommended the demand, without who owns it, and offers help with a quote."""
    await web.be(INSTITUTION)
    recommendation = await web.sees(f"{reference} {TITLE}")
    await expect(recommendation).to_contain_text("与贵机构的服务领域相符")
    for hidden in (OWNER_ORG, "李经理", "13800138000"):  # PIPL: no identity before acceptance
        await expect(recommendation).not_to_contain_text(hidden)
    await web.press("🙋 我能承接", within=recommendation)
    await web.sees("第 1 步，共 2 步")
    await web.say(PROPOSAL)
    await web.sees("第 2 步，共 2 步")
    await web.say("8000")
    offer = await web.sees("请确认接单意向")
    await expect(offer).to_contain_text("8,000.00 元")
    await web.press("✅ 确认提交", within=offer)
    await web.sees(f"接单意向已提交给需求 {reference}")


async def accept_offer(web: WebChat, reference: str) -> None:
    """李经理 sees the institution's profile and offer, accepts, and gets its contacts."""
    await web.be(OWNER)
    await web.sees(f"您的需求 {reference}（{TITLE}）已通过审核并发布")
    card = await web.sees("收到接单意向")
    for shown in (INSTITUTION_ORG, PROPOSAL, "8,000.00 元"):
        await expect(card).to_contain_text(shown)
    await web.press("✅ 接受", within=card)
    await expect(card).to_contain_text("已接受这家机构", timeout=STEP_MS)
    contacts = await web.sees("对接成功")
    await expect(contacts).to_contain_text("赵检测，电话 +8613900139000")


async def file_contract(web: WebChat, reference: str) -> None:
    """赵检测 gets the owner's contacts and files the signed contract: PDF, amount, date, voucher."""
    await web.be(INSTITUTION)
    chosen = await web.sees("贵机构已被选中")
    await expect(chosen).to_contain_text("李经理，电话 +8613800138000")
    await web.say(f"/contract {reference}")
    await web.sees(f"合同备案 {reference} · 第 1 步，共 4 步")
    await web.upload("咨询服务合同.pdf", CONTRACT, "application/pdf")
    await web.sees("第 2 步，共 4 步")
    await web.say("8000")
    await web.sees("第 3 步，共 4 步")
    signed = shanghai_today().isoformat()
    await web.say(signed)
    voucher = await web.sees("第 4 步，共 4 步")
    await expect(voucher).to_contain_text("创新券")
    await web.press("否", within=voucher)  # no voucher this time (the year's tour has one)
    summary = await web.sees("请核对合同备案信息")
    for shown in ("咨询服务合同.pdf", "8000.00 元", f"签订日期：{signed}", "使用创新券：否"):
        await expect(summary).to_contain_text(shown)
    await web.press("✅ 确认提交", within=summary)
    await web.sees(f"需求 {reference} 的合同已备案，等待审核员确认")


async def acknowledge_contract(web: WebChat, reference: str) -> None:
    """王审核 opens the filed contract (its bytes download) and acknowledges the filing."""
    await web.be(REVIEWER)
    card = await web.sees(f"合同备案 {reference}")
    await expect(card).to_contain_text("8,000.00 元")
    await web.press("📄 查看合同", within=card)
    sent = await web.sees(f"{reference} · 文件 1/1")
    link = sent.get_by_role("link", name="咨询服务合同.pdf")
    download = await web.page.request.get(await link.evaluate("a => a.href"))
    assert await download.body() == CONTRACT, "the reviewer reads the contract that was filed"
    await web.press("✅ 确认备案", within=card)
    await expect(card).to_contain_text(re.compile("已由 王审核 于 .* 确认备案"), timeout=STEP_MS)


async def deliver(web: WebChat, reference: str) -> None:
    """赵检测 is told the filing was acknowledged and marks the service delivered."""
    await web.be(INSTITUTION)
    notice = await web.sees("合同备案已由审核员确认")
    await web.press("📦 标记已交付", within=notice)
    await web.sees(f"已标记需求 {reference} 为已交付")


async def complete_and_rate(web: WebChat, reference: str) -> None:
    """李经理 confirms completion and rates: four scores, the outcome, a comment."""
    await web.be(OWNER)
    await web.sees(f"{reference}（{TITLE}）的合同备案已由审核员确认")
    delivered = await web.sees("标记为已交付")
    await web.press("✅ 确认完成", within=delivered)
    await web.sees(f"需求 {reference} 已确认完成")
    ask = await web.sees("请为本次服务评价")
    await web.press("⭐ 评价服务", within=ask)
    for step, score in enumerate(("5", "4", "5", "5"), start=1):
        question = await web.sees(f"评价 {reference} · 第 {step} 步，共 6 步")
        await web.press(score, within=question)
    await web.press("已解决", within=await web.sees("第 5 步，共 6 步"))
    await web.sees("第 6 步，共 6 步")
    await web.say(COMMENT)
    summary = await web.sees(f"请核对对需求 {reference} 的评价")
    for shown in ("总体：★★★★★", "质量：★★★★☆", "结果：已解决", COMMENT):
        await expect(summary).to_contain_text(shown)
    await web.press("✅ 确认提交", within=summary)
    await web.sees(f"感谢您对需求 {reference} 的评价")


async def sees_status(web: WebChat, reference: str, status: str) -> Locator:
    """/my lists the demand with its status."""
    await web.say("/my")
    listing = await web.sees("我的需求")
    await expect(listing).to_contain_text(reference)
    await expect(listing).to_contain_text(f"状态：{status}")
    return listing


async def test_a_demand_from_submission_to_feedback(page: Page) -> None:
    web = WebChat(page)
    reference = await submit_demand(web)
    # the reviewer's card arrived while someone else is on screen: an unread badge says so
    await expect(
        page.get_by_test_id(f"persona-{REVIEWER}").get_by_test_id("unread-badge")
    ).to_be_visible(timeout=STEP_MS)
    await approve_demand(web, reference)
    await offer_help(web, reference)
    await accept_offer(web, reference)
    await file_contract(web, reference)

    await web.be(OWNER)  # the owner hears of the filing by the institution
    filed = await web.sees(f"{INSTITUTION_ORG} 已为需求 {reference}")
    await expect(filed).to_contain_text("金额 8000.00 元")

    await acknowledge_contract(web, reference)
    await deliver(web, reference)
    await complete_and_rate(web, reference)
    await sees_status(web, reference, "已完成")

    await web.be(INSTITUTION)
    scores = await web.sees(f"需求 {reference}（{TITLE}）收到评价")
    for shown in ("总体 5/5，质量 4/5，及时性 5/5，专业性 5/5", "结果：已解决", COMMENT):
        await expect(scores).to_contain_text(shown)

    await web.be(ADMIN)  # the admin's copy of the demand card says who decided, as every copy
    admin_copy = await web.sees(f"需求审核 {reference}")
    await expect(admin_copy).to_contain_text("已由 王审核")


async def test_the_tour_link_shows_who_does_what(page: Page) -> None:
    await page.get_by_role("link", name="导览").click()
    await expect(page.get_by_role("heading", name="走一遍需求全流程")).to_be_visible()
    steps = page.get_by_test_id("tour-zh").get_by_role("listitem")
    await expect(steps.first).to_contain_text("李经理")
    await expect(steps.first).to_contain_text("/new")
    await expect(page.get_by_role("heading", name="Play the demand lifecycle")).to_be_visible()
    await page.get_by_role("link", name="返回聊天 · Back to the chat").click()
    await expect(page.get_by_test_id("persona-9101")).to_be_visible()
