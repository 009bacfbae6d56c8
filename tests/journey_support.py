"""The words and steps of tests/test_lifecycle_journey.py: each step is what a person does in
the chat, each check is what they would see. Nothing here calls the domain."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.emulator import EmulatedUser
from bot.emulator.messages import ChatMessage

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\n%%EOF\n"
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Words:
    """What one language's users type, press and expect to read."""

    code: str  # Telegram's language_code
    title: str
    category: str
    description: str
    budget: str
    attachments_done: str
    township: str
    confirm: str
    submitted: str
    checks: tuple[str, str, str]
    approve: str
    approved_by: str
    help: str
    proposal: str
    offer_confirm: str
    accept: str
    accepted: str
    no: str
    contract: str
    acknowledge: str
    acknowledged: str
    delivered: str
    complete: str
    dispute: str
    rate: str
    outcome: str
    comment: str
    scores_seen: str


ZH = Words(
    code="zh-CN",
    title="红外光谱检测",
    category="检验检测",
    description="需要对三批高分子材料样品做红外光谱分析，出具检测报告。",
    budget="5 万元以下",
    attachments_done="完成（1 个附件）",
    township="城南街道",
    confirm="✅ 确认提交",
    submitted="需求已提交",
    checks=("不涉及保密内容", "信息真实、有效", "符合法律法规和政策"),
    approve="✅ 批准",
    approved_by="已由 王审核",
    help="🙋 我能承接",
    proposal="我们有傅里叶红外光谱仪，三天出报告。",
    offer_confirm="确认提交",
    accept="✅ 接受",
    accepted="已接受",
    no="否",
    contract="📄 备案合同",
    acknowledge="✅ 确认备案",
    acknowledged="已由审核员确认",
    delivered="📦 标记已交付",
    complete="✅ 确认完成",
    dispute="⚠️ 提出异议",
    rate="⭐ 评价服务",
    outcome="已解决",
    comment="报告出得很快，专业。",
    scores_seen="总体 5/5，质量 4/5，及时性 5/5，专业性 4/5",
)
EN = Words(
    code="en",
    title="Infrared spectroscopy",
    category="Testing and inspection",
    description="We need infrared spectroscopy of three batches of polymer samples, with a report.",
    budget="Under 50,000 yuan",
    attachments_done="Done (1 attached)",
    township="Chengnan Subdistrict",
    confirm="✅ Confirm and submit",
    submitted="submitted as",
    checks=("No classified content", "True and current", "Complies with law and policy"),
    approve="✅ Approve",
    approved_by="Approved by Wang",
    help="🙋 I can help",
    proposal="We own an FTIR spectrometer and report within three days.",
    offer_confirm="Confirm",
    accept="✅ Accept",
    accepted="accepted",
    no="No",
    contract="📄 File the contract",
    acknowledge="✅ Acknowledge",
    acknowledged="acknowledged by a reviewer",
    delivered="📦 Mark delivered",
    complete="✅ Confirm completion",
    dispute="⚠️ Dispute",
    rate="⭐ Rate the service",
    outcome="Solved",
    comment="Fast and professional.",
    scores_seen="overall 5/5",
)


