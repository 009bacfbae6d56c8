"""The issue's acceptance criterion, in a real browser: "A newcomer in the sandbox registers as an
enterprise in English and in Chinese, a reviewer approves from the web chat, and the applicant
is told."

Everything goes through the sandbox page as a visitor uses it: pick a persona in the sidebar,
type into the composer, click the inline and reply-keyboard buttons; assertions read the text
the page shows.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import STEP_MS
from tests.browser.webchat import WebChat
from tests.factories import credit_code

pytestmark = pytest.mark.browser

EMMA, ZHANG, REVIEWER = 1002, 1001, 9001
REFERENCE = re.compile(r"R\d{4}-\d{6}")


async def _approve_as_reviewer(web: WebChat, reference: str) -> None:
    """王审核 opens the bot, finds the card of this application and approves it."""
    await web.be(REVIEWER)
    await web.say("/start")  # 王审核 has used the bot before: the card came at once
    await web.sees("欢迎回来")
    card = await web.sees(reference)
    await expect(web.messages("bot").filter(has_text=reference)).to_have_count(1)
    await expect(card).to_contain_text("注册审核")
    await web.press("✅ 批准", within=card)
    await expect(card).to_contain_text("已由 王审核", timeout=STEP_MS)
    await expect(card.get_by_role("button")).to_have_count(0)  # decided: no buttons left
    await expect(web.toast).to_be_visible()  # the answer to the press: 已处理。
    await expect(web.toast).to_contain_text("已处理")
    shape = await web.toast.bounding_box()
    assert shape is not None
    assert shape["height"] < 60, "a one-line toast is one line high"


async def _switch_back(web: WebChat, applicant: int) -> None:
    """Back to the applicant at once: the reviewer's toast must not be shown to them."""
    await web.be(applicant)
    await expect(web.toast).to_be_hidden(timeout=500)  # well before the toast's own 2.6 s


async def test_newcomer_registers_in_english_and_is_approved(page: Page) -> None:
    web = WebChat(page)
    await page.get_by_test_id("lang-toggle").click()  # the page itself in English too
    await expect(page.get_by_text("pick a persona and talk to the bot")).to_be_visible()
    await web.be(EMMA)
    await expect(web.chat).to_match_aria_snapshot("- log: No messages yet. Send /start to begin.")

    await web.say("/start")
    await web.sees("Step 1 of 6")
    await web.press("Enterprise")
    await web.sees("Step 2 of 6")
    await web.say("Emma Clark")
    await web.sees("Step 3 of 6")
    await expect(page.get_by_test_id("reply-keyboard")).to_contain_text("Share my phone number")
    await web.say("13812348000")
    await web.sees("138****8000")
    await web.sees("Step 4 of 6")
    await web.say("Nantong Bright Technology Co., Ltd.")
    await web.sees("Step 5 of 6")
    await web.say("91350100M000100Y43")
    await web.sees("Step 6 of 6")
    await web.press("Chengnan Subdistrict")
    summary = await web.sees("Please check your registration")
    for shown in (
        "Emma Clark",
        "138****8000",
        "Nantong Bright Technology Co., Ltd.",
        "91350100M000100Y43",
        "Chengnan Subdistrict",
    ):
        await expect(summary).to_contain_text(shown)
    await web.press("✅ Confirm and submit", within=summary)
    submitted = await web.sees("Your registration was submitted")
    found = REFERENCE.search(await submitted.inner_text())
    assert found, "the applicant is given a reference"
    reference = found.group()

    await _approve_as_reviewer(web, reference)

    await _switch_back(web, EMMA)
    told = await web.sees(f"Your registration {reference} was approved")
    await expect(told).to_contain_text("Enterprise")


async def test_newcomer_registers_in_chinese_and_is_approved(page: Page) -> None:
    web = WebChat(page)
    code = credit_code("91320682MA1P0001")
    await web.be(ZHANG)
    await expect(web.chat).to_match_aria_snapshot("- log: 还没有消息，发送 /start 开始对话。")

    await web.say("/start")
    await web.sees("第 1 步，共 6 步")
    await web.press("企业用户")
    await web.sees("第 2 步，共 6 步")
    await web.say("张伟")
    await web.sees("第 3 步，共 6 步")
    await web.tap_keyboard("分享我的手机号")  # the persona's own number, +86 138 0000 1001
    await web.sees("138****1001")
    await web.sees("第 4 步，共 6 步")
    await web.say("如皋市星火科技有限公司")
    await web.sees("第 5 步，共 6 步")
    await web.say(code.lower())  # typed in lower case: the bot normalises it
    await web.sees("第 6 步，共 6 步")
    await web.press("东陈镇")
    summary = await web.sees("请核对")
    for shown in ("张伟", "138****1001", "如皋市星火科技有限公司", code, "东陈镇"):
        await expect(summary).to_contain_text(shown)
    await web.press("✅ 确认提交", within=summary)
    submitted = await web.sees("注册申请已提交")
    found = REFERENCE.search(await submitted.inner_text())
    assert found, "the applicant is given a reference"
    reference = found.group()

    await _approve_as_reviewer(web, reference)

    await _switch_back(web, ZHANG)
    told = await web.sees(re.compile(f"{reference}.*已通过审核"))
    await expect(told).to_contain_text("企业")
