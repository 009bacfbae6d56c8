"""What the contract-filing and dispute steps look like: questions, keyboards, the summary."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from locales.i18n import t
from models.engagements import one_month_after

CONTRACT_FLOW = "contract"
DISPUTE_FLOW = "dispute"
# Bump when steps change meaning; a stored state of another version restarts politely.
VERSION = 1


class Step(StrEnum):
    """The steps of contract filing, stored as the conversation state."""

    FILE = "file"
    AMOUNT = "amount"
    SIGNED_ON = "signed_on"
    VOUCHER = "voucher"
    CONFIRM = "confirm"
    EDIT = "edit"


QUESTIONS = (Step.FILE, Step.AMOUNT, Step.SIGNED_ON, Step.VOUCHER)
DISPUTE_REASON = "reason"

DYNAMIC_IDS = (
    *(f"engage.ask.{s.value}" for s in QUESTIONS),
    *(f"engage.field.{s.value}" for s in QUESTIONS),
)


def cb(step: str, action: str, value: str = "") -> str:
    """Callback data of a contract-flow button; the step lets an old button be recognised."""
    return f"en:f:{step}:{action}:{value}" if value else f"en:f:{step}:{action}"


def first_missing(data: dict[str, Any]) -> Step | None:
    """The first question of the filing not yet answered."""
    keys = {Step.FILE: "file_id", Step.AMOUNT: "amount", Step.SIGNED_ON: "signed_on"}
    for step in QUESTIONS:
        if data.get(keys.get(step, step.value)) in (None, ""):
            return step
    return None


def _nav(step: Step) -> list[InlineKeyboardButton]:
    row = [InlineKeyboardButton(t("button.cancel"), callback_data=cb(step, "cancel"))]
    if step is not Step.FILE:
        row.insert(0, InlineKeyboardButton(t("button.back"), callback_data=cb(step, "back")))
    return row


def question(step: str, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """The message asking for a step's answer, or the summary."""
    if step == Step.CONFIRM:
        return summary(data), InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(t("button.confirm"), callback_data=cb(step, "ok"))],
                [
                    InlineKeyboardButton(t("button.edit"), callback_data=cb(step, "edit")),
                    InlineKeyboardButton(t("button.cancel"), callback_data=cb(step, "cancel")),
                ],
            ]
        )
    if step == Step.EDIT:
        rows = [
            [InlineKeyboardButton(t(f"engage.field.{s.value}"), callback_data=cb(step, "f", s))]
            for s in QUESTIONS
        ]
        rows.append([InlineKeyboardButton(t("button.back"), callback_data=cb(step, "back"))])
        return t("engage.edit_which"), InlineKeyboardMarkup(rows)
    current = Step(step)
    header = t(
        "engage.step",
        reference=data.get("reference", ""),
        n=QUESTIONS.index(current) + 1,
        m=len(QUESTIONS),
    )
    text = f"{header}\n{t(f'engage.ask.{current.value}')}"
    rows = []
    if current is Step.VOUCHER:
        rows.append(
            [
                InlineKeyboardButton(t("engage.yes"), callback_data=cb(step, "v", "1")),
                InlineKeyboardButton(t("engage.no"), callback_data=cb(step, "v", "0")),
            ]
        )
    rows.append(_nav(current))
    return text, InlineKeyboardMarkup(rows)


def answer_text(step: Step, data: dict[str, Any]) -> str:
    """An answer as the summary shows it."""
    if step is Step.FILE:
        return str(data.get("file_name") or t("engage.photo"))
    if step is Step.AMOUNT:
        return t("engage.yuan", amount=data.get("amount", ""))
    if step is Step.VOUCHER:
        return t("engage.yes") if data.get("voucher") else t("engage.no")
    return str(data.get(step.value, ""))


def summary(data: dict[str, Any]) -> str:
    """The filing as it will be stored, for a last look before Confirm."""
    lines = [t("engage.summary_title", reference=data.get("reference", ""))]
    for step in QUESTIONS:
        lines.append(
            t(
                "engage.summary_line",
                field=t(f"engage.field.{step.value}"),
                value=answer_text(step, data),
            )
        )
    lines.append(t("engage.summary_sha", sha256=str(data.get("sha256", ""))[:16]))
    if data.get("signed_on"):
        due = one_month_after(date.fromisoformat(data["signed_on"]))
        lines.append(t("engage.summary_due", due=due.isoformat()))
    return "\n".join(lines)


def dispute_question(reference: str) -> tuple[str, InlineKeyboardMarkup]:
    """Ask the owner what is wrong with the delivery."""
    cancel = InlineKeyboardButton(t("button.cancel"), callback_data="en:r:cancel")
    return t("engage.dispute.ask", reference=reference), InlineKeyboardMarkup([[cancel]])