def today() -> date:
    """Today where the platform is (the bot judges dates in Asia/Shanghai)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def later(days: int = 40) -> str:
    """A wanted-by date the bot accepts."""
    return (today() + timedelta(days=days)).isoformat()


class Seen:
    """What each person has already read, so a step can look at only what it made them see."""

    def __init__(self) -> None:
        self.marks: dict[int, int] = {}

    def news(self, person: EmulatedUser) -> list[ChatMessage]:
        """The bot messages this person got since the last look."""
        mark = self.marks.get(person.user_id, 0)
        fresh = [m for m in person.messages if m.message_id > mark]
        if person.chat.live():
            self.marks[person.user_id] = max(m.message_id for m in person.chat.live())
        return fresh

    def skip(self, *people: EmulatedUser) -> None:
        """Whatever these people have seen so far is not about the demand."""
        for person in people:
            self.news(person)


def current(person: EmulatedUser, message: ChatMessage) -> ChatMessage:
    """A message as it reads now (after the bot edited it)."""
    return next(m for m in person.messages if m.message_id == message.message_id)


def with_text(person: EmulatedUser, text: str) -> ChatMessage:
    """The newest bot message containing `text`."""
    return next(m for m in reversed(person.messages) if text in m.text)


def in_language(message: ChatMessage, code: str) -> bool:
    """Chinese messages have Chinese in them; English ones none (the test data is English)."""
    has_cjk = CJK.search(message.text + "".join(message.button_labels())) is not None
    return has_cjk if code.startswith("zh") else not has_cjk


async def submit_demand(owner: EmulatedUser, w: Words) -> None:
    """/new through every step, with one attachment; the date typed in zh, picked in en."""
    await owner.send("/new")
    await owner.send(w.title)
    await owner.press(w.category)
    await owner.send(w.description)
    await owner.press(w.budget)
    if w.code == "en":
        await owner.press("▶")  # next month on the date picker, the 15th
        await owner.press("15")
    else:
        await owner.send(later())
    await owner.send_document("spec.pdf", PDF, mime_type="application/pdf")
    await owner.press(w.attachments_done)
    await owner.press(w.township)
    await owner.press(w.confirm)


async def approve(reviewer: EmulatedUser, ref: str, w: Words) -> ChatMessage:
    """The reviewer ticks the three checks on the card of `ref` and approves; the card."""
    card = with_text(reviewer, ref)
    for label in w.checks:
        await reviewer.press(label, message_id=card.message_id)
    await reviewer.press(w.approve, message_id=card.message_id)
    return card


async def offer_help(institution: EmulatedUser, ref: str, w: Words, quote: str) -> None:
    """From the recommendation of `ref`: proposal, quote, confirm."""
    recommendation = with_text(institution, ref)
    await institution.press(w.help, message_id=recommendation.message_id)
    await institution.send(w.proposal)
    await institution.send(quote)
    await institution.press(w.offer_confirm)


async def file_contract(
    person: EmulatedUser, ref: str, w: Words, *, voucher: str, by_button: bool = False
) -> None:
    """The match notice's button or /contract: the signed PDF, 30000 yuan, signed today,
    the voucher answer, confirm."""
    if by_button:
        await person.press(w.contract, message_id=with_text(person, ref).message_id)
    else:
        await person.send(f"/contract {ref}")
    await person.send_document("contract.pdf", PDF + b"signed", mime_type="application/pdf")
    await person.send("30000")
    await person.send(today().isoformat())
    await person.press(voucher)
    await person.press(w.confirm)


async def rate(owner: EmulatedUser, w: Words) -> None:
    """From the completion notice: scores 5, 4, 5, 4, the outcome, a comment, confirm."""
    await owner.press(w.rate)
    for score in ("5", "4", "5", "4"):
        await owner.press(score)
    await owner.press(w.outcome)
    await owner.send(w.comment)
    await owner.press(w.confirm)


async def relay_demand(
    assistant: EmulatedUser, title: str, *, enterprise: str, new: tuple[str, str] | None = None
) -> None:
    """An assistant's /new for an enterprise of their township: picked from the list, or
    `new` = (credit code, contact person) for one not on the platform yet. No attachment."""
    await assistant.send("/new")
    if new is None:
        await assistant.press(enterprise)
    else:
        await assistant.press("➕ 新增企业")
        await assistant.send(enterprise)
        await assistant.send(new[0])
        await assistant.send(new[1])
    await assistant.send(title)
    await assistant.press(ZH.category)
    await assistant.send(ZH.description)
    await assistant.press("面议")
    await assistant.send(later())
    await assistant.press("跳过，不上传附件")
    await assistant.press(ZH.confirm)
